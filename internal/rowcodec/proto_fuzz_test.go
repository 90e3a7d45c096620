package rowcodec_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// pbAllDesc feeds every column type from the proto types a client may use.
// Field names equal column names so the re-encoder can map them back.
const pbAllDesc = `name: "Root"
	enum_type { name: "E" value { name: "ZERO" number: 0 } value { name: "ONE" number: 1 } value { name: "ALIAS" number: 1 } value { name: "NEG" number: -2 } options { allow_alias: true } }
	nested_type { name: "W" field { name: "value" number: 1 type: TYPE_STRING } }
	nested_type { name: "R" field { name: "start" number: 1 type: TYPE_INT32 } field { name: "end" number: 2 type: TYPE_INT32 } }
	nested_type { name: "Sub" field { name: "x" number: 1 type: TYPE_INT64 } field { name: "y" number: 2 type: TYPE_STRING }
		field { name: "z" number: 3 label: LABEL_REPEATED type: TYPE_INT32 } }
	nested_type { name: "Grp" field { name: "a" number: 1 type: TYPE_INT64 } }
	field { name: "b" number: 1 type: TYPE_BOOL } field { name: "bi" number: 2 type: TYPE_INT64 }
	field { name: "by" number: 3 type: TYPE_BYTES } field { name: "bs" number: 4 type: TYPE_STRING }
	field { name: "s" number: 5 type: TYPE_STRING } field { name: "se" number: 6 type: TYPE_ENUM type_name: "E" }
	field { name: "i" number: 7 type: TYPE_INT64 } field { name: "i32" number: 8 type: TYPE_INT32 }
	field { name: "u32" number: 9 type: TYPE_UINT32 } field { name: "si" number: 10 type: TYPE_SINT64 }
	field { name: "sf" number: 11 type: TYPE_SFIXED32 } field { name: "ie" number: 12 type: TYPE_ENUM type_name: "E" }
	field { name: "f" number: 13 type: TYPE_DOUBLE } field { name: "ff" number: 14 type: TYPE_FLOAT }
	field { name: "n" number: 15 type: TYPE_BYTES } field { name: "ns" number: 16 type: TYPE_STRING }
	field { name: "bn" number: 17 type: TYPE_INT64 } field { name: "bnb" number: 18 type: TYPE_BYTES }
	field { name: "d" number: 19 type: TYPE_INT32 } field { name: "ds" number: 20 type: TYPE_STRING }
	field { name: "dt" number: 21 type: TYPE_INT64 } field { name: "dts" number: 22 type: TYPE_STRING }
	field { name: "t" number: 23 type: TYPE_INT64 } field { name: "tstr" number: 24 type: TYPE_STRING }
	field { name: "tsi" number: 25 type: TYPE_INT64 } field { name: "tss" number: 26 type: TYPE_STRING }
	field { name: "tsm" number: 27 type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" }
	field { name: "g" number: 28 type: TYPE_STRING } field { name: "j" number: 29 type: TYPE_STRING }
	field { name: "iv" number: 30 type: TYPE_STRING } field { name: "ivd" number: 31 type: TYPE_MESSAGE type_name: ".google.protobuf.Duration" }
	field { name: "w" number: 32 type: TYPE_MESSAGE type_name: ".google.protobuf.Int64Value" }
	field { name: "ws" number: 33 type: TYPE_MESSAGE type_name: "W" }
	field { name: "rng" number: 34 type: TYPE_MESSAGE type_name: "R" }
	field { name: "rec" number: 35 type: TYPE_MESSAGE type_name: "Sub" }
	field { name: "arr" number: 36 label: LABEL_REPEATED type: TYPE_INT64 }
	field { name: "arrs" number: 37 label: LABEL_REPEATED type: TYPE_STRING }
	field { name: "recs" number: 38 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "Sub" }
	field { name: "grp" number: 39 type: TYPE_GROUP type_name: "Grp" }
	field { name: "dflt" number: 40 type: TYPE_INT64 default_value: "42" }
	field { name: "req" number: 41 label: LABEL_REQUIRED type: TYPE_INT64 }
	field { name: "arrw" number: 42 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".google.protobuf.DoubleValue" }
	field { name: "u64" number: 43 type: TYPE_UINT64 }
	field { name: "big" number: 1000 type: TYPE_STRING }`

