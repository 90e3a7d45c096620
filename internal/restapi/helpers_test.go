package restapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/restapi"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/write"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testNow is the catalog's clock in every test: fixed, so creationTime and
// lastModifiedTime are stable in golden files.
var testNow = time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// env is a REST server over httptest with a real SQLite catalog.
type env struct {
	t    *testing.T
	srv  *httptest.Server
	cat  catalog.Catalog
	data *memData
	logs *syncBuffer
}

type envOption func(*restapi.Options)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	cat, err := catalog.Open(filepath.Join(t.TempDir(), "catalog.db"), catalog.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("catalog.Open: %v", err)
	}
	e := &env{t: t, cat: cat, data: newMemData(), logs: &syncBuffer{}}
	o := restapi.Options{
		Catalog: cat,
		Data:    e.data,
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BaseURL: func(*http.Request) string { return "http://penstock.test:9050/" },
	}
	for _, f := range opts {
		f(&o)
	}
	e.srv = httptest.NewServer(restapi.New(o))
	t.Cleanup(func() {
		e.srv.Close()
		if err := cat.Close(); err != nil {
			t.Errorf("catalog.Close: %v", err)
		}
	})
	return e
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// resp is a finished HTTP exchange.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends one request. body "" sends none; hdr is key, value pairs.
func (e *env) do(method, path, body string, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return e.doReader(method, path, rd, hdr...)
}

func (e *env) doReader(method, path string, body io.Reader, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatalf("NewRequest %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// mustDo sends a request and fails the test unless the status is want.
func (e *env) mustDo(want int, method, path, body string, hdr ...string) resp {
	e.t.Helper()
	r := e.do(method, path, body, hdr...)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// decode parses a JSON response body into a generic value.
func (r resp) decode(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding %q: %v", r.Body, err)
	}
	return m
}

// errorOf returns the envelope's code, reason and message, failing the
// test if the body is not a well-formed BigQuery error envelope.
func (r resp) errorOf(t *testing.T) (code int, reason, status, message string) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("Content-Type = %q, want application/json; charset=UTF-8", ct)
	}
	var env struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Errors  []struct {
				Message, Domain, Reason string
			} `json:"errors"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("error body %q: %v", r.Body, err)
	}
	e := env.Error
	if e.Code != r.Status {
		t.Errorf("envelope code %d != HTTP status %d", e.Code, r.Status)
	}
	if len(e.Errors) != 1 {
		t.Fatalf("envelope errors = %+v, want exactly one", e.Errors)
	}
	if e.Errors[0].Message != e.Message || e.Errors[0].Domain != "global" {
		t.Errorf("envelope errors[0] = %+v, want message %q and domain global", e.Errors[0], e.Message)
	}
	return e.Code, e.Errors[0].Reason, e.Status, e.Message
}

// transcript records exchanges for a golden file.
type transcript struct {
	t *testing.T
	b strings.Builder
}

func newTranscript(t *testing.T) *transcript { return &transcript{t: t} }

// add records one exchange under a title.
func (tr *transcript) add(title, method, path, body string, r resp) {
	fmt.Fprintf(&tr.b, "=== %s\n%s %s\n", title, method, path)
	if body != "" {
		fmt.Fprintf(&tr.b, "%s\n", body)
	}
	fmt.Fprintf(&tr.b, "--> %d\n%s\n", r.Status, canonicalBody(tr.t, r))
}

// canonicalBody pretty-prints a JSON body with sorted keys and every
// "etag" value replaced (etags are the catalog's business, not the
// transport's).
func canonicalBody(t *testing.T, r resp) string {
	t.Helper()
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return "(no body)"
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("response is not JSON: %q: %v", r.Body, err)
	}
	scrubETags(v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func scrubETags(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "etag" {
				if _, ok := val.(string); ok {
					x[k] = "<etag>"
				}
				continue
			}
			scrubETags(val)
		}
	case []any:
		for _, e := range x {
			scrubETags(e)
		}
	}
}

// check compares the transcript with testdata/<name>.golden (rewriting it
// under -update).
func (tr *transcript) check(name string) {
	tr.t.Helper()
	checkGolden(tr.t, name, tr.b.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test -update to accept)", path, i+1, g, w)
		}
	}
}

// memData is a small real TableData over literal rows, keyed by
// "project.dataset.table".
type memData struct {
	mu    sync.Mutex
	rows  map[string][]rowcodec.Row
	stats map[string]write.TableStats
	// reads counts ReadRows calls.
	reads int
}

func newMemData() *memData {
	return &memData{rows: map[string][]rowcodec.Row{}, stats: map[string]write.TableStats{}}
}

func tableKey(t *catalog.Table) string { return t.Project + "." + t.Dataset + "." + t.ID }

// set stores a table's rows (in the table's current schema).
func (d *memData) set(key string, rows ...rowcodec.Row) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rows[key] = rows
}

// setStats overrides what Stats reports for a table.
func (d *memData) setStats(key string, st write.TableStats) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats[key] = st
}

func (d *memData) ReadRows(ctx context.Context, t *catalog.Table, start, max int64, fn func(rowcodec.Row) error) (int64, error) {
	d.mu.Lock()
	rows := d.rows[tableKey(t)]
	d.reads++
	d.mu.Unlock()
	total := int64(len(rows))
	for i := start; i < total && (max < 0 || i < start+max); i++ {
		if err := fn(rows[i]); err != nil {
			return total, err
		}
	}
	return total, nil
}

func (d *memData) Stats(ctx context.Context, t *catalog.Table) (write.TableStats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st, ok := d.stats[tableKey(t)]; ok {
		return st, nil
	}
	return write.TableStats{NumRows: int64(len(d.rows[tableKey(t)]))}, nil
}

// gzipped compresses s.
func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
