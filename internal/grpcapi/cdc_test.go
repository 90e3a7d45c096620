package grpcapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/grpcapi"
	"github.com/penstockdb/penstock/internal/schema"
)

// TestCDC covers change data capture on the _default stream (spec §4.8):
// UPSERT and DELETE applied per primary key by sequence number, invalid
// change types, mixing, and tables without a primary key.
func TestCDC(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	ctx := context.Background()
	cols := []*schema.Field{
		{Name: "id", Type: schema.Integer, Mode: schema.Required},
		{Name: "v", Type: schema.String, Mode: schema.Nullable},
	}
	srv.table("plain", cols...)
	if _, err := srv.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "keyed",
		Schema: &schema.Table{Fields: cols},
		Extra:  map[string]json.RawMessage{"tableConstraints": json.RawMessage(`{"primaryKey":{"columns":["id"]}}`)},
	}); err != nil {
		t.Fatal(err)
	}
	writer := append(append([]*schema.Field{}, cols...),
		&schema.Field{Name: "_CHANGE_TYPE", Type: schema.String},
		&schema.Field{Name: "_CHANGE_SEQUENCE_NUMBER", Type: schema.String})
	md, dp := msgType(t, writer)
	raw := srv.raw()
	open := func() storagepb.BigQueryWrite_AppendRowsClient {
		c, err := raw.AppendRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	send := func(c storagepb.BigQueryWrite_AppendRowsClient, stream string, first bool, rows ...map[string]any) *storagepb.AppendRowsResponse {
		t.Helper()
		var enc [][]byte
		for _, r := range rows {
			enc = append(enc, encode(t, md, r))
		}
		req := protoReq(stream, dp, enc)
		if !first {
			req = protoReq("", nil, enc)
		}
		if err := c.Send(req); err != nil {
			t.Fatal(err)
		}
		resp, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	keyed := tablePath("keyed") + "/streams/_default"

	c := open()
	for i, batch := range [][]map[string]any{
		{{"id": int64(1), "v": "a", "_CHANGE_TYPE": "UPSERT"}, {"id": int64(2), "v": "b", "_CHANGE_TYPE": "UPSERT"}},
		{{"id": int64(1), "v": "c", "_CHANGE_TYPE": "UPSERT", "_CHANGE_SEQUENCE_NUMBER": "1"}},
		{{"id": int64(2), "_CHANGE_TYPE": "DELETE"}},
		{{"id": int64(3), "v": "new", "_CHANGE_TYPE": "upsert", "_CHANGE_SEQUENCE_NUMBER": "FFF/ABC"}},
		{{"id": int64(3), "v": "stale", "_CHANGE_TYPE": "UPSERT", "_CHANGE_SEQUENCE_NUMBER": "ABC"}},
		{{"id": int64(1), "v": "older", "_CHANGE_TYPE": "UPSERT", "_CHANGE_SEQUENCE_NUMBER": "0"}},
	} {
		if resp := send(c, keyed, i == 0, batch...); resp.GetError() != nil {
			t.Fatalf("batch %d: %v", i, resp.GetError())
		}
	}
	resp := send(c, keyed, false, map[string]any{"id": int64(9), "_CHANGE_TYPE": "BOGUS"})
	if code, msg, _ := inbandStatus(t, resp); code != codes.InvalidArgument || !strings.Contains(msg, "The given value is not a valid CHANGE_TYPE") {
		t.Fatalf("bogus change type: %v %q", code, msg)
	}
	// The same connection cannot switch to plain rows.
	resp = send(c, keyed, false, map[string]any{"id": int64(9), "v": "plain"})
	if code, msg, _ := inbandStatus(t, resp); code != codes.InvalidArgument || !strings.Contains(msg, "not a valid CHANGE_TYPE") {
		t.Fatalf("mixing: %v %q", code, msg)
	}
	got := map[int64]any{}
	for _, r := range srv.rows("keyed") {
		got[r[0].(int64)] = r[1]
	}
	want := map[int64]any{1: "c", 3: "new"}
	if len(got) != len(want) || got[1] != want[1] || got[3] != want[3] {
		t.Fatalf("keyed table = %v, want %v", got, want)
	}
	// The pseudo-columns are never columns.
	if n := len(srv.rows("keyed")[0]); n != 2 {
		t.Fatalf("row has %d columns, want 2", n)
	}

	// UPSERT needs the _default stream.
	ws, err := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("keyed"), WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED}})
	if err != nil {
		t.Fatal(err)
	}
	resp = send(open(), ws.GetName(), true, map[string]any{"id": int64(5), "_CHANGE_TYPE": "UPSERT"})
	if code, _, _ := inbandStatus(t, resp); code != codes.InvalidArgument {
		t.Fatalf("UPSERT on a COMMITTED stream: %v", resp)
	}
	// INSERT rows are plain appends, also on explicit streams.
	if resp := send(open(), ws.GetName(), true, map[string]any{"id": int64(5), "_CHANGE_TYPE": "INSERT"}); resp.GetError() != nil {
		t.Fatalf("INSERT on a COMMITTED stream: %v", resp.GetError())
	}

	// Without a primary key the pseudo-column is an extra field.
	resp = send(open(), tablePath("plain")+"/streams/_default", true, map[string]any{"id": int64(1), "_CHANGE_TYPE": "UPSERT"})
	code, msg, se := inbandStatus(t, resp)
	if code != codes.InvalidArgument || se.GetCode() != storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS || !strings.Contains(msg, "_change_type") {
		t.Fatalf("CDC on a table without a key: %v %q %v", code, msg, se)
	}

	// Changes survive a restart.
	srv.restart()
	got = map[int64]any{}
	for _, r := range srv.rows("keyed") {
		got[r[0].(int64)] = r[1]
	}
	if len(got) != 3 || got[1] != "c" || got[3] != "new" || got[5] != nil {
		t.Fatalf("after restart: %v", got)
	}
}
