package write_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
	"github.com/penstockdb/penstock/internal/write"
)

// ienv is the engine test fixture (env) used by the insertAll tests.
type ienv = env

var insertNow = time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC)

// newIEnv opens an engine with o (its Now is replaced by the test clock)
// and creates dataset p:d.
func newIEnv(t *testing.T, o write.Options) *ienv {
	t.Helper()
	return newEngineEnv(t, o, insertNow)
}

// table creates p:d.<id> with columns name STRING, n INTEGER REQUIRED and
// the given layout.
func (e *ienv) table(id string, tp *catalog.TimePartitioning, extra ...*schema.Field) *catalog.Table {
	e.t.Helper()
	fields := append([]*schema.Field{
		{Name: "name", Type: schema.String, Mode: schema.Nullable},
		{Name: "n", Type: schema.Integer, Mode: schema.Required},
	}, extra...)
	t, err := e.cat.CreateTable(context.Background(), &catalog.Table{Project: "p", Dataset: "d", ID: id,
		Schema: &schema.Table{Fields: fields}, TimePartitioning: tp})
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// rowsOf builds insert rows from "id=json" pairs ("=json" for no id).
func rowsOf(pairs ...string) []write.InsertRow {
	out := make([]write.InsertRow, len(pairs))
	for i, p := range pairs {
		id, js, _ := strings.Cut(p, "=")
		out[i] = write.InsertRow{InsertID: id}
		if js != "" {
			out[i].JSON = []byte(js)
		}
	}
	return out
}

func (e *ienv) insert(req write.InsertRequest) (write.InsertResult, error) {
	if req.Project == "" {
		req.Project, req.Dataset = "p", "d"
	}
	return e.eng.InsertAll(context.Background(), req)
}

func (e *ienv) mustInsert(req write.InsertRequest) write.InsertResult {
	e.t.Helper()
	res, err := e.insert(req)
	if err != nil {
		e.t.Fatalf("InsertAll(%s): %v", req.Table, err)
	}
	return res
}

// ns reads the n column of every row of table id, in order.
func (e *ienv) ns(id string) []int64 {
	e.t.Helper()
	t, err := e.cat.GetTable(context.Background(), "p", "d", id)
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

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func wantNs(t *testing.T, got []int64, want ...int64) {
	t.Helper()
	if !equalInts(got, want) {
		t.Fatalf("stored n = %v, want %v", got, want)
	}
}

func TestInsertAll_AllOrNothing(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("t", nil)
	rows := rowsOf(`={"n":1}`, `={"n":"x"}`, `={"n":3,"bad":1}`, `={"n":4}`)

	res := e.mustInsert(write.InsertRequest{Table: "t", Rows: rows})
	if !res.Stopped || res.Written != 0 {
		t.Fatalf("Stopped=%v Written=%d, want true 0", res.Stopped, res.Written)
	}
	if len(res.RowErrors) != 2 || res.RowErrors[0].Index != 1 || res.RowErrors[0].Location != "n" ||
		res.RowErrors[1] != (rowcodec.RowError{Index: 2, Location: "bad", Message: "no such field: bad."}) {
		t.Fatalf("row errors %+v", res.RowErrors)
	}
	wantNs(t, e.ns("t"))

	res = e.mustInsert(write.InsertRequest{Table: "t", Rows: rows, SkipInvalidRows: true})
	if res.Stopped || res.Written != 2 || len(res.RowErrors) != 2 {
		t.Fatalf("skip: %+v", res)
	}
	wantNs(t, e.ns("t"), 1, 4)

	res = e.mustInsert(write.InsertRequest{Table: "t", Rows: rows[2:3], IgnoreUnknownValues: true})
	if res.Written != 1 || len(res.RowErrors) != 0 {
		t.Fatalf("ignoreUnknownValues: %+v", res)
	}
	wantNs(t, e.ns("t"), 1, 4, 3)
}

func TestInsertAll_RowLevelRules(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("t", nil)
	long := strings.Repeat("é", write.MaxInsertIDLength+1)
	ok128 := strings.Repeat("é", write.MaxInsertIDLength)
	res := e.mustInsert(write.InsertRequest{Table: "t", Rows: []write.InsertRow{
		{InsertID: long, JSON: []byte(`{"n":1}`)},
		{InsertID: ok128, JSON: []byte(`{"n":2}`)},
		{JSON: nil},
		{JSON: []byte(` { } `)},
		{JSON: []byte(`null`)},
	}, SkipInvalidRows: true})
	var idx []int
	for _, re := range res.RowErrors {
		idx = append(idx, re.Index)
	}
	if fmt.Sprint(idx) != "[0 2 3 4]" {
		t.Fatalf("invalid rows %v (%+v), want [0 2 3 4]", idx, res.RowErrors)
	}
	if re := res.RowErrors[0]; re.Location != "insertId" || !strings.Contains(re.Message, "129") {
		t.Errorf("long insertId error %+v", re)
	}
	wantNs(t, e.ns("t"), 2)
}

func TestInsertAll_RequestErrors(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("t", nil)
	one := rowsOf(`={"n":1}`)
	for _, tc := range []struct {
		name string
		req  write.InsertRequest
		kind error
		msg  string
	}{
		{"no dataset", write.InsertRequest{Project: "p", Dataset: "nope", Table: "t", Rows: one}, catalog.ErrDatasetNotFound, ""},
		{"no table", write.InsertRequest{Table: "nope", Rows: one}, catalog.ErrTableNotFound, ""},
		{"no template", write.InsertRequest{Table: "nope", TemplateSuffix: "_x", Rows: one}, catalog.ErrTableNotFound, ""},
		{"no rows", write.InsertRequest{Table: "t"}, write.ErrInvalidArgument, "No rows present in the request."},
		{"too many rows", write.InsertRequest{Table: "t", Rows: make([]write.InsertRow, write.MaxInsertRows+1)}, write.ErrInvalidArgument,
			"Too many rows present in the request, limit: 50000 row count: 50001."},
		{"bad suffix", write.InsertRequest{Table: "t", TemplateSuffix: "a-b", Rows: one}, write.ErrInvalidArgument,
			`Invalid template suffix "a-b": it may contain only letters, digits and underscores.`},
		{"long suffix", write.InsertRequest{Table: "t", TemplateSuffix: strings.Repeat("x", 1024), Rows: one}, write.ErrInvalidArgument,
			"Invalid template suffix: the template name and suffix together are 1025 characters long; the limit is 1024."},
		{"decorator on unpartitioned", write.InsertRequest{Table: "t$20260501", Rows: one}, write.ErrInvalidPartition,
			"Cannot stream to partition t$20260501: insertAll takes a partition decorator only on tables partitioned by ingestion time with DAY granularity."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.insert(tc.req)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("message %q, want %q", err.Error(), tc.msg)
			}
		})
	}
	wantNs(t, e.ns("t"))
}

