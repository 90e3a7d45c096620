package rowcodec

// This file parses default value expressions (see CompileDefault).

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/penstockdb/penstock/internal/schema"
)

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
