package rowcodec_test

import (
	"math/big"
	"reflect"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// These tests produce writer schemas and rows the way the Go client does:
// descriptors from adapt (table schema → proto, then NormalizeDescriptor)
// and rows from proto.Marshal of dynamic messages.

// pbFindField finds a field by proto name or column_name annotation.
func pbFindField(tb testing.TB, md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	tb.Helper()
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if string(fd.Name()) == name {
			return fd
		}
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts != nil {
			if ann, _ := proto.GetExtension(opts, storagepb.E_ColumnName).(string); ann == name {
				return fd
			}
		}
	}
	tb.Fatalf("message %s has no field %q", md.FullName(), name)
	return nil
}

// pbFill sets m's fields from vals: records are map[string]any, arrays
// []any, and a scalar given for a message field fills its `value` (the
// wrapper types proto3 schemas use for NULLABLE columns).
func pbFill(tb testing.TB, m protoreflect.Message, vals map[string]any) {
	tb.Helper()
	for name, v := range vals {
		fd := pbFindField(tb, m.Descriptor(), name)
		if fd.IsMap() {
			mp := m.Mutable(fd).Map()
			for k, e := range v.(map[string]any) {
				mp.Set(protoreflect.ValueOfString(k).MapKey(), pbScalar(fd.MapValue(), e))
			}
			continue
		}
		if fd.IsList() {
			list := m.Mutable(fd).List()
			for _, e := range v.([]any) {
				if fd.Message() != nil {
					ev := list.NewElement()
					pbFillMessage(tb, ev.Message(), e)
					list.Append(ev)
				} else {
					list.Append(pbScalar(fd, e))
				}
			}
			continue
		}
		if fd.Message() != nil {
			fv := m.NewField(fd)
			pbFillMessage(tb, fv.Message(), v)
			m.Set(fd, fv)
			continue
		}
		m.Set(fd, pbScalar(fd, v))
	}
}

func pbFillMessage(tb testing.TB, m protoreflect.Message, v any) {
	if rec, ok := v.(map[string]any); ok {
		pbFill(tb, m, rec)
		return
	}
	pbFill(tb, m, map[string]any{"value": v})
}

func pbScalar(fd protoreflect.FieldDescriptor, v any) protoreflect.Value {
	if fd.Enum() != nil {
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(v.(int32)))
	}
	return protoreflect.ValueOf(v)
}

// pbMarshal builds and serializes one dynamic message.
func pbMarshal(tb testing.TB, md protoreflect.MessageDescriptor, vals map[string]any) []byte {
	tb.Helper()
	m := dynamicpb.NewMessage(md)
	pbFill(tb, m, vals)
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	return b
}

var pbAdaptStorageSchema = pbNullable(&storagepb.TableSchema{Fields: []*storagepb.TableFieldSchema{
	{Name: "b", Type: storagepb.TableFieldSchema_BOOL},
	{Name: "by", Type: storagepb.TableFieldSchema_BYTES},
	{Name: "d", Type: storagepb.TableFieldSchema_DATE},
	{Name: "dt", Type: storagepb.TableFieldSchema_DATETIME},
	{Name: "f", Type: storagepb.TableFieldSchema_DOUBLE},
	{Name: "g", Type: storagepb.TableFieldSchema_GEOGRAPHY},
	{Name: "i", Type: storagepb.TableFieldSchema_INT64, Mode: storagepb.TableFieldSchema_REQUIRED},
	{Name: "n", Type: storagepb.TableFieldSchema_NUMERIC},
	{Name: "bn", Type: storagepb.TableFieldSchema_BIGNUMERIC},
	{Name: "s", Type: storagepb.TableFieldSchema_STRING},
	{Name: "tm", Type: storagepb.TableFieldSchema_TIME},
	{Name: "ts", Type: storagepb.TableFieldSchema_TIMESTAMP},
	{Name: "j", Type: storagepb.TableFieldSchema_JSON},
	{Name: "rng", Type: storagepb.TableFieldSchema_RANGE, RangeElementType: &storagepb.TableFieldSchema_FieldElementType{Type: storagepb.TableFieldSchema_DATE}},
	{Name: "rec", Type: storagepb.TableFieldSchema_STRUCT, Fields: []*storagepb.TableFieldSchema{
		{Name: "x", Type: storagepb.TableFieldSchema_INT64},
		{Name: "inner", Type: storagepb.TableFieldSchema_STRUCT, Fields: []*storagepb.TableFieldSchema{{Name: "y", Type: storagepb.TableFieldSchema_STRING}}},
	}},
	{Name: "arr", Type: storagepb.TableFieldSchema_INT64, Mode: storagepb.TableFieldSchema_REPEATED},
	{Name: "recs", Type: storagepb.TableFieldSchema_STRUCT, Mode: storagepb.TableFieldSchema_REPEATED, Fields: []*storagepb.TableFieldSchema{
		{Name: "x", Type: storagepb.TableFieldSchema_INT64},
	}},
	{Name: "特別 列", Type: storagepb.TableFieldSchema_STRING},
}})