func TestInsertAll_Dedup(t *testing.T) {
	e := newIEnv(t, write.Options{DedupWindow: time.Minute})
	e.table("t", nil)
	res := e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`a={"n":1}`, `b={"n":2}`, `={"n":3}`, `a={"n":4}`)})
	if res.Written != 3 || res.Duplicates != 1 {
		t.Fatalf("first request: %+v", res)
	}
	// A retry of the same rows: only the row without an id is stored again.
	e.clock.Add(59 * time.Second)
	res = e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`a={"n":1}`, `b={"n":2}`, `={"n":3}`)})
	if res.Written != 1 || res.Duplicates != 2 || len(res.RowErrors) != 0 {
		t.Fatalf("retry: %+v", res)
	}
	wantNs(t, e.ns("t"), 1, 2, 3, 3)
	// b was first seen 59 s ago, a too: a minute after, both are new again.
	e.clock.Add(2 * time.Second)
	res = e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`a={"n":5}`)})
	if res.Written != 1 {
		t.Fatalf("after the window: %+v", res)
	}
	wantNs(t, e.ns("t"), 1, 2, 3, 3, 5)
	// Invalid rows reserve nothing: a stopped request leaves ids free.
	res = e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`c={"n":6}`, `={"n":"bad"}`)})
	if !res.Stopped {
		t.Fatalf("want stopped: %+v", res)
	}
	res = e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`c={"n":6}`)})
	if res.Written != 1 {
		t.Fatalf("after a stopped request: %+v", res)
	}
	// An invalid first occurrence does not hide a valid second one.
	res = e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`d={"n":"bad"}`, `d={"n":7}`), SkipInvalidRows: true})
	if res.Written != 1 || res.Duplicates != 0 {
		t.Fatalf("invalid then valid: %+v", res)
	}
	wantNs(t, e.ns("t"), 1, 2, 3, 3, 5, 6, 7)
}

