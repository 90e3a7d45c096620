package restapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// A single-pass parser for TableDataInsertAllRequest bodies. insertAll is
// the hot path of the REST API and its bodies are large (up to 10 MiB of
// rows): encoding/json would scan every row twice (validation, then
// decoding into RawMessages) and allocate per member. This parser
// validates the whole body strictly (RFC 8259) in one pass and keeps each
// row's json value as a sub-slice of the body, which the row codec then
// checks against the schema.
//
// Semantics match the encoding/json decoding it replaces: unknown members
// are skipped, null reads as absent, the last of duplicate members wins,
// kind and traceId are accepted and ignored, and insertId may also be a
// JSON number (kept as written).

// maxBodyDepth bounds the nesting of arrays and objects in a body.
const maxBodyDepth = 1000

// insertAllParser is the parsing state.
type insertAllParser struct {
	b []byte
	i int
}

// parseInsertAll parses an insertAll body into req. Errors wrap
// errBadRequest.
func parseInsertAll(data []byte, req *insertAllRequest) error {
	p := insertAllParser{b: data}
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return fmt.Errorf("%w: Invalid JSON payload received. Expected an object.", errBadRequest)
	}
	if err := p.body(req); err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.b) {
		return p.fail("unexpected data after the object")
	}
	return nil
}

func (p *insertAllParser) fail(what string) error {
	return fmt.Errorf("%w: Invalid JSON payload received. Syntax error at byte %d: %s.", errBadRequest, p.i, what)
}

func (p *insertAllParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// consume skips white space and c, reporting whether c was there.
func (p *insertAllParser) consume(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// members calls fn for each member of the object at the cursor, with the
// cursor on the member's value. key is valid only during the call.
func (p *insertAllParser) members(depth int, fn func(key []byte) error) error {
	if depth > maxBodyDepth {
		return p.fail("nested too deeply")
	}
	p.i++ // '{'
	if p.consume('}') {
		return nil
	}
	for {
		p.ws()
		raw, esc, err := p.str()
		if err != nil {
			return err
		}
		key := raw
		if esc {
			var s string
			if json.Unmarshal(p.b[p.i-len(raw)-2:p.i], &s) != nil {
				return p.fail("bad string")
			}
			key = []byte(s)
		}
		if !p.consume(':') {
			return p.fail("expected ':'")
		}
		p.ws()
		if err := fn(key); err != nil {
			return err
		}
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			return nil
		}
		return p.fail("expected ',' or '}'")
	}
}

// body parses the request object.
func (p *insertAllParser) body(req *insertAllRequest) error {
	return p.members(1, func(key []byte) error {
		switch string(key) {
		case "rows":
			return p.rows(req)
		case "skipInvalidRows":
			return p.boolean(&req.SkipInvalidRows)
		case "ignoreUnknownValues":
			return p.boolean(&req.IgnoreUnknownValues)
		case "templateSuffix":
			s, err := p.stringValue("templateSuffix", false)
			req.TemplateSuffix = s
			return err
		}
		_, err := p.skip(1)
		return err
	})
}

// rows parses the rows member: null or an array of row objects.
func (p *insertAllParser) rows(req *insertAllRequest) error {
	if p.null() {
		req.Rows = nil
		return nil
	}
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return fmt.Errorf("%w: Invalid JSON payload received. rows: want a list.", errBadRequest)
	}
	p.i++
	req.Rows = req.Rows[:0]
	if p.consume(']') {
		return nil
	}
	for {
		p.ws()
		var row insertAllRow
		switch {
		case p.null():
		case p.i < len(p.b) && p.b[p.i] == '{':
			if err := p.row(&row); err != nil {
				return err
			}
		case p.i >= len(p.b):
			return p.fail("unexpected end of input")
		default:
			return fmt.Errorf("%w: Invalid JSON payload received. rows[%d]: want an object.", errBadRequest, len(req.Rows))
		}
		req.Rows = append(req.Rows, row)
		if p.consume(',') {
			continue
		}
		if p.consume(']') {
			return nil
		}
		return p.fail("expected ',' or ']'")
	}
}

