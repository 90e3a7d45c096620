package rowcodec

import (
	"errors"

	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/schema"
)

// ProtoDecoder validates and decodes Storage Write API rows: serialized
// proto2 messages described by one writer-schema DescriptorProto, mapped
// onto a table schema. It is compiled once per (descriptor, table schema)
// and is safe for concurrent use.
//
// Decisions where BigQuery's behaviour is not pinned down (spec §4):
//   - Extra writer fields inside records are reported by their lower-cased
//     column path ("rec.extra"), comma-separated, in declaration order.
//   - A known field number arriving with another wire type is ignored, as
//     proto parsers keep it as an unknown field (packed and unpacked
//     repeated scalars are both accepted).
//   - A wrapper message (google.protobuf.*Value, or any message whose only
//     field is a scalar named value) feeding a scalar column is unwrapped;
//     an absent wrapper is NULL; a present wrapper whose value is absent
//     takes the value field's default_value (zero for the real well-known
//     wrappers), else NULL. Feeding a RECORD column it is a record.
//   - Messages shaped like google.protobuf.Timestamp / Duration (exactly
//     seconds int64 and nanos int32) feed TIMESTAMP / INTERVAL columns;
//     nanoseconds below the microsecond are truncated.
//   - Decimal strings and doubles with more fractional digits than the
//     column's scale are rounded (half away from zero unless the column's
//     rounding mode is ROUND_HALF_EVEN); out of range is a row error.
//   - A RANGE whose start is not before its end is a row error.
//   - Row errors name the field path ("rec.sub", "arr[2].x" inside repeated
//     records); a row gets at most one error, the first found.
type ProtoDecoder struct {
	root  *msgPlan
	table *schema.Table
}

// CompileProto resolves desc (a self-contained DescriptorProto, wrapped in
// a synthetic proto2 file "BqMessage.proto" with no package) and maps its
// fields onto the columns of t by name, case-insensitively, recursively
// for records; a field's column_name annotation (FieldOptions extension
// 454943157) overrides its name.
//
// Errors are *SchemaError:
//   - InvalidDescriptor: the descriptor does not resolve, has duplicate
//     names or numbers, bad default values or recursive types. Message
//     reads "Invalid proto schema: BqMessage.proto: <element>: <problem>".
//   - ExtraFields: writer fields without a column; Fields lists their
//     lower-cased paths and Message is BigQuery's
//     "Input schema has more fields than BigQuery schema, extra fields: 'a,b.c'".
//   - Incompatible: a field's proto type or label cannot feed its column,
//     or two fields feed the same column; Fields holds the column path.
//
// A column default expression that does not compile is reported as a
// plain error wrapping CompileDefault's.
func CompileProto(desc *descriptorpb.DescriptorProto, t *schema.Table) (*ProtoDecoder, error) {
	if t == nil {
		return nil, errors.New("rowcodec: CompileProto: nil table schema")
	}
	root, derr := resolveDescriptor(desc)
	if derr != nil {
		return nil, derr.schemaError()
	}
	c := &compiler{defaults: map[*schema.Field]DefaultFunc{}}
	plan := c.compileMsg(root, t.Fields, "", true, -1)
	switch {
	case len(c.extra) > 0:
		return nil, extraFieldsError(c.extra)
	case c.incompat != "":
		return nil, &SchemaError{Kind: Incompatible, Fields: []string{c.incompatPath}, Message: c.incompat}
	case c.defaultErr != nil:
		return nil, c.defaultErr
	}
	return &ProtoDecoder{root: plan, table: t}, nil
}

// Validate checks every row as BigQuery would before accepting an append
// and returns one RowError per invalid row (Index = position in rows), or
// nil when all rows are valid. It does not materialize values; in the
// common case it allocates nothing per row. o may be nil.
func (d *ProtoDecoder) Validate(rows [][]byte, o *Options) RowErrors {
	s := d.getState(o, false)
	var errs RowErrors
	for i, b := range rows {
		s.row = i
		if _, err := s.parseMsg(d.root, b, 0, nil, MissingNull); err != nil {
			errs = append(errs, err.rowError(i))
		}
	}
	putState(s)
	return errs
}

// Decode decodes rows in order and calls emit with each row's values (one
// Value per top-level column of the table schema, see the package
// comment); every Row is freshly allocated and may be kept. Validation is
// the same as Validate's: once a row is invalid, later rows are still
// checked but no longer emitted, and Decode returns the RowErrors. An
// error from emit stops decoding and is returned as is. o may be nil.
func (d *ProtoDecoder) Decode(rows [][]byte, o *Options, emit func(i int, r Row) error) error {
	s := d.getState(o, true)
	defer putState(s)
	var errs RowErrors
	for i, b := range rows {
		s.row = i
		row := make(Row, len(d.root.cols))
		if _, err := s.parseMsg(d.root, b, 0, row, MissingNull); err != nil {
			errs = append(errs, err.rowError(i))
			continue
		}
		if len(errs) == 0 {
			if err := emit(i, row); err != nil {
				return err
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Table returns the table schema the decoder was compiled against.
func (d *ProtoDecoder) Table() *schema.Table { return d.table }