// pbNullable sets every unset mode to NULLABLE, recursively.
func pbNullable(ts *storagepb.TableSchema) *storagepb.TableSchema {
	var walk func([]*storagepb.TableFieldSchema)
	walk = func(fs []*storagepb.TableFieldSchema) {
		for _, f := range fs {
			if f.Mode == storagepb.TableFieldSchema_MODE_UNSPECIFIED {
				f.Mode = storagepb.TableFieldSchema_NULLABLE
			}
			walk(f.Fields)
		}
	}
	walk(ts.Fields)
	return ts
}

func pbAdaptTable() *schema.Table {
	return pbTable(
		pbCol("b", schema.Boolean, ""), pbCol("by", schema.Bytes, ""), pbCol("d", schema.Date, ""), pbCol("dt", schema.DateTime, ""),
		pbCol("f", schema.Float, ""), pbCol("g", schema.Geography, ""), pbCol("i", schema.Integer, schema.Required),
		pbCol("n", schema.Numeric, ""), pbCol("bn", schema.BigNumeric, ""), pbCol("s", schema.String, ""), pbCol("tm", schema.Time, ""),
		pbCol("ts", schema.Timestamp, ""), pbCol("j", schema.JSON, ""),
		&schema.Field{Name: "rng", Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: schema.Date}},
		pbCol("rec", schema.Record, "", pbCol("x", schema.Integer, ""), pbCol("inner", schema.Record, "", pbCol("y", schema.String, ""))),
		pbCol("arr", schema.Integer, schema.Repeated),
		pbCol("recs", schema.Record, schema.Repeated, pbCol("x", schema.Integer, "")),
		pbCol("特別 列", schema.String, ""),
	)
}