func pbAllTable() *schema.Table {
	sub := func() []*schema.Field {
		return []*schema.Field{pbCol("x", schema.Integer, ""), pbCol("y", schema.String, ""), pbCol("z", schema.Date, schema.Repeated)}
	}
	return pbTable(
		pbCol("b", schema.Boolean, ""), pbCol("bi", schema.Boolean, ""),
		&schema.Field{Name: "by", Type: schema.Bytes, MaxLength: 8}, pbCol("bs", schema.Bytes, ""),
		&schema.Field{Name: "s", Type: schema.String, MaxLength: 10}, pbCol("se", schema.String, ""),
		pbCol("i", schema.Integer, ""), pbCol("i32", schema.Integer, ""), pbCol("u32", schema.Integer, ""), pbCol("si", schema.Integer, ""),
		pbCol("sf", schema.Integer, ""), pbCol("ie", schema.Integer, ""),
		pbCol("f", schema.Float, ""), pbCol("ff", schema.Float, ""),
		pbCol("n", schema.Numeric, ""), &schema.Field{Name: "ns", Type: schema.Numeric, Precision: 10, Scale: 2},
		pbCol("bn", schema.BigNumeric, ""), pbCol("bnb", schema.BigNumeric, ""),
		pbCol("d", schema.Date, ""), pbCol("ds", schema.Date, ""), pbCol("dt", schema.DateTime, ""), pbCol("dts", schema.DateTime, ""),
		pbCol("t", schema.Time, ""), pbCol("tstr", schema.Time, ""),
		pbCol("tsi", schema.Timestamp, ""), pbCol("tss", schema.Timestamp, ""), pbCol("tsm", schema.Timestamp, ""),
		pbCol("g", schema.Geography, ""), pbCol("j", schema.JSON, ""), pbCol("iv", schema.Interval, ""), pbCol("ivd", schema.Interval, ""),
		pbCol("w", schema.Integer, ""), pbCol("ws", schema.String, ""),
		&schema.Field{Name: "rng", Type: schema.Range, RangeElementType: &schema.RangeElementType{Type: schema.Date}},
		pbCol("rec", schema.Record, "", sub()...), pbCol("arr", schema.Integer, schema.Repeated), pbCol("arrs", schema.String, schema.Repeated),
		pbCol("recs", schema.Record, schema.Repeated, sub()...), pbCol("grp", schema.Record, "", pbCol("a", schema.Integer, "")),
		pbCol("dflt", schema.Integer, ""), pbCol("req", schema.Integer, schema.Required), pbCol("arrw", schema.Float, schema.Repeated),
		pbCol("u64", schema.Numeric, ""), pbCol("big", schema.String, ""),
		// Columns the writer schema leaves out.
		pbCol("absent", schema.String, ""), pbCol("absr", schema.Integer, schema.Repeated),
	)
}

// pbMessageDescriptor builds a protoreflect descriptor for a writer schema
// (tests only: the decoder never uses one), or nil if protodesc rejects it.
func pbMessageDescriptor(desc *descriptorpb.DescriptorProto) protoreflect.MessageDescriptor {
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("BqMessage.proto"), Syntax: proto.String("proto2"),
		Dependency:  []string{"google/protobuf/timestamp.proto", "google/protobuf/duration.proto", "google/protobuf/wrappers.proto"},
		MessageType: []*descriptorpb.DescriptorProto{desc},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		return nil
	}
	return fd.Messages().Get(0)
}

// errNoRoundTrip marks values the re-encoder cannot express exactly.
var errNoRoundTrip = errors.New("value cannot be re-encoded exactly")

// pbEncode writes a decoded Row back into a dynamic message of md, using
// the column mapping rules (name or column_name annotation, any case).
func pbEncode(md protoreflect.MessageDescriptor, cols []*schema.Field, row rowcodec.Row) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := string(fd.Name())
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts != nil {
			if ann := pbAnnotation(opts); ann != "" {
				name = ann
			}
		}
		idx := -1
		for j, c := range cols {
			if strings.EqualFold(c.Name, name) {
				idx = j
			}
		}
		if idx < 0 || row[idx] == nil {
			continue
		}
		col, v := cols[idx], row[idx]
		if fd.IsMap() {
			return nil, errNoRoundTrip
		}
		if fd.IsList() {
			list := m.Mutable(fd).List()
			for _, e := range v.([]rowcodec.Value) {
				if fd.Message() != nil {
					ev := list.NewElement()
					if err := pbEncodeMessage(ev.Message(), fd, col, e); err != nil {
						return nil, err
					}
					list.Append(ev)
					continue
				}
				pv, err := pbEncodeScalar(fd, col.Type, e)
				if err != nil {
					return nil, err
				}
				list.Append(pv)
			}
			continue
		}
		if fd.Message() != nil {
			fv := m.NewField(fd)
			if err := pbEncodeMessage(fv.Message(), fd, col, v); err != nil {
				return nil, err
			}
			m.Set(fd, fv)
			continue
		}
		pv, err := pbEncodeScalar(fd, col.Type, v)
		if err != nil {
			return nil, err
		}
		m.Set(fd, pv)
	}
	return m, nil
}

