package rowcodec_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/rowcodec/arrowtest"
	"github.com/penstockdb/penstock/internal/schema"
)

// arrowAllTypes is an Arrow writer schema for allTypes() (every column but
// the two with defaults, which the decoder fills in).
func arrowAllTypes() *arrow.Schema {
	utc := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	return arrow.NewSchema([]arrow.Field{
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64}, // names match case-insensitively
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "s5", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "n", Type: &arrow.Decimal128Type{Precision: 38, Scale: 9}, Nullable: true},
		{Name: "bn", Type: &arrow.Decimal256Type{Precision: 76, Scale: 38}, Nullable: true},
		{Name: "n52", Type: &arrow.Decimal128Type{Precision: 10, Scale: 3}, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "t", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "dt", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "ts", Type: utc, Nullable: true},
		{Name: "g", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "j", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "iv", Type: arrow.FixedWidthTypes.MonthDayNanoInterval, Nullable: true},
		{Name: "r", Type: arrow.StructOf(
			arrow.Field{Name: "start", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
			arrow.Field{Name: "end", Type: arrow.FixedWidthTypes.Date32, Nullable: true}), Nullable: true},
		{Name: "rts", Type: arrow.StructOf(
			arrow.Field{Name: "start", Type: utc, Nullable: true},
			arrow.Field{Name: "end", Type: utc, Nullable: true}), Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "rec", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "y", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "inner", Type: arrow.StructOf(
				arrow.Field{Name: "z", Type: arrow.FixedWidthTypes.Date32, Nullable: true}), Nullable: true}), Nullable: true},
		{Name: "recs", Type: arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Float32, Nullable: true})), Nullable: true},
	}, nil)
}

