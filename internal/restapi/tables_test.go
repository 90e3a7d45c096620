package restapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/write"
)

// everyTypeSchema has every column type, aliases in standard-SQL spelling,
// lower-case names, nesting (a repeated RECORD inside a RECORD) and
// attributes given as numbers where the API uses strings.
const everyTypeSchema = `{"fields":[
 {"name":"s","type":"STRING","mode":"REQUIRED","maxLength":10,"description":"a string"},
 {"name":"b","type":"BYTES","maxLength":"16"},
 {"name":"i","type":"INT64"},
 {"name":"f","type":"FLOAT64"},
 {"name":"bo","type":"BOOL"},
 {"name":"ts","type":"TIMESTAMP"},
 {"name":"d","type":"date"},
 {"name":"t","type":"TIME"},
 {"name":"dt","type":"DATETIME"},
 {"name":"g","type":"GEOGRAPHY"},
 {"name":"n","type":"NUMERIC","precision":"10","scale":2},
 {"name":"bn","type":"BIGNUMERIC"},
 {"name":"j","type":"JSON"},
 {"name":"iv","type":"INTERVAL"},
 {"name":"r","type":"RANGE","rangeElementType":{"type":"DATE"}},
 {"name":"tags","type":"STRING","mode":"repeated"},
 {"name":"rec","type":"STRUCT","fields":[
   {"name":"x","type":"INTEGER"},
   {"name":"inner","type":"RECORD","mode":"REPEATED","fields":[{"name":"y","type":"string"},{"name":"z","type":"DATE"}]}]}
]}`

const tablesBase = "/bigquery/v2/projects/p/datasets/ds/tables"

func newEnvWithDataset(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := newEnv(t, opts...)
	e.mustDo(200, "POST", "/projects/p/datasets", `{"datasetReference":{"datasetId":"ds"}}`)
	return e
}

func TestTableLifecycle(t *testing.T) {
	e := newEnvWithDataset(t)
	tr := newTranscript(t)
	step := func(title, method, path, body string, want int, hdr ...string) resp {
		t.Helper()
		r := e.do(method, path, body, hdr...)
		if r.Status != want {
			t.Fatalf("%s: status %d, want %d: %s", title, r.Status, want, r.Body)
		}
		tr.add(title, method, path, body, r)
		return r
	}

	step("insert with every type, partitioning, clustering and extra members", "POST", tablesBase, `{
  "tableReference":{"projectId":"p","datasetId":"ds","tableId":"events"},
  "schema":`+everyTypeSchema+`,
  "timePartitioning":{"type":"DAY","field":"ts","expirationMs":86400000},
  "clustering":{"fields":["s"]},
  "description":"all types","labels":{"team":"ingest"},"numRows":"99","kind":"ignored"}`, 200)
	step("insert again: duplicate", "POST", tablesBase, `{"tableReference":{"tableId":"events"}}`, 409)
	step("insert into a missing dataset", "POST", "/bigquery/v2/projects/p/datasets/nope/tables",
		`{"tableReference":{"tableId":"x"}}`, 404)
	step("insert a range-partitioned table", "POST", tablesBase, `{"tableReference":{"tableId":"ranged"},
  "schema":{"fields":[{"name":"k","type":"INTEGER"}]},
  "rangePartitioning":{"field":"k","range":{"start":"0","end":100,"interval":"10"}}}`, 200)
	step("insert a table without schema", "POST", tablesBase, `{"tableReference":{"tableId":"bare"}}`, 200)

	e.data.setStats("p.ds.events", write.TableStats{NumRows: 5, NumBytes: 500, BufferRows: 2, BufferBytes: 64,
		OldestBuffered: time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC)})
	step("get reports stats and the streaming buffer", "GET", tablesBase+"/events", "", 200)
	step("get with fields=schema (full resource is fine)", "GET", tablesBase+"/events?fields=schema&alt=json&prettyPrint=false", "", 200)
	step("get with selectedFields narrows the schema", "GET", tablesBase+"/events?selectedFields="+url.QueryEscape("s,rec.inner.z"), "", 200)

	page1 := step("list page 1", "GET", tablesBase+"?maxResults=2", "", 200).decode(t)
	if got, want := page1["totalItems"], json.Number("3"); got != want {
		t.Errorf("totalItems = %v, want %v", got, want)
	}
	tok, _ := page1["nextPageToken"].(string)
	page2 := step("list page 2", "GET", tablesBase+"?maxResults=2&pageToken="+url.QueryEscape(tok), "", 200).decode(t)
	if _, ok := page2["nextPageToken"]; ok {
		t.Errorf("last page has nextPageToken")
	}

	step("patch: add a column at the end and inside a RECORD, drop the description",
		"PATCH", tablesBase+"/events", `{"description":null,"friendlyName":"Events","schema":{"fields":[
 {"name":"s","type":"STRING","mode":"REQUIRED","maxLength":"10","description":"a string"},
 {"name":"b","type":"BYTES","maxLength":"16"},
 {"name":"i","type":"INTEGER"},{"name":"f","type":"FLOAT"},{"name":"bo","type":"BOOLEAN"},
 {"name":"ts","type":"TIMESTAMP"},{"name":"d","type":"DATE"},{"name":"t","type":"TIME"},
 {"name":"dt","type":"DATETIME"},{"name":"g","type":"GEOGRAPHY"},
 {"name":"n","type":"NUMERIC","precision":"10","scale":"2"},{"name":"bn","type":"BIGNUMERIC"},
 {"name":"j","type":"JSON"},{"name":"iv","type":"INTERVAL"},
 {"name":"r","type":"RANGE","rangeElementType":{"type":"DATE"}},
 {"name":"tags","type":"STRING","mode":"REPEATED"},
 {"name":"rec","type":"RECORD","fields":[{"name":"x","type":"INTEGER"},
   {"name":"inner","type":"RECORD","mode":"REPEATED","fields":[{"name":"y","type":"STRING"},{"name":"z","type":"DATE"}]},
   {"name":"added_inside","type":"STRING"}]},
 {"name":"added","type":"INTEGER","mode":"REPEATED"}]}}`, 200)
	step("patch refused: a column dropped", "PATCH", tablesBase+"/ranged", `{"schema":{"fields":[]}}`, 400)
	step("patch refused: a type change", "PATCH", tablesBase+"/ranged", `{"schema":{"fields":[{"name":"k","type":"STRING"}]}}`, 400)
	step("patch refused: a new REQUIRED column", "PATCH", tablesBase+"/ranged",
		`{"schema":{"fields":[{"name":"k","type":"INTEGER"},{"name":"r","type":"STRING","mode":"REQUIRED"}]}}`, 400)
	step("patch with a stale If-Match", "PATCH", tablesBase+"/ranged", `{"description":"x"}`, 412, "If-Match", "nope")
	step("update replaces descriptive members, keeps the schema", "PUT", tablesBase+"/events", `{"labels":{"v":"2"}}`, 200)
	step("delete through a partition decorator is refused", "DELETE", tablesBase+"/events$20240101", "", 400)
	step("delete", "DELETE", tablesBase+"/events", "", 204)
	step("get deleted", "GET", tablesBase+"/events", "", 404)
	step("delete missing", "DELETE", tablesBase+"/events", "", 404)
	step("list tables of a missing dataset", "GET", "/bigquery/v2/projects/p/datasets/nope/tables", "", 404)
	tr.check("table_lifecycle")
}

