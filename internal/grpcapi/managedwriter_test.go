package grpcapi_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/penstockdb/penstock/internal/grpcapi"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// simple is the two-column table most tests use.
var simple = []*schema.Field{
	{Name: "name", Type: schema.String, Mode: schema.Nullable},
	{Name: "n", Type: schema.Integer, Mode: schema.Required},
}

// msgType derives a proto message type from a table schema the way client
// code using adapt does, and returns it with its normalized descriptor.
func msgType(t *testing.T, fields []*schema.Field) (protoreflect.MessageDescriptor, *descriptorpb.DescriptorProto) {
	t.Helper()
	ts := &storagepb.TableSchema{}
	for _, f := range fields {
		ts.Fields = append(ts.Fields, storageField(f))
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
	return md, dp
}

// retype changes the proto type of the named fields and rebuilds the
// message type from the descriptor.
func retype(t *testing.T, dp *descriptorpb.DescriptorProto, typ descriptorpb.FieldDescriptorProto_Type, names ...string) (protoreflect.MessageDescriptor, *descriptorpb.DescriptorProto) {
	t.Helper()
	dp = proto.Clone(dp).(*descriptorpb.DescriptorProto)
	for _, f := range dp.GetField() {
		for _, n := range names {
			if f.GetName() == n {
				f.Type = typ.Enum()
			}
		}
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("retyped.proto"), Syntax: proto.String("proto2"), MessageType: []*descriptorpb.DescriptorProto{dp},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().Get(0), dp
}

func storageField(f *schema.Field) *storagepb.TableFieldSchema {
	types := map[schema.Type]storagepb.TableFieldSchema_Type{
		schema.String: storagepb.TableFieldSchema_STRING, schema.Integer: storagepb.TableFieldSchema_INT64,
		schema.Float: storagepb.TableFieldSchema_DOUBLE, schema.Boolean: storagepb.TableFieldSchema_BOOL,
		schema.Bytes: storagepb.TableFieldSchema_BYTES, schema.Date: storagepb.TableFieldSchema_DATE,
		schema.DateTime: storagepb.TableFieldSchema_DATETIME, schema.Time: storagepb.TableFieldSchema_TIME,
		schema.Timestamp: storagepb.TableFieldSchema_TIMESTAMP, schema.Numeric: storagepb.TableFieldSchema_NUMERIC,
		schema.BigNumeric: storagepb.TableFieldSchema_BIGNUMERIC, schema.Geography: storagepb.TableFieldSchema_GEOGRAPHY,
		schema.Record: storagepb.TableFieldSchema_STRUCT, schema.JSON: storagepb.TableFieldSchema_JSON,
	}
	modes := map[schema.Mode]storagepb.TableFieldSchema_Mode{
		schema.Nullable: storagepb.TableFieldSchema_NULLABLE, schema.Required: storagepb.TableFieldSchema_REQUIRED,
		schema.Repeated: storagepb.TableFieldSchema_REPEATED, "": storagepb.TableFieldSchema_NULLABLE,
	}
	p := &storagepb.TableFieldSchema{Name: f.Name, Type: types[f.Type], Mode: modes[f.Mode]}
	for _, sf := range f.Fields {
		p.Fields = append(p.Fields, storageField(sf))
	}
	return p
}

// encode builds one row of md from column values (scalars, []any for
// repeated, map[string]any for records).
func encode(t *testing.T, md protoreflect.MessageDescriptor, vals map[string]any) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(build(md, vals))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func build(md protoreflect.MessageDescriptor, vals map[string]any) *dynamicpb.Message {
	m := dynamicpb.NewMessage(md)
	for k, v := range vals {
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			panic("no field " + k)
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for _, e := range v.([]any) {
				l.Append(value(fd, e))
			}
		default:
			m.Set(fd, value(fd, v))
		}
	}
	return m
}

func value(fd protoreflect.FieldDescriptor, v any) protoreflect.Value {
	if rec, ok := v.(map[string]any); ok {
		return protoreflect.ValueOfMessage(build(fd.Message(), rec))
	}
	return protoreflect.ValueOf(v)
}

func simpleRows(t *testing.T, md protoreflect.MessageDescriptor, from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = encode(t, md, map[string]any{"name": fmt.Sprintf("row-%d", from+i), "n": int64(from + i)})
	}
	return out
}

// ints returns column col of rows as int64s.
func ints(rows []rowcodec.Row, col int) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r[col].(int64)
	}
	return out
}

func assertOnce(t *testing.T, got []int64, n int) {
	t.Helper()
	seen := map[int64]int{}
	for _, v := range got {
		seen[v]++
	}
	if len(got) != n {
		t.Fatalf("got %d rows, want %d", len(got), n)
	}
	for i := 0; i < n; i++ {
		if seen[int64(i)] != 1 {
			t.Fatalf("row %d present %d times", i, seen[int64(i)])
		}
	}
}

