package rowcodec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// goldenRows are edge-value rows of allTypes, given as insertAll JSON.
var goldenRows = []string{
	`{"id":0}`,
	`{"id":"-9223372036854775808","s":"quote\" back\\ nl\n tab\t ctl\u0001 é 😀","s5":"","b":"","f":0,"ok":false,
	  "n":"-99999999999999999999999999999.999999999","bn":"578960446186580977117854925043439539266.34992332820282019728792003956564819967",
	  "n52":"-999.99","d":"0001-01-01","t":"00:00:00","dt":"0001-01-01T00:00:00","ts":"0001-01-01T00:00:00Z",
	  "g":"POINT EMPTY","j":"null","iv":"-10000-0 -3660000 -87840000:0:0","r":{"start":null,"end":null},
	  "rts":{"start":"0001-01-01T00:00:00Z","end":"9999-12-31T23:59:59.999999Z"},"tags":[],"rec":{"y":""},"recs":[]}`,
	`{"id":9223372036854775807,"s":"","b":"/+8=","f":1e20,"ok":true,"n":"0.000000001","bn":"-0.00000000000000000000000000000000000001",
	  "n52":"0.01","d":"9999-12-31","t":"23:59:59.999999","dt":"9999-12-31 23:59:59.999999","ts":"9999-12-31T23:59:59.999999Z",
	  "g":"LINESTRING(0 0, 1 1)","j":{"z":[1,"a",{"y":null}],"a":true},"iv":"P1Y2M3DT4H5M6.000001S",
	  "r":{"start":"2024-02-29","end":"2024-03-01"},"rts":{"start":1700000000.123456,"end":null},
	  "tags":["x","y"],"rec":{"x":-1,"y":"z","inner":{"z":"2000-02-29"}},"recs":[{"k":"a","v":"NaN"},{"v":"-Infinity"},{"k":null,"v":1.5e-7}]}`,
	`{"id":1,"f":-0.001,"ts":-1.5,"t":"12:00:00.5","dt":"1969-12-31 23:59:59.000001","iv":"0-0 0 0:0:0","tags":["only"],"recs":[{"k":"k"}]}`,
	`{"id":2,"f":123456789.125,"ts":"2016-12-31T23:59:60Z","g":{"type":"Point","coordinates":[1,2]},"j":"[1,2.50,\"x\"]"}`,
}

func goldenData(t *testing.T) (*schema.Table, []rowcodec.Row) {
	t.Helper()
	tbl := allTypes()
	d := mustCompileJSON(t, tbl)
	raw := make([][]byte, len(goldenRows))
	for i, r := range goldenRows {
		raw[i] = []byte(r)
	}
	o := &rowcodec.JSONOptions{Options: rowcodec.Options{Now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Seed: 7}}
	if errs := d.Validate(raw, o); errs != nil {
		t.Fatal(errs)
	}
	var rows []rowcodec.Row
	if err := d.Decode(raw, o, func(_ int, r rowcodec.Row) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return tbl, rows
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch (run with -update after checking):\n got: %s\nwant: %s", path, got, want)
	}
}

func TestAppendRowFV_Golden(t *testing.T) {
	tbl, rows := goldenData(t)
	formats := []struct {
		name string
		f    rowcodec.TimestampFormat
	}{{"float", rowcodec.TimestampFloat}, {"int64", rowcodec.TimestampInt64}, {"iso", rowcodec.TimestampISO}}
	for _, fm := range formats {
		t.Run(fm.name, func(t *testing.T) {
			var out []byte
			for _, r := range rows {
				line := rowcodec.AppendRowFV(nil, r, tbl, nil, rowcodec.RenderOptions{Timestamp: fm.f})
				checkFV(t, line, tbl.Fields)
				out = append(out, line...)
				out = append(out, '\n')
			}
			checkGolden(t, "render_"+fm.name, out)
		})
	}
}

