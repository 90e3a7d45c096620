package rowcodec_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// pbLitMsg is the row-error text for a literal the package's own parser
// rejects: the parser's message plus " on field <path>.".
func pbLitMsg(t *testing.T, err error, path string) string {
	t.Helper()
	if err == nil {
		t.Fatal("expected the parser to fail")
	}
	return rowcodec.Describe(err) + " on field " + path + "."
}

func TestProtoValidate_RealServiceMessages(t *testing.T) {
	// The two row-error texts quoted from the real service (spec §1.4.2).
	d := pbCompile(t, `name: "Root" field { name: "foo" number: 1 type: TYPE_STRING } field { name: "bar" number: 2 type: TYPE_INT64 }`,
		pbTable(&schema.Field{Name: "foo", Type: schema.String, MaxLength: 10}, pbCol("bar", schema.Timestamp, "")))
	rows := [][]byte{pbStr(1, "abcdefghijkl"), pbStr(1, "ok"), pbInt(2, math.MinInt64)}
	want := rowcodec.RowErrors{
		{Index: 0, Location: "foo", Message: "Field foo: STRING(10) has maximum length 10 but got a value with length 12 on field foo."},
		{Index: 2, Location: "bar", Message: "Timestamp field value is out of range: -9223372036854775808 on field bar."},
	}
	if got := d.Validate(rows, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Validate = %+v\nwant %+v", got, want)
	}
	var emitted []int
	err := d.Decode(rows, nil, func(i int, r rowcodec.Row) error { emitted = append(emitted, i); return nil })
	if got, ok := err.(rowcodec.RowErrors); !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("Decode error = %v, want %+v", err, want)
	}
	if len(emitted) != 0 {
		t.Errorf("Decode emitted rows %v after an invalid row", emitted)
	}
}

