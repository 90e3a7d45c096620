package rowcodec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/penstockdb/penstock/internal/schema"
)

// TimestampFormat selects how tabledata.list renders TIMESTAMP cells
// (spec rest-api.md §3.3).
type TimestampFormat int8

// Timestamp renderings.
const (
	// TimestampFloat is seconds since the epoch as float text in Java's
	// layout, e.g. "1.700000000123456E9" (no format option, bq, FLOAT64).
	TimestampFloat TimestampFormat = iota
	// TimestampInt64 is microseconds since the epoch as an integer string
	// (useInt64Timestamp=true or timestampOutputFormat=INT64).
	TimestampInt64
	// TimestampISO is RFC 3339 UTC with microseconds when non-zero
	// (timestampOutputFormat=ISO8601_STRING).
	TimestampISO
)

// RenderOptions configure f/v rendering.
type RenderOptions struct {
	Timestamp TimestampFormat
}

// AppendRowFV appends r, a row of table t, as a tabledata.list row:
// {"f":[{"v":...},...]}. fields lists the top-level column indices to
// render, in order; nil renders every column. Every scalar is a JSON
// string, NULL is null, REPEATED is [{"v":...}] and never null, RECORD is
// {"f":[...]}. A value whose Go type does not match its column renders as
// null rather than failing.
func AppendRowFV(dst []byte, r Row, t *schema.Table, fields []int, o RenderOptions) []byte {
	dst = append(dst, `{"f":[`...)
	if fields == nil {
		for i, f := range t.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCell(dst, at(r, i), f, nil, o)
		}
	} else {
		for k, i := range fields {
			if k > 0 {
				dst = append(dst, ',')
			}
			var f *schema.Field
			if i >= 0 && i < len(t.Fields) {
				f = t.Fields[i]
			}
			dst = appendCell(dst, at(r, i), f, nil, o)
		}
	}
	return append(dst, "]}"...)
}

func at(r Row, i int) Value {
	if i >= 0 && i < len(r) {
		return r[i]
	}
	return nil
}

// appendCell appends {"v":...} for one column value. sel prunes a RECORD
// (nil = every sub-field).
func appendCell(dst []byte, v Value, f *schema.Field, sel *Selection, o RenderOptions) []byte {
	dst = append(dst, `{"v":`...)
	dst = appendFieldValue(dst, v, f, sel, o)
	return append(dst, '}')
}