func pbAnnotation(opts *descriptorpb.FieldOptions) string {
	b, _ := proto.Marshal(opts)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == 454943157 && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			return string(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		b = b[m:]
	}
	return ""
}

func pbEncodeMessage(sub protoreflect.Message, fd protoreflect.FieldDescriptor, col *schema.Field, v rowcodec.Value) error {
	md := sub.Descriptor()
	switch col.Type {
	case schema.Record:
		enc, err := pbEncode(md, col.Fields, v.(rowcodec.Row))
		if err != nil {
			return err
		}
		pbCopy(sub, enc)
		return nil
	case schema.Range:
		rv := v.(rowcodec.RangeValue)
		bounds := []*schema.Field{{Name: "start", Type: col.RangeElementType.Type}, {Name: "end", Type: col.RangeElementType.Type}}
		enc, err := pbEncode(md, bounds, rowcodec.Row{rv.Start, rv.End})
		if err != nil {
			return err
		}
		pbCopy(sub, enc)
		return nil
	}
	if secs := md.Fields().ByName("seconds"); secs != nil && md.Fields().Len() == 2 {
		var us int64
		switch x := v.(type) {
		case rowcodec.Timestamp:
			us = int64(x)
		case rowcodec.Interval:
			if x.Months != 0 || x.Days != 0 {
				return errNoRoundTrip
			}
			us = x.Micros
		}
		s, ns := us/1000000, us%1000000*1000
		if _, isTS := v.(rowcodec.Timestamp); isTS && ns < 0 {
			s, ns = s-1, ns+1000000000
		}
		sub.Set(secs, protoreflect.ValueOfInt64(s))
		sub.Set(md.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(ns)))
		return nil
	}
	// A wrapper: its only field is the value.
	inner := md.Fields().Get(0)
	pv, err := pbEncodeScalar(inner, col.Type, v)
	if err != nil {
		return err
	}
	sub.Set(inner, pv)
	return nil
}

func pbCopy(dst protoreflect.Message, src protoreflect.Message) {
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
}

// pbEncodeScalar encodes one column value as a value of fd's kind.
func pbEncodeScalar(fd protoreflect.FieldDescriptor, t schema.Type, v rowcodec.Value) (protoreflect.Value, error) {
	var i int64
	var s string
	isInt := true
	switch x := v.(type) {
	case int64:
		i = x
	case bool:
		if x {
			i = 1
		}
		if fd.Kind() == protoreflect.BoolKind {
			return protoreflect.ValueOfBool(x), nil
		}
	case float64:
		if fd.Kind() == protoreflect.FloatKind {
			return protoreflect.ValueOfFloat32(float32(x)), nil
		}
		if fd.Kind() == protoreflect.DoubleKind {
			return protoreflect.ValueOfFloat64(x), nil
		}
		return protoreflect.Value{}, errNoRoundTrip
	case string:
		isInt, s = false, x
		if fd.Kind() == protoreflect.EnumKind {
			ev := fd.Enum().Values().ByName(protoreflect.Name(x))
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
	case []byte:
		if fd.Kind() == protoreflect.BytesKind {
			return protoreflect.ValueOfBytes(x), nil
		}
		isInt, s = false, string(x)
	case rowcodec.Decimal:
		switch fd.Kind() {
		case protoreflect.BytesKind:
			return protoreflect.ValueOfBytes(x.ScaledBytes()), nil
		case protoreflect.StringKind:
			isInt, s = false, x.String()
		case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			u, err := strconv.ParseUint(x.String(), 10, 64)
			if err != nil {
				return protoreflect.Value{}, errNoRoundTrip
			}
			return protoreflect.ValueOfUint64(u), nil
		default:
			n, err := strconv.ParseInt(x.String(), 10, 64)
			if err != nil {
				return protoreflect.Value{}, errNoRoundTrip
			}
			i = n
		}
	case rowcodec.Date:
		i, s = int64(x), rowcodec.FormatDate(x)
	case rowcodec.DateTime:
		i, s = rowcodec.EncodePackedDateTime(x), rowcodec.FormatDateTime(x)
	case rowcodec.TimeOfDay:
		i, s = rowcodec.EncodePackedTime(x), rowcodec.FormatTime(x)
	case rowcodec.Timestamp:
		i, s = int64(x), rowcodec.FormatTimestamp(x)
	case rowcodec.Interval:
		isInt, s = false, x.String()
	default:
		return protoreflect.Value{}, errNoRoundTrip
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		if isInt && s == "" {
			return protoreflect.Value{}, errNoRoundTrip
		}
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(s)), nil
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(i != 0), nil
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(i)), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(i)), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(i)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(i), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(i)), nil
	}
	return protoreflect.Value{}, errNoRoundTrip
}