func mustCompileArrow(t testing.TB, s *arrow.Schema, tbl *schema.Table) (*rowcodec.ArrowDecoder, []byte) {
	t.Helper()
	sm, err := arrowtest.SchemaMessage(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := rowcodec.CompileArrow(sm, tbl)
	if err != nil {
		t.Fatal(err)
	}
	return d, sm
}

func mustBatch(t testing.TB, s *arrow.Schema, rowsJSON string) []byte {
	t.Helper()
	_, b, err := arrowtest.FromJSON(s, rowsJSON)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeArrow(t testing.TB, d *rowcodec.ArrowDecoder, batch []byte, o *rowcodec.Options) ([]rowcodec.Row, error) {
	t.Helper()
	var rows []rowcodec.Row
	err := d.Decode(batch, o, func(_ int, r rowcodec.Row) error { rows = append(rows, r); return nil })
	return rows, err
}

// TestArrowMatchesJSON decodes the same data sent as Arrow and as insertAll
// JSON and requires identical values for every type.
func TestArrowMatchesJSON(t *testing.T) {
	tbl := allTypes()
	d, _ := mustCompileArrow(t, arrowAllTypes(), tbl)
	// 2024-01-02 is day 19724; 10:20:30.5 is 37230500000 µs.
	batch := mustBatch(t, arrowAllTypes(), `[
	 {"ID": 1, "s": "héllo", "s5": "abcde", "b": "AQID", "f": 1.5, "ok": true,
	  "n": "123.456789012", "bn": "-1.00000000000000000000000000000000000001", "n52": "123.455",
	  "d": 19724, "t": 37230500000, "dt": 1704190830500000, "ts": 1704190830500000,
	  "g": "POINT(1 2)", "j": "{\"a\": [1, 2]}", "iv": {"months": 14, "days": -3, "nanoseconds": 4000001000},
	  "r": {"start": 19724, "end": null}, "rts": {"start": null, "end": 1704190830500000},
	  "tags": ["a", "b"], "rec": {"x": 7, "y": "yy", "inner": {"z": 19725}},
	  "recs": [{"k": "k1", "v": 0.5}, {"k": null, "v": null}]},
	 {"ID": 2, "s": null, "s5": null, "b": null, "f": null, "ok": null, "n": null, "bn": null, "n52": null,
	  "d": null, "t": null, "dt": null, "ts": null, "g": null, "j": null, "iv": null, "r": null, "rts": null,
	  "tags": null, "rec": null, "recs": []}
	]`)
	jsonRows := []string{
		`{"id": 1, "s": "héllo", "s5": "abcde", "b": "AQID", "f": 1.5, "ok": true,
		  "n": "123.456789012", "bn": "-1.00000000000000000000000000000000000001", "n52": "123.455",
		  "d": "2024-01-02", "t": "10:20:30.5", "dt": "2024-01-02T10:20:30.5", "ts": "2024-01-02 10:20:30.5 UTC",
		  "g": "POINT(1 2)", "j": "{\"a\": [1, 2]}", "iv": "1-2 -3 0:0:4.000001",
		  "r": {"start": "2024-01-02", "end": null}, "rts": {"start": null, "end": "2024-01-02 10:20:30.5 UTC"},
		  "tags": ["a", "b"], "rec": {"x": 7, "y": "yy", "inner": {"z": "2024-01-03"}},
		  "recs": [{"k": "k1", "v": 0.5}, {}]}`,
		`{"id": 2}`,
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	o := rowcodec.Options{Now: now, Seed: 42}
	got, err := decodeArrow(t, d, batch, &o)
	if err != nil {
		t.Fatal(err)
	}
	var want []rowcodec.Row
	raw := make([][]byte, len(jsonRows))
	for i, s := range jsonRows {
		raw[i] = []byte(s)
	}
	err = mustCompileJSON(t, tbl).Decode(raw, &rowcodec.JSONOptions{Options: o}, func(_ int, r rowcodec.Row) error {
		want = append(want, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		for c, f := range tbl.Fields {
			if !reflect.DeepEqual(got[i][c], want[i][c]) {
				t.Errorf("row %d column %s: got %#v, want %#v", i, f.Name, got[i][c], want[i][c])
			}
		}
	}
	n, errs, err := d.Validate(batch, &o)
	if err != nil || len(errs) != 0 || n != 2 {
		t.Errorf("Validate: got (%d, %v, %v), want (2, none, nil)", n, errs, err)
	}
}

func TestArrowRowErrors(t *testing.T) {
	tbl := allTypes()
	s := arrowAllTypes()
	d, _ := mustCompileArrow(t, s, tbl)
	cases := []struct {
		row      string
		location string
		msg      string
	}{
		{`{"ID": null}`, "id", "Missing required field: id."},
		{`{"ID": 1, "s5": "abcdef"}`, "s5", "STRING(5) has maximum length 5 but got a value with length 6"},
		{`{"ID": 1, "n52": "1234.5"}`, "n52", "n52"},
		{`{"ID": 1, "d": 3000000}`, "d", "Date field value is out of range: 3000000 on field d."},
		{`{"ID": 1, "ts": -62135596800000001}`, "ts", "Timestamp field value is out of range"},
		{`{"ID": 1, "j": "{bad"}`, "j", "on field j."},
		{`{"ID": 1, "r": {"start": 19725, "end": 19724}}`, "r", "Invalid RANGE value"},
		{`{"ID": 1, "rec": {"x": 1, "y": null}}`, "rec.y", "Missing required field: rec.y."},
		{`{"ID": 1, "tags": ["a", null]}`, "tags", "Null value in repeated field: tags."},
		{`{"ID": 1, "recs": [{"k": "a"}, {"k": "b", "v": "NaN"}], "rec": {"x": 1, "y": "y", "inner": {"z": -1000000}}}`, "rec.inner.z", "out of range"},
	}
	for _, tc := range cases {
		batch := mustBatch(t, s, `[{"ID": 5}, `+tc.row+`]`)
		n, errs, err := d.Validate(batch, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.row, err)
			continue
		}
		if n != 2 || len(errs) != 1 {
			t.Errorf("%s: got %d rows, errors %v; want 2 rows, one error", tc.row, n, errs)
			continue
		}
		if e := errs[0]; e.Index != 1 || e.Location != tc.location || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: got %+v, want index 1 at %q containing %q", tc.row, e, tc.location, tc.msg)
		}
		if _, err := decodeArrow(t, d, batch, nil); !errors.As(err, new(rowcodec.RowErrors)) {
			t.Errorf("%s: Decode error %v, want RowErrors", tc.row, err)
		}
	}
}

func TestArrowMissingValues(t *testing.T) {
	tbl := &schema.Table{Fields: []*schema.Field{
		{Name: "a", Type: schema.Integer},
		{Name: "b", Type: schema.String, DefaultValueExpression: "'dflt'"},
		{Name: "c", Type: schema.String, Mode: schema.Required, DefaultValueExpression: "'req'"},
		{Name: "tags", Type: schema.String, Mode: schema.Repeated},
	}}
	s := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	d, _ := mustCompileArrow(t, s, tbl)
	batch := mustBatch(t, s, `[{"a": 1, "b": null}, {"a": null, "b": "x"}]`)
	for _, tc := range []struct {
		o    rowcodec.Options
		want []rowcodec.Row
	}{
		{rowcodec.Options{}, []rowcodec.Row{{int64(1), nil, "req", []rowcodec.Value{}}, {nil, "x", "req", []rowcodec.Value{}}}},
		{rowcodec.Options{DefaultMissing: rowcodec.MissingDefault},
			[]rowcodec.Row{{int64(1), "dflt", "req", []rowcodec.Value{}}, {nil, "x", "req", []rowcodec.Value{}}}},
		{rowcodec.Options{MissingValues: map[string]rowcodec.MissingValue{"B": rowcodec.MissingDefault}},
			[]rowcodec.Row{{int64(1), "dflt", "req", []rowcodec.Value{}}, {nil, "x", "req", []rowcodec.Value{}}}},
	} {
		got, err := decodeArrow(t, d, batch, &tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("options %+v: got %v, want %v", tc.o, got, tc.want)
		}
	}
}

func TestCompileArrowErrors(t *testing.T) {
	tbl := allTypes()
	for _, tc := range []struct {
		name   string
		fields []arrow.Field
		kind   rowcodec.SchemaErrorKind
		msg    string
	}{
		{"extra", []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "Extra", Type: arrow.PrimitiveTypes.Int64},
			{Name: "rec", Type: arrow.StructOf(arrow.Field{Name: "q", Type: arrow.PrimitiveTypes.Int64})}},
			rowcodec.ExtraFields, "Input schema has more fields than BigQuery schema, extra fields: 'extra,rec.q'"},
		{"type", []arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, rowcodec.Incompatible, "column id of type INTEGER"},
		{"tz", []arrow.Field{{Name: "dt", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}}}, rowcodec.Incompatible, "column dt"},
		{"notlist", []arrow.Field{{Name: "tags", Type: arrow.BinaryTypes.String}}, rowcodec.Incompatible, "a list is required"},
		{"list", []arrow.Field{{Name: "s", Type: arrow.ListOf(arrow.BinaryTypes.String)}}, rowcodec.Incompatible, "column s of type STRING"},
		{"dict", []arrow.Field{{Name: "s", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}}}, rowcodec.Incompatible, "column s"},
	} {
		sm, err := arrowtest.SchemaMessage(arrow.NewSchema(tc.fields, nil))
		if err != nil {
			t.Fatal(err)
		}
		_, err = rowcodec.CompileArrow(sm, tbl)
		var se *rowcodec.SchemaError
		if !errors.As(err, &se) || se.Kind != tc.kind || !strings.Contains(se.Message, tc.msg) {
			t.Errorf("%s: got %v, want kind %d containing %q", tc.name, err, tc.kind, tc.msg)
		}
	}
	for _, bad := range [][]byte{nil, []byte("nope"), {0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0, 1, 2, 3, 4}} {
		_, err := rowcodec.CompileArrow(bad, tbl)
		var se *rowcodec.SchemaError
		if !errors.As(err, &se) || se.Kind != rowcodec.InvalidDescriptor {
			t.Errorf("%q: got %v, want InvalidDescriptor", bad, err)
		}
	}
}

