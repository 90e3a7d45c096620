package restapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/restapi"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/storage"
	"github.com/penstockdb/penstock/internal/storage/wal"
	"github.com/penstockdb/penstock/internal/write"
)

// This file checks tabledata.insertAll on the wire, over a real write
// engine (log and catalog in a temp dir) behind the handler.

// fakeClock is the engine's settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// engineEnv is an env whose data path is a real write engine.
type engineEnv struct {
	*env
	eng   *write.Engine
	clock *fakeClock
}

// newEngineEnv starts a handler over a write engine with options wo (its
// clock starts at testNow) and creates dataset p:ds.
func newEngineEnv(t *testing.T, wo write.Options, opts ...envOption) *engineEnv {
	t.Helper()
	ee := &engineEnv{clock: &fakeClock{now: testNow}}
	withEngine := func(o *restapi.Options) {
		st, err := storage.Open(t.TempDir(), storage.Options{Sync: wal.SyncNever})
		if err != nil {
			t.Fatal(err)
		}
		wo.Now = ee.clock.Now
		eng, err := write.Open(context.Background(), st, o.Catalog, wo)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = eng.Close() })
		o.Data = eng
		ee.eng = eng
	}
	ee.env = newEnvWithDataset(t, append([]envOption{withEngine}, opts...)...)
	return ee
}

const insertBase = "/bigquery/v2/projects/p/datasets/ds/tables/"

// createTable creates ds.<id> with columns name STRING, n INTEGER REQUIRED
// (plus extra, a JSON fragment of more fields) and a layout fragment.
func (e *engineEnv) createTable(id, extra, layout string) {
	e.t.Helper()
	body := `{"tableReference":{"tableId":"` + id + `"},"schema":{"fields":[{"name":"name","type":"STRING"},{"name":"n","type":"INTEGER","mode":"REQUIRED"}` + extra + `]}` + layout + `}`
	e.mustDo(200, "POST", tablesBase, body)
}