func TestProtoValidate_RowErrors(t *testing.T) {
	_, dateErr := rowcodec.ParseDate("2023-02-29")
	_, dtErr := rowcodec.PackedDateTime(2023<<46 | 2<<42 | 30<<37)
	_, tErr := rowcodec.PackedTime(1 << 37)
	_, tsErr := rowcodec.ParseTimestamp("10000-01-01")
	_, numErr := rowcodec.ParseNumeric("1e29", false)
	_, nanErr := rowcodec.DecimalFromFloat64(math.NaN(), false)
	_, precErr := rowcodec.ParseDecimal("1234.5", rowcodec.DecimalParams{Precision: 4, Scale: 1})
	longBytes := append(make([]byte, 32), 1)
	_, bytesErr := rowcodec.DecimalFromScaledBytes(longBytes, true)
	_, numBytesErr := rowcodec.DecimalFromScaledBytes(pbScaledLE(pbBig("100000000000000000000000000000000000000")), false)
	geoErr := rowcodec.CheckGeography("POINT(200 0)")
	_, jsonErr := rowcodec.CheckJSON(`{"a":`)
	_, ivErr := rowcodec.ParseInterval("1-2-3")
	pbRunAll(t, []pbOneField{
		{name: "bytes too long", ftype: "type: TYPE_BYTES", col: &schema.Field{Type: schema.Bytes, MaxLength: 2}, row: pbBytes(1, []byte("abc")),
			err: "Field f: BYTES(2) has maximum length 2 but got a value with length 3 on field f."},
		{name: "string too long in characters", ftype: "type: TYPE_STRING", col: &schema.Field{Type: schema.String, MaxLength: 2}, row: pbStr(1, "日本語"),
			err: "Field f: STRING(2) has maximum length 2 but got a value with length 3 on field f."},
		{name: "invalid utf-8", ftype: "type: TYPE_STRING", col: col(schema.String), row: pbBytes(1, []byte{'a', 0xff}),
			err: "String field value is not valid UTF-8 on field f."},
		{name: "invalid utf-8 in a literal", ftype: "type: TYPE_STRING", col: col(schema.JSON), row: pbBytes(1, []byte{'"', 0xc3, '"'}),
			err: "String field value is not valid UTF-8 on field f."},
		{name: "unknown enum number", ftype: `type: TYPE_ENUM type_name: "E"`, decls: `enum_type { name: "E" value { name: "A" number: 0 } }`,
			col: col(schema.String), row: pbInt(1, 77), err: "Invalid enum value: 77 on field f."},
		{name: "date int out of range", ftype: "type: TYPE_INT32", col: col(schema.Date), row: pbInt(1, 2932897),
			err: "Date field value is out of range: 2932897 on field f."},
		{name: "date before year 1", ftype: "type: TYPE_INT64", col: col(schema.Date), row: pbInt(1, -719163),
			err: "Date field value is out of range: -719163 on field f."},
		{name: "date string", ftype: "type: TYPE_STRING", col: col(schema.Date), row: pbStr(1, "2023-02-29"), err: pbLitMsg(t, dateErr, "f")},
		{name: "packed datetime not a calendar date", ftype: "type: TYPE_INT64", col: col(schema.DateTime), row: pbInt(1, 2023<<46|2<<42|30<<37),
			err: pbLitMsg(t, dtErr, "f")},
		{name: "packed time high bits", ftype: "type: TYPE_INT64", col: col(schema.Time), row: pbInt(1, 1<<37), err: pbLitMsg(t, tErr, "f")},
		{name: "timestamp above max", ftype: "type: TYPE_INT64", col: col(schema.Timestamp), row: pbInt(1, 253402300800000000),
			err: "Timestamp field value is out of range: 253402300800000000 on field f."},
		{name: "timestamp string", ftype: "type: TYPE_STRING", col: col(schema.Timestamp), row: pbStr(1, "10000-01-01"), err: pbLitMsg(t, tsErr, "f")},
		{name: "timestamp message nanos", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp"`, col: col(schema.Timestamp),
			row: pbMsg(1, pbInt(1, 1), pbInt(2, -1)), err: "Invalid google.protobuf.Timestamp value: seconds 1, nanos -1 on field f."},
		{name: "timestamp message seconds", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp"`, col: col(schema.Timestamp),
			row: pbMsg(1, pbInt(1, 253402300800)), err: "Timestamp field value is out of range: 253402300800 seconds on field f."},
		{name: "duration mixed signs", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Duration"`, col: col(schema.Interval),
			row: pbMsg(1, pbInt(1, 1), pbInt(2, -1)), err: "Invalid google.protobuf.Duration value: seconds 1, nanos -1 on field f."},
		{name: "duration too long", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Duration"`, col: col(schema.Interval),
			row: pbMsg(1, pbInt(1, math.MaxInt64)), err: "Interval field value is out of range: 9223372036854775807 seconds on field f."},
		{name: "numeric string out of range", ftype: "type: TYPE_STRING", col: col(schema.Numeric), row: pbStr(1, "1e29"), err: pbLitMsg(t, numErr, "f")},
		{name: "numeric double NaN", ftype: "type: TYPE_DOUBLE", col: col(schema.Numeric), row: pbDouble(1, math.NaN()), err: pbLitMsg(t, nanErr, "f")},
		{name: "numeric precision", ftype: "type: TYPE_STRING", col: &schema.Field{Type: schema.Numeric, Precision: 4, Scale: 1}, row: pbStr(1, "1234.5"),
			err: pbLitMsg(t, precErr, "f")},
		{name: "numeric bytes out of range", ftype: "type: TYPE_BYTES", col: col(schema.Numeric),
			row: pbBytes(1, pbScaledLE(pbBig("100000000000000000000000000000000000000"))), err: pbLitMsg(t, numBytesErr, "f")},
		{name: "bignumeric bytes too long", ftype: "type: TYPE_BYTES", col: col(schema.BigNumeric), row: pbBytes(1, longBytes), err: pbLitMsg(t, bytesErr, "f")},
		{name: "geography", ftype: "type: TYPE_STRING", col: col(schema.Geography), row: pbStr(1, "POINT(200 0)"), err: pbLitMsg(t, geoErr, "f")},
		{name: "json", ftype: "type: TYPE_STRING", col: col(schema.JSON), row: pbStr(1, `{"a":`), err: pbLitMsg(t, jsonErr, "f")},
		{name: "interval", ftype: "type: TYPE_STRING", col: col(schema.Interval), row: pbStr(1, "1-2-3"), err: pbLitMsg(t, ivErr, "f")},
		{name: "required absent", ftype: "type: TYPE_INT64", col: &schema.Field{Type: schema.Integer, Mode: schema.Required}, row: nil,
			err: "Missing required field: f."},
		{name: "required wrapper without value", ftype: `type: TYPE_MESSAGE type_name: "W"`,
			decls: `nested_type { name: "W" field { name: "value" number: 1 type: TYPE_INT64 } }`,
			col:   &schema.Field{Type: schema.Integer, Mode: schema.Required}, row: pbMsg(1), err: "Missing required field: f."},
		{name: "nested error path", ftype: `type: TYPE_MESSAGE type_name: "S"`,
			decls: `nested_type { name: "S" nested_type { name: "T" field { name: "y" number: 1 type: TYPE_STRING } } field { name: "t" number: 1 type: TYPE_MESSAGE type_name: "T" } }`,
			col:   &schema.Field{Type: schema.Record, Fields: []*schema.Field{pbCol("T", schema.Record, "", &schema.Field{Name: "Y", Type: schema.String, MaxLength: 1})}},
			row:   pbMsg(1, pbMsg(1, pbStr(1, "ab"))), err: "Field f.T.Y: STRING(1) has maximum length 1 but got a value with length 2 on field f.T.Y."},
		{name: "nested required", ftype: `type: TYPE_MESSAGE type_name: "S"`,
			decls: `nested_type { name: "S" field { name: "x" number: 1 type: TYPE_INT64 } }`,
			col:   &schema.Field{Type: schema.Record, Fields: []*schema.Field{pbCol("x", schema.Integer, schema.Required)}},
			row:   pbMsg(1), err: "Missing required field: f.x."},
	})
}

