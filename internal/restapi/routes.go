package restapi

import (
	"fmt"
	"net/url"
	"strings"
)

// route is one REST method. The route table below is the single source of
// truth: the router matches requests against it and the discovery
// document is generated from it, so the two cannot drift apart.
type route struct {
	resource   string // discovery resource name: "datasets"
	name       string // discovery method name: "get"
	httpMethod string
	// path is relative to the service path, with {name} for a path
	// parameter (one segment, percent-decoded before use).
	path     string
	segs     []string // path split on "/"
	query    []param  // query parameters the method documents
	request  string   // schema name of the body, "" for none
	response string   // schema name of the response, "" for none
	handle   func(c *call) error
	// implemented is false for methods that are part of the API surface
	// but answer 501 notImplemented for now.
	implemented bool
}

// param is a query parameter as the discovery document describes it.
type param struct {
	name     string
	typ      string // "string", "integer", "boolean"
	format   string // "uint32", "uint64", "int64", ""
	repeated bool
	enum     []string
}

// Query parameters shared by several methods.
var (
	pMaxResults   = param{name: "maxResults", typ: "integer", format: "uint32"}
	pPageToken    = param{name: "pageToken", typ: "string"}
	pStartIndex   = param{name: "startIndex", typ: "string", format: "uint64"}
	pLocation     = param{name: "location", typ: "string"}
	pAccessPolicy = param{name: "accessPolicyVersion", typ: "integer", format: "int32"}
	pUseInt64TS   = param{name: "formatOptions.useInt64Timestamp", typ: "boolean"}
	pTSFormat     = param{name: "formatOptions.timestampOutputFormat", typ: "string",
		enum: []string{"TIMESTAMP_OUTPUT_FORMAT_UNSPECIFIED", "FLOAT64", "INT64", "ISO8601_STRING"}}
	pSelectedFields = param{name: "selectedFields", typ: "string"}
)

// notImplemented is the handler of routes Penstock does not serve yet.
func notImplemented(c *call) error {
	return fmt.Errorf("%w: Penstock does not implement %s %s yet", errNotImplemented, c.method, c.r.URL.Path)
}

// apiRoutes returns the route table.
func apiRoutes() []*route {
	const (
		projects = "projects/{projectId}"
		datasets = projects + "/datasets"
		dataset  = datasets + "/{datasetId}"
		tables   = dataset + "/tables"
		table    = tables + "/{tableId}"
	)
	rs := []*route{
		// datasets
		{resource: "datasets", name: "insert", httpMethod: "POST", path: datasets,
			query: []param{pAccessPolicy}, request: "Dataset", response: "Dataset", handle: datasetsInsert, implemented: true},
		{resource: "datasets", name: "list", httpMethod: "GET", path: datasets,
			query:    []param{{name: "all", typ: "boolean"}, {name: "filter", typ: "string"}, pMaxResults, pPageToken},
			response: "DatasetList", handle: datasetsList, implemented: true},
		{resource: "datasets", name: "get", httpMethod: "GET", path: dataset,
			query: []param{pAccessPolicy, {name: "datasetView", typ: "string",
				enum: []string{"DATASET_VIEW_UNSPECIFIED", "METADATA", "ACL", "FULL"}}},
			response: "Dataset", handle: datasetsGet, implemented: true},
		{resource: "datasets", name: "patch", httpMethod: "PATCH", path: dataset,
			query: []param{pAccessPolicy, {name: "updateMode", typ: "string"}}, request: "Dataset", response: "Dataset",
			handle: datasetsPatch, implemented: true},
		{resource: "datasets", name: "update", httpMethod: "PUT", path: dataset,
			query: []param{pAccessPolicy, {name: "updateMode", typ: "string"}}, request: "Dataset", response: "Dataset",
			handle: datasetsUpdate, implemented: true},
		{resource: "datasets", name: "delete", httpMethod: "DELETE", path: dataset,
			query: []param{{name: "deleteContents", typ: "boolean"}}, handle: datasetsDelete, implemented: true},

		// tables
		{resource: "tables", name: "insert", httpMethod: "POST", path: tables,
			request: "Table", response: "Table", handle: tablesInsert, implemented: true},
		{resource: "tables", name: "list", httpMethod: "GET", path: tables,
			query: []param{pMaxResults, pPageToken}, response: "TableList", handle: tablesList, implemented: true},
		{resource: "tables", name: "get", httpMethod: "GET", path: table,
			query: []param{pSelectedFields, {name: "view", typ: "string",
				enum: []string{"TABLE_METADATA_VIEW_UNSPECIFIED", "BASIC", "STORAGE_STATS", "FULL"}}},
			response: "Table", handle: tablesGet, implemented: true},
		{resource: "tables", name: "patch", httpMethod: "PATCH", path: table,
			query: []param{{name: "autodetect_schema", typ: "boolean"}}, request: "Table", response: "Table",
			handle: tablesPatch, implemented: true},
		{resource: "tables", name: "update", httpMethod: "PUT", path: table,
			query: []param{{name: "autodetect_schema", typ: "boolean"}}, request: "Table", response: "Table",
			handle: tablesUpdate, implemented: true},
		{resource: "tables", name: "delete", httpMethod: "DELETE", path: table, handle: tablesDelete, implemented: true},

		// tabledata
		{resource: "tabledata", name: "list", httpMethod: "GET", path: table + "/data",
			query:    []param{pMaxResults, pPageToken, pStartIndex, pSelectedFields, pUseInt64TS, pTSFormat},
			response: "TableDataList", handle: tabledataList, implemented: true},
		{resource: "tabledata", name: "insertAll", httpMethod: "POST", path: table + "/insertAll",
			request: "TableDataInsertAllRequest", response: "TableDataInsertAllResponse", handle: tabledataInsertAll, implemented: true},

		// jobs and projects: part of the surface the clients and bq build
		// method objects for; served by a later issue.
		{resource: "jobs", name: "query", httpMethod: "POST", path: projects + "/queries",
			request: "QueryRequest", response: "QueryResponse", handle: notImplemented},
		{resource: "jobs", name: "getQueryResults", httpMethod: "GET", path: projects + "/queries/{jobId}",
			query: []param{pLocation, pMaxResults, pPageToken, pStartIndex,
				{name: "timeoutMs", typ: "integer", format: "uint32"}, pUseInt64TS, pTSFormat},
			response: "GetQueryResultsResponse", handle: notImplemented},
		{resource: "jobs", name: "insert", httpMethod: "POST", path: projects + "/jobs",
			request: "Job", response: "Job", handle: notImplemented},
		{resource: "jobs", name: "list", httpMethod: "GET", path: projects + "/jobs",
			query: []param{{name: "allUsers", typ: "boolean"}, {name: "maxCreationTime", typ: "string", format: "uint64"},
				pMaxResults, {name: "minCreationTime", typ: "string", format: "uint64"}, pPageToken,
				{name: "parentJobId", typ: "string"}, {name: "projection", typ: "string", enum: []string{"full", "minimal"}},
				{name: "stateFilter", typ: "string", repeated: true, enum: []string{"done", "pending", "running"}}},
			response: "JobList", handle: notImplemented},
		{resource: "jobs", name: "get", httpMethod: "GET", path: projects + "/jobs/{jobId}",
			query: []param{pLocation}, response: "Job", handle: notImplemented},
		{resource: "jobs", name: "cancel", httpMethod: "POST", path: projects + "/jobs/{jobId}/cancel",
			query: []param{pLocation}, response: "JobCancelResponse", handle: notImplemented},
		{resource: "jobs", name: "delete", httpMethod: "DELETE", path: projects + "/jobs/{jobId}/delete",
			query: []param{pLocation}, handle: notImplemented},
		{resource: "projects", name: "list", httpMethod: "GET", path: "projects",
			query: []param{pMaxResults, pPageToken}, response: "ProjectList", handle: notImplemented},
	}
	for _, r := range rs {
		r.segs = strings.Split(r.path, "/")
	}
	return rs
}

