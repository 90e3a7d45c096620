package rowcodec_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// allTypes is a table with one column of every type and shape.
func allTypes() *schema.Table {
	return &schema.Table{Fields: []*schema.Field{
		{Name: "id", Type: schema.Integer, Mode: schema.Required},
		{Name: "s", Type: schema.String},
		{Name: "s5", Type: schema.String, MaxLength: 5},
		{Name: "b", Type: schema.Bytes},
		{Name: "f", Type: schema.Float},
		{Name: "ok", Type: schema.Boolean},
		{Name: "n", Type: schema.Numeric},
		{Name: "bn", Type: schema.BigNumeric},
		{Name: "n52", Type: schema.Numeric, Precision: 5, Scale: 2},
		{Name: "d", Type: schema.Date},
		{Name: "t", Type: schema.Time},
		{Name: "dt", Type: schema.DateTime},
		{Name: "ts", Type: schema.Timestamp},
		{Name: "g", Type: schema.Geography},
		{Name: "j", Type: schema.JSON},
		{Name: "iv", Type: schema.Interval},
		{Name: "r", Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: schema.Date}},
		{Name: "rts", Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: schema.Timestamp}},
		{Name: "tags", Type: schema.String, Mode: schema.Repeated},
		{Name: "rec", Type: schema.Record, Fields: []*schema.Field{
			{Name: "x", Type: schema.Integer},
			{Name: "y", Type: schema.String, Mode: schema.Required},
			{Name: "inner", Type: schema.Record, Fields: []*schema.Field{{Name: "z", Type: schema.Date}}},
		}},
		{Name: "recs", Type: schema.Record, Mode: schema.Repeated, Fields: []*schema.Field{
			{Name: "k", Type: schema.String},
			{Name: "v", Type: schema.Float},
		}},
		{Name: "created", Type: schema.Timestamp, DefaultValueExpression: "CURRENT_TIMESTAMP()"},
		{Name: "uid", Type: schema.String, DefaultValueExpression: "GENERATE_UUID()"},
	}}
}

