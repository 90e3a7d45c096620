package restapi_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/servertest"
	"github.com/penstockdb/penstock/internal/write"
	"github.com/penstockdb/penstock/test/clients/go/samples"
)

// This file drives insertAll with the official Go client's Inserter, as a
// user would: struct rows, ValueSavers with insertIds, PutMultiError, the
// Inserter's flags, reading back with table.Read.

// event is a struct row; the client infers the schema from it and sends
// capitalised keys ({"Name":..,"N":..}).
type event struct {
	Name string
	N    int64
	At   time.Time
}

func eventSchema() bigquery.Schema {
	return bigquery.Schema{
		{Name: "name", Type: bigquery.StringFieldType},
		{Name: "n", Type: bigquery.IntegerFieldType, Required: true},
		{Name: "at", Type: bigquery.TimestampFieldType},
	}
}

// saver is a ValueSaver with a chosen insertId and arbitrary values.
type saver struct {
	id  string
	row map[string]bigquery.Value
}

func (s saver) Save() (map[string]bigquery.Value, string, error) { return s.row, s.id, nil }

// readNs reads column n of every row through table.Read, sorted.
func readNs(t *testing.T, ctx context.Context, tbl *bigquery.Table) []int64 {
	t.Helper()
	it := tbl.Read(ctx)
	var out []int64
	for {
		var row map[string]bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", tbl.TableID, err)
		}
		out = append(out, row["n"].(int64))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func createGoTable(t *testing.T, ctx context.Context, c *bigquery.Client, id string, md *bigquery.TableMetadata) *bigquery.Table {
	t.Helper()
	if md == nil {
		md = &bigquery.TableMetadata{Schema: eventSchema()}
	}
	tbl := c.Dataset("ds").Table(id)
	if err := tbl.Create(ctx, md); err != nil {
		t.Fatalf("creating %s: %v", id, err)
	}
	return tbl
}

func TestInsertAll_GoInserter(t *testing.T) {
	e := newEngineEnv(t, write.Options{})
	c, ctx := newClient(t, e.env)
	// newClient uses project "proj"; make its dataset.
	if err := c.Dataset("ds").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := createGoTable(t, ctx, c, "events", nil)
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

	t.Run("struct rows", func(t *testing.T) {
		if err := tbl.Inserter().Put(ctx, []*event{{Name: "a", N: 1, At: at}, {Name: "b", N: 2}}); err != nil {
			t.Fatal(err)
		}
		it := tbl.Read(ctx)
		var got []event
		for {
			var ev event
			err := it.Next(&ev)
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ev)
		}
		if len(got) != 2 || got[0].Name != "a" || !got[0].At.Equal(at.Truncate(time.Microsecond)) || got[1].N != 2 {
			t.Fatalf("read back %+v", got)
		}
	})

	t.Run("ValueSaver insertIds de-duplicate retries", func(t *testing.T) {
		rows := []saver{
			{"id-10", map[string]bigquery.Value{"name": "x", "n": 10}},
			{"id-11", map[string]bigquery.Value{"name": "y", "n": 11}},
		}
		for i := 0; i < 3; i++ {
			if err := tbl.Inserter().Put(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
		// NoDedupeID rows are never de-duplicated.
		nd := []saver{{bigquery.NoDedupeID, map[string]bigquery.Value{"n": 12}}}
		for i := 0; i < 2; i++ {
			if err := tbl.Inserter().Put(ctx, nd); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := fmt.Sprint(readNs(t, ctx, tbl)), "[1 2 10 11 12 12]"; got != want {
			t.Fatalf("rows %s, want %s", got, want)
		}
	})

	t.Run("PutMultiError with invalid and stopped rows", func(t *testing.T) {
		rows := []saver{
			{"g0", map[string]bigquery.Value{"n": 20}},
			{"b1", map[string]bigquery.Value{"n": 21, "nope": 1}},
			{"g2", map[string]bigquery.Value{"n": 22}},
			{"b3", map[string]bigquery.Value{"name": "no n"}},
		}
		err := tbl.Inserter().Put(ctx, rows)
		var pme bigquery.PutMultiError
		if !errors.As(err, &pme) {
			t.Fatalf("got %v (%T), want PutMultiError", err, err)
		}
		got := map[int]string{}
		for _, rie := range pme {
			var parts []string
			for _, e := range rie.Errors {
				be := e.(*bigquery.Error)
				parts = append(parts, be.Reason+"@"+be.Location+":"+be.Message)
			}
			got[rie.RowIndex] = rie.InsertID + " " + strings.Join(parts, ";")
		}
		want := map[int]string{
			0: "g0 stopped@:",
			1: "b1 invalid@nope:no such field: nope.",
			2: "g2 stopped@:",
			3: "b3 invalid@n:Missing required field: n.",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("row errors\n got %v\nwant %v", got, want)
		}
		if n := readNs(t, ctx, tbl); len(n) != 6 {
			t.Fatalf("a stopped request wrote rows: %v", n)
		}

		ins := tbl.Inserter()
		ins.SkipInvalidRows = true
		err = ins.Put(ctx, rows)
		if !errors.As(err, &pme) || len(pme) != 2 || pme[0].RowIndex != 1 || pme[1].RowIndex != 3 {
			t.Fatalf("skipInvalidRows: %v", err)
		}
		if got, want := fmt.Sprint(readNs(t, ctx, tbl)), "[1 2 10 11 12 12 20 22]"; got != want {
			t.Fatalf("rows %s, want %s", got, want)
		}
	})

	t.Run("IgnoreUnknownValues", func(t *testing.T) {
		ins := tbl.Inserter()
		ins.IgnoreUnknownValues = true
		if err := ins.Put(ctx, []saver{{"", map[string]bigquery.Value{"n": 30, "extra": "dropped"}}}); err != nil {
			t.Fatal(err)
		}
		// Type errors are not forgiven.
		err := ins.Put(ctx, []saver{{"", map[string]bigquery.Value{"n": "thirty-one"}}})
		var pme bigquery.PutMultiError
		if !errors.As(err, &pme) || len(pme) != 1 || pme[0].Errors[0].(*bigquery.Error).Reason != "invalid" {
			t.Fatalf("type error with ignoreUnknownValues: %v", err)
		}
	})

	t.Run("TableTemplateSuffix", func(t *testing.T) {
		ins := tbl.Inserter()
		ins.TableTemplateSuffix = "_20240102"
		if err := ins.Put(ctx, []*event{{N: 40}, {N: 41}}); err != nil {
			t.Fatal(err)
		}
		inst := c.Dataset("ds").Table("events_20240102")
		md, err := inst.Metadata(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(md.Schema) != 3 || md.Schema[1].Name != "n" || !md.Schema[1].Required {
			t.Fatalf("instance schema %+v", md.Schema)
		}
		if got := fmt.Sprint(readNs(t, ctx, inst)); got != "[40 41]" {
			t.Fatalf("instance rows %s", got)
		}
	})

	t.Run("errors are not retried", func(t *testing.T) {
		err := c.Dataset("ds").Table("missing").Inserter().Put(ctx, []*event{{N: 1}})
		wantAPIError(t, "missing table", err, 404, "notFound")
		err = c.Dataset("ds").Table("events$20200101").Inserter().Put(ctx, []*event{{N: 1}})
		wantAPIError(t, "decorator", err, 400, "invalid")
	})
}

func TestInsertAll_GoPartitionDecorator(t *testing.T) {
	e := newEngineEnv(t, write.Options{})
	c, ctx := newClient(t, e.env)
	if err := c.Dataset("ds").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := createGoTable(t, ctx, c, "daily", &bigquery.TableMetadata{Schema: eventSchema(),
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType}})
	// Today (the engine's clock) is 2024-01-02.
	if err := c.Dataset("ds").Table("daily$20231225").Inserter().Put(ctx, []*event{{N: 1}}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(readNs(t, ctx, tbl)); got != "[1]" {
		t.Fatalf("rows %s", got)
	}
}

// TestInsertAll_ServerStreamingBuffer runs the real server with a short
// --streaming-buffer and watches tables.get through the client.
func TestInsertAll_ServerStreamingBuffer(t *testing.T) {
	const window = 1500 * time.Millisecond
	in := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.StreamingBuffer = window }))
	c := in.BigQueryClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Dataset("ds").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := createGoTable(t, ctx, c, "t", nil)
	start := time.Now()
	if err := tbl.Inserter().Put(ctx, []*event{{N: 1}, {N: 2}, {N: 3}}); err != nil {
		t.Fatal(err)
	}
	md, err := tbl.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < window {
		sb := md.StreamingBuffer
		if sb == nil || sb.EstimatedRows != 3 || sb.EstimatedBytes == 0 || md.NumRows != 0 ||
			sb.OldestEntryTime.Before(start.Add(-time.Second)) || sb.OldestEntryTime.After(time.Now()) {
			t.Fatalf("while buffered: numRows %d, streamingBuffer %+v", md.NumRows, sb)
		}
	}
	time.Sleep(time.Until(start.Add(window + 200*time.Millisecond)))
	if md, err = tbl.Metadata(ctx); err != nil {
		t.Fatal(err)
	}
	if md.StreamingBuffer != nil || md.NumRows != 3 {
		t.Fatalf("after the window: numRows %d, streamingBuffer %+v", md.NumRows, md.StreamingBuffer)
	}
}

// TestInsertAll_SurvivesRestart checks that acknowledged rows, template
// instances and partitions survive a server restart.
func TestInsertAll_SurvivesRestart(t *testing.T) {
	in := servertest.Start(t)
	c := in.BigQueryClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Dataset("ds").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := createGoTable(t, ctx, c, "t", &bigquery.TableMetadata{Schema: eventSchema(),
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType}})
	today := time.Now().UTC().Format("20060102")
	if err := tbl.Inserter().Put(ctx, []*event{{N: 1}, {N: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Dataset("ds").Table("t$"+today).Inserter().Put(ctx, []*event{{N: 3}}); err != nil {
		t.Fatal(err)
	}
	ins := tbl.Inserter()
	ins.TableTemplateSuffix = "_x"
	if err := ins.Put(ctx, []*event{{N: 4}}); err != nil {
		t.Fatal(err)
	}
	in.Restart(t)
	if got := fmt.Sprint(readNs(t, ctx, tbl)); got != "[1 2 3]" {
		t.Fatalf("after restart: %s", got)
	}
	if got := fmt.Sprint(readNs(t, ctx, c.Dataset("ds").Table("t_x"))); got != "[4]" {
		t.Fatalf("template instance after restart: %s", got)
	}
}

// TestInsertAll_GoSeedSample runs the seed document's Go insertAll sample
// (test/clients/go/samples: its ValueSaver with NoDedupeID, full_name and
// age) with only the client options changed.
func TestInsertAll_GoSeedSample(t *testing.T) {
	in := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := in.BigQueryClient(t)
	if err := c.Dataset("mydataset").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := c.Dataset("mydataset").Table("mytable")
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{
		{Name: "full_name", Type: bigquery.StringFieldType},
		{Name: "age", Type: bigquery.IntegerFieldType},
	}}); err != nil {
		t.Fatal(err)
	}
	opts := []option.ClientOption{option.WithEndpoint(in.HTTPURL), option.WithoutAuthentication()}
	if err := samples.InsertRows(in.Project, "mydataset", "mytable", opts...); err != nil {
		t.Fatal(err)
	}
	it := tbl.Read(ctx)
	var names []string
	for {
		var row map[string]bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fmt.Sprint(row["full_name"], "/", row["age"]))
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "Phred Phlyntstone/32,Wylma Phlyntstone/29" {
		t.Fatalf("rows %s", got)
	}
}
