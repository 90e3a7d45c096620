package rowcodec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// This file converts single proto values into column values (spec §4.4,
// §4.5), for both Validate (no materialization) and Decode.

// rowErr is a row error on its way up the message tree: path grows as
// each enclosing record prefixes its column name, and every pathMark in msg
// is replaced by the final path.
type rowErr struct {
	path  string
	msg   string
	whole bool // about the row as a whole: the path stays empty
}

// pathMark stands for the field path inside rowErr.msg.
const pathMark = "\x00"

func fieldErr(name, msg string) *rowErr { return &rowErr{path: name, msg: msg} }

// under prefixes the path with an enclosing column ("a" or "a[2]").
func (e *rowErr) under(prefix string) *rowErr {
	if e.whole {
		return e
	}
	if e.path == "" {
		e.path = prefix
	} else {
		e.path = prefix + "." + e.path
	}
	return e
}

func (e *rowErr) rowError(i int) RowError {
	return RowError{Index: i, Location: e.path, Message: strings.ReplaceAll(e.msg, pathMark, e.path)}
}

func (e *rowErr) clone() *rowErr {
	c := *e
	return &c
}

// literalErr turns a literal parser's error into a row error on f.
func literalErr(f *fieldPlan, err error) *rowErr {
	return fieldErr(f.name, Describe(err)+" on field "+pathMark+".")
}

// Messages for row errors this file produces (pathMark = field path).
const (
	msgInvalidUTF8 = "String field value is not valid UTF-8 on field " + pathMark + "."
	msgRequired    = "Missing required field: " + pathMark + "."
	msgNullElement = "Null value in repeated field: " + pathMark + "."
)

// readRaw reads one value of kind k from b: integers and floats as bits in
// u, strings and bytes in bs. n < 0 reports malformed input.
func readRaw(k protoreflect.Kind, b []byte) (u uint64, bs []byte, n int) {
	switch wireType(k) {
	case protowire.VarintType:
		if len(b) > 0 && b[0] < 0x80 {
			return uint64(b[0]), nil, 1
		}
		u, n = protowire.ConsumeVarint(b)
		return u, nil, n
	case protowire.Fixed32Type:
		v, n := protowire.ConsumeFixed32(b)
		return uint64(v), nil, n
	case protowire.Fixed64Type:
		u, n = protowire.ConsumeFixed64(b)
		return u, nil, n
	}
	bs, n = protowire.ConsumeBytes(b)
	return 0, bs, n
}

// intVal interprets raw bits of an integer kind as its signed value.
func intVal(k protoreflect.Kind, u uint64) int64 {
	switch k {
	case protoreflect.Int32Kind, protoreflect.EnumKind, protoreflect.Sfixed32Kind:
		return int64(int32(u))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return int64(uint32(u))
	case protoreflect.Sint32Kind:
		return int64(int32(protowire.DecodeZigZag(u & math.MaxUint32)))
	case protoreflect.Sint64Kind:
		return protowire.DecodeZigZag(u)
	}
	return int64(u)
}

func floatVal(k protoreflect.Kind, u uint64) float64 {
	if k == protoreflect.FloatKind {
		return float64(math.Float32frombits(uint32(u)))
	}
	return math.Float64frombits(u)
}