func TestInsertAll_DedupScopes(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("t", nil)
	e.table("u", nil)
	e.table("ing", &catalog.TimePartitioning{Type: "DAY"})
	row := rowsOf(`same={"n":1}`)
	for _, req := range []write.InsertRequest{
		{Table: "t", Rows: row},
		{Table: "u", Rows: row},
		{Table: "t", TemplateSuffix: "_x", Rows: row}, // writes t_x through template t
		{Table: "t_x", Rows: row},                     // t_x directly: another scope
		{Table: "ing", Rows: row},
		{Table: "ing$20260501", Rows: row},
		{Table: "ing$20260430", Rows: row},
	} {
		if res := e.mustInsert(req); res.Written != 1 {
			t.Fatalf("%s (suffix %q): %+v, want written", req.Table, req.TemplateSuffix, res)
		}
		if res := e.mustInsert(req); res.Written != 0 || res.Duplicates != 1 {
			t.Fatalf("%s (suffix %q) again: %+v, want a duplicate", req.Table, req.TemplateSuffix, res)
		}
	}
	wantNs(t, e.ns("t_x"), 1, 1)
	wantNs(t, e.ns("ing"), 1, 1, 1)
}

func TestInsertAll_DedupOff(t *testing.T) {
	e := newIEnv(t, write.Options{DedupWindow: -1})
	e.table("t", nil)
	for i := 0; i < 2; i++ {
		e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`a={"n":1}`, `a={"n":1}`)})
	}
	wantNs(t, e.ns("t"), 1, 1, 1, 1)
}

// TestInsertAll_DedupConcurrent sends the same ids from many goroutines at
// once: each id is stored exactly once, and every request succeeds.
func TestInsertAll_DedupConcurrent(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("t", nil)
	const workers, ids = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rows := make([]write.InsertRow, ids)
			for i := range rows {
				j := (i + w*7) % ids // each worker in its own order
				rows[i] = write.InsertRow{InsertID: fmt.Sprintf("id%d", j), JSON: []byte(fmt.Sprintf(`{"n":%d}`, j))}
			}
			res, err := e.insert(write.InsertRequest{Table: "t", Rows: rows})
			if err == nil && res.Written+res.Duplicates != ids {
				err = fmt.Errorf("written %d + duplicates %d != %d", res.Written, res.Duplicates, ids)
			}
			errs <- err
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := e.ns("t")
	seen := map[int64]int{}
	for _, n := range got {
		seen[n]++
	}
	if len(got) != ids || len(seen) != ids {
		t.Fatalf("stored %d rows (%d distinct), want %d once each", len(got), len(seen), ids)
	}
}

// TestInsertAll_DedupMemoryBound keeps inserting fresh ids: the index
// never holds more than two generations of DedupMaxIDs ids.
func TestInsertAll_DedupMemoryBound(t *testing.T) {
	e := newIEnv(t, write.Options{DedupMaxIDs: 100})
	e.table("t", nil)
	for r := 0; r < 30; r++ {
		rows := make([]write.InsertRow, 20)
		for i := range rows {
			rows[i] = write.InsertRow{InsertID: fmt.Sprintf("r%d-%d", r, i), JSON: []byte(`{"n":1}`)}
		}
		e.mustInsert(write.InsertRequest{Table: "t", Rows: rows})
		if n := write.DedupSize(e.eng); n > 2*100+20 {
			t.Fatalf("after request %d the index holds %d ids", r, n)
		}
	}
	// The most recent ids are still remembered.
	res := e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`r29-0={"n":1}`)})
	if res.Duplicates != 1 {
		t.Fatalf("recent id forgotten: %+v", res)
	}
}

