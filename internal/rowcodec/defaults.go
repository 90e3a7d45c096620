package rowcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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

// --- lexer --------------------------------------------------------------------

type tokKind int8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tBytes
	tPunct
)

type token struct {
	kind tokKind
	text string // identifier (upper-cased), number text, decoded string, punctuation
}

type exprParser struct {
	src string
	i   int
	tok token
	err error
}

func (p *exprParser) errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

func (p *exprParser) next() {
	if p.err != nil {
		p.tok = token{kind: tEOF}
		return
	}
	s := p.src
	for p.i < len(s) && isSpace(s[p.i]) {
		p.i++
	}
	if p.i >= len(s) {
		p.tok = token{kind: tEOF}
		return
	}
	c := s[p.i]
	switch {
	case c == '\'' || c == '"':
		txt, err := p.quoted(false)
		p.tok, p.err = token{kind: tString, text: txt}, err
	case isIdentStart(c):
		j := p.i
		for j < len(s) && (isIdentStart(s[j]) || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		word := strings.ToUpper(s[p.i:j])
		if j < len(s) && (s[j] == '\'' || s[j] == '"') && (word == "B" || word == "R" || word == "RB" || word == "BR") {
			p.i = j
			txt, err := p.quoted(strings.Contains(word, "R"))
			kind := tString
			if strings.Contains(word, "B") {
				kind = tBytes
			}
			p.tok, p.err = token{kind: kind, text: txt}, err
			return
		}
		p.i = j
		p.tok = token{kind: tIdent, text: word}
	case c >= '0' && c <= '9' || c == '.' && p.i+1 < len(s) && s[p.i+1] >= '0' && s[p.i+1] <= '9':
		j := p.i
		if c == '0' && j+1 < len(s) && s[j+1]|0x20 == 'x' {
			j += 2
			for j < len(s) && isHexDigit(s[j]) {
				j++
			}
		} else {
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			if j < len(s) && s[j]|0x20 == 'e' {
				j++
				if j < len(s) && (s[j] == '+' || s[j] == '-') {
					j++
				}
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
		}
		p.tok = token{kind: tNumber, text: s[p.i:j]}
		p.i = j
	default:
		p.tok = token{kind: tPunct, text: s[p.i : p.i+1]}
		p.i++
	}
}

func isIdentStart(c byte) bool { return c == '_' || c|0x20 >= 'a' && c|0x20 <= 'z' }
func isHexDigit(c byte) bool   { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

// quoted reads a GoogleSQL quoted literal at p.i ('..', "..", ”'..”',
// """..."""), decoding escapes unless raw.
func (p *exprParser) quoted(raw bool) (string, error) {
	s := p.src
	q := s[p.i : p.i+1]
	if strings.HasPrefix(s[p.i:], q+q+q) {
		q = q + q + q
	}
	p.i += len(q)
	var b strings.Builder
	for p.i < len(s) {
		if strings.HasPrefix(s[p.i:], q) {
			p.i += len(q)
			return b.String(), nil
		}
		c := s[p.i]
		if c == '\n' && len(q) == 1 {
			return "", p.errorf("newline in string literal")
		}
		if c != '\\' {
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(s) {
			break
		}
		if raw {
			b.WriteString(s[p.i : p.i+2])
			p.i += 2
			continue
		}
		e := s[p.i+1]
		p.i += 2
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"', '`', '?':
			b.WriteByte(e)
		case 'x', 'X', 'u', 'U':
			n := map[byte]int{'x': 2, 'X': 2, 'u': 4, 'U': 8}[e]
			if p.i+n > len(s) {
				return "", p.errorf("bad escape")
			}
			v, err := strconv.ParseUint(s[p.i:p.i+n], 16, 32)
			if err != nil {
				return "", p.errorf("bad escape")
			}
			p.i += n
			if n == 2 {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
		default:
			if e >= '0' && e <= '7' && p.i+1 < len(s) {
				v, err := strconv.ParseUint(s[p.i-1:p.i+2], 8, 8)
				if err != nil {
					return "", p.errorf("bad escape")
				}
				b.WriteByte(byte(v))
				p.i += 2
				continue
			}
			return "", p.errorf("bad escape \\%c", e)
		}
	}
	return "", p.errorf("unterminated string literal")
}

// --- parser -------------------------------------------------------------------

// exprKind is what an expression evaluates to before coercion.
type exprKind int8

const (
	eNull exprKind = iota
	eBool
	eInt      // text holds the literal
	eFloat    // text holds the literal
	eString   // text holds the decoded string
	eBytes    // text holds the bytes
	eTyped    // typ + text: a typed literal such as DATE '...'
	eInterval // val holds an Interval
	eArray
	eFunc // name holds the function
)

type expr struct {
	kind      exprKind
	text      string
	neg       bool
	typ       schema.Type // eTyped, eArray element type (optional), RANGE element (rangeOf)
	rangeElem schema.Type
	val       Value
	elems     []*expr
	name      string
	zone      string
}

func (p *exprParser) expect(punct string) error {
	if p.tok.kind != tPunct || p.tok.text != punct {
		return p.errorf("expected %q", punct)
	}
	p.next()
	return p.err
}

func (p *exprParser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.text == s }

func (p *exprParser) expr() (*expr, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.isPunct("(") {
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	if p.isPunct("-") || p.isPunct("+") {
		neg := p.tok.text == "-"
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		switch e.kind {
		case eInt, eFloat:
			e.neg = e.neg != neg
		case eInterval:
			if neg {
				iv := e.val.(Interval)
				e.val = Interval{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}
			}
		default:
			return nil, p.errorf("unary minus needs a number or interval")
		}
		return e, nil
	}
	t := p.tok
	switch t.kind {
	case tNumber:
		p.next()
		if strings.ContainsAny(t.text, ".eE") && !strings.HasPrefix(strings.ToLower(t.text), "0x") {
			return &expr{kind: eFloat, text: t.text}, p.err
		}
		return &expr{kind: eInt, text: t.text}, p.err
	case tString:
		p.next()
		return &expr{kind: eString, text: t.text}, p.err
	case tBytes:
		p.next()
		return &expr{kind: eBytes, text: t.text}, p.err
	case tPunct:
		if t.text == "[" {
			return p.array(nil)
		}
		return nil, p.errorf("unexpected %q", t.text)
	case tEOF:
		return nil, p.errorf("empty expression")
	}
	// Identifier.
	p.next()
	switch t.text {
	case "NULL":
		return &expr{kind: eNull}, p.err
	case "TRUE", "FALSE":
		return &expr{kind: eBool, val: t.text == "TRUE"}, p.err
	case "ARRAY":
		var elem *schema.Type
		if p.isPunct("<") {
			p.next()
			et, err := p.typeName()
			if err != nil {
				return nil, err
			}
			elem = &et
			if err := p.expect(">"); err != nil {
				return nil, err
			}
		}
		return p.array(elem)
	case "INTERVAL":
		return p.interval()
	case "RANGE":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		et, err := p.typeName()
		if err != nil {
			return nil, err
		}
		if err := p.expect(">"); err != nil {
			return nil, err
		}
		if p.tok.kind != tString {
			return nil, p.errorf("RANGE needs a string literal")
		}
		s := p.tok.text
		p.next()
		return &expr{kind: eTyped, typ: schema.Range, rangeElem: et, text: s}, p.err
	case "CAST":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		inner, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tIdent || p.tok.text != "AS" {
			return nil, p.errorf("expected AS")
		}
		p.next()
		to, err := p.typeName()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		switch inner.kind {
		case eString, eInt, eFloat, eTyped:
			txt := inner.text
			if inner.neg {
				txt = "-" + txt
			}
			return &expr{kind: eTyped, typ: to, text: txt}, nil
		case eNull:
			return inner, nil
		}
		return nil, p.errorf("CAST supports literals only")
	case "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_DATETIME", "CURRENT_TIME", "GENERATE_UUID", "SESSION_USER":
		e := &expr{kind: eFunc, name: t.text}
		if p.isPunct("(") {
			p.next()
			if p.tok.kind == tString && t.text != "CURRENT_TIMESTAMP" && t.text != "GENERATE_UUID" && t.text != "SESSION_USER" {
				e.zone = p.tok.text
				if _, ok := zoneOf(e.zone); !ok {
					return nil, p.errorf("unknown time zone %q", e.zone)
				}
				p.next()
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		} else if t.text == "GENERATE_UUID" || t.text == "SESSION_USER" {
			return nil, p.errorf("%s needs parentheses", t.text)
		}
		return e, p.err
	}
	if typ, ok := schema.ParseType(t.text); ok && p.tok.kind == tString {
		switch typ {
		case schema.Date, schema.Time, schema.DateTime, schema.Timestamp, schema.Numeric, schema.BigNumeric, schema.JSON:
			s := p.tok.text
			p.next()
			return &expr{kind: eTyped, typ: typ, text: s}, p.err
		}
	}
	return nil, p.errorf("unsupported expression starting at %s", t.text)
}

func (p *exprParser) typeName() (schema.Type, error) {
	if p.tok.kind != tIdent {
		return "", p.errorf("expected a type name")
	}
	t, ok := schema.ParseType(p.tok.text)
	if !ok {
		return "", p.errorf("unknown type %s", p.tok.text)
	}
	p.next()
	return t, p.err
}

func (p *exprParser) array(elem *schema.Type) (*expr, error) {
	if err := p.expect("["); err != nil {
		return nil, err
	}
	e := &expr{kind: eArray}
	if elem != nil {
		e.typ = *elem
	}
	if p.isPunct("]") {
		p.next()
		return e, p.err
	}
	for {
		el, err := p.expr()
		if err != nil {
			return nil, err
		}
		e.elems = append(e.elems, el)
		if p.isPunct(",") {
			p.next()
			continue
		}
		return e, p.expect("]")
	}
}

// interval parses INTERVAL 'literal' or INTERVAL n UNIT.
func (p *exprParser) interval() (*expr, error) {
	if p.tok.kind == tString {
		iv, err := ParseInterval(p.tok.text)
		if err != nil {
			return nil, errors.New(Describe(err))
		}
		p.next()
		return &expr{kind: eInterval, val: iv}, p.err
	}
	neg := false
	if p.isPunct("-") {
		neg = true
		p.next()
	}
	if p.tok.kind != tNumber {
		return nil, p.errorf("INTERVAL needs a string or an integer")
	}
	n, err := strconv.ParseInt(p.tok.text, 10, 64)
	if err != nil {
		return nil, p.errorf("bad INTERVAL count %s", p.tok.text)
	}
	if neg {
		n = -n
	}
	p.next()
	if p.tok.kind != tIdent {
		return nil, p.errorf("INTERVAL needs a unit")
	}
	unit := p.tok.text
	p.next()
	var iv Interval
	const big = 1 << 40
	if n > big || n < -big {
		return nil, p.errorf("INTERVAL out of range")
	}
	switch unit {
	case "YEAR":
		iv.Months = int32(max(min(n*12, math.MaxInt32), math.MinInt32))
	case "QUARTER":
		iv.Months = int32(max(min(n*3, math.MaxInt32), math.MinInt32))
	case "MONTH":
		iv.Months = int32(max(min(n, math.MaxInt32), math.MinInt32))
	case "WEEK":
		iv.Days = int32(max(min(n*7, math.MaxInt32), math.MinInt32))
	case "DAY":
		iv.Days = int32(max(min(n, math.MaxInt32), math.MinInt32))
	case "HOUR":
		iv.Micros = n * 3600000000
	case "MINUTE":
		iv.Micros = n * 60000000
	case "SECOND":
		iv.Micros = n * 1000000
	case "MILLISECOND":
		iv.Micros = n * 1000
	case "MICROSECOND":
		iv.Micros = n
	default:
		return nil, p.errorf("unsupported INTERVAL unit %s", unit)
	}
	if !iv.Valid() {
		return nil, p.errorf("INTERVAL out of range")
	}
	return &expr{kind: eInterval, val: iv}, p.err
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
