package rowcodec

import "strings"

// ParseInterval parses an INTERVAL literal in one of two forms:
//
//   - canonical "[-]Y-M [-]D [-]H:M:S[.F]" (what BigQuery and the clients
//     print): the sign before Y applies to years and months together, the
//     one before H to the whole time part; M is 0..11, minutes and seconds
//     0..59, hours unbounded up to the interval limit;
//   - ISO 8601 duration "P[nY][nM][nW][nD][T[nH][nM][n[.f]S]]" where every
//     n may carry its own sign and a leading '-' before P negates all.
//
// Fractional seconds keep up to 9 digits of which the first 6 are used.
// The result must be within Interval's limits. Errors are *LiteralError
// wrapping ErrSyntax or ErrRange.
func ParseInterval(s string) (Interval, error) {
	t := trimSpace(s)
	var iv Interval
	var ok bool
	if strings.HasPrefix(t, "P") || strings.HasPrefix(t, "p") || strings.HasPrefix(t, "-P") || strings.HasPrefix(t, "-p") {
		iv, ok = parseISOInterval(t)
	} else {
		iv, ok = parseCanonicalInterval(t)
	}
	if !ok {
		return Interval{}, litErr(ErrSyntax, "Invalid INTERVAL value: '%s'", quoteValue(s))
	}
	if !iv.Valid() {
		return Interval{}, litErr(ErrRange, "Interval value is out of range: '%s'", quoteValue(s))
	}
	return iv, nil
}

// intervalBound caps any single component before it is combined, so the
// arithmetic cannot overflow; anything larger is out of range anyway.
const intervalBound = int64(MaxIntervalMicros/1000000 + 1)

func signedNum(s string, i int, max int) (v int64, j int, ok bool) {
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	j = i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < max {
		v = v*10 + int64(s[j]-'0')
		j++
	}
	if j == i || (j < len(s) && s[j] >= '0' && s[j] <= '9') {
		return 0, 0, false
	}
	if neg {
		v = -v
	}
	return v, j, true
}

// scanFrac reads ".digits" (1..9 digits) at s[i:] as microseconds.
func scanFrac(s string, i int) (us int64, j int, ok bool) {
	if i >= len(s) || s[i] != '.' {
		return 0, i, true
	}
	j = i + 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		if j-i-1 < 6 {
			us = us*10 + int64(s[j]-'0')
		}
		j++
	}
	n := j - i - 1
	if n == 0 || n > 9 {
		return 0, 0, false
	}
	for ; n < 6; n++ {
		us *= 10
	}
	return us, j, true
}

func parseCanonicalInterval(s string) (Interval, bool) {
	parts := strings.Split(s, " ")
	if len(parts) != 3 {
		return Interval{}, false
	}
	// Y-M
	ym := parts[0]
	neg := false
	if ym != "" && (ym[0] == '-' || ym[0] == '+') {
		neg = ym[0] == '-'
		ym = ym[1:]
	}
	y, j, ok := signedNum(ym, 0, 6)
	if !ok || ym[0] == '-' || ym[0] == '+' || j >= len(ym) || ym[j] != '-' {
		return Interval{}, false
	}
	mo, k, ok := signedNum(ym, j+1, 2)
	if !ok || k != len(ym) || ym[j+1] == '-' || ym[j+1] == '+' || mo > 11 {
		return Interval{}, false
	}
	months := y*12 + mo
	if neg {
		months = -months
	}
	// D
	d, k, ok := signedNum(parts[1], 0, 8)
	if !ok || k != len(parts[1]) {
		return Interval{}, false
	}
	// [-]H:M:S[.F]
	hms := parts[2]
	tneg := false
	if hms != "" && (hms[0] == '-' || hms[0] == '+') {
		tneg = hms[0] == '-'
		hms = hms[1:]
	}
	if hms == "" || hms[0] < '0' || hms[0] > '9' {
		return Interval{}, false
	}
	h, j, ok := signedNum(hms, 0, 12)
	if !ok || j >= len(hms) || hms[j] != ':' {
		return Interval{}, false
	}
	mi, j2, ok := num(hms, j+1, 1, 2)
	if !ok || j2 >= len(hms) || hms[j2] != ':' || mi > 59 {
		return Interval{}, false
	}
	sec, j3, ok := num(hms, j2+1, 1, 2)
	if !ok || sec > 59 {
		return Interval{}, false
	}
	us, j4, ok := scanFrac(hms, j3)
	if !ok || j4 != len(hms) || h > intervalBound/3600 {
		return Interval{}, false
	}
	if months < -MaxIntervalMonths-1 || months > MaxIntervalMonths+1 || d < -MaxIntervalDays-1 || d > MaxIntervalDays+1 {
		return Interval{Months: MaxIntervalMonths + 1}, true // reported as out of range
	}
	micros := (h*3600+int64(mi)*60+int64(sec))*1000000 + us
	if tneg {
		micros = -micros
	}
	return Interval{Months: int32(months), Days: int32(d), Micros: micros}, true
}

func parseISOInterval(s string) (Interval, bool) {
	negAll := false
	if s[0] == '-' {
		negAll = true
		s = s[1:]
	}
	s = s[1:] // P
	var months, days, micros int64
	inTime := false
	seen := false
	order := 0 // units must appear in order
	for i := 0; i < len(s); {
		if s[i] == 'T' || s[i] == 't' {
			if inTime || i+1 >= len(s) {
				return Interval{}, false
			}
			inTime = true
			i++
			continue
		}
		v, j, ok := signedNum(s, i, 12)
		if !ok || j >= len(s) {
			return Interval{}, false
		}
		if v > intervalBound || v < -intervalBound {
			return Interval{}, false
		}
		var frac int64
		if s[j] == '.' {
			if frac, j, ok = scanFrac(s, j); !ok || j >= len(s) || (s[j] != 'S' && s[j] != 's') {
				return Interval{}, false
			}
			if v < 0 || (v == 0 && s[i] == '-') {
				frac = -frac
			}
		}
		unit := s[j] | 0x20 // lower case
		rank := 0
		switch {
		case !inTime && unit == 'y':
			rank, months = 1, months+v*12
		case !inTime && unit == 'm':
			rank, months = 2, months+v
		case !inTime && unit == 'w':
			rank, days = 3, days+v*7
		case !inTime && unit == 'd':
			rank, days = 4, days+v
		case inTime && unit == 'h':
			if abs64(v) > MaxIntervalMicros/3600000000+1 {
				return Interval{}, false
			}
			rank, micros = 5, micros+v*3600000000
		case inTime && unit == 'm':
			if abs64(v) > MaxIntervalMicros/60000000+1 {
				return Interval{}, false
			}
			rank, micros = 6, micros+v*60000000
		case inTime && unit == 's':
			rank, micros = 7, micros+v*1000000+frac
		default:
			return Interval{}, false
		}
		if rank <= order {
			return Interval{}, false
		}
		order, seen = rank, true
		i = j + 1
	}
	if !seen {
		return Interval{}, false
	}
	if negAll {
		months, days, micros = -months, -days, -micros
	}
	if months < -MaxIntervalMonths-1 || months > MaxIntervalMonths+1 || days < -MaxIntervalDays-1 || days > MaxIntervalDays+1 {
		return Interval{Months: MaxIntervalMonths + 1}, true // reported as out of range
	}
	return Interval{Months: int32(months), Days: int32(days), Micros: micros}, true
}