func TestInsertAll_Template(t *testing.T) {
	e := newIEnv(t, write.Options{})
	tmpl, err := e.cat.CreateTable(context.Background(), &catalog.Table{Project: "p", Dataset: "d", ID: "events",
		Schema: &schema.Table{Fields: []*schema.Field{
			{Name: "name", Type: schema.String},
			{Name: "n", Type: schema.Integer, Mode: schema.Required},
			{Name: "ts", Type: schema.Timestamp},
		}},
		TimePartitioning: &catalog.TimePartitioning{Type: "DAY", Field: "ts", ExpirationMs: 3600000},
		Clustering:       &catalog.Clustering{Fields: []string{"name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := e.mustInsert(write.InsertRequest{Table: "events", TemplateSuffix: "_20260501", Rows: rowsOf(`={"n":1,"ts":"2026-05-01 10:00:00"}`)})
	if res.Written != 1 || res.Table.ID != "events_20260501" {
		t.Fatalf("template insert: %+v", res)
	}
	inst, err := e.cat.GetTable(context.Background(), "p", "d", "events_20260501")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonOf(t, inst.Schema), jsonOf(t, tmpl.Schema); a != b {
		t.Errorf("instance schema %v, want %v", inst.Schema, tmpl.Schema)
	}
	if inst.TimePartitioning == nil || *inst.TimePartitioning != *tmpl.TimePartitioning {
		t.Errorf("instance partitioning %+v, want %+v", inst.TimePartitioning, tmpl.TimePartitioning)
	}
	if inst.Clustering == nil || fmt.Sprint(inst.Clustering.Fields) != "[name]" {
		t.Errorf("instance clustering %+v", inst.Clustering)
	}
	wantNs(t, e.ns("events_20260501"), 1)
	wantNs(t, e.ns("events"))

	// Later template changes do not touch the existing instance.
	tmpl.Schema = &schema.Table{Fields: append(append([]*schema.Field{}, tmpl.Schema.Fields...), &schema.Field{Name: "extra", Type: schema.String})}
	if _, err := e.cat.UpdateTable(context.Background(), tmpl, ""); err != nil {
		t.Fatal(err)
	}
	res = e.mustInsert(write.InsertRequest{Table: "events", TemplateSuffix: "_20260501", Rows: rowsOf(`={"n":2,"extra":"x"}`)})
	if len(res.RowErrors) != 1 || res.RowErrors[0].Message != "no such field: extra." {
		t.Fatalf("existing instance keeps its schema: %+v", res)
	}
	res = e.mustInsert(write.InsertRequest{Table: "events", TemplateSuffix: "_20260502", Rows: rowsOf(`={"n":2,"extra":"x"}`)})
	if res.Written != 1 {
		t.Fatalf("new instance has the new schema: %+v", res)
	}
}

// TestInsertAll_TemplateRace creates one instance from many goroutines.
func TestInsertAll_TemplateRace(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("tmpl", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			_, err := e.insert(write.InsertRequest{Table: "tmpl", TemplateSuffix: "_s", Rows: []write.InsertRow{{JSON: []byte(fmt.Sprintf(`{"n":%d}`, w))}}})
			errs <- err
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.ns("tmpl_s"); len(got) != 8 {
		t.Fatalf("instance holds %v, want 8 rows", got)
	}
}

func TestInsertAll_SurvivesRestart(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("t", nil)
	e.table("ing", &catalog.TimePartitioning{Type: "DAY"})
	e.mustInsert(write.InsertRequest{Table: "t", Rows: rowsOf(`a={"n":1}`, `={"n":2}`)})
	e.mustInsert(write.InsertRequest{Table: "ing$20260420", Rows: rowsOf(`={"n":3}`)})
	e.mustInsert(write.InsertRequest{Table: "t", TemplateSuffix: "_x", Rows: rowsOf(`={"n":4}`)})
	e.restart()
	wantNs(t, e.ns("t"), 1, 2)
	wantNs(t, e.ns("t_x"), 4)
	metas := e.metas("ing")
	if len(metas) != 1 || !metas[0].Partition.Equal(time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("partition after restart: %+v", metas)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
