package rowcodec

import (
	"math"
	"strconv"
	"strings"

	"github.com/penstockdb/penstock/internal/schema"
)

// DecimalParams are the limits a NUMERIC or BIGNUMERIC column imposes on
// its values: the type itself, and optionally a parameterized precision
// and scale (NUMERIC(P[, S])) plus the column's rounding mode.
type DecimalParams struct {
	Big bool // BIGNUMERIC rather than NUMERIC
	// Precision is the total number of digits allowed; 0 means only the
	// type's own range applies.
	Precision int
	// Scale is the number of fractional digits values are rounded to. It
	// is 9 or 38 for unparameterized columns.
	Scale int
	// HalfEven selects ROUND_HALF_EVEN; the default is half away from zero.
	HalfEven bool
}

// DecimalParamsOf returns f's limits. f must be a NUMERIC or BIGNUMERIC
// field; NUMERIC(P) means scale 0, as in BigQuery.
func DecimalParamsOf(f *schema.Field) DecimalParams {
	p := DecimalParams{Big: f.Type == schema.BigNumeric, Scale: NumericScale}
	if p.Big {
		p.Scale = BigNumericScale
	}
	if f.Precision > 0 {
		p.Precision = int(f.Precision)
		p.Scale = int(f.Scale)
	}
	p.HalfEven = strings.EqualFold(f.RoundingMode, "ROUND_HALF_EVEN")
	return p
}

func typeParams(isBig bool) DecimalParams {
	if isBig {
		return DecimalParams{Big: true, Scale: BigNumericScale}
	}
	return DecimalParams{Scale: NumericScale}
}

func (p DecimalParams) typeName() string {
	if p.Big {
		return "BIGNUMERIC"
	}
	return "NUMERIC"
}

// ParseNumeric parses a decimal literal ("-12.5", "+1e-3", ".5", "7.")
// into a NUMERIC (big false) or BIGNUMERIC (big true), rounding half away
// from zero to the type's scale. Surrounding whitespace is ignored. It
// returns a *LiteralError wrapping ErrSyntax for bad text and
// ErrDecimalRange when the rounded value is outside the type's range.
func ParseNumeric(s string, big bool) (Decimal, error) {
	return ParseDecimal(s, typeParams(big))
}

// ParseDecimal is ParseNumeric for a column with limits p: the value is
// rounded once, straight to p.Scale, with p's rounding mode, and must fit
// p.Precision digits. Errors as for ParseNumeric.
func ParseDecimal(s string, p DecimalParams) (Decimal, error) {
	t := trimSpace(s)
	neg, mag, st, _ := scanDecimal(t, p.Scale, p.HalfEven)
	if st == scanBad {
		return Decimal{}, litErr(ErrSyntax, "Invalid %s value: %s", p.typeName(), quoteValue(s))
	}
	d, err := fromScaled(neg, mag, p)
	if st == scanOverflow || err != nil {
		return Decimal{}, litErr(ErrDecimalRange, "%s", rangeMsg(p, s))
	}
	return d, nil
}

func rangeMsg(p DecimalParams, s string) string {
	if p.Precision > 0 {
		return "Value " + quoteValue(s) + " exceeds the precision " + strconv.Itoa(p.Precision) +
			" and scale " + strconv.Itoa(p.Scale) + " of " + p.typeName()
	}
	return "Invalid " + p.typeName() + " value: " + quoteValue(s)
}

// fromScaled takes a magnitude scaled by 10^p.Scale, checks p.Precision and
// rescales to the type's scale.
func fromScaled(neg bool, mag u256, p DecimalParams) (Decimal, error) {
	typeScale := NumericScale
	if p.Big {
		typeScale = BigNumericScale
	}
	if p.Precision > 0 {
		if p.Precision >= len(pow10) || mag.cmp(pow10[p.Precision]) >= 0 {
			return Decimal{}, ErrDecimalRange
		}
	}
	for i := p.Scale; i < typeScale; i++ {
		var over bool
		if mag, over = mag.mulAdd(10, 0); over {
			return Decimal{}, ErrDecimalRange
		}
	}
	return decimalFromMag(neg, mag, p.Big)
}

// pow10[i] = 10^i for i in 0..77 (10^77 > 2^256 is left out).
var pow10 = func() []u256 {
	out := []u256{{1}}
	for {
		v, over := out[len(out)-1].mulAdd(10, 0)
		if over {
			return out
		}
		out = append(out, v)
	}
}()

