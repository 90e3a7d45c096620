package restapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/write"
)

// Default limits.
const (
	// DefaultMaxRequestBytes is the largest request body accepted, after
	// gzip decoding: BigQuery's 10 MiB (10,485,760 bytes).
	DefaultMaxRequestBytes = 10 << 20
	// DefaultMaxPageRows caps the rows of one tabledata.list page, whatever
	// maxResults asks for (BigQuery's documented page cap is 100,000 rows).
	DefaultMaxPageRows = 100_000
	// DefaultMaxPageBytes caps the rendered rows of one tabledata.list page
	// (BigQuery limits a page to about 10 MB of response). A page always
	// holds at least one row, even a larger one.
	DefaultMaxPageBytes = 10 << 20
	// DefaultListPageSize is the page size of datasets.list and
	// tables.list when the request gives no maxResults.
	DefaultListPageSize = 1000
)

// Options configure the REST handler. Catalog is required; every other
// field has a default.
type Options struct {
	// Catalog stores datasets and tables.
	Catalog catalog.Catalog
	// Data reads rows and table statistics. nil makes every table read as
	// empty (numRows "0", no rows).
	Data TableData
	// Logger receives internal errors and recovered panics, with the
	// request id. nil discards.
	Logger *slog.Logger
	// Now is the clock of time-dependent checks (insertAll's partition
	// decorator window). nil means time.Now.
	Now func() time.Time
	// BaseURL returns the server's own root address as clients reach it
	// (scheme://host[:port], optionally with a path prefix; a trailing
	// slash is ignored). It is used for selfLink and the discovery
	// document's rootUrl. nil derives it from the request: http (https
	// under TLS) and r.Host.
	BaseURL func(r *http.Request) string
	// MaxRequestBytes is the largest accepted request body in bytes (after
	// gzip decoding); larger bodies get 400 badRequest. <= 0 means
	// DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// MaxPageRows caps rows per tabledata.list page. <= 0 means
	// DefaultMaxPageRows.
	MaxPageRows int
	// MaxPageBytes caps the rendered bytes of rows per tabledata.list page.
	// <= 0 means DefaultMaxPageBytes.
	MaxPageBytes int
}

// TableData is what the REST layer needs from the data path: row reads and
// the statistics tables.get reports. The write engine implements it.
type TableData interface {
	// ReadRows calls fn for the table's visible rows in order, skipping the
	// first start rows, for at most max rows (max < 0: no limit); rows are
	// projected onto t.Schema (one value per column, in schema order). It
	// returns the total number of visible rows.
	//
	// If fn returns an error, ReadRows stops at once and returns that error
	// (wrapped or not) together with the correct total; restapi relies on
	// this to end a page early when it reaches its byte cap.
	ReadRows(ctx context.Context, t *catalog.Table, start, max int64, fn func(rowcodec.Row) error) (total int64, err error)
	// Stats returns the numbers tables.get reports.
	Stats(ctx context.Context, t *catalog.Table) (write.TableStats, error)
}

// server is the http.Handler New returns.
type server struct {
	cat          catalog.Catalog
	data         TableData
	log          *slog.Logger
	now          func() time.Time
	baseURL      func(r *http.Request) string
	maxBody      int64
	maxPageRows  int
	maxPageBytes int

	routes   []*route
	idPrefix string
	seq      atomic.Uint64
}