// pbAdaptDecoder converts the storage schema with adapt, normalizes it and
// compiles it; it returns the (unnormalized) message descriptor to build
// rows with.
func pbAdaptDecoder(t *testing.T, proto3 bool, opts ...adapt.ProtoConversionOption) (*rowcodec.ProtoDecoder, protoreflect.MessageDescriptor) {
	t.Helper()
	var desc protoreflect.Descriptor
	var err error
	if proto3 {
		desc, err = adapt.StorageSchemaToProto3Descriptor(pbAdaptStorageSchema, "root")
	} else {
		desc, err = adapt.StorageSchemaToProtoDescriptorWithOptions(pbAdaptStorageSchema, "root", opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	md := desc.(protoreflect.MessageDescriptor)
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		t.Fatal(err)
	}
	d, err := rowcodec.CompileProto(dp, pbAdaptTable())
	if err != nil {
		t.Fatalf("CompileProto(normalized %s): %v", md.FullName(), err)
	}
	return d, md
}

func TestProtoDecode_GoAdapt(t *testing.T) {
	dt, _ := rowcodec.ParseDateTime("2024-02-29 13:14:15.123456")
	tm, _ := rowcodec.ParseTime("23:00:01.5")
	num := mustDec(t, "12.5", false)
	bn := mustDec(t, "-0.00000000000000000000000000000000000001", true)
	full := map[string]any{
		"b": true, "by": []byte{1, 2}, "d": int32(19000), "dt": rowcodec.EncodePackedDateTime(dt), "f": 1.5,
		"g": "POINT(1 2)", "i": int64(-7), "n": pbScaledLE(big.NewInt(12500000000)), "bn": pbScaledLE(big.NewInt(-1)),
		"s": "hello", "tm": rowcodec.EncodePackedTime(tm), "ts": int64(-1), "j": `{"k": 1}`,
		"rng":  map[string]any{"start": int32(1), "end": int32(5)},
		"rec":  map[string]any{"x": int64(3), "inner": map[string]any{"y": "in"}},
		"arr":  []any{int64(1), int64(2), int64(3)},
		"recs": []any{map[string]any{"x": int64(1)}, map[string]any{}},
		"特別 列": "annotated",
	}
	fullRow := rowcodec.Row{true, []byte{1, 2}, rowcodec.Date(19000), dt, 1.5, "POINT(1 2)", int64(-7), num, bn, "hello", tm,
		rowcodec.Timestamp(-1), `{"k":1}`, rowcodec.RangeValue{Start: rowcodec.Date(1), End: rowcodec.Date(5)},
		rowcodec.Row{int64(3), rowcodec.Row{"in"}}, []rowcodec.Value{int64(1), int64(2), int64(3)},
		[]rowcodec.Value{rowcodec.Row{int64(1)}, rowcodec.Row{nil}}, "annotated"}
	empty := []rowcodec.Value{}

	t.Run("proto2", func(t *testing.T) {
		d, md := pbAdaptDecoder(t, false)
		if got := pbDecodeOne(t, d, nil, pbMarshal(t, md, full)); !reflect.DeepEqual(got, fullRow) {
			t.Errorf("got  %#v\nwant %#v", got, fullRow)
		}
		// Unset proto2 fields are NULL; zero values that were set are not.
		got := pbDecodeOne(t, d, nil, pbMarshal(t, md, map[string]any{"i": int64(0), "s": "", "rec": map[string]any{}}))
		want := rowcodec.Row{nil, nil, nil, nil, nil, nil, int64(0), nil, nil, "", nil, nil, nil, nil, rowcodec.Row{nil, nil}, empty, empty, nil}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %#v\nwant %#v", got, want)
		}
	})
	t.Run("proto3 with wrappers", func(t *testing.T) {
		d, md := pbAdaptDecoder(t, true)
		if got := pbDecodeOne(t, d, nil, pbMarshal(t, md, full)); !reflect.DeepEqual(got, fullRow) {
			t.Errorf("got  %#v\nwant %#v", got, fullRow)
		}
		// Absent wrappers are NULL; a wrapper holding zero is zero; the
		// REQUIRED column is a plain proto3 field whose zero value the
		// normaliser's default_value keeps.
		got := pbDecodeOne(t, d, nil, pbMarshal(t, md, map[string]any{"s": "", "f": 0.0, "b": false}))
		want := rowcodec.Row{false, nil, nil, nil, 0.0, nil, int64(0), nil, nil, "", nil, nil, nil, nil, nil, empty, empty, nil}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %#v\nwant %#v", got, want)
		}
	})
	t.Run("timestamp as google.protobuf.Timestamp", func(t *testing.T) {
		d, md := pbAdaptDecoder(t, false, adapt.WithProtoMapping(adapt.ProtoMapping{
			FieldType: storagepb.TableFieldSchema_TIMESTAMP, TypeName: "google.protobuf.Timestamp", Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE,
		}))
		got := pbDecodeOne(t, d, nil, pbMarshal(t, md, map[string]any{"i": int64(1), "ts": map[string]any{"seconds": int64(-2), "nanos": int32(500000000)}}))
		if want := rowcodec.Timestamp(-1500000); got[11] != want {
			t.Errorf("ts = %#v, want %#v", got[11], want)
		}
	})
}

