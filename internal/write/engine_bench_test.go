package write_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/schema"
	"github.com/penstockdb/penstock/internal/storage"
	"github.com/penstockdb/penstock/internal/storage/wal"
	"github.com/penstockdb/penstock/internal/write"
)

// BenchmarkAppend measures the in-process append path: validate ~100-byte
// rows of 6 columns, queue them to the log, wait for the durable ack. One
// op is one acknowledged Append of `rows` rows; `writers` goroutines
// append to the table's _default stream at once, so the log can group
// their commits. Run briefly, e.g.
//
//	go test ./internal/write -run '^$' -bench BenchmarkAppend -benchtime 200ms
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []wal.SyncMode{wal.SyncAlways, wal.SyncNever} {
		for _, writers := range []int{1, 8} {
			for _, rows := range []int{1, 100, 1000, 10000} {
				b.Run(fmt.Sprintf("sync=%s/writers=%d/rows=%d", sync, writers, rows), func(b *testing.B) {
					benchAppend(b, sync, writers, rows)
				})
			}
		}
	}
}

// benchTypical is the table of the typical ~100-byte row.
var benchTypical = &schema.Table{Fields: []*schema.Field{
	{Name: "seq", Type: schema.Integer, Mode: schema.Required},
	{Name: "ts", Type: schema.Timestamp, Mode: schema.Nullable},
	{Name: "user_id", Type: schema.String, Mode: schema.Nullable},
	{Name: "event", Type: schema.String, Mode: schema.Nullable},
	{Name: "amount", Type: schema.Float, Mode: schema.Nullable},
	{Name: "ok", Type: schema.Boolean, Mode: schema.Nullable},
}}

func benchTypicalDescriptor() *descriptorpb.DescriptorProto {
	field := func(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
	}
	return &descriptorpb.DescriptorProto{Name: proto.String("Row"), Field: []*descriptorpb.FieldDescriptorProto{
		field("seq", 1, descriptorpb.FieldDescriptorProto_TYPE_INT64),
		field("ts", 2, descriptorpb.FieldDescriptorProto_TYPE_INT64),
		field("user_id", 3, descriptorpb.FieldDescriptorProto_TYPE_STRING),
		field("event", 4, descriptorpb.FieldDescriptorProto_TYPE_STRING),
		field("amount", 5, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE),
		field("ok", 6, descriptorpb.FieldDescriptorProto_TYPE_BOOL),
	}}
}

// benchTypicalRow encodes row i (about 100 bytes).
func benchTypicalRow(i int64) []byte {
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

func benchAppend(b *testing.B, mode wal.SyncMode, writers, rows int) {
	dir := b.TempDir()
	ctx := context.Background()
	cat, err := catalog.Open(filepath.Join(dir, "catalog.db"), catalog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	st, err := storage.Open(dir, storage.Options{Sync: mode})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := write.Open(ctx, st, cat, write.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if _, err := cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
		b.Fatal(err)
	}
	if _, err := cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: benchTypical}); err != nil {
		b.Fatal(err)
	}
	s, err := eng.Resolve(ctx, "projects/p/datasets/d/tables/t/streams/_default")
	if err != nil {
		b.Fatal(err)
	}
	w, err := eng.CompileWriter(ctx, s, benchTypicalDescriptor())
	if err != nil {
		b.Fatal(err)
	}
	batch := make([][]byte, rows)
	size := 0
	for i := range batch {
		batch[i] = benchTypicalRow(int64(i))
		size += len(batch[i])
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()

	// b.Loop cannot hand iterations to several goroutines: they share a
	// countdown of b.N.
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				ack := eng.Append(s, w, batch, write.AppendOptions{Offset: -1})
				<-ack.Done()
				if _, err := ack.Result(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(rows), "rows/op")
	b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