// ns reads column n of ds.<id>.
func (e *engineEnv) ns(id string) []int64 {
	e.t.Helper()
	t, err := e.cat.GetTable(context.Background(), "p", "ds", id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []int64
	if _, err := e.eng.ReadRows(context.Background(), t, 0, -1, func(r rowcodec.Row) error {
		out = append(out, r[1].(int64))
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// insertErrors decodes a 200 insertAll answer.
type insertResponse struct {
	Kind         string `json:"kind"`
	InsertErrors []struct {
		Index  *int `json:"index"`
		Errors []map[string]*string
	} `json:"insertErrors"`
}

func (r resp) insertResponse(t *testing.T) insertResponse {
	t.Helper()
	var out insertResponse
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("insertAll answer %q: %v", r.Body, err)
	}
	if out.Kind != "bigquery#tableDataInsertAllResponse" {
		t.Errorf("kind %q", out.Kind)
	}
	return out
}

// summary renders insertErrors as "index:reason@location:message;...",
// checking every error carries exactly the four keys with string values.
func (ir insertResponse) summary(t *testing.T) string {
	t.Helper()
	var parts []string
	for _, ie := range ir.InsertErrors {
		if ie.Index == nil {
			t.Fatalf("insertErrors entry without index")
		}
		for _, e := range ie.Errors {
			if len(e) != 4 {
				t.Errorf("row %d error has keys %v, want reason, location, debugInfo, message", *ie.Index, e)
			}
			for _, k := range []string{"reason", "location", "debugInfo", "message"} {
				if e[k] == nil {
					t.Fatalf("row %d error lacks a string %s: %v", *ie.Index, k, e)
				}
			}
			if *e["debugInfo"] != "" {
				t.Errorf("debugInfo %q", *e["debugInfo"])
			}
			parts = append(parts, fmt.Sprintf("%d:%s@%s:%s", *ie.Index, *e["reason"], *e["location"], *e["message"]))
		}
	}
	return strings.Join(parts, ";")
}

func TestInsertAll_Wire(t *testing.T) {
	e := newEngineEnv(t, write.Options{})
	e.createTable("t", "", "")
	tr := newTranscript(t)
	step := func(title, path, body string, want int) resp {
		t.Helper()
		r := e.do("POST", path, body)
		if r.Status != want {
			t.Fatalf("%s: status %d, want %d: %s", title, r.Status, want, r.Body)
		}
		tr.add(title, "POST", path, body, r)
		return r
	}

	r := step("all rows valid", insertBase+"t/insertAll", `{"kind":"bigquery#tableDataInsertAllRequest","rows":[{"insertId":"a","json":{"name":"x","n":1}},{"json":{"N":"2"}}]}`, 200)
	if got, want := string(r.Body), `{"kind":"bigquery#tableDataInsertAllResponse"}`+"\n"; got != want {
		t.Fatalf("success body %q, want %q", got, want)
	}
	step("the Go client's path prefix", "/projects/p/datasets/ds/tables/t/insertAll", `{"rows":[{"json":{"n":3}}]}`, 200)
	step("explicit nulls as bq sends them, unknown members ignored", insertBase+"t/insertAll",
		`{"skipInvalidRows":null,"ignoreUnknownValues":null,"templateSuffix":null,"traceId":null,"kind":null,"partialRetries":3,"rows":[{"insertId":null,"json":{"n":4}}]}`, 200)

	r = step("one bad row stops the others", insertBase+"t/insertAll",
		`{"rows":[{"json":{"n":5}},{"json":{"n":6,"bad":1}},{"json":{"n":"seven"}},{"json":{"n":8}}]}`, 200)
	if got, want := r.insertResponse(t).summary(t),
		"1:invalid@bad:no such field: bad.;2:invalid@n:"+invalidIntMessage(t, e, "seven")+";0:stopped@:;3:stopped@:"; got != want {
		t.Fatalf("insertErrors\n got %s\nwant %s", got, want)
	}
	r = step("skipInvalidRows writes the good rows", insertBase+"t/insertAll",
		`{"skipInvalidRows":true,"rows":[{"json":{"n":5}},{"json":{"n":6,"bad":1}},{"json":{"n":8}}]}`, 200)
	if got, want := r.insertResponse(t).summary(t), "1:invalid@bad:no such field: bad."; got != want {
		t.Fatalf("insertErrors %s, want %s", got, want)
	}
	step("ignoreUnknownValues drops unknown keys, not type errors", insertBase+"t/insertAll",
		`{"ignoreUnknownValues":true,"skipInvalidRows":true,"rows":[{"json":{"n":9,"bad":1}},{"json":{"n":true}}]}`, 200)
	r = step("rows without json, with an empty json, with a long insertId", insertBase+"t/insertAll",
		`{"skipInvalidRows":true,"rows":[{"insertId":"x"},{"json":null},{"json":{}},{"insertId":"`+strings.Repeat("i", 129)+`","json":{"n":10}},{"insertId":"`+strings.Repeat("i", 128)+`","json":{"n":11}}]}`, 200)
	if got, want := r.insertResponse(t).summary(t),
		"0:invalid@:Row has no json object.;1:invalid@:Row has no json object.;2:invalid@:Row has no json object.;3:invalid@insertId:insertId is 129 characters long; the limit is 128."; got != want {
		t.Fatalf("insertErrors\n got %s\nwant %s", got, want)
	}
	r = step("a row with several problems lists each", insertBase+"t/insertAll",
		`{"rows":[{"json":{"x":1,"y":2}}]}`, 200)
	if got, want := r.insertResponse(t).summary(t), "0:invalid@x:no such field: x.;0:invalid@y:no such field: y.;0:invalid@n:Missing required field: n."; got != want {
		t.Fatalf("insertErrors\n got %s\nwant %s", got, want)
	}
	tr.check("insertall_wire")
	if got, want := fmt.Sprint(e.ns("t")), "[1 2 3 4 5 8 9 11]"; got != want {
		t.Fatalf("stored %s, want %s", got, want)
	}
}

// invalidIntMessage is the row codec's message for a bad INTEGER value
// (the handler passes it through unchanged).
func invalidIntMessage(t *testing.T, e *engineEnv, v string) string {
	t.Helper()
	tbl, err := e.cat.GetTable(context.Background(), "p", "ds", "t")
	if err != nil {
		t.Fatal(err)
	}
	dec, err := rowcodec.CompileJSON(tbl.Schema)
	if err != nil {
		t.Fatal(err)
	}
	errs := dec.Validate([][]byte{[]byte(`{"n":"` + v + `"}`)}, nil)
	if len(errs) != 1 {
		t.Fatalf("codec errors %v", errs)
	}
	return errs[0].Message
}

func TestInsertAll_RequestErrors(t *testing.T) {
	e := newEngineEnv(t, write.Options{})
	e.createTable("t", "", "")
	e.createTable("ing", "", `,"timePartitioning":{"type":"DAY"}`)
	e.createTable("hourly", "", `,"timePartitioning":{"type":"HOUR"}`)
	one := `{"rows":[{"json":{"n":1}}]}`
	manyRows := `{"rows":[` + strings.TrimSuffix(strings.Repeat(`{"json":{"n":1}},`, write.MaxInsertRows+1), ",") + `]}`
	big := `{"rows":[{"json":{"name":"` + strings.Repeat("x", restapi.DefaultMaxRequestBytes) + `","n":1}}]}`
	tr := newTranscript(t)
	for _, tc := range []struct {
		title, path, body string
		code              int
		reason, message   string
	}{
		{"missing dataset", "/bigquery/v2/projects/p/datasets/nope/tables/t/insertAll", one, 404, "notFound", "Not found: Dataset p:nope"},
		{"missing table", insertBase + "nope/insertAll", one, 404, "notFound", "Not found: Table p:ds.nope"},
		{"missing template", insertBase + "nope/insertAll", `{"templateSuffix":"_x","rows":[{"json":{"n":1}}]}`, 404, "notFound", "Not found: Table p:ds.nope"},
		{"empty rows", insertBase + "t/insertAll", `{"rows":[]}`, 400, "invalid", "No rows present in the request."},
		{"no rows member", insertBase + "t/insertAll", `{"skipInvalidRows":true}`, 400, "invalid", "No rows present in the request."},
		{"null rows", insertBase + "t/insertAll", `{"rows":null}`, 400, "invalid", "No rows present in the request."},
		{"too many rows", insertBase + "t/insertAll", manyRows, 400, "invalid", "Too many rows present in the request, limit: 50000 row count: 50001."},
		{"malformed JSON", insertBase + "t/insertAll", `{"rows":[`, 400, "badRequest", ""},
		{"rows is not a list", insertBase + "t/insertAll", `{"rows":{}}`, 400, "badRequest", ""},
		{"bad template suffix", insertBase + "t/insertAll", `{"templateSuffix":"a.b","rows":[{"json":{"n":1}}]}`, 400, "invalid",
			`Invalid template suffix "a.b": it may contain only letters, digits and underscores.`},
		{"decorator too old", insertBase + "ing$20231201/insertAll", one, 400, "invalid",
			"The destination table's partition ing$20231201 is outside the allowed bounds. You can only stream to partitions within 31 days in the past and 16 days in the future relative to the current date."},
		{"decorator too new, percent-encoded", insertBase + "ing%2420240119/insertAll", one, 400, "invalid",
			"The destination table's partition ing$20240119 is outside the allowed bounds. You can only stream to partitions within 31 days in the past and 16 days in the future relative to the current date."},
		{"decorator on an unpartitioned table", insertBase + "t$20240102/insertAll", one, 400, "invalid",
			"Cannot stream to partition t$20240102: insertAll takes a partition decorator only on tables partitioned by ingestion time with DAY granularity."},
		{"decorator on an hourly table", insertBase + "hourly$20240102/insertAll", one, 400, "invalid",
			"Cannot stream to partition hourly$20240102: insertAll takes a partition decorator only on tables partitioned by ingestion time with DAY granularity."},
		{"malformed decorator", insertBase + "ing$2024-01-02/insertAll", one, 400, "invalid",
			"Invalid partition decorator in table id ing$2024-01-02: insertAll accepts only $YYYYMMDD day partitions."},
	} {
		r := e.do("POST", tc.path, tc.body)
		if r.Status != tc.code {
			t.Errorf("%s: status %d, want %d: %.300s", tc.title, r.Status, tc.code, r.Body)
			continue
		}
		code, reason, _, msg := r.errorOf(t)
		if code != tc.code || reason != tc.reason || (tc.message != "" && msg != tc.message) {
			t.Errorf("%s: %d %s %q, want %d %s %q", tc.title, code, reason, msg, tc.code, tc.reason, tc.message)
		}
		body := tc.body
		if len(body) > 200 {
			body = body[:100] + "..."
		}
		tr.add(tc.title, "POST", tc.path, body, r)
	}
	// The body limit: one byte over 10 MiB is refused, before parsing.
	r := e.doReader("POST", insertBase+"t/insertAll", strings.NewReader(big))
	if code, reason, status, msg := r.errorOf(t); code != 400 || reason != "badRequest" || status != "INVALID_ARGUMENT" ||
		msg != "Request payload size exceeds the limit: 10485760 bytes." {
		t.Errorf("oversized body: %d %s %s %q", code, reason, status, msg)
	}
	tr.add("body over 10 MiB", "POST", insertBase+"t/insertAll", "(10 MiB of rows)", r)
	tr.check("insertall_request_errors")
	if got := e.ns("t"); len(got) != 0 {
		t.Fatalf("failed requests wrote %v", got)
	}
}

func TestInsertAll_DecoratorsAndTemplates(t *testing.T) {
	e := newEngineEnv(t, write.Options{})
	e.createTable("ing", "", `,"timePartitioning":{"type":"DAY"}`)
	e.createTable("col", `,{"name":"d","type":"DATE"}`, `,"timePartitioning":{"type":"DAY","field":"d"}`)
	one := `{"rows":[{"json":{"n":1}}]}`
	// Today is 2024-01-02: the window is 2023-12-02 .. 2024-01-18.
	for _, path := range []string{"ing$20231202", "ing%2420240118", "ing"} {
		e.mustDo(200, "POST", insertBase+path+"/insertAll", one)
	}
	tbl, _ := e.cat.GetTable(context.Background(), "p", "ds", "ing")
	var parts []string
	if _, err := e.eng.ReadRowsMeta(context.Background(), tbl, 0, -1, func(_ rowcodec.Row, m write.RowMeta) error {
		parts = append(parts, m.Partition.Format("2006-01-02"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(parts), "[2023-12-02 2024-01-18 2024-01-02]"; got != want {
		t.Fatalf("partitions %s, want %s", got, want)
	}

	// Column partitioning: a value outside the window is a row error.
	r := e.mustDo(200, "POST", insertBase+"col/insertAll", `{"rows":[{"json":{"n":1,"d":"2019-01-01"}},{"json":{"n":2,"d":"2019-01-08"}}]}`)
	want := "0:invalid@d:Value 2019-01-01 for partition column d of the destination table p:ds.col is outside the allowed bounds. " +
		"You can only stream to partitions of date range within 1825 days in the past and 366 days in the future relative to the current date.;1:stopped@:"
	if got := r.insertResponse(t).summary(t); got != want {
		t.Fatalf("insertErrors\n got %s\nwant %s", got, want)
	}

	// Templates: the instance is created with the template's layout, once.
	for i := 0; i < 2; i++ {
		e.mustDo(200, "POST", insertBase+"col/insertAll", `{"templateSuffix":"_2024","rows":[{"json":{"n":3,"d":"2024-01-01"}}]}`)
	}
	g := e.mustDo(200, "GET", insertBase+"col_2024", "").decode(t)
	if tp, _ := json.Marshal(g["timePartitioning"]); string(tp) != `{"field":"d","type":"DAY"}` {
		t.Errorf("instance timePartitioning %s", tp)
	}
	if got := fmt.Sprint(e.ns("col_2024")); got != "[3 3]" {
		t.Errorf("instance rows %s", got)
	}
	if got := e.ns("col"); len(got) != 0 {
		t.Errorf("template rows %v", got)
	}
}

func TestInsertAll_Dedup(t *testing.T) {
	e := newEngineEnv(t, write.Options{DedupWindow: time.Minute})
	e.createTable("t", "", "")
	body := `{"rows":[{"insertId":"a","json":{"n":1}},{"insertId":"b","json":{"n":2}},{"json":{"n":3}},{"insertId":"a","json":{"n":1}}]}`
	for i := 0; i < 2; i++ {
		r := e.mustDo(200, "POST", insertBase+"t/insertAll", body)
		if r.insertResponse(t).InsertErrors != nil {
			t.Fatalf("duplicates are reported as errors: %s", r.Body)
		}
	}
	if got, want := fmt.Sprint(e.ns("t")), "[1 2 3 3]"; got != want {
		t.Fatalf("stored %s, want %s", got, want)
	}
	e.clock.Add(time.Minute)
	e.mustDo(200, "POST", insertBase+"t/insertAll", body)
	if got, want := fmt.Sprint(e.ns("t")), "[1 2 3 3 1 2 3]"; got != want {
		t.Fatalf("after the window: stored %s, want %s", got, want)
	}
}

func TestInsertAll_StreamingBufferStats(t *testing.T) {
	e := newEngineEnv(t, write.Options{StreamingBuffer: 10 * time.Second})
	e.createTable("t", "", "")
	e.mustDo(200, "POST", insertBase+"t/insertAll", `{"rows":[{"json":{"n":1}},{"json":{"n":2}}]}`)
	e.clock.Add(4 * time.Second)
	e.mustDo(200, "POST", insertBase+"t/insertAll", `{"rows":[{"json":{"n":3}}]}`)
	g := e.mustDo(200, "GET", insertBase+"t", "").decode(t)
	sb, ok := g["streamingBuffer"].(map[string]any)
	if !ok || g["numRows"] != "0" || sb["estimatedRows"] != "3" || sb["oldestEntryTime"] != fmt.Sprint(testNow.UnixMilli()) {
		t.Fatalf("numRows %v streamingBuffer %v", g["numRows"], g["streamingBuffer"])
	}
	e.clock.Add(7 * time.Second) // the first request left the buffer
	g = e.mustDo(200, "GET", insertBase+"t", "").decode(t)
	if sb := g["streamingBuffer"].(map[string]any); g["numRows"] != "2" || sb["estimatedRows"] != "1" {
		t.Fatalf("numRows %v streamingBuffer %v", g["numRows"], sb)
	}
	e.clock.Add(4 * time.Second)
	g = e.mustDo(200, "GET", insertBase+"t", "").decode(t)
	if _, ok := g["streamingBuffer"]; ok || g["numRows"] != "3" {
		t.Fatalf("numRows %v streamingBuffer %v", g["numRows"], g["streamingBuffer"])
	}
	// tabledata.list shows every row throughout.
	if d := e.mustDo(200, "GET", insertBase+"t/data", "").decode(t); d["totalRows"] != "3" {
		t.Fatalf("totalRows %v", d["totalRows"])
	}
}

// TestInsertAll_NoEngine: a handler without an insert-capable data path
// answers 501, not a retryable error.
func TestInsertAll_NoEngine(t *testing.T) {
	e := newEnvWithDataset(t)
	r := e.do("POST", insertBase+"t/insertAll", `{"rows":[{"json":{}}]}`)
	if code, reason, _, _ := r.errorOf(t); code != http.StatusNotImplemented || reason != "notImplemented" {
		t.Fatalf("got %d %s", code, reason)
	}
}