// TestArrowBuilders builds a batch with array builders (other integer and
// time units than the JSON tests) and checks the converted values.
func TestArrowBuilders(t *testing.T) {
	tbl := &schema.Table{Fields: []*schema.Field{
		{Name: "i", Type: schema.Integer},
		{Name: "ts", Type: schema.Timestamp},
		{Name: "t", Type: schema.Time},
		{Name: "d", Type: schema.Date},
		{Name: "iv", Type: schema.Interval},
		{Name: "dt", Type: schema.DateTime},
	}}
	s := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Uint16},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
		{Name: "t", Type: arrow.FixedWidthTypes.Time32ms},
		{Name: "d", Type: arrow.BinaryTypes.String},
		{Name: "iv", Type: arrow.FixedWidthTypes.DayTimeInterval},
		{Name: "dt", Type: &arrow.TimestampType{Unit: arrow.Second}},
	}, nil)
	d, _ := mustCompileArrow(t, s, tbl)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), s)
	defer b.Release()
	b.Field(0).(*array.Uint16Builder).Append(65535)
	b.Field(1).(*array.TimestampBuilder).Append(-1500) // floors to -2 µs
	b.Field(2).(*array.Time32Builder).Append(1500)
	b.Field(3).(*array.StringBuilder).Append("2024-02-29")
	b.Field(4).(*array.DayTimeIntervalBuilder).Append(arrow.DayTimeInterval{Days: 2, Milliseconds: -5})
	b.Field(5).(*array.TimestampBuilder).Append(86400)
	rec := b.NewRecordBatch()
	defer rec.Release()
	batch, err := arrowtest.BatchMessage(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeArrow(t, d, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []rowcodec.Row{{int64(65535), rowcodec.Timestamp(-2), rowcodec.TimeOfDay(1500000),
		rowcodec.DateFromCivil(2024, 2, 29), rowcodec.Interval{Days: 2, Micros: -5000}, rowcodec.DateTime(86400000000)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestArrowMalformedBatch(t *testing.T) {
	s := arrowAllTypes()
	d, sm := mustCompileArrow(t, s, allTypes())
	good := mustBatch(t, s, `[{"ID": 1, "s": "abc", "tags": ["x"]}]`)
	other := mustBatch(t, arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil), `[{"id": 1}]`)
	for name, b := range map[string][]byte{
		"empty": nil, "garbage": []byte("garbage!"), "truncated": good[:len(good)-9],
		"schema": sm, "hugeMetadata": {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0}, "twice": append(append([]byte{}, good...), good...), "otherSchema": other,
	} {
		if _, _, err := d.Validate(b, nil); !errors.Is(err, rowcodec.ErrArrowBatch) {
			t.Errorf("%s: Validate error %v, want ErrArrowBatch", name, err)
		}
		if err := d.Decode(b, nil, func(int, rowcodec.Row) error { return nil }); !errors.Is(err, rowcodec.ErrArrowBatch) {
			t.Errorf("%s: Decode error %v, want ErrArrowBatch", name, err)
		}
	}
	if n, err := d.RowCount(good); err != nil || n != 1 {
		t.Errorf("RowCount: got (%d, %v), want (1, nil)", n, err)
	}
}

// FuzzArrowBatch feeds arbitrary batch bytes to a decoder: it must never
// panic, and Validate and Decode must agree.
func FuzzArrowBatch(f *testing.F) {
	s := arrowAllTypes()
	sm, err := arrowtest.SchemaMessage(s)
	if err != nil {
		f.Fatal(err)
	}
	d, err := rowcodec.CompileArrow(sm, allTypes())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mustBatch(f, s, `[{"ID": 1, "s": "abc", "tags": ["x", "y"], "recs": [{"k": "a"}], "n": "1.5", "r": {"start": 1, "end": 2}}]`))
	f.Add(mustBatch(f, s, `[{"ID": 1}, {"ID": null}]`))
	f.Fuzz(func(t *testing.T, batch []byte) {
		n, errs, verr := d.Validate(batch, nil)
		count := 0
		derr := d.Decode(batch, nil, func(int, rowcodec.Row) error { count++; return nil })
		if (verr != nil) != (derr != nil && errors.Is(derr, rowcodec.ErrArrowBatch)) {
			t.Fatalf("Validate error %v, Decode error %v", verr, derr)
		}
		if verr == nil && len(errs) == 0 && (derr != nil || count != n) {
			t.Fatalf("Validate: %d valid rows; Decode emitted %d, error %v", n, count, derr)
		}
	})
}

// FuzzCompileArrow feeds arbitrary schema bytes to CompileArrow: it must
// never panic, and every failure is a *SchemaError.
func FuzzCompileArrow(f *testing.F) {
	sm, err := arrowtest.SchemaMessage(arrowAllTypes())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sm)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := rowcodec.CompileArrow(b, allTypes())
		var se *rowcodec.SchemaError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("error %v is not a *SchemaError", err)
		}
	})
}

func BenchmarkArrowValidate(b *testing.B) {
	tbl := &schema.Table{Fields: []*schema.Field{
		{Name: "name", Type: schema.String},
		{Name: "n", Type: schema.Integer, Mode: schema.Required},
		{Name: "ts", Type: schema.Timestamp},
		{Name: "tags", Type: schema.String, Mode: schema.Repeated},
	}}
	s := arrow.NewSchema([]arrow.Field{
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	d, _ := mustCompileArrow(b, s, tbl)
	for _, rows := range []int{1, 500} {
		parts := make([]string, rows)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"name": "row-%d", "n": %d, "ts": %d, "tags": ["a", "b"]}`, i, i, 1700000000000000+i)
		}
		batch := mustBatch(b, s, "["+strings.Join(parts, ",")+"]")
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				if _, errs, err := d.Validate(batch, nil); err != nil || len(errs) > 0 {
					b.Fatal(err, errs)
				}
			}
		})
	}
}