// scanDecimal parses sign, digits, optional '.', digits, optional exponent,
// and returns the magnitude scaled by 10^scale, rounded; inexact reports
// that rounding dropped a non-zero digit.
func scanDecimal(s string, scale int, halfEven bool) (neg bool, mag u256, st scanStatus, inexact bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[intStart:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
	}
	if len(intPart)+len(frac) == 0 {
		return false, u256{}, scanBad, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if exp < 1<<20 {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == es {
			return false, u256{}, scanBad, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return false, u256{}, scanBad, false
	}
	// Digits D = intPart ++ frac; value = D × 10^(exp-len(frac)).
	digit := func(k int) byte {
		if k < len(intPart) {
			return intPart[k]
		}
		return frac[k-len(intPart)]
	}
	n := len(intPart) + len(frac)
	first := 0
	for first < n && digit(first) == '0' {
		first++
	}
	shift := exp - len(frac) + scale // unscaled = D × 10^shift
	keep := n + min(shift, 0)        // digits of D kept before rounding
	var over bool
	for k := first; k < keep; k++ {
		if mag, over = mag.mulAdd(10, uint64(digit(k)-'0')); over {
			return neg, mag, scanOverflow, false
		}
	}
	if shift > 0 && first < n {
		if shift > 77 {
			return neg, mag, scanOverflow, false
		}
		for ; shift > 0; shift-- {
			if mag, over = mag.mulAdd(10, 0); over {
				return neg, mag, scanOverflow, false
			}
		}
	}
	for k := max(keep, first); k < n; k++ {
		if digit(k) != '0' {
			inexact = true
			break
		}
	}
	if keep < n && keep >= 0 {
		// Round on the dropped digits D[keep:].
		up := false
		switch r := digit(keep); {
		case r > '5':
			up = true
		case r == '5':
			if !halfEven {
				up = true
			} else {
				for k := keep + 1; k < n; k++ {
					if digit(k) != '0' {
						up = true
						break
					}
				}
				if !up && mag[0]&1 == 1 {
					up = true
				}
			}
		}
		if up {
			if mag, over = mag.add1(); over {
				return neg, mag, scanOverflow, false
			}
		}
	}
	if mag.isZero() {
		neg = false
	}
	return neg, mag, scanOK, inexact
}

// scanStatus is scanDecimal's verdict.
type scanStatus int8

const (
	scanOK       scanStatus = iota
	scanBad                 // not a decimal literal
	scanOverflow            // a literal whose magnitude exceeds 256 bits
)

// Fit rounds d to p.Scale with p's rounding mode and checks p.Precision,
// returning the value at d's type scale. It is how values that arrive
// already scaled (proto bytes, integers, doubles) meet a parameterized
// column. The error is a *LiteralError wrapping ErrDecimalRange.
func (d Decimal) Fit(p DecimalParams) (Decimal, error) {
	neg, mag := d.w.abs()
	typeScale := d.Scale()
	if p.Scale < typeScale {
		var rem uint64
		var sticky bool
		for i := p.Scale; i < typeScale; i++ {
			if rem != 0 {
				sticky = true
			}
			mag, rem = mag.divmod(10)
		}
		up := rem > 5 || (rem == 5 && (!p.HalfEven || sticky || mag[0]&1 == 1))
		if up {
			mag, _ = mag.add1()
		}
	}
	p.Big = d.big
	out, err := fromScaled(neg, mag, p)
	if err != nil {
		return Decimal{}, litErr(ErrDecimalRange, "%s", rangeMsg(p, d.String()))
	}
	return out, nil
}

// DecimalFromScaledBytes decodes the proto wire form of a NUMERIC (big
// false, scale 9) or BIGNUMERIC (scale 38): the unscaled value as a
// two's-complement little-endian integer (spec §4.5). Longer encodings than
// the minimum are accepted when the extra bytes are sign extension. It
// returns a *LiteralError wrapping ErrSyntax for an empty or over-long
// input and ErrDecimalRange for a value outside the type's range.
func DecimalFromScaledBytes(b []byte, big bool) (Decimal, error) {
	name := typeParams(big).typeName()
	if len(b) == 0 {
		return Decimal{}, litErr(ErrSyntax, "Invalid %s encoding: empty bytes", name)
	}
	signExt := byte(0)
	if b[len(b)-1]&0x80 != 0 {
		signExt = 0xff
	}
	for len(b) > 32 {
		if b[len(b)-1] != signExt {
			return Decimal{}, litErr(ErrDecimalRange, "%s value out of range: %d-byte encoding", name, len(b))
		}
		b = b[:len(b)-1]
	}
	var w u256
	for i := 0; i < 32; i++ {
		c := signExt
		if i < len(b) {
			c = b[i]
		}
		w[i/8] |= uint64(c) << (8 * (i % 8))
	}
	neg, mag := w.abs()
	if len(b) == 32 && (b[31]&0x80 != 0) != (signExt != 0) {
		return Decimal{}, litErr(ErrDecimalRange, "%s value out of range", name)
	}
	d, err := decimalFromMag(neg, mag, big)
	if err != nil {
		return Decimal{}, litErr(ErrDecimalRange, "%s value out of range: %s", name, Decimal{w: w, big: true}.Unscaled())
	}
	return d, nil
}

// DecimalFromInt64 returns v as a NUMERIC or BIGNUMERIC; every int64 fits.
func DecimalFromInt64(v int64, big bool) Decimal {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	mag := u256{u}
	scale := NumericScale
	if big {
		scale = BigNumericScale
	}
	for i := 0; i < scale; i++ {
		mag, _ = mag.mulAdd(10, 0)
	}
	d, _ := decimalFromMag(neg, mag, big)
	return d
}

// DecimalFromFloat64 converts f through its shortest round-trip decimal
// text (so 0.1 becomes exactly 0.1), rounding half away from zero to the
// type's scale. NaN and ±Inf are ErrSyntax; values outside the range are
// ErrDecimalRange; both as *LiteralError.
func DecimalFromFloat64(f float64, big bool) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, litErr(ErrSyntax, "Invalid %s value: %v", typeParams(big).typeName(), f)
	}
	return ParseNumeric(strconv.FormatFloat(f, 'e', -1, 64), big)
}
