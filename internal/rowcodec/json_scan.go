package rowcodec

import (
	"bytes"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner is a small allocation-free JSON tokenizer over one document.
// It validates as it goes (RFC 8259, UTF-8 strings) and hands out spans of
// the input, which keeps insertAll validation cheap: nothing is decoded
// into interface values, and strings are only unescaped when they contain
// escapes and the caller needs the text.
type jsonScanner struct {
	b []byte
	i int
}

// maxJSONDepth bounds nesting, both for rows and for JSON column values
// (BigQuery's JSON type allows 500 levels).
const maxJSONDepth = 500

// jsonSyntaxError is malformed JSON text.
type jsonSyntaxError struct {
	off int
	msg string
}

func (e *jsonSyntaxError) Error() string {
	return "Invalid JSON at byte " + strconv.Itoa(e.off) + ": " + e.msg
}

func (s *jsonScanner) fail(msg string) error { return &jsonSyntaxError{off: s.i, msg: msg} }

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// consume skips whitespace and consumes c if it is next.
func (s *jsonScanner) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// readString reads a string token at the cursor (after whitespace) and
// returns the bytes between the quotes and whether they contain escapes.
func (s *jsonScanner) readString() (raw []byte, esc bool, err error) {
	if s.peek() != '"' {
		return nil, false, s.fail("expected a string")
	}
	start := s.i + 1
	i := start
	for i < len(s.b) {
		c := s.b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s.b) {
				s.i = i
				return nil, false, s.fail("unterminated string")
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.b) || !isHex4(s.b[i+2:i+6]) {
					s.i = i
					return nil, false, s.fail("invalid \\u escape")
				}
				i += 6
			default:
				s.i = i
				return nil, false, s.fail("invalid escape")
			}
		case c < 0x20:
			s.i = i
			return nil, false, s.fail("control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(s.b[i:])
			if r == utf8.RuneError && n <= 1 {
				s.i = i
				return nil, false, s.fail("invalid UTF-8 in string")
			}
			i += n
		}
	}
	s.i = i
	return nil, false, s.fail("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		default:
			r = r<<4 | rune(c|0x20-'a'+10)
		}
	}
	return r
}

