package restapi_test

import (
	"context"
	"errors"
	"math/big"
	"reflect"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/write"
)

// This file drives the handler with the official Go client
// (cloud.google.com/go/bigquery) over loopback, configured the way users
// point it at an emulator.

func newClient(t *testing.T, e *env) (*bigquery.Client, context.Context) {
	t.Helper()
	// A deadline turns any accidental retryable answer (which the client
	// retries forever) into a test failure instead of a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	c, err := bigquery.NewClient(ctx, "proj", option.WithEndpoint(e.srv.URL), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ctx
}

// wantAPIError checks err is a *googleapi.Error with the code and reason.
func wantAPIError(t *testing.T, what string, err error, code int, reason string) {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Errorf("%s: error %v (%T), want *googleapi.Error %d %s", what, err, err, code, reason)
		return
	}
	if ge.Code != code || len(ge.Errors) == 0 || ge.Errors[0].Reason != reason {
		t.Errorf("%s: got %d %+v, want %d %s", what, ge.Code, ge.Errors, code, reason)
	}
}

// everyTypeGoSchema is a schema with every column type and nesting, in
// the client's own model.
func everyTypeGoSchema() bigquery.Schema {
	return bigquery.Schema{
		{Name: "s", Type: bigquery.StringFieldType, Required: true, MaxLength: 10, Description: "a string"},
		{Name: "b", Type: bigquery.BytesFieldType},
		{Name: "i", Type: bigquery.IntegerFieldType},
		{Name: "f", Type: bigquery.FloatFieldType},
		{Name: "bo", Type: bigquery.BooleanFieldType},
		{Name: "ts", Type: bigquery.TimestampFieldType},
		{Name: "d", Type: bigquery.DateFieldType},
		{Name: "t", Type: bigquery.TimeFieldType},
		{Name: "dt", Type: bigquery.DateTimeFieldType},
		{Name: "g", Type: bigquery.GeographyFieldType},
		{Name: "n", Type: bigquery.NumericFieldType, Precision: 10, Scale: 2},
		{Name: "bn", Type: bigquery.BigNumericFieldType},
		{Name: "j", Type: bigquery.JSONFieldType},
		{Name: "iv", Type: bigquery.IntervalFieldType},
		{Name: "r", Type: bigquery.RangeFieldType, RangeElementType: &bigquery.RangeElementType{Type: bigquery.DateFieldType}},
		{Name: "tags", Type: bigquery.StringFieldType, Repeated: true},
		{Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{
			{Name: "x", Type: bigquery.IntegerFieldType},
			{Name: "inner", Type: bigquery.RecordFieldType, Repeated: true, Schema: bigquery.Schema{
				{Name: "y", Type: bigquery.StringFieldType},
				{Name: "z", Type: bigquery.DateFieldType},
			}},
		}},
	}
}

func TestGoClientDatasets(t *testing.T) {
	e := newEnv(t)
	c, ctx := newClient(t, e)

	ds := c.Dataset("ds")
	if err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: "EU", Description: "d1", Labels: map[string]string{"env": "test"}}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	wantAPIError(t, "Create again", ds.Create(ctx, nil), 409, "duplicate")

	md, err := ds.Metadata(ctx)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	if md.Location != "EU" || md.Description != "d1" || md.Labels["env"] != "test" || md.FullID != "proj:ds" ||
		!md.CreationTime.Equal(testNow.Truncate(time.Millisecond)) || md.ETag == "" {
		t.Errorf("Metadata = %+v", md)
	}

	md2, err := ds.Update(ctx, bigquery.DatasetMetadataToUpdate{Description: "d2"}, md.ETag)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if md2.Description != "d2" || md2.Labels["env"] != "test" {
		t.Errorf("after Update: description %q labels %v", md2.Description, md2.Labels)
	}
	_, err = ds.Update(ctx, bigquery.DatasetMetadataToUpdate{Description: "d3"}, "stale-etag")
	wantAPIError(t, "Update with a stale etag", err, 412, "conditionNotMet")

	if err := c.Dataset("other").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var ids []string
	it := c.Datasets(ctx)
	for {
		d, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatalf("Datasets: %v", err)
		}
		ids = append(ids, d.DatasetID)
	}
	if !reflect.DeepEqual(ids, []string{"ds", "other"}) {
		t.Errorf("Datasets = %v", ids)
	}

	if err := ds.Table("t").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, "Delete a non-empty dataset", ds.Delete(ctx), 400, "resourceInUse")
	if err := ds.DeleteWithContents(ctx); err != nil {
		t.Fatalf("DeleteWithContents: %v", err)
	}
	_, err = ds.Metadata(ctx)
	wantAPIError(t, "Metadata of a deleted dataset", err, 404, "notFound")
	wantAPIError(t, "Delete a deleted dataset", ds.Delete(ctx), 404, "notFound")
	wantAPIError(t, "invalid dataset id", c.Dataset("a-b").Create(ctx, nil), 400, "invalid")
}

