package rowcodec

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zone names must resolve even on hosts without zoneinfo
	"unicode/utf8"
)

// This file parses and formats the civil-time literals shared by the proto
// and JSON paths. Decisions where BigQuery's behaviour is not pinned down:
//
//   - Surrounding ASCII whitespace is ignored.
//   - Month, day, hour, minute and second may have one or two digits; the
//     year has exactly four.
//   - TIME and DATETIME accept up to 9 fractional digits, TIMESTAMP up to
//     12; digits past the sixth are dropped (truncation, not rounding).
//   - A TIMESTAMP second of 60 (a leap second) means second 0 of the next
//     minute, as BigQuery documents; TIME and DATETIME reject it.
//   - Range errors are checked after the zone is applied: a TIMESTAMP must
//     land in 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z.

// LiteralError is a literal that could not be converted. Msg is text in
// BigQuery's style that names the value but not the column; row-error
// builders append " on field <path>.". It unwraps to ErrSyntax, ErrRange
// or ErrDecimalRange.
type LiteralError struct {
	Kind error
	Msg  string
}

// Error returns Msg with the package prefix.
func (e *LiteralError) Error() string { return "rowcodec: " + e.Msg }

// Unwrap returns the error class (ErrSyntax, ErrRange, ErrDecimalRange).
func (e *LiteralError) Unwrap() error { return e.Kind }

// Describe returns err's user-facing text: Msg for a *LiteralError, else
// err.Error().
func Describe(err error) string {
	if le, ok := err.(*LiteralError); ok {
		return le.Msg
	}
	return err.Error()
}

func litErr(kind error, format string, args ...any) error {
	return &LiteralError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// quoteValue makes user input safe and short for an error message: valid
// UTF-8 (messages travel in proto strings) and at most ~100 bytes. The
// result never aliases s: the JSON path parses from views of its input.
func quoteValue(s string) string {
	const max = 100
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strings.Clone(strings.ToValidUTF8(s, "\uFFFD"))
}

// Civil-time ranges, in the units of each type.
const (
	MinDate Date = -719162     // 0001-01-01
	MaxDate Date = 2932896     // 9999-12-31
	dayUS        = 86400000000 // microseconds per day

	MaxTimeOfDay TimeOfDay = dayUS - 1 // 23:59:59.999999

	MinDateTime DateTime = DateTime(int64(MinDate) * dayUS)
	MaxDateTime DateTime = DateTime((int64(MaxDate)+1)*dayUS - 1)

	MinTimestamp Timestamp = Timestamp(MinDateTime) // -62135596800000000
	MaxTimestamp Timestamp = Timestamp(MaxDateTime) // 253402300799999999
)

// ValidDate reports whether d is in 0001-01-01 .. 9999-12-31.
func ValidDate(d Date) bool { return d >= MinDate && d <= MaxDate }

// ValidTime reports whether t is in 00:00:00 .. 23:59:59.999999.
func ValidTime(t TimeOfDay) bool { return t >= 0 && t <= MaxTimeOfDay }

// ValidDateTime reports whether dt is in 0001-01-01T00:00:00 ..
// 9999-12-31T23:59:59.999999.
func ValidDateTime(dt DateTime) bool { return dt >= MinDateTime && dt <= MaxDateTime }

// ValidTimestamp reports whether ts is in 0001-01-01T00:00:00Z ..
// 9999-12-31T23:59:59.999999Z.
func ValidTimestamp(ts Timestamp) bool { return ts >= MinTimestamp && ts <= MaxTimestamp }

// DateFromCivil returns the Date of a proleptic Gregorian y-m-d without
// validating it (see civilValid).
func DateFromCivil(y, m, d int) Date { return Date(daysFromCivil(y, m, d)) }

// Civil splits d into year, month (1-12) and day (1-31).
func (d Date) Civil() (y, m, day int) { return civilFromDays(int64(d)) }

// daysFromCivil is the classic era-based conversion (proleptic Gregorian).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func civilValid(y, m, d int) bool {
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// --- scanning helpers -------------------------------------------------------

// num reads between min and max ASCII digits at s[i:] and returns the value
// and the index after them.
func num(s string, i, min, max int) (v, j int, ok bool) {
	j = i
	for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
		v = v*10 + int(s[j]-'0')
		j++
	}
	return v, j, j-i >= min
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanDate reads YYYY-[M]M-[D]D at s[i:].
func scanDate(s string, i int) (y, m, d, j int, ok bool) {
	if y, j, ok = num(s, i, 4, 4); !ok || j >= len(s) || s[j] != '-' {
		return 0, 0, 0, 0, false
	}
	if m, j, ok = num(s, j+1, 1, 2); !ok || j >= len(s) || s[j] != '-' {
		return 0, 0, 0, 0, false
	}
	if d, j, ok = num(s, j+1, 1, 2); !ok {
		return 0, 0, 0, 0, false
	}
	return y, m, d, j, true
}

// clock is a parsed [H]H:[M]M[:[S]S[.F]] before range checks.
type clock struct {
	h, m, s int
	us      int64
}

// scanClock reads a clock at s[i:] allowing maxFrac fractional digits.
func scanClock(s string, i, maxFrac int) (c clock, j int, ok bool) {
	if c.h, j, ok = num(s, i, 1, 2); !ok || j >= len(s) || s[j] != ':' {
		return c, 0, false
	}
	if c.m, j, ok = num(s, j+1, 1, 2); !ok {
		return c, 0, false
	}
	if j < len(s) && s[j] == ':' {
		if c.s, j, ok = num(s, j+1, 1, 2); !ok {
			return c, 0, false
		}
		if j < len(s) && s[j] == '.' {
			k := j + 1
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				if k-j-1 < 6 {
					c.us = c.us*10 + int64(s[k]-'0')
				}
				k++
			}
			n := k - j - 1
			if n == 0 || n > maxFrac {
				return c, 0, false
			}
			for ; n < 6; n++ {
				c.us *= 10
			}
			j = k
		}
	}
	return c, j, true
}

