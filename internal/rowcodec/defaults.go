package rowcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/penstockdb/penstock/internal/schema"
)

// DefaultFunc evaluates a column's default value expression for row `row`
// (0-based index within its request) of a request decoded with o (nil is
// the zero Options). The result has the column's Go type (see the package
// comment); it is freshly allocated where mutable, so callers may keep it.
type DefaultFunc func(o *Options, row int) Value

// ErrDefaultExpression reports a default value expression Penstock cannot
// evaluate or whose type does not fit its column.
var ErrDefaultExpression = errors.New("rowcodec: unsupported default value expression")

// SessionUser is what SESSION_USER() returns: Penstock has no end users.
const SessionUser = "penstock"

// CheckDefaultExpression reports whether f's defaultValueExpression (if
// any) compiles; the catalog calls it when a table is created or altered.
// The error wraps ErrDefaultExpression.
func CheckDefaultExpression(f *schema.Field) error {
	_, err := CompileDefault(f)
	return err
}

// CompileDefault compiles f.DefaultValueExpression once into an evaluator.
// It returns (nil, nil) when f has no default. Supported expressions:
//
//   - literals: NULL, TRUE, FALSE, integers (decimal or 0x hex), floats,
//     'strings' and "strings" (also r'raw' and triple-quoted), b'bytes',
//     and typed literals DATE, TIME, DATETIME, TIMESTAMP, NUMERIC/DECIMAL,
//     BIGNUMERIC/BIGDECIMAL, JSON, INTERVAL '...', INTERVAL n unit and
//     RANGE<T> '[a, b)'; a leading '-' on numbers and intervals;
//   - arrays: [a, b], ARRAY[a, b], ARRAY<T>[a, b] (for REPEATED columns);
//   - CAST(literal AS type);
//   - CURRENT_TIMESTAMP(), CURRENT_DATE([zone]), CURRENT_DATETIME([zone]),
//     CURRENT_TIME([zone]) (parentheses optional), evaluated at Options.Now;
//   - GENERATE_UUID(): a version-4 UUID derived from Options.Seed, the row
//     index and the column name, so re-decoding is repeatable;
//   - SESSION_USER(): SessionUser.
//
// Literals are coerced to the column's type as BigQuery coerces literals
// (an integer feeds FLOAT and NUMERIC, a string literal feeds DATE, ...).
// Anything else is an error wrapping ErrDefaultExpression.
func CompileDefault(f *schema.Field) (DefaultFunc, error) {
	if f == nil || strings.TrimSpace(f.DefaultValueExpression) == "" {
		return nil, nil
	}
	p := &exprParser{src: f.DefaultValueExpression}
	p.next()
	e, err := p.expr()
	if err == nil && p.tok.kind != tEOF {
		err = p.errorf("unexpected %q", p.tok.text)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrDefaultExpression, f.DefaultValueExpression, err)
	}
	fn, err := coerceDefault(e, f)
	if err != nil {
		return nil, fmt.Errorf("%w: %q for column %s %s: %v", ErrDefaultExpression, f.DefaultValueExpression, f.Name, f.Type, err)
	}
	return fn, nil
}

// --- coercion and evaluation ----------------------------------------------------

func constant(v Value) DefaultFunc {
	return func(*Options, int) Value { return cloneValue(v) }
}

