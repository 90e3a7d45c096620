package rowcodec_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// FuzzJSONRow feeds arbitrary bytes as one insertAll row of a table with
// every type. It must never panic; when Validate accepts the row, Decode
// must succeed and the decoded row must render as valid f/v JSON.
func FuzzJSONRow(f *testing.F) {
	for _, r := range goldenRows {
		f.Add([]byte(r))
	}
	for _, r := range []string{
		`{"id":1,"bad":2}`, `{"id":[1]}`, `{"id":1,"tags":[null]}`, `{"id":1,"j":"{\"a\":[1,{}]}"}`,
		`{"id":1,"rts":{"start":"2024-01-01T00:00:00+05:30"}}`, `{"id":"1e3","ts":"1.5e9","b":"_-8"}`,
		`{"id":1,"rec":{"y":"\ud800"}}`, `{"id":1,"n52":"-0.005","g":"MULTIPOLYGON(((0 0,1 0,1 1,0 0)))"}`,
	} {
		f.Add([]byte(r))
	}
	tbl := allTypes()
	d, err := rowcodec.CompileJSON(tbl)
	if err != nil {
		f.Fatal(err)
	}
	o := &rowcodec.JSONOptions{Options: rowcodec.Options{Now: time.Unix(1700000000, 0), Seed: 3}}
	f.Fuzz(func(t *testing.T, row []byte) {
		rows := [][]byte{row}
		errs := d.Validate(rows, o)
		for _, e := range errs {
			if e.Index != 0 || e.Message == "" {
				t.Fatalf("bad RowError %+v", e)
			}
		}
		var got rowcodec.Row
		err := d.Decode(rows, o, func(_ int, r rowcodec.Row) error { got = r; return nil })
		if (err == nil) != (errs == nil) {
			t.Fatalf("Validate = %v but Decode = %v", errs, err)
		}
		if err != nil {
			var re rowcodec.RowErrors
			if !errors.As(err, &re) {
				t.Fatalf("Decode error %T %v", err, err)
			}
			return
		}
		for _, ts := range []rowcodec.TimestampFormat{rowcodec.TimestampFloat, rowcodec.TimestampInt64, rowcodec.TimestampISO} {
			out := rowcodec.AppendRowFV(nil, got, tbl, nil, rowcodec.RenderOptions{Timestamp: ts})
			var v struct {
				F []json.RawMessage `json:"f"`
			}
			if err := json.Unmarshal(out, &v); err != nil || len(v.F) != len(tbl.Fields) {
				t.Fatalf("render %s: %v (%d cells)", out, err, len(v.F))
			}
		}
		// Projection onto the same shape is lossless.
		if p := rowcodec.Project(got, tbl, tbl.Clone()); !valueEqual(p, got) {
			t.Fatalf("Project changed the row: %#v vs %#v", p, got)
		}
	})
}

