package rowcodec

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// Scales of BigQuery's two decimal types: NUMERIC keeps 9 fractional
// digits, BIGNUMERIC 38.
const (
	NumericScale    = 9
	BigNumericScale = 38
)

// ErrDecimalRange reports a decimal value outside its type's range.
var ErrDecimalRange = errors.New("rowcodec: decimal value out of range")

// ErrSyntax reports a literal that does not follow the grammar of its type.
var ErrSyntax = errors.New("rowcodec: invalid literal")

// ErrRange reports a literal that parses but lies outside its type's range
// (dates before 0001-01-01, times past 23:59:59.999999, ...).
var ErrRange = errors.New("rowcodec: value out of range")

// Decimal is an exact NUMERIC or BIGNUMERIC value: an unscaled integer and
// the type's fixed scale (9 for NUMERIC, 38 for BIGNUMERIC).
//
// The unscaled integer is held as a 256-bit two's-complement number, which is
// exactly BIGNUMERIC's range, so Decimal is a comparable value type: two
// Decimals are == iff they have the same type and the same value. The zero
// Decimal is NUMERIC 0.
type Decimal struct {
	w   u256 // unscaled value, two's complement, little-endian words
	big bool // BIGNUMERIC (scale 38) rather than NUMERIC (scale 9)
}

// IsBig reports whether d is a BIGNUMERIC.
func (d Decimal) IsBig() bool { return d.big }

// Scale is the number of fractional digits of d's type: 9 or 38.
func (d Decimal) Scale() int {
	if d.big {
		return BigNumericScale
	}
	return NumericScale
}

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.w.neg():
		return -1
	case d.w.isZero():
		return 0
	}
	return 1
}

// Unscaled returns the unscaled integer: d = Unscaled × 10^-Scale.
func (d Decimal) Unscaled() *big.Int {
	neg, mag := d.w.abs()
	var b [32]byte
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			b[31-(i*8+j)] = byte(mag[i] >> (8 * j))
		}
	}
	v := new(big.Int).SetBytes(b[:])
	if neg {
		v.Neg(v)
	}
	return v
}

// DecimalFromUnscaled builds a Decimal from its unscaled integer. It returns
// an error wrapping ErrDecimalRange when v is outside the type's range.
func DecimalFromUnscaled(v *big.Int, isBig bool) (Decimal, error) {
	if v.BitLen() > 256 {
		return Decimal{}, fmt.Errorf("%w: %s", ErrDecimalRange, v)
	}
	var mag u256
	var b [32]byte
	v.FillBytes(b[:]) // magnitude, big-endian
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			mag[i] |= uint64(b[31-(i*8+j)]) << (8 * j)
		}
	}
	return decimalFromMag(v.Sign() < 0, mag, isBig)
}

// ScaledBytes returns the unscaled integer as minimal-length two's-complement
// little-endian bytes: the wire form of spec §4.5, the inverse of
// DecimalFromScaledBytes.
func (d Decimal) ScaledBytes() []byte {
	var b [32]byte
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			b[i*8+j] = byte(d.w[i] >> (8 * j))
		}
	}
	n := 32
	// Drop high bytes that only repeat the sign of the byte below them.
	for n > 1 {
		top, next := b[n-1], b[n-2]
		if (top == 0 && next&0x80 == 0) || (top == 0xff && next&0x80 != 0) {
			n--
			continue
		}
		break
	}
	out := make([]byte, n)
	copy(out, b[:n])
	return out
}

// Float64 returns the nearest float64 to d.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// String formats d as a plain decimal: optional '-', integer digits, and a
// fractional part without trailing zeros; no exponent; "0" for zero.
func (d Decimal) String() string {
	return string(d.Append(nil))
}

// Append appends String's text to dst.
func (d Decimal) Append(dst []byte) []byte {
	neg, mag := d.w.abs()
	var digits [80]byte
	n := mag.decimal(digits[:])
	ds := digits[len(digits)-n:]
	scale := d.Scale()
	if neg {
		dst = append(dst, '-')
	}
	if len(ds) <= scale {
		// Pure fraction.
		frac := trimZeros(ds)
		if len(frac) == 0 {
			return append(dst, '0') // zero is never negative in two's complement
		}
		dst = append(dst, '0', '.')
		for i := len(ds); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, frac...)
	}
	ip := len(ds) - scale
	dst = append(dst, ds[:ip]...)
	frac := trimZeros(ds[ip:])
	if len(frac) > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return dst
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// Interval is a BigQuery INTERVAL: a month count, a day count and a time
// part in microseconds. The three parts are independent (INTERVAL '0-0 0
// 25:0:0' stays 25 hours) and each carries its own sign.
//
// Precision is the microsecond; parsers drop finer fractions.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// Interval limits: ±10,000 years, ±3,660,000 days, ±87,840,000 hours.
const (
	MaxIntervalMonths = 10000 * 12
	MaxIntervalDays   = 3660000
	MaxIntervalMicros = 87840000 * 3600 * 1000000
)

