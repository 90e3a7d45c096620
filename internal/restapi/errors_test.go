package restapi_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/restapi"
	"github.com/penstockdb/penstock/internal/write"
)

// domainErrors lists every exported Err* of the packages whose errors
// reach the REST transport. TestErrorTableComplete fails when a package
// declares one that is missing here: add it here AND to errors.go.
var domainErrors = map[string]map[string]error{
	"catalog": {
		"ErrDatasetNotFound":    catalog.ErrDatasetNotFound,
		"ErrDatasetExists":      catalog.ErrDatasetExists,
		"ErrDatasetNotEmpty":    catalog.ErrDatasetNotEmpty,
		"ErrTableNotFound":      catalog.ErrTableNotFound,
		"ErrTableExists":        catalog.ErrTableExists,
		"ErrInvalid":            catalog.ErrInvalid,
		"ErrPreconditionFailed": catalog.ErrPreconditionFailed,
		"ErrClosed":             catalog.ErrClosed,
	},
	"write": {
		"ErrInvalidStreamName":  write.ErrInvalidStreamName,
		"ErrStreamNotFound":     write.ErrStreamNotFound,
		"ErrTableNotFound":      write.ErrTableNotFound,
		"ErrStreamFinalized":    write.ErrStreamFinalized,
		"ErrOffsetExists":       write.ErrOffsetExists,
		"ErrOffsetOutOfRange":   write.ErrOffsetOutOfRange,
		"ErrOffsetOnDefault":    write.ErrOffsetOnDefault,
		"ErrInvalidStreamType":  write.ErrInvalidStreamType,
		"ErrInvalidStreamState": write.ErrInvalidStreamState,
		"ErrAlreadyCommitted":   write.ErrAlreadyCommitted,
		"ErrStreamExpired":      write.ErrStreamExpired,
		"ErrNotOnDefault":       write.ErrNotOnDefault,
		"ErrFlushedAlready":     write.ErrFlushedAlready,
		"ErrFlushBeyondEnd":     write.ErrFlushBeyondEnd,
		"ErrWrongTable":         write.ErrWrongTable,
		"ErrInvalidArgument":    write.ErrInvalidArgument,
		"ErrInvalidPartition":   write.ErrInvalidPartition,
		"ErrSchemaExtraFields":  write.ErrSchemaExtraFields,
		"ErrSchemaIncompatible": write.ErrSchemaIncompatible,
		"ErrInvalidDescriptor":  write.ErrInvalidDescriptor,
		"ErrInvalidRows":        write.ErrInvalidRows,
		"ErrRequestTooLarge":    write.ErrRequestTooLarge,
		"ErrUnavailable":        write.ErrUnavailable,
		"ErrStorage":            write.ErrStorage,
	},
}

// transient lists the errors that are genuinely temporary server states
// and may therefore carry a retryable answer.
var transient = map[error]bool{
	catalog.ErrClosed:    true,
	write.ErrUnavailable: true,
	write.ErrStorage:     true,
}

