package rowcodec

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/penstockdb/penstock/internal/schema"
)

// This file converts JSON scalar tokens into column values for the
// insertAll path. In validate mode (st.materialize false) conversions check
// and return nil, so nothing is boxed or copied.

// fromString converts the (unescaped) contents of a JSON string.
func (st *jstate) fromString(fd *jfield, typ schema.Type, s []byte) Value {
	mat := st.materialize
	switch typ {
	case schema.String:
		if fd.maxLen > 0 {
			if n := utf8.RuneCount(s); int64(n) > fd.maxLen {
				st.failLength("STRING", fd.maxLen, n)
				return nil
			}
		}
		if mat {
			return string(s)
		}
		return nil
	case schema.Bytes:
		b, ok := st.decodeBase64(s)
		if !ok {
			st.failValue("Could not decode base64 string to bytes")
			return nil
		}
		if fd.maxLen > 0 && int64(len(b)) > fd.maxLen {
			st.failLength("BYTES", fd.maxLen, len(b))
			return nil
		}
		if mat {
			return append([]byte{}, b...)
		}
		return nil
	case schema.Integer:
		v, ok := parseJSONInt(bstr(trimSpaceBytes(s)))
		if !ok {
			st.failValue("Invalid INT64 value: " + quoteValue(bstr(s)))
			return nil
		}
		if mat {
			return v
		}
		return nil
	case schema.Float:
		v, err := strconv.ParseFloat(bstr(trimSpaceBytes(s)), 64)
		if err != nil && !(math.IsInf(v, 0) && isInfText(s)) {
			st.failValue("Invalid FLOAT64 value: " + quoteValue(bstr(s)))
			return nil
		}
		if mat {
			return v
		}
		return nil
	case schema.Boolean:
		t := trimSpaceBytes(s)
		switch {
		case strings.EqualFold(bstr(t), "true"):
			return boolValue(mat, true)
		case strings.EqualFold(bstr(t), "false"):
			return boolValue(mat, false)
		}
		st.failValue("Invalid BOOL value: " + quoteValue(bstr(s)))
		return nil
	case schema.Timestamp:
		t := trimSpaceBytes(s)
		var ts Timestamp
		var err error
		if looksNumeric(t) {
			ts, err = secondsToTimestamp(bstr(t))
		} else {
			ts, err = ParseTimestamp(bstr(s))
		}
		return result(st, mat, ts, err)
	case schema.Numeric, schema.BigNumeric:
		d, err := ParseDecimal(bstr(s), fd.dec)
		return result(st, mat, d, err)
	case schema.Date:
		v, err := ParseDate(bstr(s))
		return result(st, mat, v, err)
	case schema.Time:
		v, err := ParseTime(bstr(s))
		return result(st, mat, v, err)
	case schema.DateTime:
		v, err := ParseDateTime(bstr(s))
		return result(st, mat, v, err)
	case schema.Interval:
		v, err := ParseInterval(bstr(s))
		return result(st, mat, v, err)
	case schema.Geography:
		if err := CheckGeography(bstr(s)); err != nil {
			st.failValue(Describe(err))
			return nil
		}
		if mat {
			return string(s)
		}
		return nil
	case schema.Range:
		v, err := ParseRange(bstr(s), fd.elem)
		return result(st, mat, v, err)
	}
	st.failValue("Unsupported column type " + string(typ))
	return nil
}

// result records err or returns v. It is generic so that validation
// (mat false) never boxes v into an interface.
func result[T any](st *jstate, mat bool, v T, err error) Value {
	if err != nil {
		st.failValue(Describe(err))
		return nil
	}
	if mat {
		return v
	}
	return nil
}

func boolValue(mat, b bool) Value {
	if mat {
		return b
	}
	return nil
}

func (st *jstate) failLength(typ string, max int64, got int) {
	m := strconv.FormatInt(max, 10)
	st.fail("Field %[1]s: " + typ + "(" + m + ") has maximum length " + m +
		" but got a value with length " + strconv.Itoa(got) + " on field %[1]s.")
}

// fromNumber converts a JSON number token.
func (st *jstate) fromNumber(fd *jfield, num []byte) Value {
	switch fd.typ {
	case schema.Integer, schema.Float, schema.Numeric, schema.BigNumeric, schema.Timestamp:
		return st.fromString(fd, fd.typ, num)
	case schema.String:
		// Numbers are stored as their JSON text.
		return st.fromString(fd, fd.typ, num)
	}
	st.failValue("Conversion from number to " + sqlName(fd.typ) + " is unsupported")
	return nil
}

// decodeBase64 accepts standard or URL-safe alphabets, padded or not, and
// decodes into st.b64 (valid until the next BYTES value).
func (st *jstate) decodeBase64(s []byte) ([]byte, bool) {
	encs := [...]*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}
	// Pick the alphabet and padding from the text to avoid trial decodes.
	url := false
	for _, c := range s {
		if c == '-' || c == '_' {
			url = true
			break
		}
	}
	padded := len(s) > 0 && s[len(s)-1] == '='
	k := 0
	if url {
		k = 2
	}
	if !padded {
		k++
	}
	enc := encs[k]
	need := enc.DecodedLen(len(s))
	if cap(st.b64) < need {
		st.b64 = make([]byte, need)
	}
	n, err := enc.Decode(st.b64[:need], s)
	if err != nil {
		return nil, false
	}
	return st.b64[:n], true
}