// Valid reports whether every part of iv is within BigQuery's limits.
func (iv Interval) Valid() bool {
	return abs64(int64(iv.Months)) <= MaxIntervalMonths && abs64(int64(iv.Days)) <= MaxIntervalDays &&
		abs64(iv.Micros) <= MaxIntervalMicros
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// String formats iv canonically: "Y-M D H:M:S[.F]", where the year-month
// part has one leading sign, the day count its own, and the time part one
// leading sign; hours, minutes and seconds are not zero-padded and F has
// no trailing zeros. Example: "1-2 -3 -4:5:6.5".
func (iv Interval) String() string { return string(iv.Append(nil)) }

// Append appends String's text to dst.
func (iv Interval) Append(dst []byte) []byte {
	m := int64(iv.Months)
	if m < 0 {
		dst = append(dst, '-')
		m = -m
	}
	dst = strconv.AppendInt(dst, m/12, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, m%12, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(iv.Days), 10)
	dst = append(dst, ' ')
	us := iv.Micros
	if us < 0 {
		dst = append(dst, '-')
		us = -us
	}
	sec := us / 1000000
	dst = strconv.AppendInt(dst, sec/3600, 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, sec/60%60, 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, sec%60, 10)
	if f := us % 1000000; f != 0 {
		var buf [6]byte
		for i := 5; i >= 0; i-- {
			buf[i] = byte('0' + f%10)
			f /= 10
		}
		dst = append(dst, '.')
		dst = append(dst, trimZeros(buf[:])...)
	}
	return dst
}

// RangeValue is a RANGE<T> value. Start and End hold the element type's
// value (Date, DateTime or Timestamp); nil means unbounded. The range is
// half-open: [Start, End).
type RangeValue struct {
	Start, End Value
}

// --- 256-bit two's-complement arithmetic -----------------------------------

// u256 is a 256-bit integer, little-endian 64-bit words. Interpreted as
// unsigned magnitude or as two's complement depending on the caller.
type u256 [4]uint64

func (a u256) isZero() bool { return a[0]|a[1]|a[2]|a[3] == 0 }
func (a u256) neg() bool    { return a[3]>>63 != 0 }

func (a u256) negate() u256 {
	var r u256
	var c uint64 = 1
	for i := 0; i < 4; i++ {
		r[i], c = bits.Add64(^a[i], 0, c)
	}
	return r
}

// abs splits a two's-complement value into sign and magnitude. The
// magnitude of -2^255 is 2^255, which fits as an unsigned value.
func (a u256) abs() (bool, u256) {
	if a.neg() {
		return true, a.negate()
	}
	return false, a
}

// mulAdd returns a*m + add and whether the result overflowed 256 bits.
func (a u256) mulAdd(m, add uint64) (u256, bool) {
	var r u256
	carry := add
	for i := 0; i < 4; i++ {
		hi, lo := bits.Mul64(a[i], m)
		var c uint64
		r[i], c = bits.Add64(lo, carry, 0)
		carry = hi + c
	}
	return r, carry != 0
}

// cmp compares two unsigned values.
func (a u256) cmp(b u256) int {
	for i := 3; i >= 0; i-- {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// divmod10e19 divides an unsigned value by 10^19, returning the quotient and
// remainder.
func (a u256) divmod(d uint64) (u256, uint64) {
	var q u256
	var r uint64
	for i := 3; i >= 0; i-- {
		q[i], r = bits.Div64(r, a[i], d)
	}
	return q, r
}

// decimal writes the unsigned value's decimal digits right-aligned into buf
// (at least 78 bytes) and returns how many it wrote (at least 1).
func (a u256) decimal(buf []byte) int {
	const chunk = 1e19
	n := 0
	for {
		var r uint64
		a, r = a.divmod(chunk)
		last := a.isZero()
		for j := 0; j < 19; j++ {
			buf[len(buf)-1-n] = byte('0' + r%10)
			r /= 10
			n++
			if last && r == 0 {
				return n
			}
		}
	}
}

var (
	// numericMax is 10^38 - 1, NUMERIC's largest unscaled magnitude.
	numericMax = func() u256 {
		var v u256
		v[0] = 1
		for i := 0; i < 38; i++ {
			v, _ = v.mulAdd(10, 0)
		}
		return v.sub1()
	}()
	// bigPosMax is 2^255 - 1 and bigNegMax 2^255, BIGNUMERIC's magnitudes.
	bigPosMax = u256{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxInt64}
	bigNegMax = u256{0, 0, 0, 1 << 63}
)

func (a u256) sub1() u256 {
	var r u256
	var b uint64 = 1
	for i := 0; i < 4; i++ {
		r[i], b = bits.Sub64(a[i], 0, b)
	}
	return r
}

func (a u256) add1() (u256, bool) {
	var r u256
	var c uint64 = 1
	for i := 0; i < 4; i++ {
		r[i], c = bits.Add64(a[i], 0, c)
	}
	return r, c != 0
}

// decimalFromMag range-checks a sign and magnitude and builds the Decimal.
func decimalFromMag(neg bool, mag u256, isBig bool) (Decimal, error) {
	limit := numericMax
	if isBig {
		limit = bigPosMax
		if neg {
			limit = bigNegMax
		}
	}
	if mag.cmp(limit) > 0 {
		return Decimal{}, ErrDecimalRange
	}
	if neg {
		mag = mag.negate()
	}
	return Decimal{w: mag, big: isBig}, nil
}

// ToBig returns d as a BIGNUMERIC. Every NUMERIC value fits.
func (d Decimal) ToBig() Decimal {
	if d.big {
		return d
	}
	neg, mag := d.w.abs()
	for i := NumericScale; i < BigNumericScale; i++ {
		mag, _ = mag.mulAdd(10, 0)
	}
	out, _ := decimalFromMag(neg, mag, true)
	return out
}