// exportedErrs parses a package's non-test sources and returns the names
// of its exported package-level variables starting with Err.
func exportedErrs(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("parsing %s: %v", f, err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	sort.Strings(names)
	return names
}

func TestErrorTableComplete(t *testing.T) {
	for pkg, known := range domainErrors {
		names := exportedErrs(t, filepath.Join("..", pkg))
		if len(names) == 0 {
			t.Errorf("found no Err* in package %s: is the path right?", pkg)
		}
		for _, n := range names {
			err, ok := known[n]
			if !ok {
				t.Errorf("%s.%s is not in domainErrors: map it in errors.go and list it here", pkg, n)
				continue
			}
			code, reason, status, msg, internal := restapi.LookupError(fmt.Errorf("context: %w", err))
			if internal {
				t.Errorf("%s.%s falls through to the internal-error default", pkg, n)
			}
			if msg == "" || status == "" || reason == "" {
				t.Errorf("%s.%s maps to code %d reason %q status %q message %q: all must be set", pkg, n, code, reason, status, msg)
			}
			if !transient[err] && isRetryable(code, reason) {
				t.Errorf("%s.%s maps to retryable %d %s, but it is a deterministic failure", pkg, n, code, reason)
			}
		}
	}
}

// isRetryable reports whether any official client retries the answer.
func isRetryable(code int, reason string) bool {
	switch reason {
	case "backendError", "rateLimitExceeded", "internalError", "badGateway", "jobRateLimitExceeded", "userRateLimitExceeded":
		return true
	}
	return code >= 500 || code == 429 || code == 408
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err                     error
		code                    int
		reason, status, message string
	}{
		{catalog.ErrDatasetNotFound, 404, "notFound", "NOT_FOUND", "Not found: Dataset p:d"},
		{catalog.ErrTableNotFound, 404, "notFound", "NOT_FOUND", "Not found: Table p:d.t"},
		{catalog.ErrDatasetExists, 409, "duplicate", "ALREADY_EXISTS", "Already Exists: Dataset p:d"},
		{catalog.ErrTableExists, 409, "duplicate", "ALREADY_EXISTS", "Already Exists: Table p:d.t"},
		{catalog.ErrDatasetNotEmpty, 400, "resourceInUse", "INVALID_ARGUMENT", "Dataset p:d is still in use"},
		{fmt.Errorf("%w: Field x is missing in new schema", catalog.ErrInvalid), 400, "invalid", "INVALID_ARGUMENT", "Field x is missing in new schema"},
		{fmt.Errorf("create: %w", fmt.Errorf("%w: deep", catalog.ErrInvalid)), 400, "invalid", "INVALID_ARGUMENT", "deep"},
		{catalog.ErrPreconditionFailed, 412, "conditionNotMet", "FAILED_PRECONDITION", "Precondition check failed."},
		{catalog.ErrClosed, 503, "backendError", "UNAVAILABLE", "The service is shutting down; retry."},
		{write.ErrTableNotFound, 404, "notFound", "NOT_FOUND", "Not found: Table p:d.t"},
		{&write.Error{Kind: write.ErrInvalidArgument, Message: "bad thing"}, 400, "invalid", "INVALID_ARGUMENT", "bad thing"},
		{write.ErrStorage, 500, "internalError", "INTERNAL", "An internal error occurred and the request could not be completed."},
		{context.Canceled, 499, "stopped", "CANCELLED", "The request was cancelled by the client."},
		{errors.New("disk on fire"), 500, "internalError", "INTERNAL", "An internal error occurred and the request could not be completed."},
	} {
		code, reason, status, msg, _ := restapi.LookupError(tc.err)
		if code != tc.code || reason != tc.reason || status != tc.status || msg != tc.message {
			t.Errorf("%v → %d %s %s %q, want %d %s %s %q", tc.err, code, reason, status, msg, tc.code, tc.reason, tc.status, tc.message)
		}
	}
}

