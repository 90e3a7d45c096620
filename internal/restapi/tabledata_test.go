package restapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/restapi"
	"github.com/penstockdb/penstock/internal/rowcodec"
)

// must unwraps a parser result in test data.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// numberedRows makes n rows (INTEGER n, STRING s).
func numberedRows(n int) []rowcodec.Row {
	rows := make([]rowcodec.Row, n)
	for i := range rows {
		rows[i] = rowcodec.Row{int64(i), fmt.Sprintf("row %d", i)}
	}
	return rows
}

func createNumbered(t *testing.T, e *env, id string, n int) {
	t.Helper()
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"`+id+`"},"schema":{"fields":[{"name":"n","type":"INTEGER"},{"name":"s","type":"STRING"}]}}`)
	e.data.set("p.ds."+id, numberedRows(n)...)
}

func TestTabledataPaging(t *testing.T) {
	e := newEnvWithDataset(t)
	createNumbered(t, e, "seven", 7)
	createNumbered(t, e, "empty", 0)
	createNumbered(t, e, "other", 7)
	tr := newTranscript(t)
	get := func(title, query string, want int) map[string]any {
		t.Helper()
		p := tablesBase + "/seven/data" + query
		r := e.do("GET", p, "")
		if r.Status != want {
			t.Fatalf("%s: status %d, want %d: %s", title, r.Status, want, r.Body)
		}
		tr.add(title, "GET", p, "", r)
		if want != 200 {
			return nil
		}
		return r.decode(t)
	}

	get("everything in one page", "", 200)
	p1 := get("maxResults=3", "?maxResults=3", 200)
	tok1, _ := p1["pageToken"].(string)
	p2 := get("follow the token", "?maxResults=3&pageToken="+url.QueryEscape(tok1), 200)
	tok2, _ := p2["pageToken"].(string)
	p3 := get("last page: no token", "?maxResults=3&pageToken="+url.QueryEscape(tok2), 200)
	if _, ok := p3["pageToken"]; ok {
		t.Errorf("last page has a pageToken: %v", p3)
	}
	get("startIndex", "?startIndex=5", 200)
	get("pageToken wins over startIndex", "?startIndex=6&maxResults=1&pageToken="+url.QueryEscape(tok1), 200)
	end := get("startIndex at the end: no rows member", "?startIndex=7", 200)
	if _, ok := end["rows"]; ok {
		t.Errorf("empty page has rows: %v", end)
	}
	get("startIndex past the end", "?startIndex=100", 200)
	get("a page token from another table", "?pageToken="+url.QueryEscape(tokenOf(t, e, "other")), 400)
	get("garbage page token", "?pageToken=zzz", 400)
	get("bad maxResults", "?maxResults=-1", 400)
	get("bad startIndex", "?startIndex=x", 400)
	r := e.mustDo(200, "GET", tablesBase+"/empty/data", "")
	tr.add("empty table", "GET", tablesBase+"/empty/data", "", r)
	tr.check("tabledata_paging")
}

// tokenOf returns the first page token of a table read 1 row at a time.
func tokenOf(t *testing.T, e *env, id string) string {
	t.Helper()
	m := e.mustDo(200, "GET", tablesBase+"/"+id+"/data?maxResults=1", "").decode(t)
	tok, _ := m["pageToken"].(string)
	if tok == "" {
		t.Fatalf("no page token for %s", id)
	}
	return tok
}

// readAll follows page tokens to the end and returns the n column of
// every row, checking the invariants of each page.
func readAll(t *testing.T, e *env, path string) (ns []string, pages int) {
	t.Helper()
	query := ""
	for {
		m := e.mustDo(200, "GET", path+query, "").decode(t)
		pages++
		rows, _ := m["rows"].([]any)
		tok, _ := m["pageToken"].(string)
		if len(rows) == 0 && tok != "" {
			t.Fatalf("page %d: no rows but a page token", pages)
		}
		for _, row := range rows {
			cells := row.(map[string]any)["f"].([]any)
			ns = append(ns, cells[0].(map[string]any)["v"].(string))
		}
		if tok == "" {
			return ns, pages
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		query = "?pageToken=" + url.QueryEscape(tok)
	}
}

func TestTabledataPageCaps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opt       envOption
		wantPages int
	}{
		// No maxResults: the row cap decides.
		{"rows", func(o *restapi.Options) { o.MaxPageRows = 2 }, 5},
		// A byte cap below one row still returns one row per page.
		{"bytes=1", func(o *restapi.Options) { o.MaxPageBytes = 1 }, 9},
		// Rows of this table render to 31 bytes (+1 for the comma): three
		// fit in 100, so 9 rows take 3 pages.
		{"bytes=100", func(o *restapi.Options) { o.MaxPageBytes = 100 }, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWithDataset(t, tc.opt)
			createNumbered(t, e, "nine", 9)
			ns, pages := readAll(t, e, tablesBase+"/nine/data")
			if got, want := strings.Join(ns, ","), "0,1,2,3,4,5,6,7,8"; got != want {
				t.Errorf("rows = %s, want %s", got, want)
			}
			if pages != tc.wantPages {
				t.Errorf("pages = %d, want %d", pages, tc.wantPages)
			}
		})
	}
}

// nestedRows builds the table behind TestTabledataSelectedFields.
const nestedSchema = `{"fields":[
 {"name":"s","type":"STRING"},
 {"name":"i","type":"INTEGER"},
 {"name":"rec","type":"RECORD","fields":[
   {"name":"x","type":"INTEGER"},
   {"name":"inner","type":"RECORD","mode":"REPEATED","fields":[{"name":"y","type":"STRING"},{"name":"z","type":"DATE"}]}]},
 {"name":"tags","type":"STRING","mode":"REPEATED"}]}`

func nestedRows() []rowcodec.Row {
	d := must(rowcodec.ParseDate("2024-01-31"))
	return []rowcodec.Row{
		{"a", int64(1), rowcodec.Row{int64(10), []rowcodec.Value{rowcodec.Row{"y1", d}, rowcodec.Row{nil, nil}}}, []rowcodec.Value{"t1", "t2"}},
		{nil, nil, nil, []rowcodec.Value{}},
		{"c", int64(3), rowcodec.Row{nil, []rowcodec.Value{}}, []rowcodec.Value{}},
	}
}

func TestTabledataSelectedFields(t *testing.T) {
	e := newEnvWithDataset(t)
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"n"},"schema":`+nestedSchema+`}`)
	e.data.set("p.ds.n", nestedRows()...)
	tr := newTranscript(t)
	for _, tc := range []struct {
		title, sel string
		want       int
	}{
		{"all columns", "", 200},
		{"listed out of order: cells stay in schema order", "tags,s", 200},
		{"case-insensitive", "S,I", 200},
		{"nested path inside a repeated record", "rec.inner.z,s", 200},
		{"whole record wins over a sub-path", "rec.x,rec", 200},
		{"unknown column", "s,nope", 400},
		{"sub-field of a scalar", "s.x", 400},
		{"unknown sub-field", "rec.nope", 400},
	} {
		p := tablesBase + "/n/data"
		if tc.sel != "" {
			p += "?selectedFields=" + url.QueryEscape(tc.sel)
		}
		r := e.do("GET", p, "")
		if r.Status != tc.want {
			t.Fatalf("%s: status %d, want %d: %s", tc.title, r.Status, tc.want, r.Body)
		}
		tr.add(tc.title, "GET", p, "", r)
	}
	tr.check("tabledata_selected_fields")

	// Every row has exactly one cell per selected top-level column.
	m := e.mustDo(200, "GET", tablesBase+"/n/data?selectedFields=rec.inner.z,tags,i", "").decode(t)
	for i, row := range m["rows"].([]any) {
		if got := len(row.(map[string]any)["f"].([]any)); got != 3 {
			t.Errorf("row %d has %d cells, want 3", i, got)
		}
	}
}