// row parses one element of rows.
func (p *insertAllParser) row(row *insertAllRow) error {
	return p.members(3, func(key []byte) error {
		switch string(key) {
		case "json":
			v, err := p.skip(3)
			if err != nil {
				return err
			}
			if string(v) == "null" {
				v = nil
			}
			row.JSON = v
			return nil
		case "insertId":
			s, err := p.stringValue("insertId", true)
			row.InsertID = s
			return err
		}
		_, err := p.skip(3)
		return err
	})
}

// null consumes a null literal at the cursor.
func (p *insertAllParser) null() bool {
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return true
	}
	return false
}

func (p *insertAllParser) boolean(dst *bool) error {
	switch {
	case p.null():
		*dst = false
	case bytes.HasPrefix(p.b[p.i:], []byte("true")):
		p.i += 4
		*dst = true
	case bytes.HasPrefix(p.b[p.i:], []byte("false")):
		p.i += 5
		*dst = false
	default:
		return p.fail("expected true, false or null")
	}
	return nil
}

// stringValue reads a string member (null reads as ""); numbers are
// accepted as their text when allowNumber.
func (p *insertAllParser) stringValue(name string, allowNumber bool) (string, error) {
	if p.null() {
		return "", nil
	}
	if p.i < len(p.b) && p.b[p.i] == '"' {
		start := p.i
		raw, esc, err := p.str()
		if err != nil {
			return "", err
		}
		if !esc && utf8.Valid(raw) {
			return string(raw), nil
		}
		var s string
		if json.Unmarshal(p.b[start:p.i], &s) != nil {
			return "", p.fail("bad string")
		}
		return s, nil
	}
	if allowNumber && p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] >= '0' && p.b[p.i] <= '9') {
		v, err := p.skip(3)
		return string(v), err
	}
	return "", fmt.Errorf("%w: Invalid JSON payload received. %s: want a string.", errBadRequest, name)
}

// str scans a string at the cursor (which must be '"') and returns its raw
// contents and whether they hold escapes.
func (p *insertAllParser) str() (raw []byte, esc bool, err error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false, p.fail("expected a string")
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw = p.b[start:p.i]
			p.i++
			return raw, esc, nil
		case c == '\\':
			esc = true
			p.i++
			if p.i >= len(p.b) {
				return nil, false, p.fail("unterminated string")
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if p.i+5 > len(p.b) {
					return nil, false, p.fail("bad \\u escape")
				}
				if _, err := strconv.ParseUint(string(p.b[p.i+1:p.i+5]), 16, 16); err != nil {
					return nil, false, p.fail("bad \\u escape")
				}
				p.i += 5
			default:
				return nil, false, p.fail("bad escape")
			}
		case c < 0x20:
			return nil, false, p.fail("control character in string")
		default:
			p.i++
		}
	}
	return nil, false, p.fail("unterminated string")
}

// skip validates the value at the cursor and returns its bytes.
func (p *insertAllParser) skip(depth int) ([]byte, error) {
	if depth > maxBodyDepth {
		return nil, p.fail("nested too deeply")
	}
	start := p.i
	if p.i >= len(p.b) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		err := p.members(depth, func([]byte) error { _, err := p.skip(depth + 1); return err })
		return p.b[start:p.i], err
	case c == '[':
		p.i++
		if !p.consume(']') {
			for {
				p.ws()
				if _, err := p.skip(depth + 1); err != nil {
					return nil, err
				}
				if p.consume(',') {
					continue
				}
				if p.consume(']') {
					break
				}
				return nil, p.fail("expected ',' or ']'")
			}
		}
	case c == '"':
		if _, _, err := p.str(); err != nil {
			return nil, err
		}
	case c == '-' || c >= '0' && c <= '9':
		if err := p.number(); err != nil {
			return nil, err
		}
	default:
		matched := false
		for _, lit := range [...]string{"true", "false", "null"} {
			if bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
				p.i += len(lit)
				matched = true
				break
			}
		}
		if !matched {
			return nil, p.fail("unexpected character")
		}
	}
	return p.b[start:p.i], nil
}

// number scans a JSON number.
func (p *insertAllParser) number() error {
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return p.fail("bad number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.fail("bad number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.fail("bad number")
		}
	}
	return nil
}