func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// isInfText reports whether s spells an infinity (ParseFloat returns a
// range error only for overflowing finite text).
func isInfText(s []byte) bool {
	t := strings.ToLower(bstr(trimSpaceBytes(s)))
	t = strings.TrimLeft(t, "+-")
	return t == "inf" || t == "infinity"
}

// looksNumeric reports whether s is a plain decimal number (seconds since
// the epoch) rather than a date.
func looksNumeric(s []byte) bool {
	_, _, st, _ := scanDecimal(bstr(s), 0, false)
	return st != scanBad
}

// parseJSONInt parses an INT64 from a JSON number or string: an integer
// literal, or any decimal literal whose value is a whole number ("1.0",
// "1e3"), within int64.
func parseJSONInt(s string) (int64, bool) {
	// Fast path: up to 18 digits cannot overflow.
	if n := len(s); n > 0 && n <= 19 {
		i, neg := 0, false
		if s[0] == '-' || s[0] == '+' {
			neg, i = s[0] == '-', 1
		}
		if i < n && n-i <= 18 {
			var v int64
			j := i
			for ; j < n && s[j] >= '0' && s[j] <= '9'; j++ {
				v = v*10 + int64(s[j]-'0')
			}
			if j == n {
				if neg {
					v = -v
				}
				return v, true
			}
		}
	}
	neg, mag, st, inexact := scanDecimal(s, 0, false)
	if st != scanOK || inexact || mag[1]|mag[2]|mag[3] != 0 {
		return 0, false
	}
	if neg {
		if mag[0] > 1<<63 {
			return 0, false
		}
		return int64(-mag[0]), true
	}
	if mag[0] > math.MaxInt64 {
		return 0, false
	}
	return int64(mag[0]), true
}

// secondsToTimestamp converts decimal seconds since the epoch (fractions
// allowed, rounded half away from zero to the microsecond).
func secondsToTimestamp(s string) (Timestamp, error) {
	neg, mag, st, _ := scanDecimal(s, 6, false)
	if st == scanBad {
		return 0, litErr(ErrSyntax, "Invalid timestamp: '%s'", quoteValue(s))
	}
	if st == scanOK && mag[1]|mag[2]|mag[3] == 0 && mag[0] <= math.MaxInt64 {
		us := int64(mag[0])
		if neg {
			us = -us
		}
		if ts := Timestamp(us); ValidTimestamp(ts) {
			return ts, nil
		}
	}
	return 0, litErr(ErrRange, "Timestamp field value is out of range: %s", quoteValue(s))
}

// rangeObject decodes {"start": v, "end": v} (keys in any case; null or
// absent = unbounded).
func (st *jstate) rangeObject(fd *jfield, depth int) (Value, error) {
	st.sc.i++ // '{'
	var bounds [2]Value
	ok := true
	if !st.sc.consume('}') {
		for {
			raw, esc, err := st.sc.readString()
			if err != nil {
				return nil, err
			}
			key := raw
			if esc {
				key = unescapeJSON(nil, raw)
			}
			if !st.sc.consume(':') {
				return nil, st.sc.fail("expected ':'")
			}
			slot := -1
			switch {
			case strings.EqualFold(bstr(key), "start"):
				slot = 0
			case strings.EqualFold(bstr(key), "end"):
				slot = 1
			}
			if slot < 0 {
				st.push(string(key), -1)
				st.fail("no such field: %[1]s.")
				st.pop()
				ok = false
				if err := st.sc.skipValue(depth + 1); err != nil {
					return nil, err
				}
			} else {
				st.push(strings.ToLower(string(key)), -1)
				v, good, err := st.rangeBound(fd)
				st.pop()
				if err != nil {
					return nil, err
				}
				bounds[slot] = v
				ok = ok && good
			}
			if st.sc.consume(',') {
				continue
			}
			if st.sc.consume('}') {
				break
			}
			return nil, st.sc.fail("expected ',' or '}'")
		}
	}
	if !ok {
		return nil, nil
	}
	r := RangeValue{Start: bounds[0], End: bounds[1]}
	if err := CheckRange(r); err != nil {
		st.failValue(Describe(err))
		return nil, nil
	}
	if st.materialize {
		return r, nil
	}
	return nil, nil
}

// rangeBound decodes one bound; it always materializes (bounds are needed
// for the start < end check).
func (st *jstate) rangeBound(fd *jfield) (Value, bool, error) {
	var v Value
	var err error
	switch st.sc.peek() {
	case 'n':
		return nil, true, st.sc.readLiteral("null")
	case '"':
		raw, esc, serr := st.sc.readString()
		if serr != nil {
			return nil, false, serr
		}
		if esc {
			raw = unescapeJSON(nil, raw)
		}
		if fd.elem == schema.Timestamp && looksNumeric(trimSpaceBytes(raw)) {
			v, err = secondsToTimestamp(bstr(trimSpaceBytes(raw)))
		} else {
			v, err = ParseRangeElement(bstr(raw), fd.elem)
		}
	default:
		if c := st.sc.peek(); c == '-' || c >= '0' && c <= '9' {
			num, nerr := st.sc.readNumber()
			if nerr != nil {
				return nil, false, nerr
			}
			if fd.elem != schema.Timestamp {
				st.failValue("Conversion from number to " + sqlName(fd.elem) + " is unsupported")
				return nil, false, nil
			}
			v, err = secondsToTimestamp(bstr(num))
		} else {
			st.failValue("Invalid RANGE bound")
			return nil, false, st.sc.skipValue(1)
		}
	}
	if err != nil {
		st.failValue(Describe(err))
		return nil, false, nil
	}
	return v, true, nil
}