// TestSchemaRoundTrip checks that every type, mode and attribute comes back
// in legacy spelling with explicit modes, whatever spelling went in.
func TestSchemaRoundTrip(t *testing.T) {
	e := newEnvWithDataset(t)
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"t"},"schema":`+everyTypeSchema+`}`)
	got := e.mustDo(200, "GET", tablesBase+"/t", "").decode(t)["schema"]
	want := map[string]any{"fields": []any{
		fld("s", "STRING", "REQUIRED", "description", "a string", "maxLength", "10"),
		fld("b", "BYTES", "NULLABLE", "maxLength", "16"),
		fld("i", "INTEGER", "NULLABLE"),
		fld("f", "FLOAT", "NULLABLE"),
		fld("bo", "BOOLEAN", "NULLABLE"),
		fld("ts", "TIMESTAMP", "NULLABLE"),
		fld("d", "DATE", "NULLABLE"),
		fld("t", "TIME", "NULLABLE"),
		fld("dt", "DATETIME", "NULLABLE"),
		fld("g", "GEOGRAPHY", "NULLABLE"),
		fld("n", "NUMERIC", "NULLABLE", "precision", "10", "scale", "2"),
		fld("bn", "BIGNUMERIC", "NULLABLE"),
		fld("j", "JSON", "NULLABLE"),
		fld("iv", "INTERVAL", "NULLABLE"),
		fld("r", "RANGE", "NULLABLE", "rangeElementType", map[string]any{"type": "DATE"}),
		fld("tags", "STRING", "REPEATED"),
		fld("rec", "RECORD", "NULLABLE", "fields", []any{
			fld("x", "INTEGER", "NULLABLE"),
			fld("inner", "RECORD", "REPEATED", "fields", []any{
				fld("y", "STRING", "NULLABLE"),
				fld("z", "DATE", "NULLABLE"),
			}),
		}),
	}}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("schema round trip:\n got %s\nwant %s", g, w)
	}
}

// fld builds a decoded field object: name, type, mode, then key/value
// pairs.
func fld(name, typ, mode string, kv ...any) map[string]any {
	m := map[string]any{"name": name, "type": typ, "mode": mode}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// TestTableDecorator checks that a partition decorator arrives the same
// literal or percent-encoded and resolves to the base table for reads.
func TestTableDecorator(t *testing.T) {
	e := newEnvWithDataset(t)
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"t"},"schema":{"fields":[{"name":"a","type":"STRING"}]}}`)
	plain := e.mustDo(200, "GET", tablesBase+"/t", "").Body
	for _, p := range []string{tablesBase + "/t$20240131", tablesBase + "/t%2420240131"} {
		if got := e.mustDo(200, "GET", p, "").Body; string(got) != string(plain) {
			t.Errorf("GET %s = %s, want %s", p, got, plain)
		}
	}
	for _, p := range []string{tablesBase + "/t$20240131/data", tablesBase + "/t%2420240131/data"} {
		r := e.do("GET", p, "")
		if _, reason, _, msg := r.errorOf(t); r.Status != 400 || reason != "invalid" {
			t.Errorf("GET %s: %d %s %q, want 400 invalid", p, r.Status, reason, msg)
		}
	}
	r := e.do("GET", tablesBase+"/missing$20240131", "")
	if _, _, _, msg := r.errorOf(t); r.Status != 404 || msg != "Not found: Table p:ds.missing" {
		t.Errorf("missing decorated table: %d %q", r.Status, msg)
	}
}