func mustCompileJSON(t testing.TB, tbl *schema.Table) *rowcodec.JSONDecoder {
	t.Helper()
	d, err := rowcodec.CompileJSON(tbl)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func decodeOne(t *testing.T, d *rowcodec.JSONDecoder, row string, o *rowcodec.JSONOptions) rowcodec.Row {
	t.Helper()
	if errs := d.Validate([][]byte{[]byte(row)}, o); errs != nil {
		t.Fatalf("Validate(%s): %v", row, errs)
	}
	var got rowcodec.Row
	if err := d.Decode([][]byte{[]byte(row)}, o, func(_ int, r rowcodec.Row) error { got = r; return nil }); err != nil {
		t.Fatalf("Decode(%s): %v", row, err)
	}
	return got
}

func TestJSONDecode_AllTypes(t *testing.T) {
	d := mustCompileJSON(t, allTypes())
	now := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	o := &rowcodec.JSONOptions{Options: rowcodec.Options{Now: now, Seed: 42}}
	row := `{"ID":"9007199254740993","s":"héllo\n","S5":"ab","b":"aGk=","f":"-inf","ok":"TRUE",
		"n":"1.500000000","bn":1e-38,"n52":123.455,"d":"2024-02-29","t":"01:02:03.5",
		"dt":"2024-01-02 03:04:05.120000","ts":1700000000.123456,"g":"POINT(1 2)",
		"j":{"b":1,"a":[1,2]},"iv":"1-2 3 4:5:6.5","r":{"start":"2024-01-01","end":null},
		"rts":{"START":0,"end":"1970-01-01T00:00:01Z"},"tags":["a","b"],
		"rec":{"X":1,"y":"why","inner":{"z":"0001-01-01"}},
		"recs":[{"k":"k1","v":1.5},{"v":"NaN"}]}`
	got := decodeOne(t, d, row, o)
	dec := func(s string, big bool) rowcodec.Decimal {
		v, err := rowcodec.ParseNumeric(s, big)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	date := func(s string) rowcodec.Date { v, _ := rowcodec.ParseDate(s); return v }
	ts := func(s string) rowcodec.Timestamp { v, _ := rowcodec.ParseTimestamp(s); return v }
	want := rowcodec.Row{
		int64(9007199254740993), "héllo\n", "ab", []byte("hi"), math.Inf(-1), true,
		dec("1.5", false), dec("0.00000000000000000000000000000000000001", true), dec("123.46", false),
		date("2024-02-29"), rowcodec.TimeOfDay(3723500000), rowcodec.DateTime(1704164645120000),
		rowcodec.Timestamp(1700000000123456), "POINT(1 2)", `{"a":[1,2],"b":1}`,
		rowcodec.Interval{Months: 14, Days: 3, Micros: 14706500000},
		rowcodec.RangeValue{Start: date("2024-01-01")},
		rowcodec.RangeValue{Start: rowcodec.Timestamp(0), End: ts("1970-01-01T00:00:01Z")},
		[]rowcodec.Value{"a", "b"},
		rowcodec.Row{int64(1), "why", rowcodec.Row{date("0001-01-01")}},
		[]rowcodec.Value{rowcodec.Row{"k1", 1.5}, rowcodec.Row{nil, math.NaN()}},
		rowcodec.Timestamp(now.UnixMicro()),
		got[22], // checked below
	}
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if !valueEqual(got[i], want[i]) {
			t.Errorf("column %s: got %#v, want %#v", allTypes().Fields[i].Name, got[i], want[i])
		}
	}
	uid, _ := got[22].(string)
	if len(uid) != 36 || uid[14] != '4' || !strings.ContainsAny(uid[19:20], "89ab") {
		t.Errorf("uid = %q, want a v4 UUID", uid)
	}
	// Same seed and row → same UUID; another row → another UUID.
	again := decodeOne(t, d, row, o)
	if again[22] != got[22] {
		t.Errorf("GENERATE_UUID not repeatable: %v vs %v", again[22], got[22])
	}
	var rows []rowcodec.Row
	_ = d.Decode([][]byte{[]byte(`{"id":1}`), []byte(`{"id":2}`)}, o, func(_ int, r rowcodec.Row) error {
		rows = append(rows, r)
		return nil
	})
	if len(rows) != 2 || rows[0][22] == rows[1][22] {
		t.Errorf("UUIDs of different rows must differ: %v", rows)
	}
	// Missing keys: NULL, [] for repeated, default for defaulted columns.
	if r := rows[0]; r[1] != nil || !reflect.DeepEqual(r[18], []rowcodec.Value{}) || r[21] != rowcodec.Timestamp(now.UnixMicro()) {
		t.Errorf("missing-key handling: %#v", r)
	}
}

// valueEqual is reflect.DeepEqual except that NaN equals NaN.
func valueEqual(a, b rowcodec.Value) bool {
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); ok && math.IsNaN(fa) && math.IsNaN(fb) {
			return true
		}
	}
	switch x := a.(type) {
	case rowcodec.Row:
		y, ok := b.(rowcodec.Row)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case []rowcodec.Value:
		y, ok := b.([]rowcodec.Value)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestJSONValidate_Errors(t *testing.T) {
	d := mustCompileJSON(t, allTypes())
	tests := []struct {
		name string
		row  string
		want []rowcodec.RowError // Index is filled in
		opts *rowcodec.JSONOptions
	}{
		{"unknown field", `{"id":1,"bad":2}`, []rowcodec.RowError{{Location: "bad", Message: "no such field: bad."}}, nil},
		{"unknown ignored", `{"id":1,"bad":{"x":[1]}}`, nil, &rowcodec.JSONOptions{IgnoreUnknownValues: true}},
		{"unknown nested", `{"id":1,"rec":{"y":"a","q":1}}`, []rowcodec.RowError{{Location: "rec.q", Message: "no such field: rec.q."}}, nil},
		{"array for scalar", `{"id":1,"s":["a"]}`, []rowcodec.RowError{{Location: "s", Message: "Array specified for non-repeated field: s."}}, nil},
		{"missing required", `{"s":"x"}`, []rowcodec.RowError{{Location: "id", Message: "Missing required field: id."}}, nil},
		{"null required", `{"id":null}`, []rowcodec.RowError{{Location: "id", Message: "Missing required field: id."}}, nil},
		{"missing nested required", `{"id":1,"rec":{}}`, []rowcodec.RowError{{Location: "rec.y", Message: "Missing required field: rec.y."}}, nil},
		{"null nested record ok", `{"id":1,"rec":null,"recs":null,"tags":null}`, nil, nil},
		{"null element", `{"id":1,"tags":["a",null]}`, []rowcodec.RowError{{Location: "tags[1]", Message: "Null value in repeated field: tags[1]."}}, nil},
		{"scalar for repeated", `{"id":1,"tags":"a"}`, []rowcodec.RowError{{Location: "tags", Message: "Field tags is repeated; its value must be a JSON array."}}, nil},
		{"bool to string", `{"id":1,"s":true}`, []rowcodec.RowError{{Location: "s", Message: "Conversion from bool to string is unsupported on field s."}}, nil},
		{"number to string ok", `{"id":1,"s":12.50}`, nil, nil},
		{"object to scalar", `{"id":1,"s":{"a":1}}`, []rowcodec.RowError{{Location: "s", Message: "This field: s is not a record."}}, nil},
		{"scalar to record", `{"id":1,"rec":5}`, []rowcodec.RowError{{Location: "rec", Message: "Field rec is a record; its value must be a JSON object."}}, nil},
		{"int fraction", `{"id":1.5}`, []rowcodec.RowError{{Location: "id", Message: "Invalid INT64 value: 1.5 on field id."}}, nil},
		{"int whole float ok", `{"id":1.0e2}`, nil, nil},
		{"int overflow", `{"id":9223372036854775808}`, []rowcodec.RowError{{Location: "id", Message: "Invalid INT64 value: 9223372036854775808 on field id."}}, nil},
		{"int min ok", `{"id":"-9223372036854775808"}`, nil, nil},
		{"int garbage", `{"id":"12a"}`, []rowcodec.RowError{{Location: "id", Message: "Invalid INT64 value: 12a on field id."}}, nil},
		{"float bad", `{"id":1,"f":"fast"}`, []rowcodec.RowError{{Location: "f", Message: "Invalid FLOAT64 value: fast on field f."}}, nil},
		{"float overflow", `{"id":1,"f":1e999}`, []rowcodec.RowError{{Location: "f", Message: "Invalid FLOAT64 value: 1e999 on field f."}}, nil},
		{"bool bad", `{"id":1,"ok":"yes"}`, []rowcodec.RowError{{Location: "ok", Message: "Invalid BOOL value: yes on field ok."}}, nil},
		{"number to bool", `{"id":1,"ok":1}`, []rowcodec.RowError{{Location: "ok", Message: "Conversion from number to bool is unsupported on field ok."}}, nil},
		{"maxLength", `{"id":1,"s5":"héllo!"}`, []rowcodec.RowError{{Location: "s5", Message: "Field s5: STRING(5) has maximum length 5 but got a value with length 6 on field s5."}}, nil},
		{"maxLength chars ok", `{"id":1,"s5":"ééééé"}`, nil, nil},
		{"bytes url-safe unpadded", `{"id":1,"b":"-_8"}`, nil, nil},
		{"bytes bad", `{"id":1,"b":"!!"}`, []rowcodec.RowError{{Location: "b", Message: "Could not decode base64 string to bytes on field b."}}, nil},
		{"numeric params", `{"id":1,"n52":"1000"}`, []rowcodec.RowError{{Location: "n52", Message: "Value 1000 exceeds the precision 5 and scale 2 of NUMERIC on field n52."}}, nil},
		{"numeric range", `{"id":1,"n":1e29}`, []rowcodec.RowError{{Location: "n", Message: "Invalid NUMERIC value: 1e29 on field n."}}, nil},
		{"date bad", `{"id":1,"d":"2023-02-29"}`, []rowcodec.RowError{{Location: "d", Message: "Invalid date: '2023-02-29' on field d."}}, nil},
		{"timestamp zone", `{"id":1,"ts":"2024-01-01 00:00:00 X"}`, []rowcodec.RowError{{Location: "ts", Message: "Unrecognized timezone: X on field ts."}}, nil},
		{"timestamp range", `{"id":1,"ts":-62135596801}`, []rowcodec.RowError{{Location: "ts", Message: "Timestamp field value is out of range: -62135596801 on field ts."}}, nil},
		{"timestamp numeric string", `{"id":1,"ts":"1700000000.5"}`, nil, nil},
		{"json invalid", `{"id":1,"j":"{bad"}`, []rowcodec.RowError{{Location: "j", Message: "Invalid JSON at byte 1: expected a string on field j."}}, nil},
		{"json raw array ok", `{"id":1,"j":[1,{"a":null}]}`, nil, nil},
		{"geography bad", `{"id":1,"g":"POINT(200 0)"}`, []rowcodec.RowError{{Location: "g", Message: "Longitude must be in [-180, 180] and latitude in [-90, 90]; got (200, 0) on field g."}}, nil},
		{"range order", `{"id":1,"r":{"start":"2024-02-01","end":"2024-01-01"}}`, []rowcodec.RowError{{Location: "r", Message: "RANGE start must be less than its end: [2024-02-01, 2024-01-01) on field r."}}, nil},
		{"range literal ok", `{"id":1,"r":"[2024-01-01, UNBOUNDED)"}`, nil, nil},
		{"range bad key", `{"id":1,"r":{"begin":"2024-01-01"}}`, []rowcodec.RowError{{Location: "r.begin", Message: "no such field: r.begin."}}, nil},
		{"nested repeated location", `{"id":1,"recs":[{"k":"a"},{"v":"x"}]}`, []rowcodec.RowError{{Location: "recs[1].v", Message: "Invalid FLOAT64 value: x on field recs[1].v."}}, nil},
		{"several errors", `{"bad":1,"s":true}`, []rowcodec.RowError{
			{Location: "bad", Message: "no such field: bad."},
			{Location: "s", Message: "Conversion from bool to string is unsupported on field s."},
			{Location: "id", Message: "Missing required field: id."},
		}, nil},
		{"not an object", `[1]`, []rowcodec.RowError{{Location: "", Message: "Row must be a JSON object."}}, nil},
		{"null row", `null`, []rowcodec.RowError{{Location: "", Message: "Row has no json object."}}, nil},
		{"empty row", ``, []rowcodec.RowError{{Location: "", Message: "Row has no json object."}}, nil},
		{"malformed", `{"id":1,`, []rowcodec.RowError{{Location: "", Message: "Row is not valid JSON: Invalid JSON at byte 8: expected a string"}}, nil},
		{"case-insensitive keys", `{"ID":1,"REC":{"Y":"a","INNER":{"Z":"2024-01-01"}}}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := [][]byte{[]byte(`{"id":0}`), []byte(tt.row)}
			got := d.Validate(rows, tt.opts)
			var want rowcodec.RowErrors
			for _, e := range tt.want {
				e.Index = 1
				want = append(want, e)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Validate(%s)\n got %+v\nwant %+v", tt.row, got, want)
			}
			// Decode agrees with Validate.
			err := d.Decode(rows, tt.opts, func(int, rowcodec.Row) error { return nil })
			var re rowcodec.RowErrors
			if (err != nil) != (want != nil) || (err != nil && (!errors.As(err, &re) || !reflect.DeepEqual(re, want))) {
				t.Errorf("Decode err = %v, want %v", err, want)
			}
		})
	}
}

func TestJSONValidate_EveryRowReported(t *testing.T) {
	d := mustCompileJSON(t, allTypes())
	rows := [][]byte{[]byte(`{"id":1}`), []byte(`{"x":1}`), []byte(`{"id":2}`), []byte(`{"id":"z"}`)}
	errs := d.Validate(rows, nil)
	var idx []int
	for _, e := range errs {
		idx = append(idx, e.Index)
	}
	if got, want := fmt.Sprint(idx), "[1 1 3]"; got != want {
		t.Errorf("error rows = %s, want %s (%v)", got, want, errs)
	}
}

func TestJSONDefaults_RequiredWithDefault(t *testing.T) {
	tbl := &schema.Table{Fields: []*schema.Field{
		{Name: "a", Type: schema.String, Mode: schema.Required, DefaultValueExpression: "'dflt'"},
		{Name: "b", Type: schema.Integer, DefaultValueExpression: "7"},
	}}
	d := mustCompileJSON(t, tbl)
	for _, row := range []string{`{}`, `{"a":null}`} {
		got := decodeOne(t, d, row, nil)
		if !reflect.DeepEqual(got, rowcodec.Row{"dflt", int64(7)}) {
			t.Errorf("%s → %#v", row, got)
		}
	}
	// Explicit null on a NULLABLE column with a default stays NULL.
	if got := decodeOne(t, d, `{"b":null}`, nil); got[1] != nil {
		t.Errorf("explicit null → %#v, want NULL", got[1])
	}
}

func TestJSONDecode_Int64Exact(t *testing.T) {
	d := mustCompileJSON(t, allTypes())
	for _, v := range []int64{math.MaxInt64, math.MinInt64, 1<<53 + 1, -(1<<53 + 1)} {
		row := fmt.Sprintf(`{"id":%d}`, v)
		if got := decodeOne(t, d, row, nil)[0]; got != v {
			t.Errorf("%s → %v", row, got)
		}
	}
}

func TestCompileJSON_Errors(t *testing.T) {
	bad := []*schema.Table{
		{Fields: []*schema.Field{{Name: "r", Type: schema.Range}}},
		{Fields: []*schema.Field{{Name: "r", Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: schema.Integer}}}},
		{Fields: []*schema.Field{{Name: "a", Type: schema.Integer, DefaultValueExpression: "RAND()"}}},
	}
	for _, tbl := range bad {
		if _, err := rowcodec.CompileJSON(tbl); err == nil {
			b, _ := json.Marshal(tbl)
			t.Errorf("CompileJSON(%s) succeeded", b)
		}
	}
}

func TestJSONDecoder_Concurrent(t *testing.T) {
	d := mustCompileJSON(t, allTypes())
	rows := make([][]byte, len(goldenRows))
	for i, r := range goldenRows {
		rows[i] = []byte(r)
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				if errs := d.Validate(rows, nil); errs != nil {
					err = errs
					break
				}
				err = d.Decode(rows, nil, func(int, rowcodec.Row) error { return nil })
				if _, e := rowcodec.ParseTimestamp("2024-01-01 00:00:00 Europe/Paris"); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
