package rowcodec_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

func TestCompileDefault(t *testing.T) {
	now := time.Date(2024, 3, 4, 23, 30, 15, 123456789, time.UTC)
	o := &rowcodec.Options{Now: now, Seed: 1}
	date := func(s string) rowcodec.Date { v, _ := rowcodec.ParseDate(s); return v }
	dec := func(s string, big bool) rowcodec.Decimal { v, _ := rowcodec.ParseNumeric(s, big); return v }
	tests := []struct {
		expr string
		f    schema.Field
		want rowcodec.Value
	}{
		{"NULL", schema.Field{Type: schema.String}, nil},
		{"null", schema.Field{Type: schema.String, Mode: schema.Repeated}, []rowcodec.Value{}},
		{"TRUE", schema.Field{Type: schema.Boolean}, true},
		{"42", schema.Field{Type: schema.Integer}, int64(42)},
		{"-0x1F", schema.Field{Type: schema.Integer}, int64(-31)},
		{"( -7 )", schema.Field{Type: schema.Integer}, int64(-7)},
		{"1.5e2", schema.Field{Type: schema.Float}, 150.0},
		{"3", schema.Field{Type: schema.Float}, 3.0},
		{"3", schema.Field{Type: schema.Numeric}, dec("3", false)},
		{"-1.0000000005", schema.Field{Type: schema.Numeric}, dec("-1.000000001", false)},
		{"NUMERIC '12.5'", schema.Field{Type: schema.Numeric}, dec("12.5", false)},
		{"BIGNUMERIC '1e-38'", schema.Field{Type: schema.BigNumeric}, dec("1e-38", true)},
		{`'it''s'`, schema.Field{Type: schema.String}, nil}, // not GoogleSQL: rejected below
		{`"a\tb"`, schema.Field{Type: schema.String}, "a\tb"},
		{`r'a\tb'`, schema.Field{Type: schema.String}, `a\tb`},
		{`'''multi'line'''`, schema.Field{Type: schema.String}, "multi'line"},
		{`'\u00e9\x41'`, schema.Field{Type: schema.String}, "éA"},
		{`b'\x00\xff'`, schema.Field{Type: schema.Bytes}, []byte{0, 0xff}},
		{"DATE '2024-01-01'", schema.Field{Type: schema.Date}, date("2024-01-01")},
		{"'2024-01-01'", schema.Field{Type: schema.Date}, date("2024-01-01")},
		{"DATE '2024-01-02'", schema.Field{Type: schema.DateTime}, rowcodec.DateTime(int64(date("2024-01-02")) * 86400000000)},
		{"TIME '12:00:00'", schema.Field{Type: schema.Time}, rowcodec.TimeOfDay(43200000000)},
		{"TIMESTAMP '2024-01-01 00:00:00+01'", schema.Field{Type: schema.Timestamp}, rowcodec.Timestamp(1704063600000000)},
		{"CAST('2024-01-01' AS DATE)", schema.Field{Type: schema.Date}, date("2024-01-01")},
		{"JSON '{\"b\":1, \"a\":2}'", schema.Field{Type: schema.JSON}, `{"a":2,"b":1}`},
		{"INTERVAL '1-2 3 4:5:6'", schema.Field{Type: schema.Interval}, rowcodec.Interval{Months: 14, Days: 3, Micros: 14706000000}},
		{"INTERVAL 2 HOUR", schema.Field{Type: schema.Interval}, rowcodec.Interval{Micros: 7200000000}},
		{"-INTERVAL 1 YEAR", schema.Field{Type: schema.Interval}, rowcodec.Interval{Months: -12}},
		{"RANGE<DATE> '[2024-01-01, UNBOUNDED)'", schema.Field{Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: schema.Date}},
			rowcodec.RangeValue{Start: date("2024-01-01")}},
		{"'POINT(1 2)'", schema.Field{Type: schema.Geography}, "POINT(1 2)"},
		{"['a', 'b']", schema.Field{Type: schema.String, Mode: schema.Repeated}, []rowcodec.Value{"a", "b"}},
		{"ARRAY<INT64>[1, 2]", schema.Field{Type: schema.Integer, Mode: schema.Repeated}, []rowcodec.Value{int64(1), int64(2)}},
		{"[]", schema.Field{Type: schema.Integer, Mode: schema.Repeated}, []rowcodec.Value{}},
		{"CURRENT_TIMESTAMP()", schema.Field{Type: schema.Timestamp}, rowcodec.Timestamp(now.UnixMicro())},
		{"current_timestamp", schema.Field{Type: schema.Timestamp}, rowcodec.Timestamp(now.UnixMicro())},
		{"CURRENT_DATE()", schema.Field{Type: schema.Date}, date("2024-03-04")},
		{"CURRENT_DATE('Asia/Tokyo')", schema.Field{Type: schema.Date}, date("2024-03-05")},
		{"CURRENT_DATETIME()", schema.Field{Type: schema.DateTime}, rowcodec.DateTime(int64(date("2024-03-04"))*86400000000 + 84615123456)},
		{"CURRENT_TIME", schema.Field{Type: schema.Time}, rowcodec.TimeOfDay(84615123456)},
		{"SESSION_USER()", schema.Field{Type: schema.String}, "penstock"},
	}
	for _, tt := range tests {
		f := tt.f
		f.Name = "c"
		f.DefaultValueExpression = tt.expr
		fn, err := rowcodec.CompileDefault(&f)
		if tt.expr == `'it''s'` {
			if err == nil {
				t.Errorf("CompileDefault(%s) accepted SQL-standard quote doubling", tt.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("CompileDefault(%s): %v", tt.expr, err)
			continue
		}
		if got := fn(o, 0); !valueEqual(got, tt.want) {
			t.Errorf("CompileDefault(%s)() = %#v, want %#v", tt.expr, got, tt.want)
		}
	}
}

func TestCompileDefault_UUID(t *testing.T) {
	f := &schema.Field{Name: "u", Type: schema.String, DefaultValueExpression: "GENERATE_UUID()"}
	fn, err := rowcodec.CompileDefault(f)
	if err != nil {
		t.Fatal(err)
	}
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[rowcodec.Value]bool{}
	for seed := uint64(0); seed < 3; seed++ {
		for row := 0; row < 100; row++ {
			o := &rowcodec.Options{Seed: seed}
			u := fn(o, row)
			if !v4.MatchString(u.(string)) {
				t.Fatalf("%q is not a v4 UUID", u)
			}
			if fn(o, row) != u {
				t.Fatal("not repeatable")
			}
			if seen[u] {
				t.Fatalf("duplicate UUID %v", u)
			}
			seen[u] = true
		}
	}
	g := *f
	g.Name = "other"
	fn2, _ := rowcodec.CompileDefault(&g)
	if fn2(nil, 0) == fn(nil, 0) {
		t.Error("two columns share UUIDs")
	}
}

func TestCompileDefault_Errors(t *testing.T) {
	tests := []struct {
		expr string
		f    schema.Field
	}{
		{"RAND()", schema.Field{Type: schema.Float}},
		{"1 + 2", schema.Field{Type: schema.Integer}},
		{"'abc'", schema.Field{Type: schema.Integer}},
		{"1.5", schema.Field{Type: schema.Integer}},
		{"TRUE", schema.Field{Type: schema.String}},
		{"99999999999999999999", schema.Field{Type: schema.Integer}},
		{"DATE '2024-02-30'", schema.Field{Type: schema.Date}},
		{"CURRENT_TIMESTAMP()", schema.Field{Type: schema.Date}},
		{"CURRENT_DATE('Nowhere/Land')", schema.Field{Type: schema.Date}},
		{"GENERATE_UUID", schema.Field{Type: schema.String}},
		{"GENERATE_UUID()", schema.Field{Type: schema.Integer}},
		{"NULL", schema.Field{Type: schema.String, Mode: schema.Required}},
		{"[1, NULL]", schema.Field{Type: schema.Integer, Mode: schema.Repeated}},
		{"[1]", schema.Field{Type: schema.Integer}},
		{"1", schema.Field{Type: schema.Integer, Mode: schema.Repeated}},
		{"ARRAY<STRING>['a']", schema.Field{Type: schema.Integer, Mode: schema.Repeated}},
		{"'toolong'", schema.Field{Type: schema.String, MaxLength: 3}},
		{"'unterminated", schema.Field{Type: schema.String}},
		{"NUMERIC '1e40'", schema.Field{Type: schema.Numeric}},
		{"STRUCT(1 AS a)", schema.Field{Type: schema.Record}},
		{"1 2", schema.Field{Type: schema.Integer}},
		{"JSON '{'", schema.Field{Type: schema.JSON}},
		{"'POINT(500 0)'", schema.Field{Type: schema.Geography}},
	}
	for _, tt := range tests {
		f := tt.f
		f.Name = "c"
		f.DefaultValueExpression = tt.expr
		if _, err := rowcodec.CompileDefault(&f); !errors.Is(err, rowcodec.ErrDefaultExpression) {
			t.Errorf("CompileDefault(%s for %s %s) err = %v, want ErrDefaultExpression", tt.expr, f.Mode, f.Type, err)
		}
		if err := rowcodec.CheckDefaultExpression(&f); err == nil {
			t.Errorf("CheckDefaultExpression(%s) accepted", tt.expr)
		}
	}
	if fn, err := rowcodec.CompileDefault(&schema.Field{Name: "x", Type: schema.String}); fn != nil || err != nil {
		t.Errorf("no default = %v, %v", fn, err)
	}
}

func TestCompileDefault_FreshValues(t *testing.T) {
	f := &schema.Field{Name: "a", Type: schema.Bytes, Mode: schema.Repeated, DefaultValueExpression: "[b'ab']"}
	fn, err := rowcodec.CompileDefault(f)
	if err != nil {
		t.Fatal(err)
	}
	v := fn(nil, 0).([]rowcodec.Value)
	v[0].([]byte)[0] = 'X'
	if got := fn(nil, 0).([]rowcodec.Value)[0].([]byte); string(got) != "ab" {
		t.Errorf("default value shared between calls: %q", got)
	}
}