// TestTableInsertValidation covers request shapes tables.insert refuses.
func TestTableInsertValidation(t *testing.T) {
	e := newEnvWithDataset(t)
	for _, tc := range []struct {
		name, body string
		reason     string
	}{
		{"no table id", `{"tableReference":{"datasetId":"ds"}}`, "invalid"},
		{"other dataset", `{"tableReference":{"datasetId":"other","tableId":"t"}}`, "invalid"},
		{"bad field name", `{"tableReference":{"tableId":"t"},"schema":{"fields":[{"name":"a-b","type":"STRING"}]}}`, "invalid"},
		{"unknown type", `{"tableReference":{"tableId":"t"},"schema":{"fields":[{"name":"a","type":"WIDGET"}]}}`, "invalid"},
		{"null field", `{"tableReference":{"tableId":"t"},"schema":{"fields":[null]}}`, "invalid"},
		{"schema not an object", `{"tableReference":{"tableId":"t"},"schema":"a:STRING"}`, "invalid"},
		{"bad expirationMs", `{"tableReference":{"tableId":"t"},"timePartitioning":{"type":"DAY","expirationMs":"soon"}}`, "invalid"},
		{"partition on a missing column", `{"tableReference":{"tableId":"t"},"schema":{"fields":[{"name":"a","type":"STRING"}]},"timePartitioning":{"type":"DAY","field":"nope"}}`, "invalid"},
		{"malformed", `{"tableReference":{`, "badRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", tablesBase, tc.body)
			if r.Status != 400 {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
			}
			if _, reason, status, msg := r.errorOf(t); reason != tc.reason || status != "INVALID_ARGUMENT" || msg == "" {
				t.Errorf("reason %q status %q message %q, want %s INVALID_ARGUMENT and a message", reason, status, msg, tc.reason)
			}
		})
	}
	// The field-name message is BigQuery's wording (clients and users grep it).
	r := e.do("POST", tablesBase, `{"tableReference":{"tableId":"t"},"schema":{"fields":[{"name":"x-y","type":"STRING"}]}}`)
	if _, _, _, msg := r.errorOf(t); msg[:len(`Invalid field name "x-y".`)] != `Invalid field name "x-y".` {
		t.Errorf("message %q does not start with BigQuery's wording", msg)
	}
}

// TestTableListPagingStable checks that a page token resumes after the
// last id even when tables are created or deleted between pages.
func TestTableListPagingStable(t *testing.T) {
	e := newEnvWithDataset(t)
	for _, id := range []string{"a", "c", "e", "g"} {
		e.mustDo(200, "POST", tablesBase, fmt.Sprintf(`{"tableReference":{"tableId":%q}}`, id))
	}
	p1 := e.mustDo(200, "GET", tablesBase+"?maxResults=2", "").decode(t)
	e.mustDo(204, "DELETE", tablesBase+"/c", "")
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"b"}}`)
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"f"}}`)
	p2 := e.mustDo(200, "GET", tablesBase+"?maxResults=2&pageToken="+url.QueryEscape(p1["nextPageToken"].(string)), "").decode(t)
	var ids []string
	for _, p := range []map[string]any{p1, p2} {
		for _, it := range p["tables"].([]any) {
			ids = append(ids, it.(map[string]any)["tableReference"].(map[string]any)["tableId"].(string))
		}
	}
	if got, want := fmt.Sprint(ids), "[a c e f]"; got != want {
		t.Errorf("ids over two pages = %s, want %s", got, want)
	}
	if r := e.do("GET", tablesBase+"?pageToken=garbage!", ""); r.Status != 400 {
		t.Errorf("garbage page token: status %d, want 400", r.Status)
	}
}