// New returns the BigQuery REST v2 handler. It serves every route of the
// route table (see routes.go) under the prefixes /bigquery/v2/, /bigquery/
// and /, plus the discovery document at /$discovery/rest?version=v2 and
// /discovery/v1/apis/bigquery/v2/rest. It panics if o.Catalog is nil (a
// wiring bug, not bad input).
func New(o Options) http.Handler {
	if o.Catalog == nil {
		panic("restapi: Options.Catalog is nil")
	}
	s := &server{
		cat:          o.Catalog,
		data:         o.Data,
		log:          o.Logger,
		now:          o.Now,
		baseURL:      o.BaseURL,
		maxBody:      o.MaxRequestBytes,
		maxPageRows:  o.MaxPageRows,
		maxPageBytes: o.MaxPageBytes,
	}
	if s.data == nil {
		s.data = emptyData{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.baseURL == nil {
		s.baseURL = requestBaseURL
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxRequestBytes
	}
	if s.maxPageRows <= 0 {
		s.maxPageRows = DefaultMaxPageRows
	}
	if s.maxPageBytes <= 0 {
		s.maxPageBytes = DefaultMaxPageBytes
	}
	s.routes = apiRoutes()
	var b [4]byte
	_, _ = rand.Read(b[:])
	s.idPrefix = hex.EncodeToString(b[:])
	return s
}

// emptyData is the TableData of a server built without one.
type emptyData struct{}

func (emptyData) ReadRows(context.Context, *catalog.Table, int64, int64, func(rowcodec.Row) error) (int64, error) {
	return 0, nil
}

func (emptyData) Stats(context.Context, *catalog.Table) (write.TableStats, error) {
	return write.TableStats{}, nil
}

// requestBaseURL derives the server's address from the request.
func requestBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// root returns the base URL with exactly one trailing slash.
func (s *server) root(r *http.Request) string {
	return strings.TrimRight(s.baseURL(r), "/") + "/"
}

// call is one request in flight.
type call struct {
	s      *server
	w      *trackingWriter
	r      *http.Request
	ctx    context.Context
	id     string
	method string            // effective HTTP method (after X-HTTP-Method-Override)
	params map[string]string // decoded path parameters
	ref    resourceRef       // resource named in error messages
	q      url.Values        // parsed query, see values
}

// values returns the parsed query string (parsed once per request).
func (c *call) values() url.Values {
	if c.q == nil {
		c.q = c.r.URL.Query()
	}
	return c.q
}

// trackingWriter remembers whether the header went out, so a panic after
// a partial write does not produce a second, corrupt response.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(p)
}

// ServeHTTP routes one request. It never lets a handler panic escape: the
// stack is logged and the client gets a 500 envelope.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{
		s:      s,
		w:      &trackingWriter{ResponseWriter: w},
		r:      r,
		ctx:    r.Context(),
		id:     fmt.Sprintf("%s-%d", s.idPrefix, s.seq.Add(1)),
		method: r.Method,
	}
	defer c.recoverPanic()
	if r.Method == http.MethodPost {
		if m := r.Header.Get("X-HTTP-Method-Override"); m != "" {
			c.method = strings.ToUpper(strings.TrimSpace(m))
		}
	}
	if isDiscoveryPath(r.URL.Path) {
		c.finish(s.serveDiscovery(c))
		return
	}
	rt, params, err := s.match(c.method, r.URL.EscapedPath())
	if err != nil {
		if err == errMethodNotAllowed {
			c.w.Header().Set("Allow", strings.Join(s.allowed(r.URL.EscapedPath()), ", "))
			c.finish(fmt.Errorf("%w: Method %s is not allowed for %s", err, c.method, r.URL.Path))
			return
		}
		c.finish(fmt.Errorf("%w: Not found: %s %s", err, c.method, r.URL.Path))
		return
	}
	c.params = params
	c.ref = resourceRef{Project: params["projectId"], Dataset: params["datasetId"], Table: params["tableId"]}
	c.finish(rt.handle(c))
}

// recoverPanic turns a handler panic into a logged 500.
func (c *call) recoverPanic() {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	c.s.log.Error("restapi: handler panic", "request_id", c.id, "method", c.method,
		"path", c.r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if !c.w.wrote {
		writeAPIError(c.w, c.internal())
	}
}

// internal is the 500 answer for this request.
func (c *call) internal() apiError {
	return apiError{Code: http.StatusInternalServerError, Reason: "internalError", Status: "INTERNAL",
		Message: internalMessage + " Request id: " + c.id + "."}
}

// finish writes err (if any) as an envelope. Handlers write their own
// success responses and return nil.
func (c *call) finish(err error) {
	if err == nil {
		return
	}
	e := lookupError(err, c.ref)
	if e.Internal || e.Log {
		c.s.log.Error("restapi: internal error", "request_id", c.id, "method", c.method,
			"path", c.r.URL.Path, "err", err)
		if e.Internal {
			e = c.internal()
		} else if e.Code >= 500 {
			e.Message += " Request id: " + c.id + "."
		}
	} else {
		c.s.log.Debug("restapi: request failed", "request_id", c.id, "method", c.method,
			"path", c.r.URL.Path, "code", e.Code, "err", err)
	}
	if c.w.wrote {
		return // too late to change the answer; logged above
	}
	writeAPIError(c.w, e)
}

// writeJSON encodes v as the response body with the given status.
// Marshalling our own values cannot fail except for a bug, which becomes a
// logged 500 through the panic path.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("restapi: encoding response: %v", err))
	}
	writeRaw(w, code, buf.Bytes())
}

// writeRaw writes an already encoded JSON body, given in parts.
func writeRaw(w http.ResponseWriter, code int, parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	w.WriteHeader(code)
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return // the client went away
		}
	}
}