// TestErrorEnvelopes drives every error answer the transport gives over
// HTTP and records the envelopes.
func TestErrorEnvelopes(t *testing.T) {
	e := newEnvWithDataset(t, func(o *restapi.Options) { o.MaxRequestBytes = 200 })
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"t"},"schema":{"fields":[{"name":"a","type":"STRING"}]}}`)
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"u"}}`)
	tr := newTranscript(t)
	for _, tc := range []struct {
		title, method, path, body string
		code                      int
		reason                    string
	}{
		{"dataset not found", "GET", "/projects/p/datasets/nope", "", 404, "notFound"},
		{"table not found", "GET", "/projects/p/datasets/ds/tables/nope", "", 404, "notFound"},
		{"table in a missing dataset", "GET", "/projects/p/datasets/nope/tables/t", "", 404, "notFound"},
		{"rows of a missing table", "GET", "/projects/p/datasets/ds/tables/nope/data", "", 404, "notFound"},
		{"dataset exists", "POST", "/projects/p/datasets", `{"datasetReference":{"datasetId":"ds"}}`, 409, "duplicate"},
		{"table exists", "POST", "/projects/p/datasets/ds/tables", `{"tableReference":{"tableId":"t"}}`, 409, "duplicate"},
		{"dataset in use", "DELETE", "/projects/p/datasets/ds", "", 400, "resourceInUse"},
		{"invalid schema change", "PATCH", "/projects/p/datasets/ds/tables/t", `{"schema":{"fields":[]}}`, 400, "invalid"},
		{"invalid parameter", "GET", "/projects/p/datasets?maxResults=many", "", 400, "invalid"},
		{"malformed JSON", "POST", "/projects/p/datasets", `{"datasetReference"`, 400, "badRequest"},
		{"payload too large", "POST", "/projects/p/datasets", `{"datasetReference":{"datasetId":"x"},"description":"` + strings.Repeat("x", 200) + `"}`, 400, "badRequest"},
		{"stale etag", "PATCH", "/projects/p/datasets/ds", `{}`, 412, "conditionNotMet"},
		{"unknown route", "GET", "/projects/p/widgets", "", 404, "notFound"},
		{"not an API path", "GET", "/favicon.ico", "", 404, "notFound"},
		{"wrong method", "POST", "/projects/p/datasets/ds", "", 405, "httpMethodNotAllowed"},
		{"insertAll is not served yet", "POST", "/projects/p/datasets/ds/tables/t/insertAll", `{"rows":[]}`, 501, "notImplemented"},
		{"jobs are not served yet", "POST", "/projects/p/queries", `{"query":"SELECT 1"}`, 501, "notImplemented"},
	} {
		var hdr []string
		if tc.code == 412 {
			hdr = []string{"If-Match", "stale"}
		}
		r := e.do(tc.method, tc.path, tc.body, hdr...)
		if r.Status != tc.code {
			t.Errorf("%s: status %d, want %d: %s", tc.title, r.Status, tc.code, r.Body)
			continue
		}
		if _, reason, _, _ := r.errorOf(t); reason != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.title, reason, tc.reason)
		}
		if tc.code == 405 {
			if got, want := r.Header.Get("Allow"), "GET, PATCH, PUT, DELETE"; got != want {
				t.Errorf("Allow = %q, want %q", got, want)
			}
		}
		tr.add(tc.title, tc.method, tc.path, tc.body, r)
	}
	tr.check("error_envelopes")
}

// failingData is a TableData whose reads fail or panic.
type failingData struct {
	*memData
	err   error
	panic bool
}

func (f failingData) Stats(ctx context.Context, t *catalog.Table) (write.TableStats, error) {
	if f.panic {
		panic("stats exploded")
	}
	return write.TableStats{}, f.err
}

var requestID = regexp.MustCompile(`Request id: ([0-9a-f]+-[0-9]+)\.`)

func TestInternalErrorLogged(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    failingData
		logWant string
	}{
		{"unknown error", failingData{memData: newMemData(), err: errors.New("disk on fire")}, "disk on fire"},
		{"storage error", failingData{memData: newMemData(), err: fmt.Errorf("%w: segment 7 unreadable", write.ErrStorage)}, "segment 7 unreadable"},
		{"panic", failingData{memData: newMemData(), panic: true}, "stats exploded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWithDataset(t, func(o *restapi.Options) { o.Data = tc.data })
			e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"t"}}`)
			r := e.do("GET", tablesBase+"/t", "")
			code, reason, status, msg := r.errorOf(t)
			if code != 500 || reason != "internalError" || status != "INTERNAL" {
				t.Errorf("got %d %s %s, want 500 internalError INTERNAL", code, reason, status)
			}
			if strings.Contains(msg, tc.logWant) {
				t.Errorf("message %q leaks the internal cause", msg)
			}
			m := requestID.FindStringSubmatch(msg)
			if m == nil {
				t.Fatalf("message %q carries no request id", msg)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, tc.logWant) || !strings.Contains(logs, m[1]) {
				t.Errorf("log lacks the cause %q or the request id %s:\n%s", tc.logWant, m[1], logs)
			}
			if tc.data.panic && !strings.Contains(logs, "goroutine") {
				t.Errorf("panic log lacks the stack:\n%s", logs)
			}
			// The server keeps serving.
			e.mustDo(200, "GET", "/projects/p/datasets/ds", "")
		})
	}
}
