package grpcapi_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/servertest"
)

// BenchmarkAppendRows measures AppendRows end to end over loopback gRPC
// against a whole in-process server: the client encodes nothing in the
// loop (rows are pre-encoded ~100-byte, 6-column rows), each of `conns`
// connections keeps up to 8 requests in flight on its own _default stream
// call. One op is one acknowledged request of `rows` rows. Client and
// server share the process, so allocs/op count both sides. Run briefly:
//
//	go test ./internal/grpcapi -run '^$' -bench BenchmarkAppendRows -benchtime 200ms
func BenchmarkAppendRows(b *testing.B) {
	for _, mode := range []config.SyncMode{config.SyncAlways, config.SyncNever} {
		for _, conns := range []int{1, 4} {
			for _, rows := range []int{1, 100, 1000, 10000} {
				b.Run(fmt.Sprintf("sync=%s/conns=%d/rows=%d", mode, conns, rows), func(b *testing.B) {
					benchAppendRows(b, mode, conns, rows)
				})
			}
		}
	}
}

const benchInflight = 8

// benchDescriptor is the writer schema of benchRow, derived from the table
// schema the way clients derive it (adapt).
func benchDescriptor(b *testing.B) *descriptorpb.DescriptorProto {
	const nullable = storagepb.TableFieldSchema_NULLABLE
	ts := &storagepb.TableSchema{Fields: []*storagepb.TableFieldSchema{
		{Name: "seq", Type: storagepb.TableFieldSchema_INT64, Mode: storagepb.TableFieldSchema_REQUIRED},
		{Name: "ts", Type: storagepb.TableFieldSchema_TIMESTAMP, Mode: nullable},
		{Name: "user_id", Type: storagepb.TableFieldSchema_STRING, Mode: nullable},
		{Name: "event", Type: storagepb.TableFieldSchema_STRING, Mode: nullable},
		{Name: "amount", Type: storagepb.TableFieldSchema_DOUBLE, Mode: nullable},
		{Name: "ok", Type: storagepb.TableFieldSchema_BOOL, Mode: nullable},
	}}
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "root")
	if err != nil {
		b.Fatal(err)
	}
	dp, err := adapt.NormalizeDescriptor(d.(protoreflect.MessageDescriptor))
	if err != nil {
		b.Fatal(err)
	}
	return dp
}

// benchRow encodes row i of the 6-column table (fields numbered 1-6 in
// schema order, as adapt numbers them).
func benchRow(i int64) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(i))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(1_767_000_000_000_000+i))
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendString(b, fmt.Sprintf("user-%019d", i))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendString(b, fmt.Sprintf("page_view/checkout/step-%020d", i))
	b = protowire.AppendTag(b, 5, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(float64(i)*0.25))
	b = protowire.AppendTag(b, 6, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(i&1))
}

func benchAppendRows(b *testing.B, mode config.SyncMode, conns, rows int) {
	in := servertest.Start(b, servertest.WithConfig(func(c *config.Config) { c.Sync = mode }))
	ctx := context.Background()
	bq := in.BigQueryClient(b)
	if err := bq.Dataset("d").Create(ctx, nil); err != nil {
		b.Fatal(err)
	}
	schema := bigquery.Schema{
		{Name: "seq", Type: bigquery.IntegerFieldType, Required: true},
		{Name: "ts", Type: bigquery.TimestampFieldType},
		{Name: "user_id", Type: bigquery.StringFieldType},
		{Name: "event", Type: bigquery.StringFieldType},
		{Name: "amount", Type: bigquery.FloatFieldType},
		{Name: "ok", Type: bigquery.BooleanFieldType},
	}
	if err := bq.Dataset("d").Table("t").Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		b.Fatal(err)
	}
	stream := fmt.Sprintf("projects/%s/datasets/d/tables/t/streams/_default", in.Project)
	desc := benchDescriptor(b)
	batch := make([][]byte, rows)
	size := 0
	for i := range batch {
		batch[i] = benchRow(int64(i))
		size += len(batch[i])
	}
	calls := make([]storagepb.BigQueryWrite_AppendRowsClient, conns)
	for i := range calls {
		c := storagepb.NewBigQueryWriteClient(in.GRPCConn(b))
		call, err := c.AppendRows(ctx)
		if err != nil {
			b.Fatal(err)
		}
		// The first request names the stream and carries the schema.
		if err := call.Send(benchRequest(stream, desc, batch)); err != nil {
			b.Fatal(err)
		}
		if resp, err := call.Recv(); err != nil || resp.GetError() != nil {
			b.Fatalf("first append: %v %v", err, resp.GetError())
		}
		calls[i] = call
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()

	var left atomic.Int64
	left.Store(int64(b.N))
	req := benchRequest("", nil, batch)
	var wg sync.WaitGroup
	b.ResetTimer()
	for _, call := range calls {
		wg.Add(2)
		// sent holds one token per unanswered request; the sender closes
		// it when the countdown is spent, the receiver drains it.
		sent := make(chan struct{}, benchInflight)
		go func() {
			defer wg.Done()
			defer close(sent)
			for left.Add(-1) >= 0 {
				sent <- struct{}{}
				if err := call.Send(req); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range sent {
				resp, err := call.Recv()
				if err != nil {
					b.Error(err)
					return
				}
				if e := resp.GetError(); e != nil {
					b.Errorf("append: %v", e)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	for _, call := range calls {
		_ = call.CloseSend()
		if _, err := call.Recv(); err != io.EOF {
			b.Errorf("closing the call: %v", err)
		}
	}
	b.ReportMetric(float64(rows), "rows/op")
	b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func benchRequest(stream string, desc *descriptorpb.DescriptorProto, rows [][]byte) *storagepb.AppendRowsRequest {
	pd := &storagepb.AppendRowsRequest_ProtoData{Rows: &storagepb.ProtoRows{SerializedRows: rows}}
	if desc != nil {
		pd.WriterSchema = &storagepb.ProtoSchema{ProtoDescriptor: desc}
	}
	return &storagepb.AppendRowsRequest{WriteStream: stream, Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: pd}}
}