// FuzzLiterals checks every literal parser for panics and that whatever
// parses formats to text that parses back to the same value.
func FuzzLiterals(f *testing.F) {
	for _, s := range []string{
		"2024-02-29", "0001-01-01", "9999-12-31 23:59:59.999999", "12:34:56.789", "1970-01-01T00:00:00Z",
		"2024-01-02 03:04:05.123456789 America/Los_Angeles", "2016-12-31 23:59:60+14:00", "1e-38", "-1.5e28",
		"578960446186580977117854925043439539266.34992332820282019728792003956564819967",
		"1-2 3 4:5:6.789", "P1Y2M3W4DT5H6M7.8S", "-P1D", "[2024-01-01, UNBOUNDED)",
		`{"b":[1,{"a":"\u00e9"}],"a":null}`, "POINT(1 2)", "POLYGON((0 0,1 0,1 1,0 0))",
	} {
		f.Add(s, int64(0))
	}
	f.Add("", int64(2019)<<46|9<<42|9<<37|12<<32|34<<26|56<<20|789012)
	f.Fuzz(func(t *testing.T, s string, packed int64) {
		if d, err := rowcodec.ParseDate(s); err == nil {
			if !rowcodec.ValidDate(d) {
				t.Fatalf("ParseDate(%q) out of range: %d", s, d)
			}
			if back, err := rowcodec.ParseDate(rowcodec.FormatDate(d)); err != nil || back != d {
				t.Fatalf("date %q: %v %v", s, back, err)
			}
		}
		if v, err := rowcodec.ParseTime(s); err == nil {
			if back, err := rowcodec.ParseTime(rowcodec.FormatTime(v)); err != nil || back != v || !rowcodec.ValidTime(v) {
				t.Fatalf("time %q: %v %v", s, back, err)
			}
			if back, err := rowcodec.PackedTime(rowcodec.EncodePackedTime(v)); err != nil || back != v {
				t.Fatalf("packed time %q: %v %v", s, back, err)
			}
		}
		if v, err := rowcodec.ParseDateTime(s); err == nil {
			if back, err := rowcodec.ParseDateTime(rowcodec.FormatDateTime(v)); err != nil || back != v || !rowcodec.ValidDateTime(v) {
				t.Fatalf("datetime %q: %v %v", s, back, err)
			}
			if back, err := rowcodec.PackedDateTime(rowcodec.EncodePackedDateTime(v)); err != nil || back != v {
				t.Fatalf("packed datetime %q: %v %v", s, back, err)
			}
		}
		if v, err := rowcodec.ParseTimestamp(s); err == nil {
			if back, err := rowcodec.ParseTimestamp(rowcodec.FormatTimestamp(v)); err != nil || back != v || !rowcodec.ValidTimestamp(v) {
				t.Fatalf("timestamp %q: %v %v", s, back, err)
			}
		}
		for _, big := range []bool{false, true} {
			if v, err := rowcodec.ParseNumeric(s, big); err == nil {
				if back, err := rowcodec.ParseNumeric(v.String(), big); err != nil || back != v {
					t.Fatalf("numeric %q: %v %v", s, back, err)
				}
				if back, err := rowcodec.DecimalFromScaledBytes(v.ScaledBytes(), big); err != nil || back != v {
					t.Fatalf("numeric bytes %q: %v %v", s, back, err)
				}
				if back, err := rowcodec.DecimalFromUnscaled(v.Unscaled(), big); err != nil || back != v {
					t.Fatalf("numeric unscaled %q: %v %v", s, back, err)
				}
			}
			_, _ = rowcodec.DecimalFromScaledBytes([]byte(s), big)
		}
		if v, err := rowcodec.ParseInterval(s); err == nil {
			if back, err := rowcodec.ParseInterval(v.String()); err != nil || back != v || !v.Valid() {
				t.Fatalf("interval %q: %v %v", s, back, err)
			}
		}
		for _, et := range []schema.Type{schema.Date, schema.DateTime, schema.Timestamp} {
			if v, err := rowcodec.ParseRange(s, et); err == nil {
				if back, err := rowcodec.ParseRange(v.String(), et); err != nil || back != v {
					t.Fatalf("range %q: %v %v", s, back, err)
				}
			}
		}
		if c, err := rowcodec.CheckJSON(s); err == nil {
			if c2, err := rowcodec.CheckJSON(c); err != nil || c2 != c || !json.Valid([]byte(c)) {
				t.Fatalf("json %q → %q → %q, %v", s, c, c2, err)
			}
		}
		_ = rowcodec.CheckGeography(s)
		if v, err := rowcodec.PackedDateTime(packed); err == nil {
			if rowcodec.EncodePackedDateTime(v) != packed {
				t.Fatalf("packed %x", packed)
			}
		}
		if v, err := rowcodec.PackedTime(packed); err == nil {
			if rowcodec.EncodePackedTime(v) != packed {
				t.Fatalf("packed time %x", packed)
			}
		}
		// Default expressions: compile never panics.
		_, _ = rowcodec.CompileDefault(&schema.Field{Name: "x", Type: schema.String, DefaultValueExpression: s})
	})
}

// FuzzJSONText checks that validation and canonicalization of JSON column
// text agree on what is valid.
func FuzzJSONText(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `[`, `"\u00e9"`, `{"a" 1}`, `01`, `[1,]`} {
		f.Add(s)
	}
	tbl := &schema.Table{Fields: []*schema.Field{{Name: "j", Type: schema.JSON}}}
	d, err := rowcodec.CompileJSON(tbl)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // json.Marshal below would repair it
		}
		_, cerr := rowcodec.CheckJSON(s)
		q, _ := json.Marshal(s)
		row := []byte(`{"j":` + string(q) + `}`)
		verrs := d.Validate([][]byte{row}, nil)
		derr := d.Decode([][]byte{row}, nil, func(int, rowcodec.Row) error { return nil })
		if (cerr == nil) != (verrs == nil) || (derr == nil) != (verrs == nil) {
			t.Fatalf("CheckJSON %v, Validate %v, Decode %v", cerr, verrs, derr)
		}
		if verrs != nil && derr != nil && verrs.Error() != derr.Error() {
			t.Fatalf("messages differ: %v vs %v", verrs, derr)
		}
	})
}