func (c clock) valid(leap bool) bool {
	maxSec := 59
	if leap {
		maxSec = 60
	}
	return c.h <= 23 && c.m <= 59 && c.s <= maxSec
}

func (c clock) micros() int64 {
	return (int64(c.h)*3600+int64(c.m)*60+int64(c.s))*1000000 + c.us
}

// --- DATE, TIME, DATETIME -------------------------------------------------

// ParseDate parses "YYYY-[M]M-[D]D". It returns a *LiteralError (ErrSyntax)
// for bad syntax or an impossible calendar date such as 2023-02-29; years
// outside 0001..9999 cannot be written with four digits except 0000, which
// is rejected the same way.
func ParseDate(s string) (Date, error) {
	t := trimSpace(s)
	y, m, d, j, ok := scanDate(t, 0)
	if !ok || j != len(t) || !civilValid(y, m, d) {
		return 0, litErr(ErrSyntax, "Invalid date: '%s'", quoteValue(s))
	}
	return DateFromCivil(y, m, d), nil
}

// ParseTime parses "[H]H:[M]M[:[S]S[.F]]" with up to 9 fractional digits
// (kept to the microsecond). Hours run 0..23, minutes and seconds 0..59.
// Errors are *LiteralError wrapping ErrSyntax.
func ParseTime(s string) (TimeOfDay, error) {
	t := trimSpace(s)
	c, j, ok := scanClock(t, 0, 9)
	if !ok || j != len(t) || !c.valid(false) {
		return 0, litErr(ErrSyntax, "Invalid time: '%s'", quoteValue(s))
	}
	return TimeOfDay(c.micros()), nil
}

// ParseDateTime parses "YYYY-[M]M-[D]D[( |T)[H]H:[M]M[:[S]S[.F]]]" (T in
// either case, up to 9 fractional digits kept to the microsecond). A date
// alone means midnight. Errors are *LiteralError wrapping ErrSyntax.
func ParseDateTime(s string) (DateTime, error) {
	t := trimSpace(s)
	bad := func() (DateTime, error) {
		return 0, litErr(ErrSyntax, "Invalid datetime: '%s'", quoteValue(s))
	}
	y, m, d, j, ok := scanDate(t, 0)
	if !ok || !civilValid(y, m, d) {
		return bad()
	}
	var c clock
	if j < len(t) {
		if t[j] != ' ' && t[j] != 'T' && t[j] != 't' {
			return bad()
		}
		if c, j, ok = scanClock(t, j+1, 9); !ok || !c.valid(false) {
			return bad()
		}
	}
	if j != len(t) {
		return bad()
	}
	return DateTime(daysFromCivil(y, m, d)*dayUS + c.micros()), nil
}

