// Package restapi is Penstock's BigQuery REST v2 transport: datasets,
// tables, tabledata.insertAll (insertall.go), tabledata.list and the
// discovery document. The jobs methods have routes and discovery entries
// but answer 501 notImplemented (never retried by clients) until SQL
// reads exist.
//
// It is a thin layer: each handler parses the request, calls the catalog
// (catalog.Catalog) or the data path (TableData), and renders the REST
// resource. Every error becomes a response in exactly one place,
// errors.go, which maps domain errors to BigQuery's envelope
// {"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}.
//
// Wire behaviour the official clients depend on (spec rest-api.md):
//
//   - Paths are served under /bigquery/v2/, /bigquery/ and /: the Go client
//     with a bare endpoint calls /projects/..., Python, Node and bq call
//     /bigquery/v2/projects/.... Each path segment is percent-decoded, so
//     t$20240131 and t%2420240131 are the same table id; project ids may
//     hold '-', '.' and a "domain:" prefix.
//   - Standard parameters (alt, prettyPrint, quotaUser, key, $.xgafv,
//     fields, ...) are accepted and ignored; fields=schema returns the full
//     resource, which clients accept.
//   - POST with X-HTTP-Method-Override tunnels another method (Java does
//     this for PATCH). Request bodies may be gzip-encoded; bodies over
//     Options.MaxRequestBytes (10 MiB) get 400 badRequest.
//   - 64-bit numbers and times (ms since the epoch) are JSON strings;
//     schemas come back with legacy type names and explicit modes.
//   - Updates: PATCH replaces the members present (an explicit null clears
//     one); PUT replaces the descriptive members wholesale and handles the
//     structural ones (schema, partitioning, clustering) like PATCH. Schema
//     evolution rules are the catalog's. If-Match gives 412 on a stale
//     etag; without it the read-modify-write is still atomic (conditioned
//     on the etag read, retried).
//   - A partition decorator is accepted by tables.get (the whole table is
//     shown) and refused (400 invalid) where it would act on a single
//     partition, which Penstock does not model yet.
//   - datasets.list hides datasets whose id starts with "_" unless
//     all=true and supports label filters; list page tokens resume after
//     the last id returned, so concurrent creates and deletes neither
//     repeat nor skip entries.
//   - tabledata.list: see tabledataList for paging and timestamp formats.
//   - A handler panic is logged with its stack and answered 500; unknown
//     errors are answered 500 internalError with a request id that appears
//     in the log. Deterministic failures never get a reason or status a
//     client retries.
//
// The discovery document (GET /$discovery/rest?version=v2 and
// /discovery/v1/apis/bigquery/v2/rest), which the bq CLI loads before
// every command, is generated from the route table with the server's own
// address as rootUrl.
package restapi