// tsSchema has a top-level, a repeated and a nested TIMESTAMP.
const tsSchema = `{"fields":[
 {"name":"ts","type":"TIMESTAMP"},
 {"name":"many","type":"TIMESTAMP","mode":"REPEATED"},
 {"name":"rec","type":"RECORD","fields":[{"name":"at","type":"TIMESTAMP"}]}]}`

func TestTabledataTimestampFormats(t *testing.T) {
	e := newEnvWithDataset(t)
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"ts"},"schema":`+tsSchema+`}`)
	ts := func(s string) rowcodec.Value { return must(rowcodec.ParseTimestamp(s)) }
	e.data.set("p.ds.ts",
		rowcodec.Row{ts("2023-11-14T22:13:20.123456Z"), []rowcodec.Value{ts("1970-01-01T00:00:00Z"), ts("1969-12-31T23:59:59.5Z")},
			rowcodec.Row{ts("2024-01-02T03:04:05Z")}},
		rowcodec.Row{nil, []rowcodec.Value{}, nil},
	)
	tr := newTranscript(t)
	for _, q := range []string{
		"",
		"?formatOptions.useInt64Timestamp=true",
		"?formatOptions.useInt64Timestamp=false",
		"?formatOptions.timestampOutputFormat=FLOAT64",
		"?formatOptions.timestampOutputFormat=INT64",
		"?formatOptions.timestampOutputFormat=ISO8601_STRING",
		"?formatOptions.timestampOutputFormat=TIMESTAMP_OUTPUT_FORMAT_UNSPECIFIED",
		"?formatOptions.timestampOutputFormat=TIMESTAMP_OUTPUT_FORMAT_UNSPECIFIED&formatOptions.useInt64Timestamp=true",
		"?formatOptions.timestampOutputFormat=ISO8601_STRING&formatOptions.useInt64Timestamp=true",
		"?formatOptions.timestampOutputFormat=RFC822",
		"?formatOptions.useInt64Timestamp=maybe",
	} {
		p := tablesBase + "/ts/data" + q
		tr.add("timestamps "+q, "GET", p, "", e.do("GET", p, ""))
	}
	tr.check("tabledata_timestamps")

	// The formats that matter to each client, checked directly.
	for _, tc := range []struct{ q, want string }{
		{"", "1.700000000123456E9"},
		{"?formatOptions.useInt64Timestamp=true", "1700000000123456"},
		{"?formatOptions.timestampOutputFormat=ISO8601_STRING", "2023-11-14T22:13:20.123456Z"},
	} {
		m := e.mustDo(200, "GET", tablesBase+"/ts/data"+tc.q, "").decode(t)
		cell := m["rows"].([]any)[0].(map[string]any)["f"].([]any)[0].(map[string]any)["v"]
		if cell != tc.want {
			t.Errorf("%q: ts cell = %v, want %s", tc.q, cell, tc.want)
		}
	}
}

// TestTabledataEveryType renders one row holding every type (the renderer
// is rowcodec's; this checks the page assembly around it stays valid JSON
// for all of them).
func TestTabledataEveryType(t *testing.T) {
	e := newEnvWithDataset(t)
	e.mustDo(200, "POST", tablesBase, `{"tableReference":{"tableId":"all"},"schema":`+everyTypeSchema+`}`)
	d := must(rowcodec.ParseDate("2024-01-31"))
	e.data.set("p.ds.all",
		rowcodec.Row{
			"héllo \"quoted\"", []byte("hi"), int64(-42), 1.5, true,
			must(rowcodec.ParseTimestamp("2024-01-02T03:04:05.123456Z")), d,
			must(rowcodec.ParseTime("01:02:03.000004")), must(rowcodec.ParseDateTime("2024-01-02 03:04:05.5")),
			"POINT(1 2)", must(rowcodec.ParseNumeric("123.45", false)), must(rowcodec.ParseNumeric("-0.00000000000000000001", true)),
			`{"a":[1,2]}`, must(rowcodec.ParseInterval("1-2 3 4:5:6.5")),
			must(rowcodec.ParseRange("[2024-01-01, UNBOUNDED)", "DATE")),
			[]rowcodec.Value{"x", "y"},
			rowcodec.Row{int64(7), []rowcodec.Value{rowcodec.Row{"in", d}}},
		},
		rowcodec.Row{"only required", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, []rowcodec.Value{}, nil},
	)
	r := e.mustDo(200, "GET", tablesBase+"/all/data?formatOptions.useInt64Timestamp=true", "")
	if !json.Valid(r.Body) {
		t.Fatalf("invalid JSON: %s", r.Body)
	}
	tr := newTranscript(t)
	tr.add("every type", "GET", tablesBase+"/all/data?formatOptions.useInt64Timestamp=true", "", r)
	tr.check("tabledata_every_type")
}