// checkFV asserts the f/v shape: valid JSON, one cell per field, every
// scalar a string or null, repeated never null.
func checkFV(t *testing.T, line []byte, fields []*schema.Field) {
	t.Helper()
	var row struct {
		F []struct {
			V json.RawMessage `json:"v"`
		} `json:"f"`
	}
	if err := json.Unmarshal(line, &row); err != nil {
		t.Fatalf("invalid JSON %s: %v", line, err)
	}
	if len(row.F) != len(fields) {
		t.Fatalf("%d cells, want %d: %s", len(row.F), len(fields), line)
	}
	for i, f := range fields {
		v := row.F[i].V
		switch {
		case f.IsRepeated():
			if v[0] != '[' {
				t.Errorf("repeated %s rendered %s", f.Name, v)
			}
		case string(v) == "null":
		case f.Type == schema.Record:
			if v[0] != '{' {
				t.Errorf("record %s rendered %s", f.Name, v)
			}
		default:
			if v[0] != '"' {
				t.Errorf("scalar %s rendered %s, want a string", f.Name, v)
			}
		}
	}
}

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{1.5, "1.5"},
		{-2.25, "-2.25"},
		{0.1, "0.1"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{1234567, "1234567.0"},
		{12345678, "1.2345678E7"},
		{1e20, "1.0E20"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		{math.SmallestNonzeroFloat64, "5.0E-324"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		got := string(rowcodec.AppendFloat(nil, tt.f))
		if got != tt.want {
			t.Errorf("AppendFloat(%v) = %s, want %s", tt.f, got, tt.want)
		}
		if back, err := strconv.ParseFloat(got, 64); err != nil || (back != tt.f && !math.IsNaN(tt.f)) {
			t.Errorf("ParseFloat(%s) = %v, %v", got, back, err)
		}
	}
}

func TestAppendTimestampSeconds(t *testing.T) {
	tests := []struct {
		us   int64
		want string
	}{
		{0, "0.0"},
		{1700000000123456, "1.700000000123456E9"},
		{1700000000000000, "1.7E9"},
		{1500000, "1.5"},
		{-1500000, "-1.5"},
		{1, "1.0E-6"},
		{1000, "0.001"},
		{-62135596800000000, "-6.21355968E10"},
		{253402300799999999, "2.53402300799999999E11"},
	}
	for _, tt := range tests {
		if got := string(rowcodec.AppendTimestampSeconds(nil, rowcodec.Timestamp(tt.us))); got != tt.want {
			t.Errorf("AppendTimestampSeconds(%d) = %s, want %s", tt.us, got, tt.want)
		}
	}
}

func TestSelection(t *testing.T) {
	tbl, rows := goldenData(t)
	sel, err := rowcodec.ParseSelection(tbl, "REC.inner.z, id ,recs.v,rec.x")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sel.Columns(), []int{0, 19, 20}; !equalInts(got, want) {
		t.Errorf("Columns = %v, want %v", got, want)
	}
	ps := sel.Schema()
	if got := len(ps.Fields[1].Fields); got != 2 {
		t.Errorf("pruned rec has %d fields, want 2 (x, inner)", got)
	}
	got := string(sel.AppendRowFV(nil, rows[2], tbl, rowcodec.RenderOptions{}))
	want := `{"f":[{"v":"9223372036854775807"},{"v":{"f":[{"v":"-1"},{"v":{"f":[{"v":"2000-02-29"}]}}]}},` +
		`{"v":[{"v":{"f":[{"v":"NaN"}]}},{"v":{"f":[{"v":"-Infinity"}]}},{"v":{"f":[{"v":"1.5E-7"}]}}]}]}`
	if got != want {
		t.Errorf("selected row\n got %s\nwant %s", got, want)
	}
	checkFV(t, []byte(got), ps.Fields)
	// Selecting a record and a sub-field keeps the whole record.
	whole, _ := rowcodec.ParseSelection(tbl, "rec.x,rec")
	if got := len(whole.Schema().Fields[0].Fields); got != 3 {
		t.Errorf("rec,rec.x kept %d sub-fields, want 3", got)
	}
	if s, err := rowcodec.ParseSelection(tbl, " "); s != nil || err != nil {
		t.Errorf("empty selection = %v, %v", s, err)
	}
	for _, bad := range []string{"nope", "id.x", "rec.nope"} {
		if _, err := rowcodec.ParseSelection(tbl, bad); !errors.Is(err, rowcodec.ErrUnknownField) {
			t.Errorf("ParseSelection(%q) err = %v", bad, err)
		}
	}
}

func equalInts(a, b []int) bool {
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

func TestAppendRowFV_Mismatch(t *testing.T) {
	tbl := &schema.Table{Fields: []*schema.Field{
		{Name: "a", Type: schema.Integer},
		{Name: "r", Type: schema.Record, Fields: []*schema.Field{{Name: "x", Type: schema.String}}},
		{Name: "arr", Type: schema.String, Mode: schema.Repeated},
	}}
	// Wrong Go types and a short row render as null / [] rather than panic.
	got := string(rowcodec.AppendRowFV(nil, rowcodec.Row{"str", int64(1)}, tbl, []int{0, 1, 2, 7}, rowcodec.RenderOptions{}))
	want := `{"f":[{"v":null},{"v":null},{"v":[]},{"v":null}]}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