// pathParams lists a route's path parameters in path order.
func (r *route) pathParams() []string {
	var out []string
	for _, s := range r.segs {
		if name, ok := paramName(s); ok {
			out = append(out, name)
		}
	}
	return out
}

// paramName reports whether a template segment is "{name}".
func paramName(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

// apiSegments strips the service prefix (/bigquery/v2/, /bigquery/ or /)
// from an escaped request path and returns its percent-decoded segments.
// ok is false when the path cannot be one of ours.
func apiSegments(escapedPath string) (segs []string, ok bool) {
	p := strings.TrimPrefix(escapedPath, "/")
	p = strings.TrimSuffix(p, "/")
	raw := strings.Split(p, "/")
	if len(raw) > 0 && raw[0] == "bigquery" {
		raw = raw[1:]
		if len(raw) > 0 && raw[0] == "v2" {
			raw = raw[1:]
		}
	}
	if len(raw) == 0 || raw[0] != "projects" {
		return nil, false
	}
	segs = make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil || d == "" {
			return nil, false
		}
		segs[i] = d
	}
	return segs, true
}

// matchPath reports whether segs fit the route's template and returns the
// path parameters.
func (r *route) matchPath(segs []string) (map[string]string, bool) {
	if len(segs) != len(r.segs) {
		return nil, false
	}
	var params map[string]string
	for i, t := range r.segs {
		if name, ok := paramName(t); ok {
			if params == nil {
				params = make(map[string]string, 4)
			}
			params[name] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// match finds the route for a method and escaped path. It returns
// errNoRoute when no route has the path and errMethodNotAllowed when some
// do, but not with this method.
func (s *server) match(method, escapedPath string) (*route, map[string]string, error) {
	segs, ok := apiSegments(escapedPath)
	if !ok {
		return nil, nil, errNoRoute
	}
	pathFound := false
	for _, r := range s.routes {
		params, ok := r.matchPath(segs)
		if !ok {
			continue
		}
		if r.httpMethod == method {
			return r, params, nil
		}
		pathFound = true
	}
	if pathFound {
		return nil, nil, errMethodNotAllowed
	}
	return nil, nil, errNoRoute
}

// allowed lists the methods the path supports (for the Allow header).
func (s *server) allowed(escapedPath string) []string {
	segs, ok := apiSegments(escapedPath)
	if !ok {
		return nil
	}
	var out []string
	for _, r := range s.routes {
		if _, ok := r.matchPath(segs); ok {
			out = append(out, r.httpMethod)
		}
	}
	return out
}

// isDiscoveryPath reports whether a decoded path is one of the discovery
// document's addresses.
func isDiscoveryPath(p string) bool {
	return p == "/$discovery/rest" || p == "/discovery/v1/apis/bigquery/v2/rest"
}
