package restapi

import (
	"fmt"
	"strings"
)

// The discovery document is generated from the route table, so it lists
// exactly the methods the router serves, with Penstock's own address as
// root. It carries what googleapiclient (the bq CLI) needs to build its
// method objects: per method the HTTP method, path (reserved expansion,
// {+name}), flatPath, parameters with location/type/required, the
// parameter order and the request/response schema names; plus a minimal
// object schema for every name referenced.

// discoveryParams are the query parameters every method accepts (and
// Penstock ignores).
var discoveryParams = []param{
	{name: "$.xgafv", typ: "string", enum: []string{"1", "2"}},
	{name: "access_token", typ: "string"},
	{name: "alt", typ: "string", enum: []string{"json", "media", "proto"}},
	{name: "callback", typ: "string"},
	{name: "fields", typ: "string"},
	{name: "key", typ: "string"},
	{name: "oauth_token", typ: "string"},
	{name: "prettyPrint", typ: "boolean"},
	{name: "quotaUser", typ: "string"},
	{name: "uploadType", typ: "string"},
	{name: "upload_protocol", typ: "string"},
}

// schemaProps gives each referenced schema a few top-level properties
// (name → JSON type). They document the shape; clients do not validate
// against them.
var schemaProps = map[string]map[string]string{
	"Dataset": {"kind": "string", "id": "string", "etag": "string", "selfLink": "string",
		"datasetReference": "object", "location": "string", "creationTime": "string",
		"lastModifiedTime": "string", "type": "string", "labels": "object", "access": "array",
		"description": "string", "friendlyName": "string", "defaultTableExpirationMs": "string"},
	"DatasetList": {"kind": "string", "etag": "string", "datasets": "array", "nextPageToken": "string"},
	"Table": {"kind": "string", "id": "string", "etag": "string", "selfLink": "string",
		"tableReference": "object", "schema": "object", "numRows": "string", "numBytes": "string",
		"creationTime": "string", "lastModifiedTime": "string", "location": "string", "type": "string",
		"timePartitioning": "object", "rangePartitioning": "object", "clustering": "object",
		"streamingBuffer": "object", "description": "string", "labels": "object", "expirationTime": "string"},
	"TableList":                  {"kind": "string", "etag": "string", "tables": "array", "nextPageToken": "string", "totalItems": "integer"},
	"TableDataList":              {"kind": "string", "etag": "string", "totalRows": "string", "pageToken": "string", "rows": "array"},
	"TableDataInsertAllRequest":  {"kind": "string", "rows": "array", "skipInvalidRows": "boolean", "ignoreUnknownValues": "boolean", "templateSuffix": "string", "traceId": "string"},
	"TableDataInsertAllResponse": {"kind": "string", "insertErrors": "array"},
	"QueryRequest":               {"kind": "string", "query": "string", "useLegacySql": "boolean", "maxResults": "integer", "timeoutMs": "integer", "defaultDataset": "object", "queryParameters": "array", "parameterMode": "string", "location": "string", "formatOptions": "object"},
	"QueryResponse":              {"kind": "string", "jobReference": "object", "jobComplete": "boolean", "schema": "object", "rows": "array", "totalRows": "string", "pageToken": "string", "errors": "array"},
	"GetQueryResultsResponse":    {"kind": "string", "etag": "string", "jobReference": "object", "jobComplete": "boolean", "schema": "object", "rows": "array", "totalRows": "string", "pageToken": "string", "errors": "array"},
	"Job":                        {"kind": "string", "id": "string", "etag": "string", "selfLink": "string", "jobReference": "object", "configuration": "object", "status": "object", "statistics": "object", "user_email": "string"},
	"JobList":                    {"kind": "string", "etag": "string", "jobs": "array", "nextPageToken": "string"},
	"JobCancelResponse":          {"kind": "string", "job": "object"},
	"ProjectList":                {"kind": "string", "etag": "string", "projects": "array", "nextPageToken": "string", "totalItems": "integer"},
}