func TestGoClientTables(t *testing.T) {
	e := newEnv(t)
	c, ctx := newClient(t, e)
	ds := c.Dataset("ds")
	if err := ds.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := ds.Table("events")
	sch := everyTypeGoSchema()
	err := tbl.Create(ctx, &bigquery.TableMetadata{
		Schema:           sch,
		Description:      "all types",
		Labels:           map[string]string{"team": "ingest"},
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: "ts", Expiration: 48 * time.Hour},
		Clustering:       &bigquery.Clustering{Fields: []string{"s"}},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	wantAPIError(t, "Create again", tbl.Create(ctx, nil), 409, "duplicate")
	wantAPIError(t, "Create in a missing dataset", c.Dataset("nope").Table("t").Create(ctx, nil), 404, "notFound")
	wantAPIError(t, "Create with a bad field name", ds.Table("bad").Create(ctx, &bigquery.TableMetadata{
		Schema: bigquery.Schema{{Name: "a-b", Type: bigquery.StringFieldType}}}), 400, "invalid")

	e.data.setStats("proj.ds.events", write.TableStats{NumRows: 3, NumBytes: 300, BufferRows: 2, BufferBytes: 20,
		OldestBuffered: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)})
	md, err := tbl.Metadata(ctx)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	if !reflect.DeepEqual(md.Schema, sch) {
		t.Errorf("schema round trip:\n got %s\nwant %s", schemaString(md.Schema), schemaString(sch))
	}
	if md.Description != "all types" || md.Labels["team"] != "ingest" || md.NumRows != 3 || md.NumBytes != 300 ||
		md.Type != bigquery.RegularTable || md.FullID != "proj:ds.events" || md.Location != "US" {
		t.Errorf("Metadata = %+v", md)
	}
	if tp := md.TimePartitioning; tp == nil || tp.Field != "ts" || tp.Expiration != 48*time.Hour || tp.Type != bigquery.DayPartitioningType {
		t.Errorf("TimePartitioning = %+v", md.TimePartitioning)
	}
	if md.Clustering == nil || !reflect.DeepEqual(md.Clustering.Fields, []string{"s"}) {
		t.Errorf("Clustering = %+v", md.Clustering)
	}
	if sb := md.StreamingBuffer; sb == nil || sb.EstimatedRows != 2 || sb.EstimatedBytes != 20 ||
		!sb.OldestEntryTime.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("StreamingBuffer = %+v", md.StreamingBuffer)
	}

	// Update: add a column and change the description.
	added := append(sch, &bigquery.FieldSchema{Name: "added", Type: bigquery.IntegerFieldType})
	md2, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: added, Description: "more"}, md.ETag)
	if err != nil {
		t.Fatalf("Update adding a column: %v", err)
	}
	if !reflect.DeepEqual(md2.Schema, added) || md2.Description != "more" {
		t.Errorf("after Update: description %q schema %s", md2.Description, schemaString(md2.Schema))
	}
	_, err = tbl.Update(ctx, bigquery.TableMetadataToUpdate{Description: "x"}, md.ETag)
	wantAPIError(t, "Update with a stale etag", err, 412, "conditionNotMet")
	_, err = tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: sch[:3]}, "")
	wantAPIError(t, "Update dropping columns", err, 400, "invalid")

	var names []string
	it := ds.Tables(ctx)
	for {
		tb, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatalf("Tables: %v", err)
		}
		names = append(names, tb.TableID)
	}
	if !reflect.DeepEqual(names, []string{"events"}) {
		t.Errorf("Tables = %v", names)
	}

	if err := tbl.Delete(ctx); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = tbl.Metadata(ctx)
	wantAPIError(t, "Metadata of a deleted table", err, 404, "notFound")
	wantAPIError(t, "Delete a deleted table", tbl.Delete(ctx), 404, "notFound")
}

