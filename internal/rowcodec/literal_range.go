package rowcodec

import (
	"strings"

	"github.com/penstockdb/penstock/internal/schema"
)

// ParseRangeElement parses one bound of a RANGE<elem>: a DATE, DATETIME or
// TIMESTAMP literal. Errors are those of the element's parser, or
// *LiteralError (ErrSyntax) for an unsupported element type.
func ParseRangeElement(s string, elem schema.Type) (Value, error) {
	switch elem {
	case schema.Date:
		return ParseDate(s)
	case schema.DateTime:
		return ParseDateTime(s)
	case schema.Timestamp:
		return ParseTimestamp(s)
	}
	return nil, litErr(ErrSyntax, "Unsupported RANGE element type %s", quoteValue(string(elem)))
}

// ParseRange parses a RANGE literal "[start, end)" whose bounds are
// element literals or UNBOUNDED / NULL (any case) for an open end. Both
// bounds present require start < end. Errors are *LiteralError wrapping
// ErrSyntax (or the element parser's error).
func ParseRange(s string, elem schema.Type) (RangeValue, error) {
	t := trimSpace(s)
	bad := func() (RangeValue, error) {
		return RangeValue{}, litErr(ErrSyntax, "Invalid RANGE value: '%s'", quoteValue(s))
	}
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ')' {
		return bad()
	}
	parts := strings.Split(t[1:len(t)-1], ",")
	if len(parts) != 2 {
		return bad()
	}
	var bounds [2]Value
	for i, p := range parts {
		p = trimSpace(p)
		if strings.EqualFold(p, "UNBOUNDED") || strings.EqualFold(p, "NULL") {
			continue
		}
		v, err := ParseRangeElement(p, elem)
		if err != nil {
			return RangeValue{}, err
		}
		bounds[i] = v
	}
	r := RangeValue{Start: bounds[0], End: bounds[1]}
	if err := CheckRange(r); err != nil {
		return RangeValue{}, err
	}
	return r, nil
}

// CheckRange reports an error (a *LiteralError wrapping ErrRange) when both
// bounds are set and start is not before end.
func CheckRange(r RangeValue) error {
	if r.Start == nil || r.End == nil {
		return nil
	}
	var less bool
	switch a := r.Start.(type) {
	case Date:
		b, ok := r.End.(Date)
		less = ok && a < b
	case DateTime:
		b, ok := r.End.(DateTime)
		less = ok && a < b
	case Timestamp:
		b, ok := r.End.(Timestamp)
		less = ok && a < b
	}
	if !less {
		return litErr(ErrRange, "RANGE start must be less than its end: [%s, %s)", formatBound(r.Start), formatBound(r.End))
	}
	return nil
}

func formatBound(v Value) string { return string(appendBound(nil, v)) }

// appendBound formats a RANGE bound the way tabledata.list renders the
// element type (TIMESTAMP as RFC 3339 UTC), or UNBOUNDED for nil.
func appendBound(dst []byte, v Value) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "UNBOUNDED"...)
	case Date:
		return AppendDate(dst, x)
	case DateTime:
		return AppendDateTime(dst, x)
	case Timestamp:
		return AppendTimestamp(dst, x)
	}
	return append(dst, '?')
}

// AppendRange appends "[start, end)" with UNBOUNDED for open ends.
func AppendRange(dst []byte, r RangeValue) []byte {
	dst = append(dst, '[')
	dst = appendBound(dst, r.Start)
	dst = append(dst, ", "...)
	dst = appendBound(dst, r.End)
	return append(dst, ')')
}

// String formats r as "[start, end)".
func (r RangeValue) String() string { return string(AppendRange(nil, r)) }