// discoveryDocument builds the document for a server reachable at root
// (ending in "/").
func discoveryDocument(routes []*route, root string) map[string]any {
	params := map[string]any{}
	for _, p := range discoveryParams {
		params[p.name] = paramDoc(p, "query", false)
	}
	resources := map[string]any{}
	refs := map[string]bool{}
	for _, r := range routes {
		res, ok := resources[r.resource].(map[string]any)
		if !ok {
			res = map[string]any{"methods": map[string]any{}}
			resources[r.resource] = res
		}
		res["methods"].(map[string]any)[r.name] = methodDoc(r)
		if r.request != "" {
			refs[r.request] = true
		}
		if r.response != "" {
			refs[r.response] = true
		}
	}
	schemas := map[string]any{}
	for name := range refs {
		props := map[string]any{}
		for p, typ := range schemaProps[name] {
			prop := map[string]any{"type": typ}
			if typ == "array" {
				prop["items"] = map[string]any{"type": "any"}
			}
			props[p] = prop
		}
		schemas[name] = map[string]any{
			"id": name, "type": "object", "properties": props,
			"description": name + " resource (see the BigQuery REST reference for all members).",
		}
	}
	return map[string]any{
		"kind":             "discovery#restDescription",
		"discoveryVersion": "v1",
		"id":               "bigquery:v2",
		"name":             "bigquery",
		"version":          "v2",
		"revision":         "penstock",
		"title":            "BigQuery API (Penstock)",
		"description":      "The BigQuery REST v2 methods served by Penstock.",
		"protocol":         "rest",
		"rootUrl":          root,
		"mtlsRootUrl":      root,
		"servicePath":      "bigquery/v2/",
		"basePath":         "/bigquery/v2/",
		"baseUrl":          root + "bigquery/v2/",
		"batchPath":        "batch/bigquery/v2",
		"parameters":       params,
		"resources":        resources,
		"schemas":          schemas,
		"auth": map[string]any{"oauth2": map[string]any{"scopes": map[string]any{
			"https://www.googleapis.com/auth/bigquery":       map[string]any{"description": "View and manage your data in BigQuery"},
			"https://www.googleapis.com/auth/cloud-platform": map[string]any{"description": "See, edit, configure and delete your Google Cloud data"},
		}}},
	}
}

// methodDoc describes one route.
func methodDoc(r *route) map[string]any {
	params := map[string]any{}
	order := r.pathParams()
	for _, name := range order {
		params[name] = paramDoc(param{name: name, typ: "string"}, "path", true)
	}
	for _, p := range r.query {
		params[p.name] = paramDoc(p, "query", false)
	}
	m := map[string]any{
		"id":             "bigquery." + r.resource + "." + r.name,
		"httpMethod":     r.httpMethod,
		"path":           expandPath(r.path, "{+", "}"),
		"flatPath":       r.path,
		"parameters":     params,
		"parameterOrder": order,
		"description":    methodDescription(r),
		"scopes":         []string{"https://www.googleapis.com/auth/bigquery", "https://www.googleapis.com/auth/cloud-platform"},
	}
	if order == nil {
		m["parameterOrder"] = []string{}
	}
	if r.request != "" {
		m["request"] = map[string]string{"$ref": r.request}
	}
	if r.response != "" {
		m["response"] = map[string]string{"$ref": r.response}
	}
	return m
}

func methodDescription(r *route) string {
	if !r.implemented {
		return fmt.Sprintf("%s.%s (not implemented by Penstock yet: answers 501).", r.resource, r.name)
	}
	return fmt.Sprintf("%s.%s.", r.resource, r.name)
}

// paramDoc describes one parameter.
func paramDoc(p param, location string, required bool) map[string]any {
	d := map[string]any{"type": p.typ, "location": location, "description": p.name + "."}
	if required {
		d["required"] = true
		d["pattern"] = "^[^/]+$"
	}
	if p.format != "" {
		d["format"] = p.format
	}
	if p.repeated {
		d["repeated"] = true
	}
	if len(p.enum) > 0 {
		d["enum"] = p.enum
		descs := make([]string, len(p.enum))
		for i, e := range p.enum {
			descs[i] = e + "."
		}
		d["enumDescriptions"] = descs
	}
	return d
}

// expandPath rewrites "{name}" segments with the given delimiters.
func expandPath(path, open, close string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if name, ok := paramName(s); ok {
			segs[i] = open + name + close
		}
	}
	return strings.Join(segs, "/")
}

// serveDiscovery answers GET /$discovery/rest?version=v2 and
// /discovery/v1/apis/bigquery/v2/rest.
func (s *server) serveDiscovery(c *call) error {
	if c.method != "GET" {
		c.w.Header().Set("Allow", "GET")
		return fmt.Errorf("%w: Method %s is not allowed for %s", errMethodNotAllowed, c.method, c.r.URL.Path)
	}
	if v := c.query("version"); v != "" && v != "v2" {
		return fmt.Errorf("%w: Not found: discovery document for bigquery %s (only v2 is served)", errNoRoute, v)
	}
	return c.writeOK(discoveryDocument(s.routes, s.root(c.r)))
}