// TestGoClientRead reads rows of every type through the client's row
// iterator (tables.get?fields=schema + tabledata.list with
// useInt64Timestamp, paging with maxResults).
func TestGoClientRead(t *testing.T) {
	e := newEnv(t)
	c, ctx := newClient(t, e)
	ds := c.Dataset("ds")
	if err := ds.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tbl := ds.Table("all")
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: everyTypeGoSchema()}); err != nil {
		t.Fatal(err)
	}
	d := must(rowcodec.ParseDate("2024-01-31"))
	full := rowcodec.Row{
		"héllo", []byte("hi"), int64(-42), 1.5, true,
		must(rowcodec.ParseTimestamp("2024-01-02T03:04:05.123456Z")), d,
		must(rowcodec.ParseTime("01:02:03.000004")), must(rowcodec.ParseDateTime("2024-01-02T03:04:05.5")),
		"POINT(1 2)", must(rowcodec.ParseNumeric("123.45", false)), must(rowcodec.ParseNumeric("-1.5", true)),
		`{"a":[1,2]}`, must(rowcodec.ParseInterval("1-2 3 4:5:6.5")),
		must(rowcodec.ParseRange("[2024-01-01, UNBOUNDED)", "DATE")),
		[]rowcodec.Value{"x", "y"},
		rowcodec.Row{int64(7), []rowcodec.Value{rowcodec.Row{"in", d}}},
	}
	empty := rowcodec.Row{"e", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, []rowcodec.Value{}, nil}
	e.data.set("proj.ds.all", full, empty, empty)

	cd := civil.Date{Year: 2024, Month: 1, Day: 31}
	wantFull := []bigquery.Value{
		"héllo", []byte("hi"), int64(-42), 1.5, true,
		time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), cd,
		civil.Time{Hour: 1, Minute: 2, Second: 3, Nanosecond: 4000},
		civil.DateTime{Date: civil.Date{Year: 2024, Month: 1, Day: 2}, Time: civil.Time{Hour: 3, Minute: 4, Second: 5, Nanosecond: 500000000}},
		"POINT(1 2)", big.NewRat(12345, 100), big.NewRat(-3, 2),
		`{"a":[1,2]}`, &bigquery.IntervalValue{Years: 1, Months: 2, Days: 3, Hours: 4, Minutes: 5, Seconds: 6, SubSecondNanos: 500000000},
		&bigquery.RangeValue{Start: civil.Date{Year: 2024, Month: 1, Day: 1}},
		[]bigquery.Value{"x", "y"},
		[]bigquery.Value{int64(7), []bigquery.Value{[]bigquery.Value{"in", cd}}},
	}
	wantEmpty := []bigquery.Value{"e", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, []bigquery.Value(nil), nil}

	it := tbl.Read(ctx)
	it.PageInfo().MaxSize = 2 // forces a second tabledata.list page
	var got [][]bigquery.Value
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, row)
	}
	if it.TotalRows != 3 || len(got) != 3 {
		t.Fatalf("TotalRows %d, read %d rows, want 3", it.TotalRows, len(got))
	}
	for i, want := range [][]bigquery.Value{wantFull, wantEmpty, wantEmpty} {
		for j := range want {
			if j >= len(got[i]) || !valuesEqual(got[i][j], want[j]) {
				t.Errorf("row %d column %d = %#v, want %#v", i, j, at(got[i], j), want[j])
			}
		}
	}
}

func at(r []bigquery.Value, i int) bigquery.Value {
	if i < len(r) {
		return r[i]
	}
	return "<missing>"
}

// valuesEqual compares client values, with big.Rat compared by value.
func valuesEqual(a, b bigquery.Value) bool {
	if ra, ok := a.(*big.Rat); ok {
		rb, ok := b.(*big.Rat)
		return ok && ra.Cmp(rb) == 0
	}
	if la, ok := a.([]bigquery.Value); ok {
		lb, ok := b.([]bigquery.Value)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !valuesEqual(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func schemaString(s bigquery.Schema) string {
	b, _ := s.ToJSONFields()
	return string(b)
}