// --- TIMESTAMP --------------------------------------------------------------

// zoneCache remembers zones that loaded successfully. Only valid IANA names
// are stored, so it is bounded by the tz database (~600 names); it is a
// cache of immutable data, not mutable package state.
var zoneCache sync.Map // string → *time.Location

func loadZone(name string) (*time.Location, bool) {
	if l, ok := zoneCache.Load(name); ok {
		return l.(*time.Location), true
	}
	if name == "" || name == "Local" || strings.ContainsAny(name, " \\") {
		return nil, false
	}
	name = strings.Clone(name) // callers may pass a view of a reused buffer
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zoneCache.Store(name, l)
	return l, true
}

// ParseTimestamp parses "YYYY-[M]M-[D]D[( |T)[H]H:[M]M[:[S]S[.F]]][zone]".
// zone is Z, UTC, ±H[H][[:]MM] or an IANA name such as America/New_York,
// optionally preceded by spaces; without a zone the value is UTC. Up to 12
// fractional digits are accepted and truncated to the microsecond; second
// 60 rolls into the next minute. Errors are *LiteralError: ErrSyntax for
// bad text ("Unrecognized timezone: X" for an unknown zone), ErrRange when
// the instant falls outside 0001-01-01 .. 9999-12-31T23:59:59.999999Z.
func ParseTimestamp(s string) (Timestamp, error) {
	t := trimSpace(s)
	bad := func() (Timestamp, error) {
		return 0, litErr(ErrSyntax, "Invalid timestamp: '%s'", quoteValue(s))
	}
	y, m, d, j, ok := scanDate(t, 0)
	if !ok || !civilValid(y, m, d) {
		return bad()
	}
	var c clock
	hasClock := false
	if j < len(t) && (t[j] == 'T' || t[j] == 't' || t[j] == ' ') {
		k := j + 1
		for k < len(t) && t[k] == ' ' {
			k++
		}
		if k < len(t) && t[k] >= '0' && t[k] <= '9' && (t[j] != ' ' || k == j+1) {
			if c, j, ok = scanClock(t, k, 12); !ok || !c.valid(true) {
				return bad()
			}
			hasClock = true
		}
	}
	// Zone.
	offset := int64(0) // seconds east of UTC
	var loc *time.Location
	if j < len(t) {
		k := j
		for k < len(t) && t[k] == ' ' {
			k++
		}
		if k == len(t) {
			return bad()
		}
		z := t[k:]
		switch {
		case z == "Z" || z == "z" || strings.EqualFold(z, "UTC"):
		case z[0] == '+' || z[0] == '-':
			if !hasClock && k == j {
				return bad() // "2024-01-02-05" is not a zone
			}
			off, ok := parseOffset(z)
			if !ok {
				return 0, litErr(ErrSyntax, "Unrecognized timezone: %s", quoteValue(z))
			}
			offset = off
		default:
			if k == j && hasClock && z[0] >= '0' && z[0] <= '9' {
				return bad()
			}
			if loc, ok = loadZone(z); !ok {
				return 0, litErr(ErrSyntax, "Unrecognized timezone: %s", quoteValue(z))
			}
		}
	}
	days := daysFromCivil(y, m, d)
	var us int64
	if loc != nil {
		// Resolve the civil time in the zone; time.Date picks one of two
		// instants in a DST fold and normalizes times in a gap forward.
		tm := time.Date(y, time.Month(m), d, c.h, c.m, c.s, 0, loc)
		us = tm.Unix()*1000000 + c.us
	} else {
		us = days*dayUS + c.micros() - offset*1000000
	}
	ts := Timestamp(us)
	if !ValidTimestamp(ts) {
		return 0, litErr(ErrRange, "Timestamp value is out of range: '%s'", quoteValue(s))
	}
	return ts, nil
}