// pbSame compares decoded values, treating NaN as equal to itself.
func pbSame(a, b rowcodec.Value) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case rowcodec.Row:
		y, ok := b.(rowcodec.Row)
		return ok && pbSameList(x, y)
	case []rowcodec.Value:
		y, ok := b.([]rowcodec.Value)
		return ok && pbSameList(x, y)
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case rowcodec.RangeValue:
		y, ok := b.(rowcodec.RangeValue)
		return ok && pbSame(x.Start, y.Start) && pbSame(x.End, y.End)
	}
	return a == b
}

func pbSameList(a, b []rowcodec.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !pbSame(a[i], b[i]) {
			return false
		}
	}
	return true
}

// pbCheckRows runs the properties every fuzz input must satisfy: no
// panic, Validate and Decode agree, and a valid row survives re-encoding.
func pbCheckRows(t *testing.T, d *rowcodec.ProtoDecoder, md protoreflect.MessageDescriptor, rows [][]byte) {
	vErrs := d.Validate(rows, nil)
	var decoded []rowcodec.Row
	dErr := d.Decode(rows, nil, func(i int, r rowcodec.Row) error {
		decoded = append(decoded, r)
		return nil
	})
	if vErrs == nil {
		if dErr != nil {
			t.Fatalf("Validate accepted but Decode failed: %v", dErr)
		}
	} else {
		var got rowcodec.RowErrors
		if !errors.As(dErr, &got) || len(got) != len(vErrs) {
			t.Fatalf("Decode error %v, Validate errors %v", dErr, vErrs)
		}
		for i := range got {
			if got[i] != vErrs[i] {
				t.Fatalf("Decode error %+v, Validate error %+v", got[i], vErrs[i])
			}
		}
		return
	}
	if md == nil {
		return
	}
	cols := d.Table().Fields
	for i, r := range decoded {
		if len(r) != len(cols) {
			t.Fatalf("row %d has %d values for %d columns", i, len(r), len(cols))
		}
		m, err := pbEncode(md, cols, r)
		if errors.Is(err, errNoRoundTrip) {
			continue
		}
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := pbDecode(d, nil, b)
		if err != nil {
			t.Fatalf("re-encoded row %d does not decode: %v\nrow %#v", i, err, r)
		}
		if !pbSameList(again[0], r) {
			t.Fatalf("round trip changed row %d\n got %#v\nwant %#v", i, again[0], r)
		}
	}
}

func FuzzProtoDecode(f *testing.F) {
	d := pbCompile(f, pbAllDesc, pbAllTable())
	md := pbMessageDescriptor(pbDesc(f, pbAllDesc))
	if md == nil {
		f.Fatal("protodesc rejects the fuzz descriptor")
	}
	f.Add(pbInt(41, 1))
	f.Add(pbRow(pbInt(41, 1), pbInt(1, 1), pbInt(2, 5), pbBytes(3, []byte{1}), pbStr(4, "x"), pbStr(5, "héllo"), pbInt(6, 1),
		pbInt(7, -1), pbInt(8, -2), pbVarint(9, 7), pbSint(10, -9), pbFixed32(11, 3), pbInt(12, -2), pbDouble(13, 1.5), pbFloat(14, 2.5),
		pbBytes(15, []byte{0x80, 0x01}), pbStr(16, "12.345"), pbInt(17, 1), pbBytes(18, []byte{0xff}), pbInt(19, 19000), pbStr(20, "2024-01-02"),
		pbInt(21, 2024<<46|1<<42|2<<37|3<<32), pbStr(22, "2024-01-02 03:04:05"), pbInt(23, 1<<32|5), pbStr(24, "12:00:00.5"),
		pbInt(25, -5), pbStr(26, "2024-01-02T03:04:05+01:00"), pbMsg(27, pbInt(1, -1), pbInt(2, 5000)), pbStr(28, "POINT(1 2)"),
		pbStr(29, `{"a":[1,2]}`), pbStr(30, "1-2 3 4:5:6"), pbMsg(31, pbInt(1, 5)), pbMsg(32, pbInt(1, 3)), pbMsg(33, pbStr(1, "w")),
		pbMsg(34, pbInt(1, 1), pbInt(2, 3)), pbMsg(35, pbInt(1, 1), pbStr(2, "y"), pbPacked(3, 1, 2)), pbPacked(36, 1, 2),
		pbStr(37, "a"), pbStr(37, "b"), pbMsg(38, pbInt(1, 2)), pbMsg(38), pbGroup(39, pbInt(1, 4)), pbMsg(42, pbDouble(1, 1)),
		pbVarint(43, math.MaxUint64), pbStr(1000, "big")))
	f.Add(pbRow(pbInt(41, 1), pbMsg(35, pbInt(1, 1)), pbMsg(35, pbStr(2, "merged")), pbGroup(39), pbGroup(39, pbInt(1, 2))))
	f.Add(pbRow(pbInt(41, 1), pbBytes(36, []byte{0x80})))
	f.Fuzz(func(t *testing.T, row []byte) {
		pbCheckRows(t, d, md, [][]byte{row})
	})
}

