package write_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
	"github.com/penstockdb/penstock/internal/write"
)

// metas reads the RowMeta of every row of table id.
func (e *ienv) metas(id string) []write.RowMeta {
	e.t.Helper()
	t, err := e.cat.GetTable(context.Background(), "p", "d", id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []write.RowMeta
	total, err := e.eng.ReadRowsMeta(context.Background(), t, 0, -1, func(_ rowcodec.Row, m write.RowMeta) error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if total != int64(len(out)) {
		e.t.Fatalf("total %d, read %d", total, len(out))
	}
	return out
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestInsertAll_DecoratorWindow(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("ing", &catalog.TimePartitioning{Type: "DAY"})
	e.table("hourly", &catalog.TimePartitioning{Type: "HOUR"})
	e.table("col", &catalog.TimePartitioning{Type: "DAY", Field: "d"}, &schema.Field{Name: "d", Type: schema.Date})
	one := rowsOf(`={"n":1}`)
	// Today is 2026-05-01: 31 days back is 2026-03-31, 16 ahead 2026-05-17.
	for _, ok := range []string{"20260331", "20260501", "20260517"} {
		if res := e.mustInsert(write.InsertRequest{Table: "ing$" + ok, Rows: one}); res.Written != 1 {
			t.Fatalf("ing$%s: %+v", ok, res)
		}
	}
	for _, tc := range []struct{ table, msg string }{
		{"ing$20260330", "The destination table's partition ing$20260330 is outside the allowed bounds. You can only stream to partitions within 31 days in the past and 16 days in the future relative to the current date."},
		{"ing$20260518", "The destination table's partition ing$20260518 is outside the allowed bounds. You can only stream to partitions within 31 days in the past and 16 days in the future relative to the current date."},
		{"ing$2026050", "Invalid partition decorator in table id ing$2026050: insertAll accepts only $YYYYMMDD day partitions."},
		{"ing$20260230", "Invalid partition decorator in table id ing$20260230: insertAll accepts only $YYYYMMDD day partitions."},
		{"ing$", "Invalid partition decorator in table id ing$: insertAll accepts only $YYYYMMDD day partitions."},
		{"ing$__UNPARTITIONED__", "Invalid partition decorator in table id ing$__UNPARTITIONED__: insertAll accepts only $YYYYMMDD day partitions."},
		{"ing$2026050112", "Invalid partition decorator in table id ing$2026050112: insertAll accepts only $YYYYMMDD day partitions."},
		{"hourly$20260501", "Cannot stream to partition hourly$20260501: insertAll takes a partition decorator only on tables partitioned by ingestion time with DAY granularity."},
		{"col$20260501", "Cannot stream to partition col$20260501: insertAll takes a partition decorator only on tables partitioned by ingestion time with DAY granularity."},
	} {
		_, err := e.insert(write.InsertRequest{Table: tc.table, Rows: one})
		if !errors.Is(err, write.ErrInvalidPartition) || err.Error() != tc.msg {
			t.Errorf("%s: got %v, want ErrInvalidPartition %q", tc.table, err, tc.msg)
		}
	}
	var parts []time.Time
	for _, m := range e.metas("ing") {
		parts = append(parts, m.Partition)
	}
	want := []time.Time{day(2026, 3, 31), day(2026, 5, 1), day(2026, 5, 17)}
	if fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Fatalf("partitions %v, want %v", parts, want)
	}
}

func TestInsertAll_ColumnPartitionBounds(t *testing.T) {
	e := newIEnv(t, write.Options{})
	e.table("ts", &catalog.TimePartitioning{Type: "HOUR", Field: "at"}, &schema.Field{Name: "at", Type: schema.Timestamp})
	e.table("dt", &catalog.TimePartitioning{Type: "MONTH", Field: "at"}, &schema.Field{Name: "at", Type: schema.DateTime})
	e.table("d", &catalog.TimePartitioning{Type: "YEAR", Field: "At"}, &schema.Field{Name: "at", Type: schema.Date})
	first := insertNow.AddDate(0, 0, -write.ColumnDaysBack) // midnight of the oldest allowed day, and after
	first = day(first.Year(), first.Month(), first.Day())
	last := insertNow.AddDate(0, 0, write.ColumnDaysAhead)
	last = day(last.Year(), last.Month(), last.Day()).Add(24*time.Hour - time.Microsecond)
	tooOld := first.Add(-time.Microsecond)
	tooNew := last.Add(time.Microsecond)

	tsRow := func(n int, at time.Time) string {
		return fmt.Sprintf(`={"n":%d,"at":"%s"}`, n, at.Format(time.RFC3339Nano))
	}
	res := e.mustInsert(write.InsertRequest{Table: "ts", SkipInvalidRows: true,
		Rows: rowsOf(tsRow(1, first), tsRow(2, tooOld), tsRow(3, last), tsRow(4, tooNew), `={"n":5}`, `={"n":6,"at":null}`)})
	wantNs(t, e.ns("ts"), 1, 3, 5, 6)
	msg := func(v, col, table string) string {
		return "Value " + v + " for partition column " + col + " of the destination table " + table +
			" is outside the allowed bounds. You can only stream to partitions of date range within 1825 days in the past and 366 days in the future relative to the current date."
	}
	want := []rowcodec.RowError{
		{Index: 1, Location: "at", Message: msg(fmt.Sprint(tooOld.UnixMicro()), "at", "p:d.ts")},
		{Index: 3, Location: "at", Message: msg(fmt.Sprint(tooNew.UnixMicro()), "at", "p:d.ts")},
	}
	if fmt.Sprint(res.RowErrors) != fmt.Sprint(want) {
		t.Fatalf("row errors\n got %+v\nwant %+v", res.RowErrors, want)
	}

	// Without skipInvalidRows the other rows are stopped.
	res = e.mustInsert(write.InsertRequest{Table: "ts", Rows: rowsOf(tsRow(7, first), tsRow(8, tooNew))})
	if !res.Stopped || len(res.RowErrors) != 1 || res.RowErrors[0].Index != 1 {
		t.Fatalf("stopped: %+v", res)
	}

	civil := func(n int, at time.Time) string {
		return fmt.Sprintf(`={"n":%d,"at":"%s"}`, n, at.Format("2006-01-02 15:04:05.999999"))
	}
	res = e.mustInsert(write.InsertRequest{Table: "dt", SkipInvalidRows: true, Rows: rowsOf(civil(1, first), civil(2, tooOld))})
	if len(res.RowErrors) != 1 || res.RowErrors[0].Message != msg(tooOld.Format("2006-01-02T15:04:05.999999"), "at", "p:d.dt") {
		t.Fatalf("datetime: %+v", res.RowErrors)
	}
	date := func(n int, at time.Time) string {
		return fmt.Sprintf(`={"n":%d,"at":"%s"}`, n, at.Format("2006-01-02"))
	}
	res = e.mustInsert(write.InsertRequest{Table: "d", SkipInvalidRows: true,
		Rows: rowsOf(date(1, first), date(2, tooOld), date(3, last), date(4, tooNew))})
	if len(res.RowErrors) != 2 || res.RowErrors[0].Message != msg(tooOld.Format("2006-01-02"), "at", "p:d.d") || res.RowErrors[1].Index != 3 {
		t.Fatalf("date: %+v", res.RowErrors)
	}
	wantNs(t, e.ns("d"), 1, 3)
}

func TestReadRowsMeta_IngestionTime(t *testing.T) {
	e := newIEnv(t, write.Options{StreamingBuffer: 5 * time.Second})
	e.table("day", &catalog.TimePartitioning{Type: "DAY"})
	e.table("hour", &catalog.TimePartitioning{Type: "HOUR"})
	e.table("month", &catalog.TimePartitioning{Type: "MONTH"})
	e.table("year", &catalog.TimePartitioning{Type: "YEAR"})
	e.table("plain", nil)
	for _, id := range []string{"day", "hour", "month", "year", "plain"} {
		e.mustInsert(write.InsertRequest{Table: id, Rows: rowsOf(`={"n":1}`)})
	}
	e.mustInsert(write.InsertRequest{Table: "day$20260415", Rows: rowsOf(`={"n":2}`)})

	// A Storage Write API append to the _default stream takes its
	// partition from its append time.
	e.clock.Add(2 * time.Hour)
	s, err := e.eng.Resolve(context.Background(), "projects/p/datasets/d/tables/day/streams/_default")
	if err != nil {
		t.Fatal(err)
	}
	w, err := e.eng.CompileWriter(context.Background(), s, descriptor())
	if err != nil {
		t.Fatal(err)
	}
	ack := e.eng.Append(s, w, [][]byte{row("x", 3)}, write.AppendOptions{Offset: -1})
	<-ack.Done()
	if _, err := ack.Result(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		id   string
		want []time.Time
	}{
		{"day", []time.Time{day(2026, 5, 1), day(2026, 4, 15), day(2026, 5, 1)}},
		{"hour", []time.Time{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}},
		{"month", []time.Time{day(2026, 5, 1)}},
		{"year", []time.Time{day(2026, 1, 1)}},
		{"plain", []time.Time{{}}},
	} {
		var got []time.Time
		for _, m := range e.metas(tc.id) {
			got = append(got, m.Partition)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: partitions %v, want %v", tc.id, got, tc.want)
		}
	}

	// The first two rows of "day" left the buffer; the last is in it.
	ms := e.metas("day")
	if ms[0].Buffered || ms[1].Buffered || !ms[2].Buffered {
		t.Fatalf("buffered flags %v %v %v, want false false true", ms[0].Buffered, ms[1].Buffered, ms[2].Buffered)
	}
	if pt, ok := ms[1].PartitionTime(); !ok || !pt.Equal(day(2026, 4, 15)) {
		t.Errorf("_PARTITIONTIME of a flushed row: %v %v", pt, ok)
	}
	if _, ok := ms[2].PartitionTime(); ok {
		t.Errorf("_PARTITIONTIME of a buffered row is not NULL")
	}
	if !ms[2].Appended.Equal(insertNow.Add(2 * time.Hour)) {
		t.Errorf("append time %v", ms[2].Appended)
	}
	e.clock.Add(5 * time.Second)
	if ms := e.metas("day"); ms[2].Buffered {
		t.Fatal("row still buffered after the window")
	}

	// Paging through ReadRowsMeta matches ReadRows.
	tbl, _ := e.cat.GetTable(context.Background(), "p", "d", "day")
	var ns []int64
	total, err := e.eng.ReadRowsMeta(context.Background(), tbl, 1, 1, func(r rowcodec.Row, _ write.RowMeta) error {
		ns = append(ns, r[1].(int64))
		return nil
	})
	if err != nil || total != 3 || fmt.Sprint(ns) != "[2]" {
		t.Fatalf("page: %v total %d err %v", ns, total, err)
	}
}