func TestProtoValidate_RowErrorLocation(t *testing.T) {
	d := pbCompile(t, `name: "Root" nested_type { name: "S" field { name: "x" number: 1 type: TYPE_INT64 } }
		field { name: "arr" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "S" }`,
		pbTable(pbCol("arr", schema.Record, schema.Repeated, pbCol("x", schema.Date, ""))))
	errs := d.Validate([][]byte{pbRow(pbMsg(1), pbMsg(1), pbMsg(1, pbInt(1, 1<<40)))}, nil)
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1", len(errs))
	}
	if got, want := errs[0].Location, "arr[2].x"; got != want {
		t.Errorf("location = %q, want %q", got, want)
	}
}

func TestProtoValidate_Malformed(t *testing.T) {
	d := pbCompile(t, `name: "Root" nested_type { name: "S" field { name: "x" number: 1 type: TYPE_INT64 } }
		field { name: "a" number: 1 type: TYPE_INT64 } field { name: "s" number: 2 type: TYPE_MESSAGE type_name: "S" }
		field { name: "r" number: 3 label: LABEL_REPEATED type: TYPE_INT64 } field { name: "g" number: 4 type: TYPE_GROUP type_name: "S" }`,
		pbTable(pbCol("a", schema.Integer, ""), pbCol("s", schema.Record, "", pbCol("x", schema.Integer, "")),
			pbCol("r", schema.Integer, schema.Repeated), pbCol("g", schema.Record, "", pbCol("x", schema.Integer, ""))))
	tag := func(num int, wt protowire.Type) []byte { return protowire.AppendTag(nil, protowire.Number(num), wt) }
	tests := []struct {
		name string
		row  []byte
		want string
	}{
		{"truncated varint", pbRow(tag(1, protowire.VarintType), []byte{0x80}), "truncated or invalid field 1"},
		{"truncated tag", []byte{0x80}, "truncated tag"},
		{"length past the end", pbRow(tag(2, protowire.BytesType), []byte{5, 1}), "truncated or invalid field 2"},
		{"field number zero", []byte{0x00, 0x01}, "invalid field number"},
		{"reserved wire type", pbRow(tag(9, 7)), "truncated or invalid field 9"},
		{"stray end group", tag(9, protowire.EndGroupType), "unexpected end-group tag"},
		{"group without end", pbRow(tag(4, protowire.StartGroupType), pbInt(1, 1)), "truncated or invalid field 4"},
		{"unknown group without end", pbRow(tag(9, protowire.StartGroupType), pbInt(1, 1)), "truncated or invalid field 9"},
		{"bad nested message", pbBytes(2, []byte{0x08}), "truncated or invalid field 1"},
		{"truncated packed", pbBytes(3, []byte{0x80}), "truncated packed field 3"},
		{"repeated element truncated", pbRow(tag(3, protowire.VarintType), []byte{0xff}), "truncated or invalid field 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := pbRowError(t, d, nil, tt.row)
			if !strings.HasPrefix(re.Message, "Could not parse the row as a ") || !strings.HasSuffix(re.Message, ": "+tt.want+".") {
				t.Errorf("message = %q, want the parse error %q", re.Message, tt.want)
			}
			if re.Location != "" {
				t.Errorf("location = %q, want the whole row", re.Location)
			}
		})
	}
}