func storageErr(t *testing.T, err error) (codes.Code, *storagepb.StorageError) {
	t.Helper()
	ae, ok := apierror.FromError(err)
	if !ok {
		t.Fatalf("not an API error: %v", err)
	}
	se := &storagepb.StorageError{}
	if e := ae.Details().ExtractProtoMessage(se); e != nil {
		se = nil
	}
	return ae.GRPCStatus().Code(), se
}

// TestSeedPendingFlow is the seed document's Go pending-stream sample
// (000_*.txt): create a PENDING stream, append 1+3+2 rows at explicit
// offsets, finalize, batch-commit, then read the rows back.
func TestSeedPendingFlow(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	sub := []*schema.Field{{Name: "sub_int_col", Type: schema.Integer}}
	fields := []*schema.Field{
		{Name: "bool_col", Type: schema.Boolean}, {Name: "bytes_col", Type: schema.Bytes},
		{Name: "float64_col", Type: schema.Float}, {Name: "int64_col", Type: schema.Integer},
		{Name: "string_col", Type: schema.String}, {Name: "date_col", Type: schema.Date},
		{Name: "datetime_col", Type: schema.DateTime}, {Name: "geography_col", Type: schema.Geography},
		{Name: "numeric_col", Type: schema.Numeric}, {Name: "bignumeric_col", Type: schema.BigNumeric},
		{Name: "time_col", Type: schema.Time}, {Name: "timestamp_col", Type: schema.Timestamp},
		{Name: "int64_list", Type: schema.Integer, Mode: schema.Repeated},
		{Name: "struct_col", Type: schema.Record, Fields: sub},
		{Name: "struct_list", Type: schema.Record, Mode: schema.Repeated, Fields: sub},
		{Name: "row_num", Type: schema.Integer, Mode: schema.Required},
	}
	srv.table("sample", fields...)
	// The sample's proto sends NUMERIC and BIGNUMERIC as strings.
	_, dp := msgType(t, fields)
	md, dp := retype(t, dp, descriptorpb.FieldDescriptorProto_TYPE_STRING, "numeric_col", "bignumeric_col", "datetime_col", "time_col")
	gen := func(n int) [][]byte {
		var out [][]byte
		for i := 0; i < n; i++ {
			out = append(out, encode(t, md, map[string]any{
				"bool_col": true, "bytes_col": []byte("some bytes"), "float64_col": 3.14, "int64_col": int64(123),
				"string_col": "example string value", "date_col": int32(19000),
				"datetime_col": "2022-01-01 12:13:14.000000", "geography_col": "POINT(-122.350220 47.649154)",
				"numeric_col":    "99999999999999999999999999999.999999999",
				"bignumeric_col": "578960446186580977117854925043439539266.34992332820282019728792003956564819967",
				"time_col":       "12:13:14.000000", "timestamp_col": time.Now().UnixMicro(),
				"int64_list": []any{int64(2), int64(4), int64(6), int64(8)}, "row_num": int64(23),
				"struct_col":  map[string]any{"sub_int_col": int64(7)},
				"struct_list": []any{map[string]any{"sub_int_col": int64(1)}, map[string]any{"sub_int_col": int64(2)}},
			}))
		}
		return out
	}
	ctx := context.Background()
	client := srv.writer()
	pending, err := client.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{
		Parent: tablePath("sample"), WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_PENDING},
	})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := client.NewManagedStream(ctx, managedwriter.WithStreamName(pending.GetName()), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	var results []*managedwriter.AppendResult
	var cur int64
	for _, n := range []int{1, 3, 2} {
		r, err := ms.AppendRows(ctx, gen(n), managedwriter.WithOffset(cur))
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
		cur += int64(n)
	}
	for i, want := range []int64{0, 1, 4} {
		if got, err := results[i].GetResult(ctx); err != nil || got != want {
			t.Fatalf("append %d: offset %d, %v; want %d", i, got, err, want)
		}
	}
	if rows := srv.rows("sample"); len(rows) != 0 {
		t.Fatalf("%d rows visible before commit", len(rows))
	}
	rowCount, err := ms.Finalize(ctx)
	if err != nil || rowCount != 6 {
		t.Fatalf("finalize: %d, %v", rowCount, err)
	}
	resp, err := client.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{
		Parent: managedwriter.TableParentFromStreamName(ms.StreamName()), WriteStreams: []string{ms.StreamName()},
	})
	if err != nil || len(resp.GetStreamErrors()) > 0 || resp.GetCommitTime() == nil {
		t.Fatalf("commit: %v, %v", resp, err)
	}
	rows := srv.rows("sample")
	if len(rows) != 6 {
		t.Fatalf("%d rows after commit, want 6", len(rows))
	}
	r := rows[0]
	if got := r[8].(rowcodec.Decimal).String(); got != "99999999999999999999999999999.999999999" {
		t.Errorf("numeric_col = %s", got)
	}
	if got, want := rowcodec.FormatDateTime(r[6].(rowcodec.DateTime)), "2022-01-01T12:13:14"; got != want {
		t.Errorf("datetime_col = %s, want %s", got, want)
	}
	if got := len(r[12].([]rowcodec.Value)); got != 4 {
		t.Errorf("int64_list has %d elements", got)
	}
	// Re-commit is answered with STREAM_ALREADY_COMMITTED.
	resp, err = client.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{
		Parent: tablePath("sample"), WriteStreams: []string{ms.StreamName()},
	})
	if err != nil || len(resp.GetStreamErrors()) != 1 || resp.GetStreamErrors()[0].GetCode() != storagepb.StorageError_STREAM_ALREADY_COMMITTED || resp.GetCommitTime() != nil {
		t.Fatalf("re-commit: %v, %v", resp, err)
	}
}