// unescapeJSON appends the decoded text of a validated string body. Lone
// surrogate escapes become U+FFFD, as encoding/json does.
func unescapeJSON(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(raw[i+2:])); r2 != utf8.RuneError {
						dst = utf8.AppendRune(dst, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // " \ /
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// readNumber reads a JSON number token and returns its text.
func (s *jsonScanner) readNumber() ([]byte, error) {
	s.ws()
	start, i := s.i, s.i
	b := s.b
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, s.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.fail("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.fail("invalid number")
		}
	}
	s.i = i
	return b[start:i], nil
}

// readLiteral consumes true, false or null.
func (s *jsonScanner) readLiteral(lit string) error {
	s.ws()
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// skipValue validates and skips one value.
func (s *jsonScanner) skipValue(depth int) error {
	if depth > maxJSONDepth {
		return s.fail("JSON nesting exceeds 500 levels")
	}
	switch c := s.peek(); c {
	case '{':
		s.i++
		if s.consume('}') {
			return nil
		}
		for {
			if _, _, err := s.readString(); err != nil {
				return err
			}
			if !s.consume(':') {
				return s.fail("expected ':'")
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			if s.consume(',') {
				continue
			}
			if s.consume('}') {
				return nil
			}
			return s.fail("expected ',' or '}'")
		}
	case '[':
		s.i++
		if s.consume(']') {
			return nil
		}
		for {
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			if s.consume(',') {
				continue
			}
			if s.consume(']') {
				return nil
			}
			return s.fail("expected ',' or ']'")
		}
	case '"':
		_, _, err := s.readString()
		return err
	case 't':
		return s.readLiteral("true")
	case 'f':
		return s.readLiteral("false")
	case 'n':
		return s.readLiteral("null")
	case 0:
		return s.fail("unexpected end of input")
	default:
		_, err := s.readNumber()
		return err
	}
}

// end reports an error unless only whitespace remains.
func (s *jsonScanner) end() error {
	if s.peek() != 0 {
		return s.fail("unexpected text after the value")
	}
	return nil
}

// CheckJSON validates JSON text for a JSON column and returns its
// canonical compact form: no insignificant whitespace, object members
// sorted by key (byte order) with only the first of duplicate keys kept,
// strings re-escaped minimally, numbers as written. Nesting is limited to
// 500 levels. Errors are *LiteralError wrapping ErrSyntax.
func CheckJSON(s string) (string, error) {
	out, err := appendCanonicalJSON(nil, []byte(s))
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// appendCanonicalJSON appends the canonical form of one JSON document.
func appendCanonicalJSON(dst, doc []byte) ([]byte, error) {
	sc := jsonScanner{b: doc}
	out, err := canonicalValue(dst, &sc, 0)
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return dst, litErr(ErrSyntax, "%s", err.Error())
	}
	return out, nil
}

// checkJSONText validates one JSON document exactly as appendCanonicalJSON
// would (same errors) without building the canonical form.
func checkJSONText(doc []byte) error {
	sc := jsonScanner{b: doc}
	err := sc.skipValue(0)
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return litErr(ErrSyntax, "%s", err.Error())
	}
	return nil
}

type jsonMember struct {
	key []byte // unescaped
	val []byte // canonical
}

func canonicalValue(dst []byte, s *jsonScanner, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return dst, s.fail("JSON nesting exceeds 500 levels")
	}
	switch c := s.peek(); c {
	case '{':
		s.i++
		var members []jsonMember
		if !s.consume('}') {
			for {
				raw, esc, err := s.readString()
				if err != nil {
					return dst, err
				}
				key := raw
				if esc {
					key = unescapeJSON(nil, raw)
				}
				if !s.consume(':') {
					return dst, s.fail("expected ':'")
				}
				val, err := canonicalValue(nil, s, depth+1)
				if err != nil {
					return dst, err
				}
				members = append(members, jsonMember{key, val})
				if s.consume(',') {
					continue
				}
				if s.consume('}') {
					break
				}
				return dst, s.fail("expected ',' or '}'")
			}
		}
		slices.SortStableFunc(members, func(a, b jsonMember) int { return bytes.Compare(a.key, b.key) })
		dst = append(dst, '{')
		for i, m := range members {
			if i > 0 && bytes.Equal(m.key, members[i-1].key) {
				continue // keep the first occurrence only
			}
			if len(dst) > 0 && dst[len(dst)-1] != '{' {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, m.key)
			dst = append(dst, ':')
			dst = append(dst, m.val...)
		}
		return append(dst, '}'), nil
	case '[':
		s.i++
		dst = append(dst, '[')
		if s.consume(']') {
			return append(dst, ']'), nil
		}
		for {
			var err error
			if dst, err = canonicalValue(dst, s, depth+1); err != nil {
				return dst, err
			}
			if s.consume(',') {
				dst = append(dst, ',')
				continue
			}
			if s.consume(']') {
				return append(dst, ']'), nil
			}
			return dst, s.fail("expected ',' or ']'")
		}
	case '"':
		raw, esc, err := s.readString()
		if err != nil {
			return dst, err
		}
		if esc {
			raw = unescapeJSON(nil, raw)
		}
		return appendJSONString(dst, raw), nil
	case 't', 'f', 'n':
		lit := "null"
		if c == 't' {
			lit = "true"
		} else if c == 'f' {
			lit = "false"
		}
		if err := s.readLiteral(lit); err != nil {
			return dst, err
		}
		return append(dst, lit...), nil
	case 0:
		return dst, s.fail("unexpected end of input")
	default:
		num, err := s.readNumber()
		if err != nil {
			return dst, err
		}
		return append(dst, num...), nil
	}
}

// appendJSONString appends s (valid UTF-8) as a JSON string literal,
// escaping only what JSON requires.
func appendJSONString[T ~string | ~[]byte](dst []byte, s T) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONStringValid is appendJSONString for text that may hold invalid
// UTF-8 (STRING values from proto rows): bad bytes become U+FFFD so the
// output is always valid JSON.
func appendJSONStringValid(dst []byte, s string) []byte {
	if utf8.ValidString(s) {
		return appendJSONString(dst, s)
	}
	return appendJSONString(dst, bytes.ToValidUTF8([]byte(s), []byte("\uFFFD")))
}