// FuzzProtoDescriptor mutates the all-types descriptor (types, labels,
// numbers, names, type names, defaults, added and removed fields) and
// checks that compiling never panics, fails only with *SchemaError, and
// that a compiled decoder satisfies the row properties.
func FuzzProtoDescriptor(f *testing.F) {
	base := pbDesc(f, pbAllDesc)
	table := pbAllTable()
	f.Add([]byte{}, pbInt(41, 1))
	f.Add([]byte{0, 5, 9}, pbRow(pbInt(41, 1), pbStr(5, "x")))
	f.Add([]byte{1, 7, 3, 2, 35, 1, 3, 1, 4, 6, 12, 0}, pbRow(pbInt(41, 1), pbInt(7, 5)))
	f.Add([]byte{5, 0, 9, 6, 1, 3}, pbRow(pbMsg(35, pbInt(1, 1))))
	typeNames := []string{"E", ".Root.E", "W", "R", "Sub", ".Sub", "Grp", "Root.Sub", ".google.protobuf.Timestamp", ".google.protobuf.StringValue", "Nope", ""}
	defaults := []string{"0", "-1", "x", "true", "ONE", "1.5", "inf", `\001`, "", "0x10"}
	names := []string{"b", "s", "i", "rec", "extra", "REC", "big", "absent", "req", "x"}
	f.Fuzz(func(t *testing.T, ops []byte, row []byte) {
		desc := proto.Clone(base).(*descriptorpb.DescriptorProto)
		for len(ops) >= 3 {
			op, a, b := ops[0]%8, int(ops[1]), int(ops[2])
			ops = ops[3:]
			if len(desc.Field) == 0 {
				break
			}
			fd := desc.Field[a%len(desc.Field)]
			switch op {
			case 0: // change the type
				fd.Type = descriptorpb.FieldDescriptorProto_Type(b%18 + 1).Enum()
				if fd.GetType() != descriptorpb.FieldDescriptorProto_TYPE_MESSAGE && fd.GetType() != descriptorpb.FieldDescriptorProto_TYPE_GROUP &&
					fd.GetType() != descriptorpb.FieldDescriptorProto_TYPE_ENUM {
					fd.TypeName = nil
				}
			case 1: // change the label
				fd.Label = descriptorpb.FieldDescriptorProto_Label(b%3 + 1).Enum()
			case 2: // change the number
				fd.Number = proto.Int32(int32(b % 50))
			case 3: // change the type name
				fd.TypeName = proto.String(typeNames[b%len(typeNames)])
			case 4: // change the default
				fd.DefaultValue = proto.String(defaults[b%len(defaults)])
			case 5: // rename
				fd.Name = proto.String(names[b%len(names)])
			case 6: // drop the field
				desc.Field = append(desc.Field[:a%len(desc.Field)], desc.Field[a%len(desc.Field)+1:]...)
			case 7: // duplicate the field under a new number
				c := proto.Clone(fd).(*descriptorpb.FieldDescriptorProto)
				c.Number = proto.Int32(int32(100 + b))
				desc.Field = append(desc.Field, c)
			}
		}
		d, err := rowcodec.CompileProto(desc, table)
		if err != nil {
			var se *rowcodec.SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("CompileProto error %v is not a *SchemaError", err)
			}
			return
		}
		pbCheckRows(t, d, pbMessageDescriptor(desc), [][]byte{row})
	})
}