func TestCommittedOffsets(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	ctx := context.Background()
	client := srv.writer()
	ms, err := client.NewManagedStream(ctx, managedwriter.WithDestinationTable(tablePath("t")),
		managedwriter.WithType(managedwriter.CommittedStream), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	append := func(from, n int, off int64) (int64, error) {
		r, err := ms.AppendRows(ctx, simpleRows(t, md, from, n), managedwriter.WithOffset(off))
		if err != nil {
			return 0, err
		}
		return r.GetResult(ctx)
	}
	if off, err := append(0, 2, 0); err != nil || off != 0 {
		t.Fatalf("append: %d, %v", off, err)
	}
	// A retry of an already written offset.
	_, err = append(0, 2, 0)
	code, se := storageErr(t, err)
	if code != codes.AlreadyExists || se == nil || se.GetCode() != storagepb.StorageError_OFFSET_ALREADY_EXISTS ||
		se.GetErrorMessage() != "The offset is within stream, expected offset 2, received 0 Entity: "+ms.StreamName() {
		t.Fatalf("retry: %v / %v", code, se)
	}
	// A skipped offset.
	_, err = append(2, 1, 5)
	code, se = storageErr(t, err)
	if code != codes.OutOfRange || se == nil || se.GetCode() != storagepb.StorageError_OFFSET_OUT_OF_RANGE {
		t.Fatalf("skip: %v / %v", code, se)
	}
	// The connection lives on.
	if off, err := append(2, 1, 2); err != nil || off != 2 {
		t.Fatalf("append after errors: %d, %v", off, err)
	}
	assertOnce(t, ints(srv.rows("t"), 1), 3)
	// Rows are visible as acknowledged, and survive a restart.
	srv.restart()
	assertOnce(t, ints(srv.rows("t"), 1), 3)
}

func TestDefaultStreamConcurrent(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	ctx := context.Background()
	const conns, per, batch = 32, 10, 5
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client, err := managedwriter.NewClient(ctx, "p", srv.clientOptions()...)
			if err != nil {
				t.Error(err)
				return
			}
			defer client.Close()
			ms, err := client.NewManagedStream(ctx, managedwriter.WithDestinationTable(tablePath("t")),
				managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(dp))
			if err != nil {
				t.Error(err)
				return
			}
			defer ms.Close()
			var results []*managedwriter.AppendResult
			for i := 0; i < per; i++ {
				r, err := ms.AppendRows(ctx, simpleRows(t, md, (c*per+i)*batch, batch))
				if err != nil {
					t.Error(err)
					return
				}
				results = append(results, r)
			}
			for _, r := range results {
				if off, err := r.GetResult(ctx); err != nil || off != managedwriter.NoStreamOffset {
					t.Errorf("default append: %d, %v", off, err)
				}
			}
		}()
	}
	wg.Wait()
	assertOnce(t, ints(srv.rows("t"), 1), conns*per*batch)
}

