package rowcodec_test

import (
	"math"
	"math/big"
	"reflect"
	"testing"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// pbOneField is a writer schema with a single field f = 1 (declared by
// ftype, e.g. `type: TYPE_INT64`) plus optional extra declarations, and a
// table with the single column col (named f).
type pbOneField struct {
	name  string
	ftype string
	decls string
	col   *schema.Field
	row   []byte
	want  rowcodec.Value
	err   string // expected row error message instead of want
}

func (c pbOneField) run(t *testing.T) {
	t.Helper()
	desc := `name: "Root" ` + c.decls + ` field { name: "f" number: 1 ` + c.ftype + ` }`
	col := *c.col
	col.Name = "f"
	d := pbCompile(t, desc, pbTable(&col))
	if c.err != "" {
		re := pbRowError(t, d, nil, c.row)
		if re.Message != c.err {
			t.Errorf("row error\n got %s\nwant %s", re.Message, c.err)
		}
		if re.Index != 0 {
			t.Errorf("row error index = %d, want 0", re.Index)
		}
		return
	}
	got := pbDecodeOne(t, d, nil, c.row)
	if !reflect.DeepEqual(got[0], c.want) {
		t.Errorf("got %#v (%T), want %#v (%T)", got[0], got[0], c.want, c.want)
	}
}

func pbRunAll(t *testing.T, cases []pbOneField) {
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// pbScaledLE encodes an unscaled decimal as minimal two's-complement
// little-endian bytes (spec §4.5), independently of the package.
func pbScaledLE(v *big.Int) []byte {
	n := v.BitLen()/8 + 1
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	u := new(big.Int).Set(v)
	if u.Sign() < 0 {
		u.Add(u, mod)
	}
	be := u.FillBytes(make([]byte, n))
	le := make([]byte, n)
	for i := range be {
		le[i] = be[n-1-i]
	}
	// Drop redundant sign bytes.
	for len(le) > 1 {
		top, next := le[len(le)-1], le[len(le)-2]
		if (top == 0 && next < 0x80) || (top == 0xff && next >= 0x80) {
			le = le[:len(le)-1]
			continue
		}
		break
	}
	return le
}

func pbBig(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return v
}

func mustDec(t *testing.T, s string, big bool) rowcodec.Decimal {
	t.Helper()
	d, err := rowcodec.ParseNumeric(s, big)
	if err != nil {
		t.Fatalf("ParseNumeric(%q): %v", s, err)
	}
	return d
}

func col(typ schema.Type) *schema.Field { return &schema.Field{Type: typ} }

const wrapperDecl = `nested_type { name: "google_protobuf_Int64Value" field { name: "value" number: 1 type: TYPE_INT64 default_value: "0" } }`

func TestProtoDecode_ScalarTypes(t *testing.T) {
	enumDecl := `enum_type { name: "E" value { name: "ZERO" number: 0 } value { name: "NEG" number: -3 } value { name: "BIG" number: 100000 } }`
	pbRunAll(t, []pbOneField{
		// BOOLEAN
		{name: "bool/true", ftype: "type: TYPE_BOOL", col: col(schema.Boolean), row: pbInt(1, 1), want: true},
		{name: "bool/false", ftype: "type: TYPE_BOOL", col: col(schema.Boolean), row: pbInt(1, 0), want: false},
		{name: "bool/int32 negative", ftype: "type: TYPE_INT32", col: col(schema.Boolean), row: pbInt(1, -1), want: true},
		{name: "bool/int64 zero", ftype: "type: TYPE_INT64", col: col(schema.Boolean), row: pbInt(1, 0), want: false},
		{name: "bool/uint64", ftype: "type: TYPE_UINT64", col: col(schema.Boolean), row: pbVarint(1, math.MaxUint64), want: true},
		{name: "bool/BoolValue", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.BoolValue"`, col: col(schema.Boolean), row: pbMsg(1, pbInt(1, 1)), want: true},
		// BYTES
		{name: "bytes/bytes", ftype: "type: TYPE_BYTES", col: col(schema.Bytes), row: pbBytes(1, []byte{0, 0xff}), want: []byte{0, 0xff}},
		{name: "bytes/string", ftype: "type: TYPE_STRING", col: col(schema.Bytes), row: pbStr(1, "héllo"), want: []byte("héllo")},
		{name: "bytes/empty", ftype: "type: TYPE_BYTES", col: col(schema.Bytes), row: pbBytes(1, nil), want: []byte{}},
		{name: "bytes/BytesValue", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.BytesValue"`, col: col(schema.Bytes), row: pbMsg(1, pbBytes(1, []byte{1})), want: []byte{1}},
		{name: "bytes/max length in bytes", ftype: "type: TYPE_BYTES", col: &schema.Field{Type: schema.Bytes, MaxLength: 3}, row: pbBytes(1, []byte{1, 2, 3}), want: []byte{1, 2, 3}},
		// STRING
		{name: "string/utf8", ftype: "type: TYPE_STRING", col: col(schema.String), row: pbStr(1, "日本"), want: "日本"},
		{name: "string/max length in characters", ftype: "type: TYPE_STRING", col: &schema.Field{Type: schema.String, MaxLength: 2}, row: pbStr(1, "日本"), want: "日本"},
		{name: "string/enum name", ftype: `type: TYPE_ENUM type_name: "E"`, decls: enumDecl, col: col(schema.String), row: pbInt(1, -3), want: "NEG"},
		{name: "string/enum large number", ftype: `type: TYPE_ENUM type_name: "E"`, decls: enumDecl, col: col(schema.String), row: pbInt(1, 100000), want: "BIG"},
		{name: "string/StringValue", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.StringValue"`, col: col(schema.String), row: pbMsg(1, pbStr(1, "v")), want: "v"},
		{name: "string/StringValue without value", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.StringValue"`, col: col(schema.String), row: pbMsg(1), want: ""},
		// INTEGER
		{name: "int/int32 negative", ftype: "type: TYPE_INT32", col: col(schema.Integer), row: pbInt(1, -5), want: int64(-5)},
		{name: "int/int64 min", ftype: "type: TYPE_INT64", col: col(schema.Integer), row: pbInt(1, math.MinInt64), want: int64(math.MinInt64)},
		{name: "int/int64 max", ftype: "type: TYPE_INT64", col: col(schema.Integer), row: pbInt(1, math.MaxInt64), want: int64(math.MaxInt64)},
		{name: "int/uint32 max", ftype: "type: TYPE_UINT32", col: col(schema.Integer), row: pbVarint(1, math.MaxUint32), want: int64(math.MaxUint32)},
		{name: "int/sint32", ftype: "type: TYPE_SINT32", col: col(schema.Integer), row: pbSint(1, -7), want: int64(-7)},
		{name: "int/sint64 min", ftype: "type: TYPE_SINT64", col: col(schema.Integer), row: pbSint(1, math.MinInt64), want: int64(math.MinInt64)},
		{name: "int/fixed32 max", ftype: "type: TYPE_FIXED32", col: col(schema.Integer), row: pbFixed32(1, math.MaxUint32), want: int64(math.MaxUint32)},
		{name: "int/sfixed32", ftype: "type: TYPE_SFIXED32", col: col(schema.Integer), row: pbFixed32(1, uint32(0xffffffff)), want: int64(-1)},
		{name: "int/sfixed64", ftype: "type: TYPE_SFIXED64", col: col(schema.Integer), row: pbFixed64(1, 1<<63), want: int64(math.MinInt64)},
		{name: "int/enum number", ftype: `type: TYPE_ENUM type_name: "E"`, decls: enumDecl, col: col(schema.Integer), row: pbInt(1, -3), want: int64(-3)},
		{name: "int/enum unknown number", ftype: `type: TYPE_ENUM type_name: "E"`, decls: enumDecl, col: col(schema.Integer), row: pbInt(1, 77), want: int64(77)},
		{name: "int/Int64Value", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Int64Value"`, col: col(schema.Integer), row: pbMsg(1, pbInt(1, -9)), want: int64(-9)},
		{name: "int/Int32Value", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Int32Value"`, col: col(schema.Integer), row: pbMsg(1, pbInt(1, -9)), want: int64(-9)},
		{name: "int/UInt32Value", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.UInt32Value"`, col: col(schema.Integer), row: pbMsg(1, pbVarint(1, math.MaxUint32)), want: int64(math.MaxUint32)},
		{name: "int/inlined wrapper", ftype: `type: TYPE_MESSAGE type_name: "google_protobuf_Int64Value"`, decls: wrapperDecl, col: col(schema.Integer), row: pbMsg(1, pbInt(1, 11)), want: int64(11)},
		{name: "int/inlined wrapper zero", ftype: `type: TYPE_MESSAGE type_name: "google_protobuf_Int64Value"`, decls: wrapperDecl, col: col(schema.Integer), row: pbMsg(1), want: int64(0)},
		{name: "int/inlined wrapper absent", ftype: `type: TYPE_MESSAGE type_name: "google_protobuf_Int64Value"`, decls: wrapperDecl, col: col(schema.Integer), row: nil, want: nil},
		// FLOAT
		{name: "float/double", ftype: "type: TYPE_DOUBLE", col: col(schema.Float), row: pbDouble(1, -2.5), want: -2.5},
		{name: "float/+inf", ftype: "type: TYPE_DOUBLE", col: col(schema.Float), row: pbDouble(1, math.Inf(1)), want: math.Inf(1)},
		{name: "float/-inf", ftype: "type: TYPE_DOUBLE", col: col(schema.Float), row: pbDouble(1, math.Inf(-1)), want: math.Inf(-1)},
		{name: "float/float", ftype: "type: TYPE_FLOAT", col: col(schema.Float), row: pbFloat(1, 1.25), want: 1.25},
		{name: "float/DoubleValue", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.DoubleValue"`, col: col(schema.Float), row: pbMsg(1, pbDouble(1, 3)), want: 3.0},
		{name: "float/FloatValue", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.FloatValue"`, col: col(schema.Float), row: pbMsg(1, pbFloat(1, 0.5)), want: 0.5},
		// GEOGRAPHY, JSON
		{name: "geography/wkt", ftype: "type: TYPE_STRING", col: col(schema.Geography), row: pbStr(1, "POINT(1 2)"), want: "POINT(1 2)"},
		{name: "json/canonical", ftype: "type: TYPE_STRING", col: col(schema.JSON), row: pbStr(1, `{"b": 1, "a": [true, null]}`), want: `{"a":[true,null],"b":1}`},
		// INTERVAL
		{name: "interval/string", ftype: "type: TYPE_STRING", col: col(schema.Interval), row: pbStr(1, "1-2 3 4:5:6.5"),
			want: rowcodec.Interval{Months: 14, Days: 3, Micros: (4*3600+5*60+6)*1000000 + 500000}},
		{name: "interval/duration negative", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Duration"`, col: col(schema.Interval),
			row: pbMsg(1, pbInt(1, -90), pbInt(2, -500000000)), want: rowcodec.Interval{Micros: -90500000}},
	})
}

func TestProtoDecode_DecimalTypes(t *testing.T) {
	numMax := "99999999999999999999999999999.999999999"
	bigMax := "578960446186580977117854925043439539266.34992332820282019728792003956564819967"
	bigMin := "-578960446186580977117854925043439539266.34992332820282019728792003956564819968"
	pbRunAll(t, []pbOneField{
		{name: "numeric/int64", ftype: "type: TYPE_INT64", col: col(schema.Numeric), row: pbInt(1, -123), want: mustDec(t, "-123", false)},
		{name: "numeric/uint64 max", ftype: "type: TYPE_UINT64", col: col(schema.Numeric), row: pbVarint(1, math.MaxUint64), want: mustDec(t, "18446744073709551615", false)},
		{name: "numeric/double", ftype: "type: TYPE_DOUBLE", col: col(schema.Numeric), row: pbDouble(1, 0.1), want: mustDec(t, "0.1", false)},
		{name: "numeric/double rounds half away", ftype: "type: TYPE_DOUBLE", col: col(schema.Numeric), row: pbDouble(1, -1.0000000005), want: mustDec(t, "-1.000000001", false)},
		{name: "numeric/string full precision", ftype: "type: TYPE_STRING", col: col(schema.Numeric), row: pbStr(1, "-"+numMax), want: mustDec(t, "-"+numMax, false)},
		{name: "numeric/bytes", ftype: "type: TYPE_BYTES", col: col(schema.Numeric), row: pbBytes(1, pbScaledLE(big.NewInt(-1500000000))), want: mustDec(t, "-1.5", false)},
		{name: "numeric/bytes max", ftype: "type: TYPE_BYTES", col: col(schema.Numeric), row: pbBytes(1, pbScaledLE(pbBig("99999999999999999999999999999999999999"))), want: mustDec(t, numMax, false)},
		{name: "numeric/bytes sign-extended", ftype: "type: TYPE_BYTES", col: col(schema.Numeric), row: pbBytes(1, []byte{0xff, 0xff, 0xff, 0xff}), want: mustDec(t, "-0.000000001", false)},
		{name: "numeric/BytesValue", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.BytesValue"`, col: col(schema.Numeric), row: pbMsg(1, pbBytes(1, pbScaledLE(big.NewInt(2000000000)))), want: mustDec(t, "2", false)},
		{name: "numeric/precision and scale", ftype: "type: TYPE_STRING", col: &schema.Field{Type: schema.Numeric, Precision: 5, Scale: 2}, row: pbStr(1, "123.455"), want: mustDec(t, "123.46", false)},
		{name: "bignumeric/string 76 digits", ftype: "type: TYPE_STRING", col: col(schema.BigNumeric), row: pbStr(1, bigMax), want: mustDec(t, bigMax, true)},
		{name: "bignumeric/bytes max", ftype: "type: TYPE_BYTES", col: col(schema.BigNumeric), row: pbBytes(1, pbScaledLE(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1)))), want: mustDec(t, bigMax, true)},
		{name: "bignumeric/bytes min", ftype: "type: TYPE_BYTES", col: col(schema.BigNumeric), row: pbBytes(1, pbScaledLE(new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 255)))), want: mustDec(t, bigMin, true)},
		{name: "bignumeric/int32", ftype: "type: TYPE_INT32", col: col(schema.BigNumeric), row: pbInt(1, 7), want: mustDec(t, "7", true)},
	})
}

func TestProtoDecode_CivilTypes(t *testing.T) {
	dt := func(s string) rowcodec.DateTime {
		v, err := rowcodec.ParseDateTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tm := func(s string) rowcodec.TimeOfDay {
		v, err := rowcodec.ParseTime(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// CivilTimeEncoder layouts written out bit by bit (spec §4.5).
	packedTime := func(h, m, s, us int64) int64 { return h<<32 | m<<26 | s<<20 | us }
	packedDT := func(y, mo, d, h, m, s, us int64) int64 { return y<<46 | mo<<42 | d<<37 | packedTime(h, m, s, us) }
	pbRunAll(t, []pbOneField{
		{name: "date/int32 epoch", ftype: "type: TYPE_INT32", col: col(schema.Date), row: pbInt(1, 0), want: rowcodec.Date(0)},
		{name: "date/int32 min", ftype: "type: TYPE_INT32", col: col(schema.Date), row: pbInt(1, -719162), want: rowcodec.Date(-719162)},
		{name: "date/int64 max", ftype: "type: TYPE_INT64", col: col(schema.Date), row: pbInt(1, 2932896), want: rowcodec.Date(2932896)},
		{name: "date/string", ftype: "type: TYPE_STRING", col: col(schema.Date), row: pbStr(1, "1969-12-31"), want: rowcodec.Date(-1)},
		{name: "date/Int32Value", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Int32Value"`, col: col(schema.Date), row: pbMsg(1, pbInt(1, 19000)), want: rowcodec.Date(19000)},
		{name: "datetime/packed", ftype: "type: TYPE_INT64", col: col(schema.DateTime), row: pbInt(1, packedDT(2024, 2, 29, 13, 14, 15, 123456)), want: dt("2024-02-29 13:14:15.123456")},
		{name: "datetime/packed min", ftype: "type: TYPE_INT64", col: col(schema.DateTime), row: pbInt(1, packedDT(1, 1, 1, 0, 0, 0, 0)), want: rowcodec.MinDateTime},
		{name: "datetime/packed max", ftype: "type: TYPE_INT64", col: col(schema.DateTime), row: pbInt(1, packedDT(9999, 12, 31, 23, 59, 59, 999999)), want: rowcodec.MaxDateTime},
		{name: "datetime/string", ftype: "type: TYPE_STRING", col: col(schema.DateTime), row: pbStr(1, "2024-01-02T03:04:05.5"), want: dt("2024-01-02 03:04:05.5")},
		{name: "time/packed", ftype: "type: TYPE_INT64", col: col(schema.Time), row: pbInt(1, packedTime(23, 59, 59, 999999)), want: tm("23:59:59.999999")},
		{name: "time/string", ftype: "type: TYPE_STRING", col: col(schema.Time), row: pbStr(1, "01:02:03"), want: tm("01:02:03")},
		{name: "timestamp/int64 pre-1970", ftype: "type: TYPE_INT64", col: col(schema.Timestamp), row: pbInt(1, -1), want: rowcodec.Timestamp(-1)},
		{name: "timestamp/int64 min", ftype: "type: TYPE_INT64", col: col(schema.Timestamp), row: pbInt(1, -62135596800000000), want: rowcodec.Timestamp(-62135596800000000)},
		{name: "timestamp/int64 max", ftype: "type: TYPE_INT64", col: col(schema.Timestamp), row: pbInt(1, 253402300799999999), want: rowcodec.Timestamp(253402300799999999)},
		{name: "timestamp/int32", ftype: "type: TYPE_INT32", col: col(schema.Timestamp), row: pbInt(1, -5), want: rowcodec.Timestamp(-5)},
		{name: "timestamp/uint32", ftype: "type: TYPE_UINT32", col: col(schema.Timestamp), row: pbVarint(1, math.MaxUint32), want: rowcodec.Timestamp(math.MaxUint32)},
		{name: "timestamp/string", ftype: "type: TYPE_STRING", col: col(schema.Timestamp), row: pbStr(1, "1969-12-31T23:59:59.999999Z"), want: rowcodec.Timestamp(-1)},
		{name: "timestamp/message pre-1970", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp"`, col: col(schema.Timestamp),
			row: pbMsg(1, pbInt(1, -1), pbInt(2, 999999999)), want: rowcodec.Timestamp(-1)},
		{name: "timestamp/empty message is the epoch", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp"`, col: col(schema.Timestamp),
			row: pbMsg(1), want: rowcodec.Timestamp(0)},
		{name: "timestamp/inlined message", ftype: `type: TYPE_MESSAGE type_name: "google_protobuf_Timestamp"`,
			decls: `nested_type { name: "google_protobuf_Timestamp" field { name: "seconds" number: 1 type: TYPE_INT64 } field { name: "nanos" number: 2 type: TYPE_INT32 } }`,
			col:   col(schema.Timestamp), row: pbMsg(1, pbInt(1, 1), pbInt(2, 2000)), want: rowcodec.Timestamp(1000002)},
		{name: "timestamp/Int64Value", ftype: `type: TYPE_MESSAGE type_name: ".google.protobuf.Int64Value"`, col: col(schema.Timestamp), row: pbMsg(1, pbInt(1, 5)), want: rowcodec.Timestamp(5)},
	})
}

func TestProtoDecode_Range(t *testing.T) {
	rng := func(elem schema.Type) *schema.Field {
		return &schema.Field{Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: elem}}
	}
	decl := func(typ string) string {
		return `nested_type { name: "R" field { name: "start" number: 1 type: ` + typ + ` } field { name: "end" number: 2 type: ` + typ + ` } }`
	}
	pbRunAll(t, []pbOneField{
		{name: "date", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_INT32"), col: rng(schema.Date),
			row: pbMsg(1, pbInt(1, 10), pbInt(2, 20)), want: rowcodec.RangeValue{Start: rowcodec.Date(10), End: rowcodec.Date(20)}},
		{name: "unbounded end", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_INT32"), col: rng(schema.Date),
			row: pbMsg(1, pbInt(1, 10)), want: rowcodec.RangeValue{Start: rowcodec.Date(10)}},
		{name: "unbounded both", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_INT32"), col: rng(schema.Date),
			row: pbMsg(1), want: rowcodec.RangeValue{}},
		{name: "absent range is NULL", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_INT32"), col: rng(schema.Date),
			row: nil, want: nil},
		{name: "timestamp", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_INT64"), col: rng(schema.Timestamp),
			row: pbMsg(1, pbInt(1, -5), pbInt(2, 5)), want: rowcodec.RangeValue{Start: rowcodec.Timestamp(-5), End: rowcodec.Timestamp(5)}},
		{name: "datetime strings", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_STRING"), col: rng(schema.DateTime),
			row: pbMsg(1, pbStr(2, "1970-01-01 00:00:01")), want: rowcodec.RangeValue{End: rowcodec.DateTime(1000000)}},
		{name: "start not before end", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_INT32"), col: rng(schema.Date),
			row: pbMsg(1, pbInt(1, 20), pbInt(2, 20)), err: "Invalid RANGE value: the start must be before the end on field f."},
		{name: "bound out of range", ftype: `type: TYPE_MESSAGE type_name: "R"`, decls: decl("TYPE_INT32"), col: rng(schema.Date),
			row: pbMsg(1, pbInt(1, 3000000)), err: "Date field value is out of range: 3000000 on field f.start."},
	})
}

func TestProtoDecode_Repeated(t *testing.T) {
	rep := func(typ schema.Type) *schema.Field { return &schema.Field{Type: typ, Mode: schema.Repeated} }
	vals := func(vs ...rowcodec.Value) []rowcodec.Value { return vs }
	pbRunAll(t, []pbOneField{
		{name: "unpacked", ftype: "label: LABEL_REPEATED type: TYPE_INT64", col: rep(schema.Integer),
			row: pbRow(pbInt(1, 1), pbInt(1, -2)), want: vals(int64(1), int64(-2))},
		{name: "packed without the option", ftype: "label: LABEL_REPEATED type: TYPE_INT64", col: rep(schema.Integer),
			row: pbPacked(1, 1, 2, 3), want: vals(int64(1), int64(2), int64(3))},
		{name: "unpacked with the option", ftype: "label: LABEL_REPEATED type: TYPE_INT64 options { packed: true }", col: rep(schema.Integer),
			row: pbRow(pbInt(1, 4), pbPacked(1, 5), pbInt(1, 6)), want: vals(int64(4), int64(5), int64(6))},
		{name: "packed doubles", ftype: "label: LABEL_REPEATED type: TYPE_DOUBLE", col: rep(schema.Float),
			row: pbBytes(1, append(pbDouble(1, 1)[1:], pbDouble(1, 2)[1:]...)), want: vals(1.0, 2.0)},
		{name: "packed dates", ftype: "label: LABEL_REPEATED type: TYPE_INT32", col: rep(schema.Date),
			row: pbPacked(1, 1, 2), want: vals(rowcodec.Date(1), rowcodec.Date(2))},
		{name: "strings", ftype: "label: LABEL_REPEATED type: TYPE_STRING", col: rep(schema.String),
			row: pbRow(pbStr(1, "a"), pbStr(1, ""), pbStr(1, "c")), want: vals("a", "", "c")},
		{name: "zero elements is an empty array", ftype: "label: LABEL_REPEATED type: TYPE_STRING", col: rep(schema.String),
			row: nil, want: []rowcodec.Value{}},
		{name: "wrappers", ftype: `label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".google.protobuf.Int64Value"`, col: rep(schema.Integer),
			row: pbRow(pbMsg(1, pbInt(1, 3)), pbMsg(1)), want: vals(int64(3), int64(0))},
		{name: "records", ftype: `label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "S"`,
			decls: `nested_type { name: "S" field { name: "x" number: 1 type: TYPE_INT64 } }`,
			col:   &schema.Field{Type: schema.Record, Mode: schema.Repeated, Fields: []*schema.Field{pbCol("x", schema.Integer, "")}},
			row:   pbRow(pbMsg(1, pbInt(1, 1)), pbMsg(1)), want: vals(rowcodec.Row{int64(1)}, rowcodec.Row{nil})},
		{name: "element error", ftype: "label: LABEL_REPEATED type: TYPE_INT64", col: rep(schema.Timestamp),
			row: pbPacked(1, 1, uint64(1)<<62), err: "Timestamp field value is out of range: 4611686018427387904 on field f."},
		{name: "wrapper element without value is NULL", ftype: `label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "W"`,
			decls: `nested_type { name: "W" field { name: "value" number: 1 type: TYPE_INT64 } }`, col: rep(schema.Integer),
			row: pbRow(pbMsg(1, pbInt(1, 3)), pbMsg(1)), err: "Null value in repeated field: f."},
		{name: "record element error path", ftype: `label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "S"`,
			decls: `nested_type { name: "S" field { name: "x" number: 1 type: TYPE_INT64 } }`,
			col:   &schema.Field{Type: schema.Record, Mode: schema.Repeated, Fields: []*schema.Field{pbCol("x", schema.Date, "")}},
			row:   pbRow(pbMsg(1, pbInt(1, 1)), pbMsg(1, pbInt(1, -800000))), err: "Date field value is out of range: -800000 on field f[1].x."},
	})
}
