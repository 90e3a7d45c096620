package goclients

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"

	"github.com/penstockdb/penstock/test/clients/go/samples"
)

// testInserter streams rows with tabledata.insertAll through Inserter and
// ValuesSaver insert ids: a retried batch is deduplicated by insertId, and
// a batch with one bad row writes nothing (the others are "stopped").
func (s *suite) testInserter(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s.createTable(t, ctx, "inserter", people)
	ins := s.bq.Dataset(s.dataset).Table("inserter").Inserter()
	batch := []*bigquery.ValuesSaver{
		{Schema: people, InsertID: "row-1", Row: []bigquery.Value{"ada", 1}},
		{Schema: people, InsertID: "row-2", Row: []bigquery.Value{"bob", 2}},
	}
	if err := ins.Put(ctx, batch); err != nil {
		t.Fatalf("Put: %v", err)
	}
	checkRows(t, "after Put", s.rows(t, ctx, "inserter"), "ada 1\nbob 2\n")
	// The same insert ids again (a client retry) are dropped; a new id is not.
	retry := append(batch, &bigquery.ValuesSaver{Schema: people, InsertID: "row-3", Row: []bigquery.Value{"cy", 3}})
	if err := ins.Put(ctx, retry); err != nil {
		t.Fatalf("Put (retry): %v", err)
	}
	checkRows(t, "after retried Put", s.rows(t, ctx, "inserter"), "ada 1\nbob 2\ncy 3\n")

	bad := []*bigquery.ValuesSaver{
		{Schema: people, InsertID: "row-4", Row: []bigquery.Value{"dee", 4}},
		{Schema: people, InsertID: "row-5", Row: []bigquery.Value{"eve", "not a number"}},
	}
	err := ins.Put(ctx, bad)
	var pme bigquery.PutMultiError
	if !errors.As(err, &pme) {
		t.Fatalf("Put with a bad row: %v, want a PutMultiError", err)
	}
	reasons := map[int]string{}
	for _, rie := range pme {
		for _, e := range rie.Errors {
			var be *bigquery.Error
			if errors.As(e, &be) {
				reasons[rie.RowIndex] += be.Reason
			}
		}
	}
	if got, want := fmt.Sprint(reasons), "map[0:stopped 1:invalid]"; got != want {
		t.Errorf("row error reasons %s, want %s (errors: %v)", got, want, pme)
	}
	checkRows(t, "after rejected Put", s.rows(t, ctx, "inserter"), "ada 1\nbob 2\ncy 3\n")
}

// testSeedPending runs the seed's Go pending-stream sample and reads back
// the six rows it commits.
func (s *suite) testSeedPending(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s.createTable(t, ctx, "seed_pending", samples.SampleDataSchema)
	var out strings.Builder
	if err := samples.AppendToPendingStream(&out, s.env.Project, s.dataset, "seed_pending", s.env.WriteOptions()...); err != nil {
		t.Fatalf("sample: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{"offset 0.", "offset 1.", "offset 4.", "finalized with 6 rows."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sample output lacks %q:\n%s", want, out.String())
		}
	}
	rows := s.rows(t, ctx, "seed_pending")
	if len(rows) != 6 {
		t.Fatalf("table has %d rows, want the sample's 6", len(rows))
	}
	today := civil.DateOf(time.Now().UTC())
	for i, r := range rows {
		checkSampleRow(t, i, r, today)
	}
}

// checkSampleRow compares one row written by the pending sample with the
// values the sample sets (SampleDataSchema order).
func checkSampleRow(t *testing.T, i int, r []bigquery.Value, today civil.Date) {
	t.Helper()
	if len(r) != len(samples.SampleDataSchema) {
		t.Errorf("row %d has %d columns, want %d", i, len(r), len(samples.SampleDataSchema))
		return
	}
	num, _ := r[8].(*big.Rat)
	bignum, _ := r[9].(*big.Rat)
	got := fmt.Sprintf("%v|%s|%v|%v|%v|%v|%v|%v|%s|%s|%v|%v|%d",
		r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
		numString(num, bigquery.NumericString), numString(bignum, bigquery.BigNumericString),
		r[10], r[12], r[15])
	want := fmt.Sprintf("true|some bytes|3.14|123|example string value|%v|2022-01-01T12:13:14|POINT(-122.350220 47.649154)|"+
		"99999999999999999999999999999.999999999|578960446186580977117854925043439539266.34992332820282019728792003956564819967|"+
		"12:13:14|[2 4 6 8]|23", today)
	if got != want && strings.Replace(got, fmt.Sprint(today), fmt.Sprint(today.AddDays(-1)), 1) != want {
		t.Errorf("row %d:\n got %s\nwant %s", i, got, want)
	}
	if ts, ok := r[11].(time.Time); !ok || time.Since(ts).Abs() > time.Hour {
		t.Errorf("row %d timestamp_col %v, want about now", i, r[11])
	}
	if sc, ok := r[13].([]bigquery.Value); !ok || len(sc) != 1 || sc[0] == nil {
		t.Errorf("row %d struct_col %v, want a record with sub_int_col set", i, r[13])
	}
	if sl, ok := r[14].([]bigquery.Value); !ok || len(sl) != 5 {
		t.Errorf("row %d struct_list %v, want 5 records", i, r[14])
	}
}

func numString(r *big.Rat, f func(*big.Rat) string) string {
	if r == nil {
		return "<nil>"
	}
	return f(r)
}

// testSeedInsertAll runs the seed's Go insertAll sample and reads its two
// rows back.
func (s *suite) testSeedInsertAll(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s.createTable(t, ctx, "seed_insert", bigquery.Schema{
		{Name: "full_name", Type: bigquery.StringFieldType},
		{Name: "age", Type: bigquery.IntegerFieldType},
	})
	if err := samples.InsertRows(s.env.Project, s.dataset, "seed_insert", s.env.RESTOptions()...); err != nil {
		t.Fatalf("sample: %v", err)
	}
	checkRows(t, "seed_insert", s.rows(t, ctx, "seed_insert"), "Phred Phlyntstone 32\nWylma Phlyntstone 29\n")
}