func TestBufferedFlush(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	ctx := context.Background()
	client := srv.writer()
	ms, err := client.NewManagedStream(ctx, managedwriter.WithDestinationTable(tablePath("t")),
		managedwriter.WithType(managedwriter.BufferedStream), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	r, err := ms.AppendRows(ctx, simpleRows(t, md, 0, 4))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetResult(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.rows("t")); n != 0 {
		t.Fatalf("%d rows visible before flush", n)
	}
	if off, err := ms.FlushRows(ctx, 1); err != nil || off != 1 {
		t.Fatalf("flush: %d, %v", off, err)
	}
	assertOnce(t, ints(srv.rows("t"), 1), 2)
	_, err = ms.FlushRows(ctx, 1)
	if code, _ := storageErr(t, err); code != codes.AlreadyExists {
		t.Fatalf("re-flush: %v", err)
	}
	_, err = ms.FlushRows(ctx, 10)
	if code, _ := storageErr(t, err); code != codes.OutOfRange {
		t.Fatalf("flush beyond end: %v", err)
	}
	if _, err := ms.FlushRows(ctx, 3); err != nil {
		t.Fatal(err)
	}
	assertOnce(t, ints(srv.rows("t"), 1), 4)
}

func TestMultiplexing(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	md, dp := msgType(t, simple)
	ctx := context.Background()
	client := srv.writer(managedwriter.WithMultiplexing(), managedwriter.WithMultiplexPoolLimit(1))
	var streams []*managedwriter.ManagedStream
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("m%d", i)
		srv.table(name, simple...)
		ms, err := client.NewManagedStream(ctx, managedwriter.WithDestinationTable(tablePath(name)),
			managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(dp))
		if err != nil {
			t.Fatal(err)
		}
		defer ms.Close()
		streams = append(streams, ms)
	}
	var results []*managedwriter.AppendResult
	for round := 0; round < 5; round++ {
		for i, ms := range streams {
			r, err := ms.AppendRows(ctx, simpleRows(t, md, round*10+i, 1))
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, r)
		}
	}
	for _, r := range results {
		if _, err := r.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := range streams {
		rows := srv.rows(fmt.Sprintf("m%d", i))
		if len(rows) != 5 {
			t.Fatalf("table m%d has %d rows, want 5", i, len(rows))
		}
		for round, r := range rows {
			if got, want := r[1].(int64), int64(round*10+i); got != want {
				t.Fatalf("table m%d row %d: n=%d, want %d (rows routed to the wrong table?)", i, round, got, want)
			}
		}
	}
}

func TestUpdatedSchema(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	tbl := srv.table("t", simple...)
	md, dp := msgType(t, simple)
	ctx := context.Background()
	client := srv.writer()
	ms, err := client.NewManagedStream(ctx, managedwriter.WithDestinationTable(tablePath("t")),
		managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	appendOne := func(md protoreflect.MessageDescriptor, vals map[string]any, opts ...managedwriter.AppendOption) *managedwriter.AppendResult {
		r, err := ms.AppendRows(ctx, [][]byte{encode(t, md, vals)}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.GetResult(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if s, _ := appendOne(md, map[string]any{"n": int64(0)}).UpdatedSchema(ctx); s != nil {
		t.Fatalf("updated_schema before any change: %v", s)
	}
	evolved := append(append([]*schema.Field{}, simple...), &schema.Field{Name: "extra", Type: schema.String, Mode: schema.Nullable})
	tbl.Schema = &schema.Table{Fields: evolved}
	if _, err := srv.cat.UpdateTable(ctx, tbl, ""); err != nil {
		t.Fatal(err)
	}
	s, _ := appendOne(md, map[string]any{"n": int64(1)}).UpdatedSchema(ctx)
	if s == nil || len(s.GetFields()) != 3 || s.GetFields()[2].GetName() != "extra" {
		t.Fatalf("updated_schema after change: %v", s)
	}
	// Send the evolved descriptor on the same connection; then it stops.
	md2, dp2 := msgType(t, evolved)
	if s, _ := appendOne(md2, map[string]any{"n": int64(2), "extra": "x"}, managedwriter.UpdateSchemaDescriptor(dp2)).UpdatedSchema(ctx); s != nil {
		t.Fatalf("updated_schema still sent after writer caught up: %v", s)
	}
	rows := srv.rows("t")
	if len(rows) != 3 || rows[0][2] != nil || rows[2][2] != "x" {
		t.Fatalf("rows after evolution: %v", rows)
	}
}

func TestFinalizedAppend(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	ctx := context.Background()
	client := srv.writer()
	ms, err := client.NewManagedStream(ctx, managedwriter.WithDestinationTable(tablePath("t")),
		managedwriter.WithType(managedwriter.PendingStream), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	if _, err := ms.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := ms.AppendRows(ctx, simpleRows(t, md, 0, 1))
	if err == nil {
		_, err = r.GetResult(ctx)
	}
	code, se := storageErr(t, err)
	if code != codes.InvalidArgument || se == nil || se.GetCode() != storagepb.StorageError_STREAM_FINALIZED {
		t.Fatalf("append after finalize: %v / %v (%v)", code, se, err)
	}
}