// cloneValue copies the mutable parts of a value (slices, rows).
func cloneValue(v Value) Value {
	switch x := v.(type) {
	case []byte:
		return append([]byte(nil), x...)
	case []Value:
		out := make([]Value, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case Row:
		out := make(Row, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

func coerceDefault(e *expr, f *schema.Field) (DefaultFunc, error) {
	if f.IsRepeated() {
		switch e.kind {
		case eNull:
			return func(*Options, int) Value { return []Value{} }, nil
		case eArray:
		default:
			return nil, errors.New("a REPEATED column needs an array default")
		}
		if e.typ != "" && e.typ != f.Type {
			return nil, fmt.Errorf("ARRAY<%s> does not fit %s", e.typ, f.Type)
		}
		elem := *f
		elem.Mode = schema.Nullable
		var fns []DefaultFunc
		for _, el := range e.elems {
			if el.kind == eNull {
				return nil, errors.New("arrays cannot hold NULL")
			}
			fn, err := coerceScalar(el, &elem)
			if err != nil {
				return nil, err
			}
			fns = append(fns, fn)
		}
		return func(o *Options, row int) Value {
			out := make([]Value, len(fns))
			for i, fn := range fns {
				out[i] = fn(o, row)
			}
			return out
		}, nil
	}
	if e.kind == eArray {
		return nil, errors.New("an array does not fit a non-REPEATED column")
	}
	if e.kind == eNull && f.IsRequired() {
		return nil, errors.New("NULL does not fit a REQUIRED column")
	}
	return coerceScalar(e, f)
}

func coerceScalar(e *expr, f *schema.Field) (DefaultFunc, error) {
	if e.kind == eNull {
		return constant(nil), nil
	}
	if e.kind == eFunc {
		return funcDefault(e, f)
	}
	v, err := literalValue(e, f)
	if err != nil {
		return nil, err
	}
	if err := checkLength(v, f); err != nil {
		return nil, err
	}
	return constant(v), nil
}

func checkLength(v Value, f *schema.Field) error {
	if f.MaxLength <= 0 {
		return nil
	}
	switch x := v.(type) {
	case string:
		if n := utf8.RuneCountInString(x); int64(n) > f.MaxLength {
			return fmt.Errorf("value has length %d, more than maxLength %d", n, f.MaxLength)
		}
	case []byte:
		if int64(len(x)) > f.MaxLength {
			return fmt.Errorf("value has length %d, more than maxLength %d", len(x), f.MaxLength)
		}
	}
	return nil
}

// literalValue converts a constant expression to f's type.
func literalValue(e *expr, f *schema.Field) (Value, error) {
	mismatch := func() (Value, error) {
		return nil, fmt.Errorf("a %s does not fit a %s column", e.describe(), f.Type)
	}
	numText := func() string {
		if e.neg {
			return "-" + e.text
		}
		return e.text
	}
	wrap := func(v Value, err error) (Value, error) {
		if err != nil {
			return nil, errors.New(Describe(err))
		}
		return v, nil
	}
	src := e.kind
	text := e.text
	if src == eTyped {
		// A typed literal fits its own type, and DATE also fits DATETIME.
		if e.typ != f.Type && !(e.typ == schema.Date && f.Type == schema.DateTime) &&
			!(e.typ == schema.Numeric && f.Type == schema.BigNumeric) {
			return mismatch()
		}
		if e.typ == schema.Range && (f.RangeElementType == nil || f.RangeElementType.Type != e.rangeElem) {
			return mismatch()
		}
		src = eString
	}
	switch f.Type {
	case schema.Boolean:
		if src == eBool {
			return e.val, nil
		}
	case schema.Integer:
		if src == eInt {
			v, err := strconv.ParseInt(numText(), 0, 64)
			if err != nil {
				return nil, fmt.Errorf("integer %s out of range", numText())
			}
			return v, nil
		}
	case schema.Float:
		if src == eInt || src == eFloat {
			if strings.HasPrefix(strings.ToLower(e.text), "0x") {
				v, err := strconv.ParseInt(numText(), 0, 64)
				return float64(v), err
			}
			v, err := strconv.ParseFloat(numText(), 64)
			if err != nil {
				return nil, fmt.Errorf("bad float %s", numText())
			}
			return v, nil
		}
	case schema.Numeric, schema.BigNumeric:
		if src == eInt || src == eFloat || (src == eString && e.kind == eTyped) {
			t := text
			if src != eString {
				t = numText()
				if strings.HasPrefix(strings.ToLower(e.text), "0x") {
					v, err := strconv.ParseInt(t, 0, 64)
					if err != nil {
						return nil, err
					}
					t = strconv.FormatInt(v, 10)
				}
			}
			return wrap(ParseDecimal(t, DecimalParamsOf(f)))
		}
	case schema.String:
		if src == eString && e.kind == eString {
			if !utf8.ValidString(text) {
				return nil, errors.New("string literal is not valid UTF-8")
			}
			return text, nil
		}
	case schema.Bytes:
		if src == eBytes {
			return []byte(text), nil
		}
	case schema.Geography:
		if src == eString {
			if err := CheckGeography(text); err != nil {
				return nil, errors.New(Describe(err))
			}
			return text, nil
		}
	case schema.JSON:
		if src == eString {
			return wrap(CheckJSON(text))
		}
	case schema.Date:
		if src == eString {
			return wrap(ParseDate(text))
		}
	case schema.Time:
		if src == eString {
			return wrap(ParseTime(text))
		}
	case schema.DateTime:
		if src == eString {
			if e.kind == eTyped && e.typ == schema.Date {
				d, err := ParseDate(text)
				if err != nil {
					return wrap(nil, err)
				}
				return DateTime(int64(d) * dayUS), nil
			}
			return wrap(ParseDateTime(text))
		}
	case schema.Timestamp:
		if src == eString {
			return wrap(ParseTimestamp(text))
		}
	case schema.Interval:
		if src == eInterval {
			return e.val, nil
		}
		if src == eString {
			return wrap(ParseInterval(text))
		}
	case schema.Range:
		if src == eString && f.RangeElementType != nil {
			return wrap(ParseRange(text, f.RangeElementType.Type))
		}
	}
	return mismatch()
}

func (e *expr) describe() string {
	switch e.kind {
	case eBool:
		return "BOOL literal"
	case eInt:
		return "INT64 literal"
	case eFloat:
		return "FLOAT64 literal"
	case eString:
		return "STRING literal"
	case eBytes:
		return "BYTES literal"
	case eTyped:
		return string(e.typ) + " literal"
	case eInterval:
		return "INTERVAL literal"
	case eArray:
		return "ARRAY"
	}
	return "value"
}

func zoneOf(name string) (*time.Location, bool) {
	if strings.EqualFold(name, "UTC") || name == "Z" {
		return time.UTC, true
	}
	if name != "" && (name[0] == '+' || name[0] == '-') {
		off, ok := parseOffset(name)
		if !ok {
			return nil, false
		}
		return time.FixedZone(name, int(off)), true
	}
	return loadZone(name)
}

func nowOf(o *Options) time.Time {
	if o == nil {
		return time.Unix(0, 0).UTC()
	}
	return o.Now
}

// funcDefault builds the evaluator for a function call.
func funcDefault(e *expr, f *schema.Field) (DefaultFunc, error) {
	loc := time.UTC
	if e.zone != "" {
		loc, _ = zoneOf(e.zone)
	}
	civil := func(o *Options) (days, tod int64) {
		t := nowOf(o).In(loc)
		y, m, d := t.Date()
		days = daysFromCivil(y, int(m), d)
		tod = int64(t.Hour()*3600+t.Minute()*60+t.Second())*1000000 + int64(t.Nanosecond()/1000)
		return days, tod
	}
	switch {
	case e.name == "CURRENT_TIMESTAMP" && f.Type == schema.Timestamp:
		return func(o *Options, _ int) Value {
			ts, _ := TimestampFromTime(nowOf(o))
			return ts
		}, nil
	case e.name == "CURRENT_DATE" && f.Type == schema.Date:
		return func(o *Options, _ int) Value { d, _ := civil(o); return Date(d) }, nil
	case e.name == "CURRENT_DATE" && f.Type == schema.DateTime:
		return func(o *Options, _ int) Value { d, _ := civil(o); return DateTime(d * dayUS) }, nil
	case e.name == "CURRENT_DATETIME" && f.Type == schema.DateTime:
		return func(o *Options, _ int) Value { d, t := civil(o); return DateTime(d*dayUS + t) }, nil
	case e.name == "CURRENT_TIME" && f.Type == schema.Time:
		return func(o *Options, _ int) Value { _, t := civil(o); return TimeOfDay(t) }, nil
	case e.name == "GENERATE_UUID" && f.Type == schema.String:
		salt := fnv64(strings.ToLower(f.Name))
		return func(o *Options, row int) Value {
			var seed uint64
			if o != nil {
				seed = o.Seed
			}
			return uuidV4(seed, uint64(row), salt)
		}, nil
	case e.name == "SESSION_USER" && f.Type == schema.String:
		return constant(SessionUser), nil
	}
	return nil, fmt.Errorf("%s() does not fit a %s column", e.name, f.Type)
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// splitmix64 is a fast, well-mixed 64-bit bijection.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// uuidV4 derives a version-4 (random layout) UUID from its inputs.
func uuidV4(seed, row, salt uint64) string {
	a := splitmix64(seed ^ splitmix64(row) ^ salt)
	b := splitmix64(a ^ row ^ 0x5851f42d4c957f2d)
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], a)
	binary.BigEndian.PutUint64(u[8:], b)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
