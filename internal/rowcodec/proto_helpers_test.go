package rowcodec_test

import (
	"errors"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// Helpers shared by the proto*_test.go files; all named pb* to stay clear
// of the rest of the package's tests.

// pbDesc parses a DescriptorProto written in text format.
func pbDesc(tb testing.TB, text string) *descriptorpb.DescriptorProto {
	tb.Helper()
	d := &descriptorpb.DescriptorProto{}
	if err := prototext.Unmarshal([]byte(text), d); err != nil {
		tb.Fatalf("bad descriptor text: %v", err)
	}
	return d
}

// pbCol builds a column; mode "" is NULLABLE.
func pbCol(name string, typ schema.Type, mode schema.Mode, sub ...*schema.Field) *schema.Field {
	return &schema.Field{Name: name, Type: typ, Mode: mode, Fields: sub}
}

func pbTable(cols ...*schema.Field) *schema.Table { return &schema.Table{Fields: cols} }

// pbCompile compiles and fails the test on error.
func pbCompile(tb testing.TB, desc string, t *schema.Table) *rowcodec.ProtoDecoder {
	tb.Helper()
	d, err := rowcodec.CompileProto(pbDesc(tb, desc), t)
	if err != nil {
		tb.Fatalf("CompileProto: %v", err)
	}
	return d
}

// pbSchemaErr compiles and returns the *SchemaError (failing otherwise).
func pbSchemaErr(tb testing.TB, desc *descriptorpb.DescriptorProto, t *schema.Table) *rowcodec.SchemaError {
	tb.Helper()
	_, err := rowcodec.CompileProto(desc, t)
	var se *rowcodec.SchemaError
	if !errors.As(err, &se) {
		tb.Fatalf("CompileProto error = %v, want *SchemaError", err)
	}
	return se
}

// Wire builders.

func pbRow(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func pbVarint(num int, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, protowire.Number(num), protowire.VarintType), v)
}

func pbInt(num int, v int64) []byte { return pbVarint(num, uint64(v)) }

func pbSint(num int, v int64) []byte { return pbVarint(num, protowire.EncodeZigZag(v)) }

func pbFixed32(num int, v uint32) []byte {
	return protowire.AppendFixed32(protowire.AppendTag(nil, protowire.Number(num), protowire.Fixed32Type), v)
}

func pbFixed64(num int, v uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, protowire.Number(num), protowire.Fixed64Type), v)
}

func pbDouble(num int, v float64) []byte { return pbFixed64(num, math.Float64bits(v)) }

func pbFloat(num int, v float32) []byte { return pbFixed32(num, math.Float32bits(v)) }

func pbBytes(num int, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, protowire.Number(num), protowire.BytesType), v)
}

func pbStr(num int, v string) []byte { return pbBytes(num, []byte(v)) }

func pbMsg(num int, parts ...[]byte) []byte { return pbBytes(num, pbRow(parts...)) }

func pbGroup(num int, parts ...[]byte) []byte {
	b := protowire.AppendTag(nil, protowire.Number(num), protowire.StartGroupType)
	b = append(b, pbRow(parts...)...)
	return protowire.AppendTag(b, protowire.Number(num), protowire.EndGroupType)
}

// pbPacked encodes varints as one packed field.
func pbPacked(num int, vs ...uint64) []byte {
	var body []byte
	for _, v := range vs {
		body = protowire.AppendVarint(body, v)
	}
	return pbBytes(num, body)
}

// pbDecode decodes rows and returns the emitted rows and the error.
func pbDecode(d *rowcodec.ProtoDecoder, o *rowcodec.Options, rows ...[]byte) ([]rowcodec.Row, error) {
	var out []rowcodec.Row
	err := d.Decode(rows, o, func(i int, r rowcodec.Row) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// pbDecodeOne decodes a single row that must be valid, and checks that
// Validate agrees.
func pbDecodeOne(tb testing.TB, d *rowcodec.ProtoDecoder, o *rowcodec.Options, row []byte) rowcodec.Row {
	tb.Helper()
	if errs := d.Validate([][]byte{row}, o); errs != nil {
		tb.Fatalf("Validate: %v", errs[0].Message)
	}
	rows, err := pbDecode(d, o, row)
	if err != nil {
		tb.Fatalf("Decode: %v", err)
	}
	if len(rows) != 1 {
		tb.Fatalf("Decode emitted %d rows, want 1", len(rows))
	}
	return rows[0]
}

// pbRowError validates one row that must be invalid, checks that Decode
// reports the same error, and returns it.
func pbRowError(tb testing.TB, d *rowcodec.ProtoDecoder, o *rowcodec.Options, row []byte) rowcodec.RowError {
	tb.Helper()
	errs := d.Validate([][]byte{row}, o)
	if len(errs) != 1 {
		tb.Fatalf("Validate returned %d errors, want 1", len(errs))
	}
	_, err := pbDecode(d, o, row)
	var derrs rowcodec.RowErrors
	if !errors.As(err, &derrs) || len(derrs) != 1 || derrs[0] != errs[0] {
		tb.Fatalf("Decode error = %v, want the Validate error %+v", err, errs[0])
	}
	return errs[0]
}
