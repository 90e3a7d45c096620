package grpcapi_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/penstockdb/penstock/internal/grpcapi"
	"github.com/penstockdb/penstock/internal/rowcodec/arrowtest"
	"github.com/penstockdb/penstock/internal/schema"
)

// typed is a table exercising a few types through both formats.
var typed = []*schema.Field{
	{Name: "name", Type: schema.String},
	{Name: "n", Type: schema.Integer, Mode: schema.Required},
	{Name: "ts", Type: schema.Timestamp},
	{Name: "d", Type: schema.Date},
	{Name: "tags", Type: schema.String, Mode: schema.Repeated},
	{Name: "rec", Type: schema.Record, Fields: []*schema.Field{{Name: "x", Type: schema.Integer}}},
}

var typedArrow = arrow.NewSchema([]arrow.Field{
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "rec", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
}, nil)

// typedJSON returns Arrow JSON rows n = from..from+count-1.
func typedJSON(from, count int) string {
	parts := make([]string, count)
	for i := range parts {
		n := from + i
		parts[i] = fmt.Sprintf(`{"name": "row-%d", "n": %d, "ts": %d, "d": %d, "tags": ["a%d", "b"], "rec": {"x": %d}}`,
			n, n, 1700000000000000+int64(n), 19000+n, n, -n)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func typedProto(n int) map[string]any {
	return map[string]any{"name": fmt.Sprintf("row-%d", n), "n": int64(n), "ts": 1700000000000000 + int64(n),
		"d": int32(19000 + n), "tags": []any{fmt.Sprintf("a%d", n), "b"}, "rec": map[string]any{"x": int64(-n)}}
}

func arrowReq(t *testing.T, stream string, s *arrow.Schema, rowsJSON string, withSchema bool) *storagepb.AppendRowsRequest {
	t.Helper()
	sm, b, err := arrowtest.FromJSON(s, rowsJSON)
	if err != nil {
		t.Fatal(err)
	}
	ad := &storagepb.AppendRowsRequest_ArrowData{Rows: &storagepb.ArrowRecordBatch{SerializedRecordBatch: b}}
	if withSchema {
		ad.WriterSchema = &storagepb.ArrowSchema{SerializedSchema: sm}
	}
	return &storagepb.AppendRowsRequest{WriteStream: stream, Rows: &storagepb.AppendRowsRequest_ArrowRows{ArrowRows: ad}}
}

func TestAppendRows_Arrow(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("a", typed...)
	srv.table("p", typed...)
	raw := srv.raw()
	ctx := context.Background()

	t.Run("DefaultStreamMatchesProto", func(t *testing.T) {
		c, err := raw.AppendRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		def := tablePath("a") + "/streams/_default"
		for _, r := range []*storagepb.AppendRowsRequest{
			arrowReq(t, def, typedArrow, typedJSON(0, 3), true),
			arrowReq(t, "", typedArrow, typedJSON(3, 2), false),
		} {
			if err := c.Send(r); err != nil {
				t.Fatal(err)
			}
			resp, err := c.Recv()
			if err != nil || resp.GetError() != nil {
				t.Fatalf("append: %v %v", resp, err)
			}
		}
		_ = c.CloseSend()

		md, dp := msgType(t, typed)
		pc, err := raw.AppendRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]byte
		for n := 0; n < 5; n++ {
			rows = append(rows, encode(t, md, typedProto(n)))
		}
		if err := pc.Send(protoReq(tablePath("p")+"/streams/_default", dp, rows)); err != nil {
			t.Fatal(err)
		}
		if resp, err := pc.Recv(); err != nil || resp.GetError() != nil {
			t.Fatalf("proto append: %v %v", resp, err)
		}
		got, want := srv.rows("a"), srv.rows("p")
		if len(got) != 5 || !reflect.DeepEqual(got, want) {
			t.Fatalf("arrow rows %v\nproto rows %v", got, want)
		}
	})

	t.Run("CommittedOffsets", func(t *testing.T) {
		srv.table("c", typed...)
		ws, err := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("c"),
			WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := raw.AppendRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := arrowReq(t, ws.GetName(), typedArrow, typedJSON(0, 2), true)
		first.Offset = wrapperspb.Int64(0)
		second := arrowReq(t, "", typedArrow, typedJSON(2, 3), false)
		second.Offset = wrapperspb.Int64(2)
		dup := arrowReq(t, "", typedArrow, typedJSON(2, 1), false)
		dup.Offset = wrapperspb.Int64(2)
		bad := arrowReq(t, "", typedArrow, `[{"n": 5}, {"n": null}]`, false)
		for i, r := range []*storagepb.AppendRowsRequest{first, second, dup, bad} {
			if err := c.Send(r); err != nil {
				t.Fatal(err)
			}
			resp, err := c.Recv()
			if err != nil {
				t.Fatal(err)
			}
			switch i {
			case 0, 1:
				if resp.GetError() != nil || resp.GetAppendResult().GetOffset().GetValue() != r.GetOffset().GetValue() {
					t.Fatalf("append %d: %v", i, resp)
				}
			case 2:
				if code, _, _ := inbandStatus(t, resp); code != codes.AlreadyExists {
					t.Fatalf("duplicate offset: %v", resp)
				}
			case 3:
				code, msg, _ := inbandStatus(t, resp)
				if code != codes.InvalidArgument || !strings.HasPrefix(msg, "Errors found while processing rows.") ||
					len(resp.GetRowErrors()) != 1 || resp.GetRowErrors()[0].GetIndex() != 1 ||
					!strings.Contains(resp.GetRowErrors()[0].GetMessage(), "n") {
					t.Fatalf("row errors: %v", resp)
				}
			}
		}
		_ = c.CloseSend()
		if got := ints(srv.rows("c"), 1); !reflect.DeepEqual(got, []int64{0, 1, 2, 3, 4}) {
			t.Fatalf("rows %v", got)
		}
		srv.restart()
		raw = srv.raw()
		if got := ints(srv.rows("c"), 1); !reflect.DeepEqual(got, []int64{0, 1, 2, 3, 4}) {
			t.Fatalf("after restart: rows %v", got)
		}
	})

	t.Run("ExtraFieldsAndMixedFormats", func(t *testing.T) {
		def := tablePath("a") + "/streams/_default"
		extra := arrow.NewSchema([]arrow.Field{
			{Name: "n", Type: arrow.PrimitiveTypes.Int64},
			{Name: "Bogus", Type: arrow.PrimitiveTypes.Int64},
		}, nil)
		c, err := raw.AppendRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(arrowReq(t, def, extra, `[{"n": 1, "Bogus": 2}]`, true)); err != nil {
			t.Fatal(err)
		}
		resp, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		code, msg, se := inbandStatus(t, resp)
		if code != codes.InvalidArgument || se.GetCode() != storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS ||
			msg != "Input schema has more fields than BigQuery schema, extra fields: 'bogus' Entity: "+def {
			t.Fatalf("extra fields: %v %q %v", code, msg, se)
		}
		// A good Arrow append, then proto rows on the same connection.
		if err := c.Send(arrowReq(t, def, typedArrow, typedJSON(10, 1), true)); err != nil {
			t.Fatal(err)
		}
		if resp, err := c.Recv(); err != nil || resp.GetError() != nil {
			t.Fatalf("append: %v %v", resp, err)
		}
		md, dp := msgType(t, typed)
		if err := c.Send(protoReq(def, dp, [][]byte{encode(t, md, typedProto(11))})); err != nil {
			t.Fatal(err)
		}
		resp, err = c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if code, msg, _ := inbandStatus(t, resp); code != codes.InvalidArgument || !strings.Contains(msg, "arrow_rows") {
			t.Fatalf("mixed formats: %v %q", code, msg)
		}
		// The connection lives on in its own format.
		if err := c.Send(arrowReq(t, "", typedArrow, typedJSON(12, 1), false)); err != nil {
			t.Fatal(err)
		}
		if resp, err := c.Recv(); err != nil || resp.GetError() != nil {
			t.Fatalf("append after mixed: %v %v", resp, err)
		}
		// A malformed batch is an in-band INVALID_ARGUMENT.
		req := arrowReq(t, "", typedArrow, typedJSON(13, 1), false)
		req.GetArrowRows().Rows.SerializedRecordBatch = []byte("not a batch")
		if err := c.Send(req); err != nil {
			t.Fatal(err)
		}
		resp, err = c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if code, msg, _ := inbandStatus(t, resp); code != codes.InvalidArgument || !strings.Contains(msg, "Invalid Arrow record batch") {
			t.Fatalf("malformed batch: %v %q", code, msg)
		}
		_ = c.CloseSend()
	})
}