// pbProto3File is a hand-written proto3 file like a user's own .proto:
// enums, nested and imported messages, a map, well-known types, oneof and
// proto3 optional.
const pbProto3File = `name: "user/event.proto" package: "user.v1" syntax: "proto3"
	dependency: "google/protobuf/timestamp.proto" dependency: "google/protobuf/wrappers.proto"
	message_type { name: "Event"
		field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 json_name: "id" }
		field { name: "kind" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".user.v1.Kind" }
		field { name: "kind_name" number: 3 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".user.v1.Kind" }
		field { name: "at" number: 4 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" }
		field { name: "note" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.StringValue" }
		field { name: "attrs" number: 6 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".user.v1.Event.AttrsEntry" }
		field { name: "who" number: 7 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".user.v1.Person" }
		field { name: "maybe" number: 8 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 proto3_optional: true }
		field { name: "tags" number: 9 label: LABEL_REPEATED type: TYPE_STRING }
		field { name: "score" number: 10 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
		nested_type { name: "AttrsEntry" options { map_entry: true }
			field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
			field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 } }
		oneof_decl { name: "_maybe" } }
	message_type { name: "Person" field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
		field { name: "kind" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".user.v1.Kind" } }
	enum_type { name: "Kind" value { name: "KIND_UNSPECIFIED" number: 0 } value { name: "CLICK" number: 1 } }`

func TestProtoDecode_NormalizedProto3Message(t *testing.T) {
	fdp := &descriptorpb.FileDescriptorProto{}
	if err := prototext.Unmarshal([]byte(pbProto3File), fdp); err != nil {
		t.Fatal(err)
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().ByName("Event")
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		t.Fatal(err)
	}
	table := pbTable(
		pbCol("id", schema.Integer, schema.Required), pbCol("kind", schema.Integer, ""), pbCol("kind_name", schema.String, ""),
		pbCol("at", schema.Timestamp, ""), pbCol("note", schema.String, ""),
		pbCol("attrs", schema.Record, schema.Repeated, pbCol("key", schema.String, ""), pbCol("value", schema.Integer, "")),
		pbCol("who", schema.Record, "", pbCol("name", schema.String, ""), pbCol("kind", schema.String, "")),
		pbCol("maybe", schema.String, ""), pbCol("tags", schema.String, schema.Repeated), pbCol("score", schema.Float, ""),
	)
	d, err := rowcodec.CompileProto(dp, table)
	if err != nil {
		t.Fatalf("CompileProto: %v", err)
	}
	row := pbMarshal(t, md, map[string]any{
		"id": int64(5), "kind": int32(1), "kind_name": int32(1),
		"at":    map[string]any{"seconds": int64(1), "nanos": int32(1000)},
		"note":  "n",
		"attrs": map[string]any{"a": int64(1)},
		"who":   map[string]any{"name": "ann"},
		"tags":  []any{"x", "y"},
	})
	got := pbDecodeOne(t, d, nil, row)
	want := rowcodec.Row{int64(5), int64(1), "CLICK", rowcodec.Timestamp(1000001), "n",
		[]rowcodec.Value{rowcodec.Row{"a", int64(1)}}, rowcodec.Row{"ann", "KIND_UNSPECIFIED"}, nil,
		[]rowcodec.Value{"x", "y"}, 0.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	// proto3 zero values arrive as their zeros (the normaliser's defaults),
	// proto3 optional and message fields as NULL.
	got = pbDecodeOne(t, d, nil, pbMarshal(t, md, map[string]any{}))
	want = rowcodec.Row{int64(0), int64(0), "KIND_UNSPECIFIED", nil, nil, []rowcodec.Value{}, nil, nil, []rowcodec.Value{}, 0.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}