// parseOffset reads ±H[H][[:]MM] as a whole string.
func parseOffset(z string) (int64, bool) {
	sign := int64(1)
	if z[0] == '-' {
		sign = -1
	}
	h, j, ok := num(z, 1, 1, 2)
	if !ok {
		return 0, false
	}
	mi := 0
	if j < len(z) {
		if z[j] == ':' {
			j++
		} else if j != 3 {
			return 0, false // "+5" then minutes needs a colon
		}
		if mi, j, ok = num(z, j, 2, 2); !ok {
			return 0, false
		}
	}
	if j != len(z) || h > 14 || mi > 59 || (h == 14 && mi > 0) {
		return 0, false
	}
	return sign * int64(h*3600+mi*60), true
}

// TimestampFromTime converts t to a Timestamp (truncating to the
// microsecond) and reports whether it is in range.
func TimestampFromTime(t time.Time) (Timestamp, bool) {
	us := t.Unix()*1000000 + int64(t.Nanosecond()/1000)
	ts := Timestamp(us)
	return ts, ValidTimestamp(ts)
}

// Time returns ts as a UTC time.Time.
func (ts Timestamp) Time() time.Time {
	return time.UnixMicro(int64(ts)).UTC()
}

// --- packed civil time (spec §4.5) --------------------------------------------

// PackedTime decodes the CivilTimeEncoder TIME layout: hour in bits 32-36,
// minute 26-31, second 20-25, microsecond 0-19. Bits 37 and up must be zero
// and every field in range; otherwise it returns a *LiteralError (ErrRange).
func PackedTime(v int64) (TimeOfDay, error) {
	if v < 0 || v>>37 != 0 {
		return 0, litErr(ErrRange, "Invalid packed TIME value: %d", v)
	}
	c := clock{h: int(v >> 32 & 0x1f), m: int(v >> 26 & 0x3f), s: int(v >> 20 & 0x3f), us: v & 0xfffff}
	if !c.valid(false) || c.us > 999999 {
		return 0, litErr(ErrRange, "Invalid packed TIME value: %d", v)
	}
	return TimeOfDay(c.micros()), nil
}

// PackedDateTime decodes the CivilTimeEncoder DATETIME layout: year in bits
// 46-59, month 42-45, day 37-41, then the TIME layout. Bits 60 and up must
// be zero and the date a real calendar date in 0001..9999; otherwise it
// returns a *LiteralError (ErrRange).
func PackedDateTime(v int64) (DateTime, error) {
	if v < 0 || v>>60 != 0 {
		return 0, litErr(ErrRange, "Invalid packed DATETIME value: %d", v)
	}
	y, m, d := int(v>>46&0x3fff), int(v>>42&0xf), int(v>>37&0x1f)
	tod, err := PackedTime(v & (1<<37 - 1))
	if err != nil || !civilValid(y, m, d) {
		return 0, litErr(ErrRange, "Invalid packed DATETIME value: %d", v)
	}
	return DateTime(daysFromCivil(y, m, d)*dayUS + int64(tod)), nil
}

// EncodePackedTime is PackedTime's inverse for a valid t.
func EncodePackedTime(t TimeOfDay) int64 {
	us := int64(t)
	sec := us / 1000000
	return sec/3600<<32 | sec/60%60<<26 | sec%60<<20 | us%1000000
}

// EncodePackedDateTime is PackedDateTime's inverse for a valid dt.
func EncodePackedDateTime(dt DateTime) int64 {
	days, tod := splitMicros(int64(dt))
	y, m, d := civilFromDays(days)
	return int64(y)<<46 | int64(m)<<42 | int64(d)<<37 | EncodePackedTime(TimeOfDay(tod))
}

// splitMicros splits microseconds since the epoch into whole days (floor)
// and microseconds into that day.
func splitMicros(us int64) (days, tod int64) {
	days = us / dayUS
	tod = us % dayUS
	if tod < 0 {
		days--
		tod += dayUS
	}
	return days, tod
}

