package rowcodec_test

import (
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // formatted; "" = error
		days int32
	}{
		{"1970-01-01", "1970-01-01", 0},
		{"0001-01-01", "0001-01-01", -719162},
		{"9999-12-31", "9999-12-31", 2932896},
		{"2024-2-29", "2024-02-29", 19782},
		{" 2000-02-29 ", "2000-02-29", 11016},
		{"1969-12-31", "1969-12-31", -1},
		{"2023-02-29", "", 0},
		{"1900-02-29", "", 0},
		{"2024-02-30", "", 0},
		{"0000-12-31", "", 0},
		{"10000-01-01", "", 0},
		{"2024-13-01", "", 0},
		{"2024-01-01T00:00", "", 0},
		{"24-01-01", "", 0},
		{"2024/01/01", "", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		d, err := rowcodec.ParseDate(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, rowcodec.ErrSyntax) {
				t.Errorf("ParseDate(%q) = %v, %v; want ErrSyntax", tt.in, d, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDate(%q): %v", tt.in, err)
			continue
		}
		if got := rowcodec.FormatDate(d); got != tt.want || int32(d) != tt.days {
			t.Errorf("ParseDate(%q) = %s (%d), want %s (%d)", tt.in, got, d, tt.want, tt.days)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"00:00:00", "00:00:00"},
		{"23:59:59.999999", "23:59:59.999999"},
		{"1:2:3", "01:02:03"},
		{"12:30", "12:30:00"},
		{"12:30:15.5", "12:30:15.500000"},
		{"12:30:15.123456789", "12:30:15.123456"},
		{"24:00:00", ""},
		{"23:60:00", ""},
		{"23:59:60", ""},
		{"12:30:15.", ""},
		{"12:30:15.1234567890", ""},
		{"12", ""},
		{"12:30:15Z", ""},
	}
	for _, tt := range tests {
		v, err := rowcodec.ParseTime(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseTime(%q) = %v, want error", tt.in, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if got := rowcodec.FormatTime(v); got != tt.want {
			t.Errorf("ParseTime(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseDateTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2024-01-02 03:04:05.120000", "2024-01-02T03:04:05.120000"},
		{"2024-01-02T03:04:05", "2024-01-02T03:04:05"},
		{"2024-01-02t03:04", "2024-01-02T03:04:00"},
		{"2024-01-02", "2024-01-02T00:00:00"},
		{"0001-01-01 00:00:00", "0001-01-01T00:00:00"},
		{"9999-12-31 23:59:59.999999999", "9999-12-31T23:59:59.999999"},
		{"1969-12-31 23:59:59.5", "1969-12-31T23:59:59.500000"},
		{"2024-01-02 03:04:05Z", ""},
		{"2024-01-02  03:04:05", ""},
		{"2024-01-02 25:04:05", ""},
		{"2024-02-30 00:00:00", ""},
	}
	for _, tt := range tests {
		v, err := rowcodec.ParseDateTime(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseDateTime(%q) = %v, want error", tt.in, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDateTime(%q): %v", tt.in, err)
			continue
		}
		if got := rowcodec.FormatDateTime(v); got != tt.want {
			t.Errorf("ParseDateTime(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = error
		kind error
	}{
		{"2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123456Z", nil},
		{"2024-01-02 03:04:05", "2024-01-02T03:04:05Z", nil},
		{"2024-01-02 03:04:05 UTC", "2024-01-02T03:04:05Z", nil},
		{"2024-01-02 03:04:05utc", "2024-01-02T03:04:05Z", nil},
		{"2024-01-02T03:04:05+05:30", "2024-01-01T21:34:05Z", nil},
		{"2024-01-02T03:04:05-08", "2024-01-02T11:04:05Z", nil},
		{"2024-01-02T03:04:05-0800", "2024-01-02T11:04:05Z", nil},
		{"2024-01-02 03:04:05 -8:00", "2024-01-02T11:04:05Z", nil},
		{"2024-07-01 12:00:00 America/New_York", "2024-07-01T16:00:00Z", nil},
		{"2024-01-01 12:00:00 America/New_York", "2024-01-01T17:00:00Z", nil},
		{"2024-01-02", "2024-01-02T00:00:00Z", nil},
		{"2024-01-02 UTC", "2024-01-02T00:00:00Z", nil},
		{"1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z", nil},
		{"1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z", nil},
		{"2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z", nil},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", nil},
		{"9999-12-31T23:59:59.999999999999Z", "9999-12-31T23:59:59.999999Z", nil},
		{"2024-01-02T03:04:05.1234567890123Z", "", rowcodec.ErrSyntax},
		{"0001-01-01T00:00:00+01:00", "", rowcodec.ErrRange},
		{"9999-12-31T23:59:59-01:00", "", rowcodec.ErrRange},
		{"9999-12-31T23:59:60Z", "", rowcodec.ErrRange},
		{"2024-01-02 03:04:05 Mars/Olympus", "", rowcodec.ErrSyntax},
		{"2024-01-02 03:04:05 X", "", rowcodec.ErrSyntax},
		{"2024-01-02T03:04:05+25:00", "", rowcodec.ErrSyntax},
		{"2024-01-02-05", "", rowcodec.ErrSyntax},
		{"2024-01-02T", "", rowcodec.ErrSyntax},
		{"2024-01-02 03:61:00", "", rowcodec.ErrSyntax},
		{"abc", "", rowcodec.ErrSyntax},
	}
	for _, tt := range tests {
		v, err := rowcodec.ParseTimestamp(tt.in)
		if tt.want == "" {
			if !errors.Is(err, tt.kind) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.in, v, err, tt.kind)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", tt.in, err)
			continue
		}
		if got := rowcodec.FormatTimestamp(v); got != tt.want {
			t.Errorf("ParseTimestamp(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if _, err := rowcodec.ParseTimestamp("2024-01-02 03:04:05 Nowhere/Zone"); err == nil ||
		rowcodec.Describe(err) != "Unrecognized timezone: Nowhere/Zone" {
		t.Errorf("bad zone error = %v", err)
	}
}

func TestTimestampBounds(t *testing.T) {
	if got, want := int64(rowcodec.MinTimestamp), int64(-62135596800000000); got != want {
		t.Errorf("MinTimestamp = %d, want %d", got, want)
	}
	if got, want := int64(rowcodec.MaxTimestamp), int64(253402300799999999); got != want {
		t.Errorf("MaxTimestamp = %d, want %d", got, want)
	}
	for _, ts := range []rowcodec.Timestamp{rowcodec.MinTimestamp, rowcodec.MaxTimestamp, 0, -1, 1} {
		got, want := rowcodec.FormatTimestamp(ts), time.UnixMicro(int64(ts)).UTC().Format("2006-01-02T15:04:05.999999Z07:00")
		back, err := rowcodec.ParseTimestamp(got)
		if err != nil || back != ts {
			t.Errorf("round trip %d: %s → %d, %v", ts, got, back, err)
		}
		if len(want) == len(got) && got != want {
			t.Errorf("FormatTimestamp(%d) = %s, want %s", ts, got, want)
		}
	}
}

func TestPacked(t *testing.T) {
	// 2019-09-09 12:34:56.789012 per the CivilTimeEncoder layout.
	v := int64(2019)<<46 | 9<<42 | 9<<37 | 12<<32 | 34<<26 | 56<<20 | 789012
	dt, err := rowcodec.PackedDateTime(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rowcodec.FormatDateTime(dt), "2019-09-09T12:34:56.789012"; got != want {
		t.Errorf("PackedDateTime = %s, want %s", got, want)
	}
	if got := rowcodec.EncodePackedDateTime(dt); got != v {
		t.Errorf("EncodePackedDateTime = %x, want %x", got, v)
	}
	tm, err := rowcodec.PackedTime(v & (1<<37 - 1))
	if err != nil || rowcodec.FormatTime(tm) != "12:34:56.789012" {
		t.Errorf("PackedTime = %v, %v", tm, err)
	}
	bad := []int64{
		1 << 37,  // TIME bit above range
		24 << 32, // hour 24
		60 << 26, // minute 60
		60 << 20, // second 60
		1000000,  // microsecond overflow
		-1,       // negative
	}
	for _, b := range bad {
		if _, err := rowcodec.PackedTime(b); !errors.Is(err, rowcodec.ErrRange) {
			t.Errorf("PackedTime(%#x) err = %v, want ErrRange", b, err)
		}
	}
	badDT := []int64{
		int64(2023)<<46 | 2<<42 | 29<<37, // Feb 29 in a common year
		int64(2024)<<46 | 2<<42 | 30<<37, // Feb 30
		int64(2024)<<46 | 13<<42 | 1<<37, // month 13
		int64(0)<<46 | 1<<42 | 1<<37,     // year 0
		1 << 60,                          // bit above range
		int64(2024)<<46 | 1<<42 | 0<<37,  // day 0
	}
	for _, b := range badDT {
		if _, err := rowcodec.PackedDateTime(b); !errors.Is(err, rowcodec.ErrRange) {
			t.Errorf("PackedDateTime(%#x) err = %v, want ErrRange", b, err)
		}
	}
	if _, err := rowcodec.PackedDateTime(int64(2024)<<46 | 2<<42 | 29<<37); err != nil {
		t.Errorf("leap day rejected: %v", err)
	}
}

func TestParseNumeric(t *testing.T) {
	tests := []struct {
		in   string
		big  bool
		want string // "" = error
	}{
		{"0", false, "0"},
		{"-0.0000", false, "0"},
		{"1.500000000", false, "1.5"},
		{"+12.25", false, "12.25"},
		{".5", false, "0.5"},
		{"7.", false, "7"},
		{"1e3", false, "1000"},
		{"1.5E-3", false, "0.0015"},
		{"0.0000000005", false, "0.000000001"},   // half away from zero
		{"-0.0000000005", false, "-0.000000001"}, // half away from zero
		{"0.0000000004999", false, "0"},
		{"0.00000000049999999999999999999999999999999", false, "0"},
		{"99999999999999999999999999999.999999999", false, "99999999999999999999999999999.999999999"},
		{"-99999999999999999999999999999.999999999", false, "-99999999999999999999999999999.999999999"},
		{"99999999999999999999999999999.9999999995", false, ""}, // rounds past the max
		{"100000000000000000000000000000", false, ""},
		{"1e29", false, ""},
		{"1e28", false, "10000000000000000000000000000"},
		{"1e-100000", false, "0"},
		{"1e100000", false, ""},
		{"000000000000000000000000000000000000000000000000000000000000000000000000000000000001", false, "1"},
		{"abc", false, ""},
		{"1.2.3", false, ""},
		{"NaN", false, ""},
		{"", false, ""},
		{"-", false, ""},
		{"1e", false, ""},
		{"578960446186580977117854925043439539266.34992332820282019728792003956564819967", true,
			"578960446186580977117854925043439539266.34992332820282019728792003956564819967"},
		{"-578960446186580977117854925043439539266.34992332820282019728792003956564819968", true,
			"-578960446186580977117854925043439539266.34992332820282019728792003956564819968"},
		{"578960446186580977117854925043439539266.34992332820282019728792003956564819968", true, ""},
		{"-578960446186580977117854925043439539266.34992332820282019728792003956564819969", true, ""},
		{"0.000000000000000000000000000000000000005", true, "0.00000000000000000000000000000000000001"},
		{"1.5", true, "1.5"},
	}
	for _, tt := range tests {
		d, err := rowcodec.ParseNumeric(tt.in, tt.big)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseNumeric(%q, %v) = %s, want error", tt.in, tt.big, d)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseNumeric(%q, %v): %v", tt.in, tt.big, err)
			continue
		}
		if got := d.String(); got != tt.want {
			t.Errorf("ParseNumeric(%q, %v) = %s, want %s", tt.in, tt.big, got, tt.want)
		}
		if d.IsBig() != tt.big {
			t.Errorf("ParseNumeric(%q).IsBig = %v", tt.in, d.IsBig())
		}
		back, err := rowcodec.ParseNumeric(d.String(), tt.big)
		if err != nil || back != d {
			t.Errorf("round trip %q: %v, %v", tt.in, back, err)
		}
		fromBytes, err := rowcodec.DecimalFromScaledBytes(d.ScaledBytes(), tt.big)
		if err != nil || fromBytes != d {
			t.Errorf("bytes round trip %q: %v, %v", tt.in, fromBytes, err)
		}
	}
	if _, err := rowcodec.ParseNumeric("1e40", false); !errors.Is(err, rowcodec.ErrDecimalRange) {
		t.Errorf("range error kind = %v", err)
	}
	if _, err := rowcodec.ParseNumeric("x", false); !errors.Is(err, rowcodec.ErrSyntax) {
		t.Errorf("syntax error kind = %v", err)
	}
}

func TestDecimalParams(t *testing.T) {
	tests := []struct {
		in   string
		typ  schema.Type
		p, s int64
		mode string
		want string
	}{
		{"123.455", schema.Numeric, 5, 2, "", "123.46"},
		{"123.445", schema.Numeric, 5, 2, "ROUND_HALF_EVEN", "123.44"},
		{"123.455", schema.Numeric, 5, 2, "ROUND_HALF_EVEN", "123.46"},
		{"0.1250000004", schema.Numeric, 3, 2, "ROUND_HALF_EVEN", "0.13"}, // single rounding step
		{"999.994", schema.Numeric, 5, 2, "", "999.99"},
		{"999.995", schema.Numeric, 5, 2, "", ""},
		{"-999.995", schema.Numeric, 5, 2, "", ""},
		{"12345", schema.Numeric, 5, 0, "", "12345"},
		{"123456", schema.Numeric, 5, 0, "", ""},
		{"0.5", schema.Numeric, 0, 0, "ROUND_HALF_EVEN", "0.5"},
		{"0.0000000005", schema.Numeric, 0, 0, "ROUND_HALF_EVEN", "0"},
		{"0.0000000015", schema.Numeric, 0, 0, "ROUND_HALF_EVEN", "0.000000002"},
		{"1.23456789012345678901234567890123456789", schema.BigNumeric, 40, 38, "", "1.23456789012345678901234567890123456789"},
		{"123.3", schema.BigNumeric, 40, 38, "", ""},
	}
	for _, tt := range tests {
		f := &schema.Field{Name: "n", Type: tt.typ, Precision: tt.p, Scale: tt.s, RoundingMode: tt.mode}
		p := rowcodec.DecimalParamsOf(f)
		d, err := rowcodec.ParseDecimal(tt.in, p)
		if tt.want == "" {
			if !errors.Is(err, rowcodec.ErrDecimalRange) {
				t.Errorf("ParseDecimal(%q, %+v) = %s, %v; want range error", tt.in, p, d, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDecimal(%q, %+v): %v", tt.in, p, err)
			continue
		}
		if got := d.String(); got != tt.want {
			t.Errorf("ParseDecimal(%q, %+v) = %s, want %s", tt.in, p, got, tt.want)
		}
		// Fit on the already-parsed value is idempotent.
		if f2, err := d.Fit(p); err != nil || f2 != d {
			t.Errorf("Fit(%s) = %s, %v", d, f2, err)
		}
	}
	// Fit rounds values that arrive at the type scale.
	d, _ := rowcodec.ParseNumeric("2.345", false)
	got, err := d.Fit(rowcodec.DecimalParams{Precision: 3, Scale: 2, HalfEven: true})
	if err != nil || got.String() != "2.34" {
		t.Errorf("Fit half-even = %s, %v", got, err)
	}
	got, err = d.Fit(rowcodec.DecimalParams{Precision: 3, Scale: 2})
	if err != nil || got.String() != "2.35" {
		t.Errorf("Fit half-away = %s, %v", got, err)
	}
}

func TestDecimalBytes(t *testing.T) {
	tests := []struct {
		b    []byte
		big  bool
		want string
	}{
		{[]byte{0}, false, "0"},
		{[]byte{0x00, 0xca, 0x9a, 0x3b}, false, "1"},             // 1e9 little-endian
		{[]byte{0x00, 0x36, 0x65, 0xc4}, false, "-1"},            // -1e9
		{[]byte{0x00, 0xca, 0x9a, 0x3b, 0, 0, 0, 0}, false, "1"}, // sign-extended
		{[]byte{0xff}, false, "-0.000000001"},
		{[]byte{0xff, 0xff, 0xff}, true, "-0.00000000000000000000000000000000000001"},
	}
	for _, tt := range tests {
		d, err := rowcodec.DecimalFromScaledBytes(tt.b, tt.big)
		if err != nil {
			t.Errorf("DecimalFromScaledBytes(%x): %v", tt.b, err)
			continue
		}
		if got := d.String(); got != tt.want {
			t.Errorf("DecimalFromScaledBytes(%x) = %s, want %s", tt.b, got, tt.want)
		}
	}
	// NUMERIC max as bytes, and one past it.
	max := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil), big.NewInt(1))
	d, err := rowcodec.DecimalFromUnscaled(max, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rowcodec.DecimalFromScaledBytes(d.ScaledBytes(), false); err != nil {
		t.Errorf("NUMERIC max bytes rejected: %v", err)
	}
	if _, err := rowcodec.DecimalFromUnscaled(new(big.Int).Add(max, big.NewInt(1)), false); err == nil {
		t.Error("NUMERIC max+1 accepted")
	}
	over := le(new(big.Int).Add(max, big.NewInt(1)), 17)
	if _, err := rowcodec.DecimalFromScaledBytes(over, false); !errors.Is(err, rowcodec.ErrDecimalRange) {
		t.Errorf("NUMERIC max+1 bytes err = %v", err)
	}
	// BIGNUMERIC: 32 bytes hold exactly its range; 33 bytes of non-sign-extension do not.
	pos := make([]byte, 33)
	pos[31] = 0x80 // 2^255 as a positive 33-byte number
	if _, err := rowcodec.DecimalFromScaledBytes(pos, true); !errors.Is(err, rowcodec.ErrDecimalRange) {
		t.Errorf("2^255 err = %v", err)
	}
	minBig := make([]byte, 32)
	minBig[31] = 0x80
	d, err = rowcodec.DecimalFromScaledBytes(minBig, true)
	if err != nil || d.String() != "-578960446186580977117854925043439539266.34992332820282019728792003956564819968" {
		t.Errorf("BIGNUMERIC min = %s, %v", d, err)
	}
	if _, err := rowcodec.DecimalFromScaledBytes(nil, false); !errors.Is(err, rowcodec.ErrSyntax) {
		t.Errorf("empty bytes err = %v", err)
	}
}

// le encodes v (non-negative) as n little-endian bytes.
func le(v *big.Int, n int) []byte {
	be := v.FillBytes(make([]byte, n))
	out := make([]byte, n)
	for i := range be {
		out[i] = be[n-1-i]
	}
	return out
}

func TestDecimalFromNumbers(t *testing.T) {
	if got := rowcodec.DecimalFromInt64(math.MinInt64, false).String(); got != "-9223372036854775808" {
		t.Errorf("DecimalFromInt64(min) = %s", got)
	}
	if got := rowcodec.DecimalFromInt64(-5, true).String(); got != "-5" {
		t.Errorf("DecimalFromInt64(-5, big) = %s", got)
	}
	tests := []struct {
		f    float64
		want string
	}{
		{0.1, "0.1"},
		{1.0000000005, "1.000000001"},
		{-2.5e-10, "-0"},
		{1e20, "100000000000000000000"},
	}
	for _, tt := range tests {
		d, err := rowcodec.DecimalFromFloat64(tt.f, false)
		want := tt.want
		if want == "-0" {
			want = "0"
		}
		if err != nil || d.String() != want {
			t.Errorf("DecimalFromFloat64(%v) = %s, %v; want %s", tt.f, d, err, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), 1e30} {
		if _, err := rowcodec.DecimalFromFloat64(f, false); err == nil {
			t.Errorf("DecimalFromFloat64(%v) accepted", f)
		}
	}
}

func TestParseInterval(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0-0 0 0:0:0", "0-0 0 0:0:0"},
		{"1-2 3 4:5:6.5", "1-2 3 4:5:6.5"},
		{"-1-2 -3 -4:5:6.000001", "-1-2 -3 -4:5:6.000001"},
		{"10000-0 3660000 87840000:0:0", "10000-0 3660000 87840000:0:0"},
		{"-10000-0 -3660000 -87840000:0:0", "-10000-0 -3660000 -87840000:0:0"},
		{"0-0 0 0:0:0.123456789", "0-0 0 0:0:0.123456"},
		{"P1Y2M3DT4H5M6.5S", "1-2 3 4:5:6.5"},
		{"P1W", "0-0 7 0:0:0"},
		{"PT36H", "0-0 0 36:0:0"},
		{"P-1Y2M", "-0-10 0 0:0:0"},
		{"-P1DT1S", "0-0 -1 -0:0:1"},
		{"PT-0.5S", "0-0 0 -0:0:0.5"},
		{"10001-0 0 0:0:0", ""},
		{"0-0 3660001 0:0:0", ""},
		{"0-0 0 87840000:0:0.000001", ""},
		{"1-12 0 0:0:0", ""},
		{"0-0 0 0:60:0", ""},
		{"1-2 3", ""},
		{"P", ""},
		{"PT", ""},
		{"P1H", ""},
		{"PT1D", ""},
		{"P1D2Y", ""},
		{"1 day", ""},
	}
	for _, tt := range tests {
		iv, err := rowcodec.ParseInterval(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseInterval(%q) = %v, want error", tt.in, iv)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseInterval(%q): %v", tt.in, err)
			continue
		}
		if got := iv.String(); got != tt.want {
			t.Errorf("ParseInterval(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if back, err := rowcodec.ParseInterval(iv.String()); err != nil || back != iv {
			t.Errorf("round trip %q: %v, %v", tt.in, back, err)
		}
	}
}

func TestCheckGeography(t *testing.T) {
	ok := []string{
		"POINT(1 2)",
		"point ( -180 -90 )",
		"POINT EMPTY",
		"LINESTRING(0 0, 1 1, 2 2)",
		"POLYGON((0 0, 1 0, 1 1, 0 0))",
		"POLYGON((0 0, 10 0, 10 10, 0 0), (1 1, 2 1, 2 2, 1 1))",
		"MULTIPOINT(1 2, 3 4)",
		"MULTIPOINT((1 2), (3 4))",
		"MULTILINESTRING((0 0, 1 1), (2 2, 3 3))",
		"MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))",
		"GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))",
		"GEOMETRYCOLLECTION EMPTY",
		`{"type":"Point","coordinates":[1,2]}`,
		`{"type":"LineString","coordinates":[[1,2],[3,4,5]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[0,0]}]}`,
	}
	for _, s := range ok {
		if err := rowcodec.CheckGeography(s); err != nil {
			t.Errorf("CheckGeography(%q): %v", s, err)
		}
	}
	bad := []string{
		"",
		"POINT(181 0)",
		"POINT(0 91)",
		"POINT(1)",
		"POINT(1 2 3)",
		"POINT Z (1 2 3)",
		"LINESTRING(0 0)",
		"POLYGON((0 0, 1 0, 1 1))",
		"POLYGON((0 0, 1 0, 1 1, 0 1))",
		"CIRCLE(1 2)",
		"POINT(1 2) extra",
		"POINT(1,2)",
		`{"type":"Feature","geometry":null}`,
		`{"type":"Point","coordinates":[200,0]}`,
		`{"type":"Point"}`,
		`{"type":"LineString","coordinates":[[1,2]]}`,
	}
	for _, s := range bad {
		if err := rowcodec.CheckGeography(s); err == nil {
			t.Errorf("CheckGeography(%q) accepted", s)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b": 1, "a": [true, null, "x"]}`, `{"a":[true,null,"x"],"b":1}`},
		{`{"a":1,"a":2}`, `{"a":1}`},
		{` "caf\u00e9\n" `, `"café\n"`},
		{`1.50e3`, `1.50e3`},
		{`[]`, `[]`},
		{`{"\u0041":1,"A":2}`, `{"A":1}`},
		{`"\ud83d\ude00"`, `"😀"`},
		{`"\u0001"`, `"\u0001"`},
		{`{`, ``},
		{`{"a":}`, ``},
		{`[1,]`, ``},
		{`01`, ``},
		{`nul`, ``},
		{`"a" "b"`, ``},
		{``, ``},
		{"\"\xff\"", ``},
	}
	for _, tt := range tests {
		got, err := rowcodec.CheckJSON(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("CheckJSON(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CheckJSON(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		elem schema.Type
		want string
	}{
		{"[2024-01-01, 2024-02-01)", schema.Date, "[2024-01-01, 2024-02-01)"},
		{"[UNBOUNDED, 2024-02-01)", schema.Date, "[UNBOUNDED, 2024-02-01)"},
		{"[null,unbounded)", schema.DateTime, "[UNBOUNDED, UNBOUNDED)"},
		{"[2024-01-01 00:00:00, 2024-01-01 00:00:01)", schema.Timestamp, "[2024-01-01T00:00:00Z, 2024-01-01T00:00:01Z)"},
		{"[2024-01-02, 2024-01-01)", schema.Date, ""},
		{"[2024-01-01, 2024-01-01)", schema.Date, ""},
		{"(2024-01-01, 2024-02-01)", schema.Date, ""},
		{"[2024-01-01]", schema.Date, ""},
		{"[x, y)", schema.Date, ""},
	}
	for _, tt := range tests {
		r, err := rowcodec.ParseRange(tt.in, tt.elem)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseRange(%q) = %v, want error", tt.in, r)
			}
			continue
		}
		if err != nil || r.String() != tt.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %s", tt.in, r, err, tt.want)
		}
	}
}