// convert turns one raw value into f's column value. mat asks for the
// value; without it only validity is checked and Value is nil.
func convert(f *fieldPlan, u uint64, bs []byte, mat bool) (Value, *rowErr) {
	switch f.conv {
	case convInt:
		if mat {
			return intVal(f.kind, u), nil
		}
	case convBool:
		if mat {
			if signedKind(f.kind) {
				return intVal(f.kind, u) != 0, nil
			}
			return u != 0, nil
		}
	case convFloat:
		if mat {
			return floatVal(f.kind, u), nil
		}
	case convString:
		if !utf8.Valid(bs) {
			return nil, fieldErr(f.name, msgInvalidUTF8)
		}
		if f.maxLen > 0 && int64(len(bs)) > f.maxLen {
			if n := int64(utf8.RuneCount(bs)); n > f.maxLen {
				return nil, fieldErr(f.name, fmt.Sprintf("Field %s: STRING(%d) has maximum length %d but got a value with length %d on field %s.",
					pathMark, f.maxLen, f.maxLen, n, pathMark))
			}
		}
		if mat {
			return string(bs), nil
		}
	case convEnumName:
		n := int32(u)
		name, ok := f.enum.name(n)
		if !ok {
			return nil, fieldErr(f.name, fmt.Sprintf("Invalid enum value: %d on field %s.", n, pathMark))
		}
		if f.maxLen > 0 && int64(utf8.RuneCountInString(name)) > f.maxLen {
			return nil, fieldErr(f.name, fmt.Sprintf("Field %s: STRING(%d) has maximum length %d but got a value with length %d on field %s.",
				pathMark, f.maxLen, f.maxLen, utf8.RuneCountInString(name), pathMark))
		}
		if mat {
			return name, nil
		}
	case convBytes:
		if f.maxLen > 0 && int64(len(bs)) > f.maxLen {
			return nil, fieldErr(f.name, fmt.Sprintf("Field %s: BYTES(%d) has maximum length %d but got a value with length %d on field %s.",
				pathMark, f.maxLen, f.maxLen, len(bs), pathMark))
		}
		if mat {
			return append([]byte{}, bs...), nil
		}
	case convDecimalInt, convDecimalUint, convDecimalFloat, convDecimalString, convDecimalBytes:
		d, err := decimalOf(f, u, bs)
		if err != nil {
			return nil, literalErr(f, err)
		}
		if mat {
			return d, nil
		}
	case convDateInt:
		v := intVal(f.kind, u)
		if v < int64(MinDate) || v > int64(MaxDate) {
			return nil, fieldErr(f.name, fmt.Sprintf("Date field value is out of range: %d on field %s.", v, pathMark))
		}
		if mat {
			return Date(v), nil
		}
	case convTimestampInt:
		v := intVal(f.kind, u)
		if !ValidTimestamp(Timestamp(v)) {
			return nil, fieldErr(f.name, fmt.Sprintf("Timestamp field value is out of range: %d on field %s.", v, pathMark))
		}
		if mat {
			return Timestamp(v), nil
		}
	case convDateTimePacked:
		v, err := PackedDateTime(intVal(f.kind, u))
		if err != nil {
			return nil, literalErr(f, err)
		}
		if mat {
			return v, nil
		}
	case convTimePacked:
		v, err := PackedTime(intVal(f.kind, u))
		if err != nil {
			return nil, literalErr(f, err)
		}
		if mat {
			return v, nil
		}
	default:
		return convertText(f, bs, mat)
	}
	return nil, nil
}

// convertText handles the column types whose proto input is a literal.
func convertText(f *fieldPlan, bs []byte, mat bool) (Value, *rowErr) {
	if !utf8.Valid(bs) {
		return nil, fieldErr(f.name, msgInvalidUTF8)
	}
	s := string(bs)
	var v Value
	var err error
	switch f.conv {
	case convDateString:
		v, err = ParseDate(s)
	case convDateTimeString:
		v, err = ParseDateTime(s)
	case convTimeString:
		v, err = ParseTime(s)
	case convTimestampString:
		v, err = ParseTimestamp(s)
	case convIntervalString:
		v, err = ParseInterval(s)
	case convGeography:
		v, err = s, CheckGeography(s)
	case convJSON:
		v, err = CheckJSON(s)
	default:
		return nil, fieldErr(f.name, "Unsupported conversion on field "+pathMark+".")
	}
	if err != nil {
		return nil, literalErr(f, err)
	}
	if !mat {
		return nil, nil
	}
	return v, nil
}

// decimalOf converts a raw value for a NUMERIC or BIGNUMERIC column,
// applying the column's precision, scale and rounding mode.
func decimalOf(f *fieldPlan, u uint64, bs []byte) (Decimal, error) {
	var d Decimal
	var err error
	switch f.conv {
	case convDecimalInt:
		d = DecimalFromInt64(intVal(f.kind, u), f.big)
	case convDecimalUint:
		if u <= math.MaxInt64 {
			d = DecimalFromInt64(int64(u), f.big)
		} else {
			d, err = ParseNumeric(strconv.FormatUint(u, 10), f.big)
		}
	case convDecimalFloat:
		v := floatVal(f.kind, u)
		if f.decFit && !math.IsNaN(v) && !math.IsInf(v, 0) {
			// Round once, straight to the column's scale.
			return ParseDecimal(strconv.FormatFloat(v, 'e', -1, 64), f.dec)
		}
		d, err = DecimalFromFloat64(v, f.big)
	case convDecimalString:
		// The literal is rounded once, straight to the column's scale.
		return ParseDecimal(string(bs), f.dec)
	case convDecimalBytes:
		d, err = DecimalFromScaledBytes(bs, f.big)
	}
	if err != nil || !f.decFit {
		return d, err
	}
	return d.Fit(f.dec)
}

// convertDefault converts a proto default_value for f at compile time.
func convertDefault(f *fieldPlan, d protoDefault) (Value, *rowErr) {
	u, bs := d.u, []byte(d.s)
	switch f.kind {
	case protoreflect.FloatKind:
		u = uint64(math.Float32bits(float32(d.f)))
	case protoreflect.DoubleKind:
		u = math.Float64bits(d.f)
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		// Defaults hold the plain value; intVal expects zig-zag bits.
		u = protowire.EncodeZigZag(int64(d.u))
	}
	return convert(f, u, bs, true)
}