// --- formatting ---------------------------------------------------------------

func appendPad(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || len(buf)-i < width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

// AppendDate appends "YYYY-MM-DD".
func AppendDate(dst []byte, d Date) []byte {
	y, m, day := civilFromDays(int64(d))
	if y < 0 {
		dst = append(dst, '-')
		y = -y
	}
	dst = appendPad(dst, int64(y), 4)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(m), 2)
	dst = append(dst, '-')
	return appendPad(dst, int64(day), 2)
}

// AppendTime appends "HH:MM:SS" or "HH:MM:SS.ffffff" (exactly 0 or 6
// fractional digits).
func AppendTime(dst []byte, t TimeOfDay) []byte {
	us := int64(t)
	sec := us / 1000000
	dst = appendPad(dst, sec/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, sec/60%60, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, sec%60, 2)
	if f := us % 1000000; f != 0 {
		dst = append(dst, '.')
		dst = appendPad(dst, f, 6)
	}
	return dst
}

// AppendDateTime appends "YYYY-MM-DDTHH:MM:SS[.ffffff]".
func AppendDateTime(dst []byte, dt DateTime) []byte {
	days, tod := splitMicros(int64(dt))
	dst = AppendDate(dst, Date(days))
	dst = append(dst, 'T')
	return AppendTime(dst, TimeOfDay(tod))
}

// AppendTimestamp appends RFC 3339 UTC: "YYYY-MM-DDTHH:MM:SS[.ffffff]Z",
// with the six fractional digits present only when non-zero.
func AppendTimestamp(dst []byte, ts Timestamp) []byte {
	return append(AppendDateTime(dst, DateTime(ts)), 'Z')
}

// FormatDate formats d as "YYYY-MM-DD".
func FormatDate(d Date) string { return string(AppendDate(nil, d)) }

// FormatTime formats t as "HH:MM:SS" or "HH:MM:SS.ffffff".
func FormatTime(t TimeOfDay) string { return string(AppendTime(nil, t)) }

// FormatDateTime formats dt as "YYYY-MM-DDTHH:MM:SS[.ffffff]".
func FormatDateTime(dt DateTime) string { return string(AppendDateTime(nil, dt)) }

// FormatTimestamp formats ts as RFC 3339 UTC with microseconds when
// non-zero, e.g. "2023-11-14T22:13:20.123456Z".
func FormatTimestamp(ts Timestamp) string { return string(AppendTimestamp(nil, ts)) }

// String implements fmt.Stringer with FormatDate.
func (d Date) String() string { return FormatDate(d) }

// String implements fmt.Stringer with FormatTime.
func (t TimeOfDay) String() string { return FormatTime(t) }

// String implements fmt.Stringer with FormatDateTime.
func (dt DateTime) String() string { return FormatDateTime(dt) }

// String implements fmt.Stringer with FormatTimestamp.
func (ts Timestamp) String() string { return FormatTimestamp(ts) }

// appendJavaDecimal appends a decimal number given as its digits and the
// position of the decimal point the way Java's Double.toString lays it out:
// plain notation ("1700.5", at least one fractional digit) for magnitudes
// in [1e-3, 1e7), otherwise "d.dddE±n". digits has no leading zeros and is
// non-empty; point is the number of digits before the decimal point (may be
// ≤ 0 or > len(digits)).
func appendJavaDecimal(dst []byte, neg bool, digits []byte, point int) []byte {
	digits = trimZeros(digits)
	if len(digits) == 0 {
		return append(dst, "0.0"...)
	}
	if neg {
		dst = append(dst, '-')
	}
	exp := point - 1 // scientific exponent
	if exp >= -3 && exp < 7 {
		if point <= 0 {
			dst = append(dst, '0', '.')
			for i := point; i < 0; i++ {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		}
		if point >= len(digits) {
			dst = append(dst, digits...)
			for i := len(digits); i < point; i++ {
				dst = append(dst, '0')
			}
			return append(dst, '.', '0')
		}
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		return append(dst, digits[point:]...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) > 1 {
		dst = append(dst, digits[1:]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}
