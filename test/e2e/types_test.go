package e2e

import (
	"context"
	"math/big"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"cloud.google.com/go/civil"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/penstockdb/penstock/internal/servertest"
)

// packedTime and packedDateTime encode civil times the way the client
// libraries' civil-time encoders do (spec §4.5), independently of
// Penstock's decoder.
func packedTime(h, m, s, us int64) int64 { return h<<32 | m<<26 | s<<20 | us }

func packedDateTime(y, mo, d, h, m, s, us int64) int64 {
	return y<<46 | mo<<42 | d<<37 | packedTime(h, m, s, us)
}

// scaledBytes encodes a decimal string as a little-endian two's-complement
// integer scaled by 10^scale.
func scaledBytes(t *testing.T, dec string, scale int) []byte {
	t.Helper()
	r, ok := new(big.Rat).SetString(dec)
	if !ok {
		t.Fatalf("bad decimal %q", dec)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		t.Fatalf("%s has more than %d decimals", dec, scale)
	}
	v := r.Num()
	n := len(v.Bytes()) + 1
	if v.Sign() < 0 {
		v = new(big.Int).Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	be := v.FillBytes(make([]byte, n))
	le := make([]byte, n)
	for i := range be {
		le[i] = be[n-1-i]
	}
	return le
}

func rat(t *testing.T, s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	return r
}

// TestEveryTypeWriteAndRead writes rows of every type through the Go
// managedwriter client (descriptor from adapt, normalised) and reads them
// back through tabledata.list with the Go bigquery client.
func TestEveryTypeWriteAndRead(t *testing.T) {
	srv := servertest.Start(t, servertest.WithProject("p"))
	ctx := context.Background()
	bq := srv.BigQueryClient(t)
	sch := bigquery.Schema{
		{Name: "b", Type: bigquery.BooleanFieldType},
		{Name: "i", Type: bigquery.IntegerFieldType},
		{Name: "f", Type: bigquery.FloatFieldType},
		{Name: "s", Type: bigquery.StringFieldType},
		{Name: "by", Type: bigquery.BytesFieldType},
		{Name: "d", Type: bigquery.DateFieldType},
		{Name: "t", Type: bigquery.TimeFieldType},
		{Name: "dt", Type: bigquery.DateTimeFieldType},
		{Name: "ts", Type: bigquery.TimestampFieldType},
		{Name: "n", Type: bigquery.NumericFieldType},
		{Name: "bn", Type: bigquery.BigNumericFieldType},
		{Name: "g", Type: bigquery.GeographyFieldType},
		{Name: "j", Type: bigquery.JSONFieldType},
		{Name: "arr", Type: bigquery.IntegerFieldType, Repeated: true},
		{Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{
			{Name: "x", Type: bigquery.IntegerFieldType},
			{Name: "tags", Type: bigquery.StringFieldType, Repeated: true},
		}},
		{Name: "rng", Type: bigquery.RangeFieldType, RangeElementType: &bigquery.RangeElementType{Type: bigquery.DateFieldType}},
		{Name: "id", Type: bigquery.IntegerFieldType, Required: true},
	}
	if err := bq.Dataset("d").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := bq.Dataset("d").Table("types")
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: sch}); err != nil {
		t.Fatal(err)
	}
	ts, err := adapt.BQSchemaToStorageTableSchema(sch)
	if err != nil {
		t.Fatal(err)
	}
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "root")
	if err != nil {
		t.Fatal(err)
	}
	md := d.(protoreflect.MessageDescriptor)
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		t.Fatal(err)
	}

	const maxNumeric = "99999999999999999999999999999.999999999"
	const minBigNumeric = "-578960446186580977117854925043439539266.34992332820282019728792003956564819968"
	set := func(m *dynamicpb.Message, name string, v any) {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		switch v := v.(type) {
		case []any:
			l := m.Mutable(fd).List()
			for _, e := range v {
				if mm, ok := e.(*dynamicpb.Message); ok {
					l.Append(protoreflect.ValueOfMessage(mm))
				} else {
					l.Append(protoreflect.ValueOf(e))
				}
			}
		case *dynamicpb.Message:
			m.Set(fd, protoreflect.ValueOfMessage(v))
		default:
			m.Set(fd, protoreflect.ValueOf(v))
		}
	}
	sub := func(name string) protoreflect.MessageDescriptor {
		return md.Fields().ByName(protoreflect.Name(name)).Message()
	}
	// Row 0: the low edges.
	r0 := dynamicpb.NewMessage(md)
	set(r0, "b", false)
	set(r0, "i", int64(-9223372036854775808))
	set(r0, "f", -1.5e-300)
	set(r0, "s", "héllo, 世界")
	set(r0, "by", []byte{0, 1, 2, 255})
	set(r0, "d", int32(-719162)) // 0001-01-01
	set(r0, "t", packedTime(0, 0, 0, 0))
	set(r0, "dt", packedDateTime(1, 1, 1, 0, 0, 0, 0))
	set(r0, "ts", int64(-62135596800000000)) // 0001-01-01T00:00:00Z
	set(r0, "n", scaledBytes(t, "-"+maxNumeric, 9))
	set(r0, "bn", scaledBytes(t, minBigNumeric, 38))
	set(r0, "g", "POINT(-122.35 47.65)")
	set(r0, "j", `{"a":[1,2,{"b":null}]}`)
	set(r0, "arr", []any{})
	rec0 := dynamicpb.NewMessage(sub("rec"))
	set(rec0, "x", int64(0))
	set(r0, "rec", rec0)
	rng0 := dynamicpb.NewMessage(sub("rng"))
	set(rng0, "start", int32(0))
	set(r0, "rng", rng0)
	set(r0, "id", int64(0))
	// Row 1: the high edges.
	r1 := dynamicpb.NewMessage(md)
	set(r1, "b", true)
	set(r1, "i", int64(9223372036854775807))
	set(r1, "f", 1.7976931348623157e308)
	set(r1, "s", "")
	set(r1, "by", []byte{})
	set(r1, "d", int32(2932896)) // 9999-12-31
	set(r1, "t", packedTime(23, 59, 59, 999999))
	set(r1, "dt", packedDateTime(9999, 12, 31, 23, 59, 59, 999999))
	set(r1, "ts", int64(253402300799999999))
	set(r1, "n", scaledBytes(t, maxNumeric, 9))
	set(r1, "bn", scaledBytes(t, "0.00000000000000000000000000000000000001", 38))
	set(r1, "g", "LINESTRING(0 0, 1 1)")
	set(r1, "j", `"x"`)
	set(r1, "arr", []any{int64(1), int64(-2), int64(3)})
	rec1 := dynamicpb.NewMessage(sub("rec"))
	set(rec1, "tags", []any{"a", "b"})
	set(r1, "rec", rec1)
	rng1 := dynamicpb.NewMessage(sub("rng"))
	set(rng1, "start", int32(19000))
	set(rng1, "end", int32(19001))
	set(r1, "rng", rng1)
	set(r1, "id", int64(1))
	// Row 2: every nullable column absent; a pre-1970 timestamp.
	r2 := dynamicpb.NewMessage(md)
	set(r2, "ts", int64(-1))
	set(r2, "id", int64(2))

	var rows [][]byte
	for _, m := range []*dynamicpb.Message{r0, r1, r2} {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, b)
	}
	mw, err := managedwriter.NewClient(ctx, "p", srv.WriteClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer mw.Close()
	ms, err := mw.NewManagedStream(ctx, managedwriter.WithDestinationTable("projects/p/datasets/d/tables/types"),
		managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	res, err := ms.AppendRows(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.GetResult(ctx); err != nil {
		t.Fatal(err)
	}

	it := tbl.Read(ctx)
	var got [][]bigquery.Value
	for {
		var r []bigquery.Value
		err := it.Next(&r)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 3 {
		t.Fatalf("read %d rows, want 3", len(got))
	}
	check := func(row int, col string, want, have any) {
		t.Helper()
		switch w := want.(type) {
		case *big.Rat:
			h, ok := have.(*big.Rat)
			if !ok || h.Cmp(w) != 0 {
				t.Errorf("row %d %s = %v, want %v", row, col, have, w.FloatString(40))
			}
		default:
			if !equalValue(want, have) {
				t.Errorf("row %d %s = %#v, want %#v", row, col, have, want)
			}
		}
	}
	g0, g1, g2 := got[0], got[1], got[2]
	check(0, "b", false, g0[0])
	check(0, "i", int64(-9223372036854775808), g0[1])
	check(0, "f", -1.5e-300, g0[2])
	check(0, "s", "héllo, 世界", g0[3])
	check(0, "by", []byte{0, 1, 2, 255}, g0[4])
	check(0, "d", civil.Date{Year: 1, Month: 1, Day: 1}, g0[5])
	check(0, "t", civil.Time{}, g0[6])
	check(0, "dt", civil.DateTime{Date: civil.Date{Year: 1, Month: 1, Day: 1}}, g0[7])
	check(0, "ts", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), g0[8])
	check(0, "n", rat(t, "-"+maxNumeric), g0[9])
	check(0, "bn", rat(t, minBigNumeric), g0[10])
	check(0, "g", "POINT(-122.35 47.65)", g0[11])
	check(0, "j", `{"a":[1,2,{"b":null}]}`, g0[12])
	check(0, "arr", []bigquery.Value{}, g0[13])
	check(0, "rec", []bigquery.Value{int64(0), []bigquery.Value{}}, g0[14])
	if r, ok := g0[15].(*bigquery.RangeValue); !ok || r.Start != (civil.Date{Year: 1970, Month: 1, Day: 1}) || r.End != nil {
		t.Errorf("row 0 rng = %#v", g0[15])
	}
	check(1, "i", int64(9223372036854775807), g1[1])
	check(1, "f", 1.7976931348623157e308, g1[2])
	check(1, "d", civil.Date{Year: 9999, Month: 12, Day: 31}, g1[5])
	check(1, "t", civil.Time{Hour: 23, Minute: 59, Second: 59, Nanosecond: 999999000}, g1[6])
	check(1, "dt", civil.DateTime{Date: civil.Date{Year: 9999, Month: 12, Day: 31}, Time: civil.Time{Hour: 23, Minute: 59, Second: 59, Nanosecond: 999999000}}, g1[7])
	check(1, "ts", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), g1[8])
	check(1, "n", rat(t, maxNumeric), g1[9])
	check(1, "bn", rat(t, "0.00000000000000000000000000000000000001"), g1[10])
	check(1, "arr", []bigquery.Value{int64(1), int64(-2), int64(3)}, g1[13])
	check(1, "rec", []bigquery.Value{nil, []bigquery.Value{"a", "b"}}, g1[14])
	if r, ok := g1[15].(*bigquery.RangeValue); !ok || r.Start != (civil.Date{Year: 2022, Month: 1, Day: 8}) || r.End != (civil.Date{Year: 2022, Month: 1, Day: 9}) {
		t.Errorf("row 1 rng = %#v", g1[15])
	}
	for col := 0; col < 13; col++ {
		if col == 8 {
			continue
		}
		if g2[col] != nil {
			t.Errorf("row 2 column %d = %#v, want NULL", col, g2[col])
		}
	}
	check(2, "ts", time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), g2[8])
	check(2, "arr", []bigquery.Value{}, g2[13])
	if g2[14] != nil || g2[15] != nil {
		t.Errorf("row 2 rec/rng = %#v %#v, want NULL", g2[14], g2[15])
	}
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case []bigquery.Value:
		y, ok := b.([]bigquery.Value)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}
