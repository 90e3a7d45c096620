package grpcapi_test

import (
	"context"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"

	"github.com/penstockdb/penstock/internal/grpcapi"
	"github.com/penstockdb/penstock/internal/schema"
)

// TestMissingValues checks column defaults and missing-value
// interpretation as the spec (§4.6) defines them: columns absent from the
// writer schema always get their default; fields absent from a row are
// NULL unless DEFAULT_VALUE applies, per request (map) or sticky for the
// connection (default_missing_value_interpretation).
func TestMissingValues(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	table := []*schema.Field{
		{Name: "id", Type: schema.Integer, Mode: schema.Required},
		{Name: "a", Type: schema.String, Mode: schema.Nullable, DefaultValueExpression: "'dflt-a'"},
		{Name: "b", Type: schema.Integer, Mode: schema.Nullable, DefaultValueExpression: "42"},
		{Name: "c", Type: schema.String, Mode: schema.Nullable, DefaultValueExpression: "'dflt-c'"}, // not in the writer schema
	}
	srv.table("t", table...)
	writerFields := table[:3]
	md, dp := msgType(t, writerFields)
	raw := srv.raw()
	ctx := context.Background()
	c, err := raw.AppendRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	row := func(id int64) [][]byte { return [][]byte{encode(t, md, map[string]any{"id": id})} }
	send := func(r *storagepb.AppendRowsRequest) *storagepb.AppendRowsResponse {
		t.Helper()
		if err := c.Send(r); err != nil {
			t.Fatal(err)
		}
		resp, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	def := tablePath("t") + "/streams/_default"
	// 0: nothing set → a, b NULL; c (missing column) default.
	send(protoReq(def, dp, row(0)))
	// 1: per-request map for a only.
	r1 := protoReq("", nil, row(1))
	r1.MissingValueInterpretations = map[string]storagepb.AppendRowsRequest_MissingValueInterpretation{"A": storagepb.AppendRowsRequest_DEFAULT_VALUE}
	send(r1)
	// 2: sticky default for the connection from now on.
	r2 := protoReq("", nil, row(2))
	r2.DefaultMissingValueInterpretation = storagepb.AppendRowsRequest_DEFAULT_VALUE
	send(r2)
	// 3: sticky still applies; the map overrides it for b.
	r3 := protoReq("", nil, row(3))
	r3.MissingValueInterpretations = map[string]storagepb.AppendRowsRequest_MissingValueInterpretation{"b": storagepb.AppendRowsRequest_NULL_VALUE}
	send(r3)
	// 4: an unknown column in the map is rejected in-band.
	r4 := protoReq("", nil, row(4))
	r4.MissingValueInterpretations = map[string]storagepb.AppendRowsRequest_MissingValueInterpretation{"nope": storagepb.AppendRowsRequest_DEFAULT_VALUE}
	if code, _, _ := inbandStatus(t, send(r4)); code != codes.InvalidArgument {
		t.Fatalf("unknown column in map: %v", code)
	}

	want := [][]any{
		{int64(0), nil, nil, "dflt-c"},
		{int64(1), "dflt-a", nil, "dflt-c"},
		{int64(2), "dflt-a", int64(42), "dflt-c"},
		{int64(3), "dflt-a", nil, "dflt-c"},
	}
	got := srv.rows("t")
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		for j, v := range w {
			if got[i][j] != v {
				t.Errorf("row %d column %d = %#v, want %#v", i, j, got[i][j], v)
			}
		}
	}
}
