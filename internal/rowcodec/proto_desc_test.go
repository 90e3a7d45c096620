package rowcodec_test

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

func TestCompileProto_TypeResolution(t *testing.T) {
	rec := func(name string, sub ...*schema.Field) *schema.Field { return pbCol(name, schema.Record, "", sub...) }
	tests := []struct {
		name  string
		desc  string
		table *schema.Table
		row   []byte
		want  rowcodec.Row
	}{
		{
			name:  "simple name of a nested type",
			desc:  `name: "Root" nested_type { name: "Inner" field { name: "x" number: 1 type: TYPE_INT64 } } field { name: "inner" number: 1 type: TYPE_MESSAGE type_name: "Inner" }`,
			table: pbTable(rec("inner", pbCol("x", schema.Integer, ""))),
			row:   pbMsg(1, pbInt(1, 5)),
			want:  rowcodec.Row{rowcodec.Row{int64(5)}},
		},
		{
			name:  "fully qualified",
			desc:  `name: "Root" nested_type { name: "Inner" field { name: "x" number: 1 type: TYPE_INT64 } } field { name: "inner" number: 1 type: TYPE_MESSAGE type_name: ".Root.Inner" }`,
			table: pbTable(rec("inner", pbCol("x", schema.Integer, ""))),
			row:   pbMsg(1, pbInt(1, 6)),
			want:  rowcodec.Row{rowcodec.Row{int64(6)}},
		},
		{
			name: "relative compound name",
			desc: `name: "Root"
				nested_type { name: "Inner" nested_type { name: "Deep" field { name: "x" number: 1 type: TYPE_STRING } } }
				field { name: "d" number: 1 type: TYPE_MESSAGE type_name: "Inner.Deep" }`,
			table: pbTable(rec("d", pbCol("x", schema.String, ""))),
			row:   pbMsg(1, pbStr(1, "hi")),
			want:  rowcodec.Row{rowcodec.Row{"hi"}},
		},
		{
			name: "innermost scope wins",
			desc: `name: "Root"
				nested_type { name: "Deep" field { name: "a" number: 1 type: TYPE_STRING } }
				nested_type { name: "Inner"
					nested_type { name: "Deep" field { name: "b" number: 1 type: TYPE_INT64 } }
					field { name: "deep" number: 1 type: TYPE_MESSAGE type_name: "Deep" } }
				field { name: "inner" number: 1 type: TYPE_MESSAGE type_name: "Inner" }`,
			table: pbTable(rec("inner", rec("deep", pbCol("b", schema.Integer, "")))),
			row:   pbMsg(1, pbMsg(1, pbInt(1, 7))),
			want:  rowcodec.Row{rowcodec.Row{rowcodec.Row{int64(7)}}},
		},
		{
			name: "type inferred from type_name without type",
			desc: `name: "Root" nested_type { name: "Inner" field { name: "x" number: 1 type: TYPE_INT64 } }
				enum_type { name: "E" value { name: "A" number: 0 } value { name: "B" number: 1 } }
				field { name: "inner" number: 1 type_name: "Inner" } field { name: "e" number: 2 type_name: "E" }`,
			table: pbTable(rec("inner", pbCol("x", schema.Integer, "")), pbCol("e", schema.String, "")),
			row:   pbRow(pbMsg(1, pbInt(1, 8)), pbInt(2, 1)),
			want:  rowcodec.Row{rowcodec.Row{int64(8)}, "B"},
		},
		{
			name: "well-known types referenced by full name",
			desc: `name: "Root"
				field { name: "ts" number: 1 type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" }
				field { name: "iv" number: 2 type: TYPE_MESSAGE type_name: ".google.protobuf.Duration" }
				field { name: "i" number: 3 type: TYPE_MESSAGE type_name: ".google.protobuf.Int64Value" }
				field { name: "s" number: 4 type: TYPE_MESSAGE type_name: "google.protobuf.StringValue" }
				field { name: "z" number: 5 type: TYPE_MESSAGE type_name: ".google.protobuf.Int64Value" }`,
			table: pbTable(pbCol("ts", schema.Timestamp, ""), pbCol("iv", schema.Interval, ""),
				pbCol("i", schema.Integer, ""), pbCol("s", schema.String, ""), pbCol("z", schema.Integer, "")),
			row: pbRow(pbMsg(1, pbInt(1, 1700000000), pbInt(2, 123456789)), pbMsg(2, pbInt(1, 3661), pbInt(2, 500000000)),
				pbMsg(3, pbInt(1, 42)), pbMsg(4, pbStr(1, "w")), pbMsg(5)),
			want: rowcodec.Row{rowcodec.Timestamp(1700000000123456), rowcodec.Interval{Micros: 3661500000}, int64(42), "w", int64(0)},
		},
		{
			name: "go normaliser enum wrapper",
			desc: `name: "Root"
				nested_type { name: "pkg_Color_E" enum_type { name: "Color" value { name: "RED" number: 0 } value { name: "BLUE" number: 5 } } }
				field { name: "c" number: 1 type: TYPE_ENUM type_name: "pkg_Color_E.Color" }
				field { name: "n" number: 2 type: TYPE_ENUM type_name: "pkg_Color_E.Color" }`,
			table: pbTable(pbCol("c", schema.String, ""), pbCol("n", schema.Integer, "")),
			row:   pbRow(pbInt(1, 5), pbInt(2, 5)),
			want:  rowcodec.Row{"BLUE", int64(5)},
		},
		{
			name: "group decodes as a nested message",
			desc: `name: "Root"
				nested_type { name: "Grp" field { name: "x" number: 2 type: TYPE_INT64 } }
				field { name: "grp" number: 1 type: TYPE_GROUP type_name: "Grp" }
				field { name: "after" number: 3 type: TYPE_INT64 }`,
			table: pbTable(rec("grp", pbCol("x", schema.Integer, "")), pbCol("after", schema.Integer, "")),
			row:   pbRow(pbGroup(1, pbInt(2, 9), pbGroup(7, pbInt(1, 1))), pbInt(3, 10)),
			want:  rowcodec.Row{rowcodec.Row{int64(9)}, int64(10)},
		},
		{
			name: "map field as repeated key/value records",
			desc: `name: "Root"
				nested_type { name: "TagsEntry" options { map_entry: true }
					field { name: "key" number: 1 type: TYPE_STRING } field { name: "value" number: 2 type: TYPE_INT64 } }
				field { name: "tags" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "TagsEntry" }`,
			table: pbTable(pbCol("tags", schema.Record, schema.Repeated, pbCol("key", schema.String, ""), pbCol("value", schema.Integer, ""))),
			row:   pbRow(pbMsg(1, pbStr(1, "a"), pbInt(2, 1)), pbMsg(1, pbStr(1, "b"))),
			want:  rowcodec.Row{[]rowcodec.Value{rowcodec.Row{"a", int64(1)}, rowcodec.Row{"b", nil}}},
		},
		{
			name: "proto3_optional oneof and json_name are ignored",
			desc: `name: "Root"
				field { name: "a" number: 1 type: TYPE_INT64 proto3_optional: true oneof_index: 0 json_name: "AAA" }
				oneof_decl { name: "_a" }`,
			table: pbTable(pbCol("a", schema.Integer, "")),
			row:   pbInt(1, 3),
			want:  rowcodec.Row{int64(3)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := pbCompile(t, tt.desc, tt.table)
			if got := pbDecodeOne(t, d, nil, tt.row); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestCompileProto_InvalidDescriptor(t *testing.T) {
	table := pbTable(pbCol("a", schema.Integer, ""), pbCol("b", schema.Integer, ""), pbCol("composer", schema.Record, "", pbCol("x", schema.Integer, "")))
	tests := []struct {
		name string
		desc string
		want string
	}{
		{"undefined fully qualified", `name: "Song" field { name: "composer" number: 1 type: TYPE_MESSAGE type_name: ".Composer" }`,
			`Song.composer: ".Composer" is not defined.`},
		{"undefined relative", `name: "Song" field { name: "composer" number: 1 type: TYPE_MESSAGE type_name: "Composer" }`,
			`Song.composer: "Composer" is not defined.`},
		{"compound resolved to a missing inner name",
			`name: "Root" nested_type { name: "Inner" } field { name: "composer" number: 1 type: TYPE_MESSAGE type_name: "Inner.Nope" }`,
			`Root.composer: "Inner.Nope" is resolved to "Root.Inner.Nope", which is not defined. The innermost scope is searched first in name resolution. Consider using a leading '.'(i.e., ".Inner.Nope") to start from the outermost scope.`},
		{"message type used as enum",
			`name: "Root" nested_type { name: "Inner" } field { name: "a" number: 1 type: TYPE_ENUM type_name: "Inner" }`,
			`Root.a: "Inner" is not an enum type.`},
		{"enum type used as message",
			`name: "Root" enum_type { name: "E" value { name: "X" number: 0 } } field { name: "a" number: 1 type: TYPE_MESSAGE type_name: "E" }`,
			`Root.a: "E" is not a message type.`},
		{"field is not a type", `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 } field { name: "b" number: 2 type: TYPE_MESSAGE type_name: ".Root.a" }`,
			`Root.b: ".Root.a" is not a type.`},
		{"duplicate field number", `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 } field { name: "b" number: 1 type: TYPE_INT64 }`,
			`Root.b: Field number 1 has already been used in "Root" by field "a".`},
		{"duplicate field name", `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 } field { name: "a" number: 2 type: TYPE_INT64 }`,
			`Root.a: "a" is already defined in "Root".`},
		{"field number zero", `name: "Root" field { name: "a" number: 0 type: TYPE_INT64 }`,
			`Root.a: Field numbers must be positive integers.`},
		{"reserved field number", `name: "Root" field { name: "a" number: 19000 type: TYPE_INT64 }`,
			`Root.a: Field numbers 19000 through 19999 are reserved for the protocol buffer library implementation.`},
		{"bad identifier", `name: "Root" field { name: "a-b" number: 1 type: TYPE_INT64 }`,
			`Root.a-b: "a-b" is not a valid identifier.`},
		{"missing root name", `field { name: "a" number: 1 type: TYPE_INT64 }`, `: Missing name.`},
		{"recursive type",
			`name: "Root" nested_type { name: "Node" field { name: "x" number: 1 type: TYPE_INT64 } field { name: "child" number: 2 type: TYPE_MESSAGE type_name: "Node" } }
			 field { name: "composer" number: 1 type: TYPE_MESSAGE type_name: "Node" }`,
			`Root.Node.child: Recursive type "Root.Node" is not supported.`},
		{"bad integer default", `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 default_value: "abc" }`,
			`Root.a: Couldn't parse default value "abc".`},
		{"out of range int32 default", `name: "Root" field { name: "a" number: 1 type: TYPE_INT32 default_value: "4294967296" }`,
			`Root.a: Couldn't parse default value "4294967296".`},
		{"unknown enum default", `name: "Root" enum_type { name: "E" value { name: "X" number: 0 } } field { name: "a" number: 1 type: TYPE_ENUM type_name: "E" default_value: "Y" }`,
			`Root.a: Enum type "Root.E" has no value named "Y".`},
		{"message default", `name: "Root" nested_type { name: "M" } field { name: "composer" number: 1 type: TYPE_MESSAGE type_name: "M" default_value: "x" }`,
			`Root.composer: Messages can't have default values.`},
		{"repeated default", `name: "Root" field { name: "a" number: 1 label: LABEL_REPEATED type: TYPE_INT64 default_value: "1" }`,
			`Root.a: Repeated fields can't have default values.`},
		{"empty enum", `name: "Root" enum_type { name: "E" }`, `Root.E: Enums must contain at least one value.`},
		{"enum values share their scope", `name: "Root" enum_type { name: "E" value { name: "X" number: 0 } } enum_type { name: "F" value { name: "X" number: 0 } }`,
			`Root.X: "X" is already defined in "Root".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := pbSchemaErr(t, pbDesc(t, tt.desc), table)
			if got, want := se.Kind, rowcodec.InvalidDescriptor; got != want {
				t.Errorf("kind = %v, want %v", got, want)
			}
			if got, want := se.Message, "Invalid proto schema: BqMessage.proto: "+tt.want; got != want {
				t.Errorf("message\n got %s\nwant %s", got, want)
			}
		})
	}
	t.Run("nil descriptor", func(t *testing.T) {
		if se := pbSchemaErr(t, nil, table); se.Kind != rowcodec.InvalidDescriptor {
			t.Errorf("kind = %v, want InvalidDescriptor", se.Kind)
		}
	})
}

func TestCompileProto_DefaultValueSyntax(t *testing.T) {
	desc := `name: "Root"
		enum_type { name: "E" value { name: "X" number: 0 } value { name: "Y" number: 7 } }
		field { name: "i" number: 1 type: TYPE_INT32 default_value: "-0x10" }
		field { name: "u" number: 2 type: TYPE_UINT64 default_value: "18446744073709551615" }
		field { name: "d" number: 3 type: TYPE_DOUBLE default_value: "-inf" }
		field { name: "b" number: 4 type: TYPE_BOOL default_value: "true" }
		field { name: "s" number: 5 type: TYPE_STRING default_value: "h\\x" }
		field { name: "y" number: 6 type: TYPE_BYTES default_value: "a\\001\\x02\\n" }
		field { name: "e" number: 7 type: TYPE_ENUM type_name: "E" default_value: "Y" }
		field { name: "z" number: 8 type: TYPE_SINT64 default_value: "-3" }
		field { name: "f" number: 9 type: TYPE_FLOAT default_value: "1.5" }`
	table := pbTable(pbCol("i", schema.Integer, ""), pbCol("u", schema.Numeric, ""), pbCol("d", schema.Float, ""),
		pbCol("b", schema.Boolean, ""), pbCol("s", schema.String, ""), pbCol("y", schema.Bytes, ""),
		pbCol("e", schema.String, ""), pbCol("z", schema.Integer, ""), pbCol("f", schema.Float, ""))
	d := pbCompile(t, desc, table)
	got := pbDecodeOne(t, d, nil, nil)
	u, err := rowcodec.ParseNumeric("18446744073709551615", false)
	if err != nil {
		t.Fatal(err)
	}
	negInf := -1 / zero()
	want := rowcodec.Row{int64(-16), u, negInf, true, `h\x`, []byte("a\x01\x02\n"), "Y", int64(-3), 1.5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func zero() float64 { return 0 }

func TestCompileProto_ColumnMapping(t *testing.T) {
	t.Run("case-insensitive and recursive", func(t *testing.T) {
		d := pbCompile(t, `name: "Root" nested_type { name: "S" field { name: "InNer" number: 1 type: TYPE_STRING } }
			field { name: "ABC" number: 1 type: TYPE_INT64 } field { name: "rec" number: 2 type: TYPE_MESSAGE type_name: "S" }`,
			pbTable(pbCol("Rec", schema.Record, "", pbCol("inner", schema.String, "")), pbCol("abc", schema.Integer, "")))
		got := pbDecodeOne(t, d, nil, pbRow(pbInt(1, 1), pbMsg(2, pbStr(1, "x"))))
		if want := (rowcodec.Row{rowcodec.Row{"x"}, int64(1)}); !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v, want %#v", got, want)
		}
	})
	t.Run("column_name annotation", func(t *testing.T) {
		// Registered extension (storagepb is linked into this test).
		desc := pbDesc(t, `name: "Root" field { name: "second" number: 1 type: TYPE_STRING } field { name: "third" number: 2 type: TYPE_STRING }
			field { name: "col_x" number: 3 type: TYPE_STRING }`)
		desc.Field[0].Options = &descriptorpb.FieldOptions{}
		proto.SetExtension(desc.Field[0].Options, storagepb.E_ColumnName, "特別コラム")
		desc.Field[1].Options = &descriptorpb.FieldOptions{}
		proto.SetExtension(desc.Field[1].Options, storagepb.E_ColumnName, "second")
		// Unknown field (a server without the extension registered).
		desc.Field[2].Options = &descriptorpb.FieldOptions{}
		raw := protowire.AppendTag(nil, 454943157, protowire.BytesType)
		raw = protowire.AppendString(raw, "a-b c")
		desc.Field[2].Options.ProtoReflect().SetUnknown(raw)
		d, err := rowcodec.CompileProto(desc, pbTable(pbCol("second", schema.String, ""), pbCol("特別コラム", schema.String, ""), pbCol("A-B C", schema.String, "")))
		if err != nil {
			t.Fatal(err)
		}
		got := pbDecodeOne(t, d, nil, pbRow(pbStr(1, "one"), pbStr(2, "two"), pbStr(3, "three")))
		if want := (rowcodec.Row{"two", "one", "three"}); !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v, want %#v", got, want)
		}
		// Through the wire form too: a descriptor unmarshaled from bytes.
		b, err := proto.Marshal(desc)
		if err != nil {
			t.Fatal(err)
		}
		desc2 := &descriptorpb.DescriptorProto{}
		if err := proto.Unmarshal(b, desc2); err != nil {
			t.Fatal(err)
		}
		if _, err := rowcodec.CompileProto(desc2, d.Table()); err != nil {
			t.Errorf("CompileProto(unmarshaled) = %v", err)
		}
	})
	t.Run("extra fields", func(t *testing.T) {
		desc := pbDesc(t, `name: "Root" nested_type { name: "S" field { name: "x" number: 1 type: TYPE_STRING } field { name: "Extra2" number: 2 type: TYPE_STRING } }
			field { name: "a" number: 1 type: TYPE_INT64 } field { name: "Foo" number: 2 type: TYPE_INT64 }
			field { name: "rec" number: 3 type: TYPE_MESSAGE type_name: "S" } field { name: "_CHANGE_TYPE" number: 4 type: TYPE_STRING }`)
		se := pbSchemaErr(t, desc, pbTable(pbCol("a", schema.Integer, ""), pbCol("rec", schema.Record, "", pbCol("x", schema.String, ""))))
		if got, want := se.Kind, rowcodec.ExtraFields; got != want {
			t.Errorf("kind = %v, want %v", got, want)
		}
		if got, want := se.Message, "Input schema has more fields than BigQuery schema, extra fields: 'foo,rec.extra2,_change_type'"; got != want {
			t.Errorf("message\n got %s\nwant %s", got, want)
		}
		if got, want := se.Fields, []string{"foo", "rec.extra2", "_change_type"}; !reflect.DeepEqual(got, want) {
			t.Errorf("fields = %q, want %q", got, want)
		}
	})
	incompatible := []struct {
		name, desc string
		table      *schema.Table
		want       string
	}{
		{"duplicate mapping", `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 } field { name: "A" number: 2 type: TYPE_INT64 }`,
			pbTable(pbCol("a", schema.Integer, "")), "Proto fields Root.a and Root.A both map to column a."},
		{"repeated into nullable", `name: "Root" field { name: "a" number: 1 label: LABEL_REPEATED type: TYPE_INT64 }`,
			pbTable(pbCol("a", schema.Integer, "")), "Proto field Root.a is repeated but column a has mode NULLABLE."},
		{"repeated into required", `name: "Root" field { name: "a" number: 1 label: LABEL_REPEATED type: TYPE_INT64 }`,
			pbTable(pbCol("a", schema.Integer, schema.Required)), "Proto field Root.a is repeated but column a has mode REQUIRED."},
		{"optional into repeated", `name: "Root" field { name: "a" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }`,
			pbTable(pbCol("a", schema.Integer, schema.Repeated)), "Proto field Root.a is not repeated but column a is REPEATED."},
		{"string into integer", `name: "Root" field { name: "a" number: 1 type: TYPE_STRING }`,
			pbTable(pbCol("a", schema.Integer, "")), "Proto field Root.a of type string cannot be written to column a of type INTEGER."},
		{"uint64 into integer", `name: "Root" field { name: "a" number: 1 type: TYPE_UINT64 }`,
			pbTable(pbCol("a", schema.Integer, "")), "Proto field Root.a of type uint64 cannot be written to column a of type INTEGER."},
		{"message into scalar", `name: "Root" nested_type { name: "M" field { name: "p" number: 1 type: TYPE_INT64 } field { name: "q" number: 2 type: TYPE_INT64 } }
			field { name: "a" number: 1 type: TYPE_MESSAGE type_name: "M" }`,
			pbTable(pbCol("a", schema.Integer, "")), "Proto field Root.a of type message M cannot be written to column a of type INTEGER."},
		{"scalar into record", `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 }`,
			pbTable(pbCol("a", schema.Record, "", pbCol("x", schema.Integer, ""))), "Proto field Root.a of type int64 cannot be written to column a of type RECORD."},
		{"wrapper of the wrong type", `name: "Root" field { name: "a" number: 1 type: TYPE_MESSAGE type_name: ".google.protobuf.StringValue" }`,
			pbTable(pbCol("a", schema.Integer, "")), "Proto field Root.a of type message .google.protobuf.StringValue (wrapping string) cannot be written to column a of type INTEGER."},
		{"nested type mismatch", `name: "Root" nested_type { name: "S" field { name: "x" number: 1 type: TYPE_DOUBLE } } field { name: "r" number: 1 type: TYPE_MESSAGE type_name: "S" }`,
			pbTable(pbCol("r", schema.Record, "", pbCol("x", schema.Date, ""))), "Proto field Root.S.x of type double cannot be written to column r.x of type DATE."},
	}
	for _, tt := range incompatible {
		t.Run(tt.name, func(t *testing.T) {
			se := pbSchemaErr(t, pbDesc(t, tt.desc), tt.table)
			if got, want := se.Kind, rowcodec.Incompatible; got != want {
				t.Errorf("kind = %v, want %v", got, want)
			}
			if got := se.Message; got != tt.want {
				t.Errorf("message\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCompileProto_WrapperIntoRecordColumn(t *testing.T) {
	// The Go tests' RECORD columns with a value sub-field: a wrapper feeding
	// a RECORD column is a record, not unwrapped.
	d := pbCompile(t, `name: "Root" field { name: "w" number: 1 type: TYPE_MESSAGE type_name: ".google.protobuf.Int64Value" }`,
		pbTable(pbCol("w", schema.Record, "", pbCol("value", schema.Integer, ""))))
	got := pbDecodeOne(t, d, nil, pbMsg(1, pbInt(1, 4)))
	if want := (rowcodec.Row{rowcodec.Row{int64(4)}}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	se := pbSchemaErr(t, pbDesc(t, `name: "Root" nested_type { name: "R" field { name: "start" number: 1 type: TYPE_INT32 } field { name: "stop" number: 2 type: TYPE_INT32 } }
		field { name: "r" number: 1 type: TYPE_MESSAGE type_name: "R" }`),
		pbTable(&schema.Field{Name: "r", Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: schema.Date}}))
	if got, want := se.Message, "Input schema has more fields than BigQuery schema, extra fields: 'r.stop'"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}