func appendFieldValue(dst []byte, v Value, f *schema.Field, sel *Selection, o RenderOptions) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	if f.IsRepeated() {
		dst = append(dst, '[')
		arr, _ := v.([]Value)
		for i, e := range arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"v":`...)
			dst = appendScalar(dst, e, f, sel, o)
			dst = append(dst, '}')
		}
		return append(dst, ']')
	}
	return appendScalar(dst, v, f, sel, o)
}

// appendScalar renders one non-repeated value of f's type.
func appendScalar(dst []byte, v Value, f *schema.Field, sel *Selection, o RenderOptions) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	if f.Type == schema.Record {
		row, ok := v.(Row)
		if !ok {
			return append(dst, "null"...)
		}
		dst = append(dst, `{"f":[`...)
		if sel == nil {
			for i, sub := range f.Fields {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendCell(dst, at(row, i), sub, nil, o)
			}
		} else {
			for k, c := range sel.cols {
				if k > 0 {
					dst = append(dst, ',')
				}
				dst = appendCell(dst, at(row, c.idx), c.f, c.sub, o)
			}
		}
		return append(dst, "]}"...)
	}
	start := len(dst)
	dst = append(dst, '"')
	switch x := v.(type) {
	case string:
		if f.Type != schema.String && f.Type != schema.JSON && f.Type != schema.Geography {
			return append(dst[:start], "null"...)
		}
		return appendJSONStringValid(dst[:start], x)
	case int64:
		dst = strconv.AppendInt(dst, x, 10)
	case float64:
		dst = AppendFloat(dst, x)
	case bool:
		dst = strconv.AppendBool(dst, x)
	case []byte:
		dst = base64.StdEncoding.AppendEncode(dst, x)
	case Decimal:
		dst = x.Append(dst)
	case Date:
		dst = AppendDate(dst, x)
	case TimeOfDay:
		dst = AppendTime(dst, x)
	case DateTime:
		dst = AppendDateTime(dst, x)
	case Timestamp:
		dst = appendTimestampAs(dst, x, o.Timestamp)
	case Interval:
		dst = x.Append(dst)
	case RangeValue:
		dst = append(dst, '[')
		dst = appendRangeBound(dst, x.Start, o)
		dst = append(dst, ", "...)
		dst = appendRangeBound(dst, x.End, o)
		dst = append(dst, ')')
	default:
		return append(dst[:start], "null"...)
	}
	return append(dst, '"')
}

func appendRangeBound(dst []byte, v Value, o RenderOptions) []byte {
	if ts, ok := v.(Timestamp); ok {
		return appendTimestampAs(dst, ts, o.Timestamp)
	}
	return appendBound(dst, v)
}

func appendTimestampAs(dst []byte, ts Timestamp, f TimestampFormat) []byte {
	switch f {
	case TimestampInt64:
		return strconv.AppendInt(dst, int64(ts), 10)
	case TimestampISO:
		return AppendTimestamp(dst, ts)
	}
	return AppendTimestampSeconds(dst, ts)
}

// AppendTimestampSeconds appends ts as exact decimal seconds in Java's
// double layout: "1.700000000123456E9", "0.0", "-1.5".
func AppendTimestampSeconds(dst []byte, ts Timestamp) []byte {
	us := int64(ts)
	neg := us < 0
	mag := uint64(us)
	if neg {
		mag = -mag
	}
	var buf [24]byte
	digits := strconv.AppendUint(buf[:0], mag, 10)
	return appendJavaDecimal(dst, neg, digits, len(digits)-6)
}

// AppendFloat appends f the way BigQuery's REST API prints FLOAT64:
// "NaN", "Infinity", "-Infinity", otherwise the shortest digits that
// round-trip laid out like Java's Double.toString ("1.0", "0.001",
// "1.0E20", "1.2345E-5").
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], math.Abs(f), 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(string(e), "e")
	x, _ := strconv.Atoi(exp)
	var dig [24]byte
	digits := append(dig[:0], mant[0])
	if len(mant) > 2 {
		digits = append(digits, mant[2:]...)
	}
	return appendJavaDecimal(dst, f < 0, digits, x+1)
}

// --- selectedFields ---------------------------------------------------------------

// ErrUnknownField reports a selectedFields entry naming no column.
var ErrUnknownField = errors.New("rowcodec: unknown field")

// Selection is a compiled tabledata.list selectedFields list: which
// top-level columns, and which sub-fields of RECORD columns, to render.
// Columns always come out in table-schema order, whatever the list order.
type Selection struct {
	cols []selCol
}

type selCol struct {
	idx int
	f   *schema.Field
	sub *Selection // nil: the whole value
}

// ParseSelection compiles a comma-separated selectedFields list such as
// "a,rec.b,rec.c.d" against t (names case-insensitive; selecting a record
// and one of its sub-fields selects the whole record). An empty list
// returns (nil, nil), meaning every column. An unknown name, or a path
// through a non-RECORD column, is an error wrapping ErrUnknownField.
func ParseSelection(t *schema.Table, list string) (*Selection, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	root := &selNode{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		n := root
		fields := t.Fields
		parts := strings.Split(item, ".")
		for k, name := range parts {
			i := lookupFold(fields, name)
			if i < 0 {
				return nil, fmt.Errorf("%w: %s", ErrUnknownField, item)
			}
			if k < len(parts)-1 && fields[i].Type != schema.Record {
				return nil, fmt.Errorf("%w: %s (%s is not a RECORD)", ErrUnknownField, item, fields[i].Name)
			}
			if n.kids == nil {
				n.kids = map[int]*selNode{}
			}
			c := n.kids[i]
			if c == nil {
				c = &selNode{}
				n.kids[i] = c
			}
			if k == len(parts)-1 {
				c.whole = true
			}
			n = c
			fields = fields[i].Fields
		}
	}
	return root.compile(t.Fields), nil
}

type selNode struct {
	whole bool
	kids  map[int]*selNode
}

func (n *selNode) compile(fields []*schema.Field) *Selection {
	s := &Selection{}
	for i, f := range fields {
		c, ok := n.kids[i]
		if !ok {
			continue
		}
		sc := selCol{idx: i, f: f}
		if !c.whole {
			sc.sub = c.compile(f.Fields)
		}
		s.cols = append(s.cols, sc)
	}
	return s
}

func lookupFold(fs []*schema.Field, name string) int {
	for i, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// Columns returns the selected top-level column indices in schema order.
func (s *Selection) Columns() []int {
	out := make([]int, len(s.cols))
	for i, c := range s.cols {
		out[i] = c.idx
	}
	return out
}

// Schema returns the pruned schema the selection renders: the selected
// columns in table order, RECORDs reduced to their selected sub-fields.
func (s *Selection) Schema() *schema.Table {
	return &schema.Table{Fields: s.fields()}
}

func (s *Selection) fields() []*schema.Field {
	out := make([]*schema.Field, 0, len(s.cols))
	for _, c := range s.cols {
		f := c.f.Clone()
		if c.sub != nil {
			f.Fields = c.sub.fields()
		}
		out = append(out, f)
	}
	return out
}

// AppendRowFV appends r (a full row of the table the selection was parsed
// against) rendered with only the selected fields; a nil Selection renders
// every column of t.
func (s *Selection) AppendRowFV(dst []byte, r Row, t *schema.Table, o RenderOptions) []byte {
	if s == nil {
		return AppendRowFV(dst, r, t, nil, o)
	}
	dst = append(dst, `{"f":[`...)
	for k, c := range s.cols {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = appendCell(dst, at(r, c.idx), c.f, c.sub, o)
	}
	return append(dst, "]}"...)
}
