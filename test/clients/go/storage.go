package goclients

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// person encodes one row of the people schema.
func person(t *testing.T, md protoreflect.MessageDescriptor, name string, n int64) []byte {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("name"), protoreflect.ValueOfString(name))
	m.Set(md.Fields().ByName("n"), protoreflect.ValueOfInt64(n))
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// appendOK appends rows and waits for the result, returning its offset.
func appendOK(t *testing.T, ctx context.Context, ms *managedwriter.ManagedStream, rows [][]byte, opts ...managedwriter.AppendOption) int64 {
	t.Helper()
	res, err := ms.AppendRows(ctx, rows, opts...)
	if err != nil {
		t.Fatalf("AppendRows: %v", err)
	}
	off, err := res.GetResult(ctx)
	if err != nil {
		t.Fatalf("append result: %v", err)
	}
	return off
}

// testDefaultStream writes through the _default stream; rows are visible
// as soon as each append is acknowledged, and no offsets come back.
func (s *suite) testDefaultStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	table := s.createTable(t, ctx, "mw_default", people)
	md, dp := descriptor(t, people)
	mw := s.mw
	ms, err := mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(table),
		managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatalf("NewManagedStream: %v", err)
	}
	defer ms.Close()
	if got, want := ms.StreamName(), table+"/streams/_default"; got != want {
		t.Errorf("stream name %q, want %q", got, want)
	}
	if off := appendOK(t, ctx, ms, [][]byte{person(t, md, "ada", 1), person(t, md, "bob", 2)}); off != managedwriter.NoStreamOffset {
		t.Errorf("default-stream append offset %d, want none (%d)", off, managedwriter.NoStreamOffset)
	}
	checkRows(t, "after first append", s.rows(t, ctx, "mw_default"), "ada 1\nbob 2\n")
	appendOK(t, ctx, ms, [][]byte{person(t, md, "cy", 3)})
	checkRows(t, "after second append", s.rows(t, ctx, "mw_default"), "ada 1\nbob 2\ncy 3\n")
}

// testMultiplexing sends two tables' _default streams over one shared
// connection (WithMultiplexing); each table gets exactly its own rows.
func (s *suite) testMultiplexing(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	tables := []string{s.createTable(t, ctx, "mux_a", people), s.createTable(t, ctx, "mux_b", people)}
	md, dp := descriptor(t, people)
	mw := s.writeClient(t, managedwriter.WithMultiplexing(), managedwriter.WithMultiplexPoolLimit(1))
	var streams []*managedwriter.ManagedStream
	for _, table := range tables {
		ms, err := mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(table),
			managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(dp))
		if err != nil {
			t.Fatalf("NewManagedStream(%s): %v", table, err)
		}
		defer ms.Close()
		streams = append(streams, ms)
	}
	// Interleave appends so the shared connection switches destination on
	// every request, and check every result only at the end.
	var results []*managedwriter.AppendResult
	for i := range 3 {
		for j, ms := range streams {
			res, err := ms.AppendRows(ctx, [][]byte{person(t, md, fmt.Sprintf("%c%d", 'a'+j, i), int64(10*j+i))})
			if err != nil {
				t.Fatalf("AppendRows: %v", err)
			}
			results = append(results, res)
		}
	}
	for i, res := range results {
		if _, err := res.GetResult(ctx); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	checkRows(t, "mux_a", s.rows(t, ctx, "mux_a"), "a0 0\na1 1\na2 2\n")
	checkRows(t, "mux_b", s.rows(t, ctx, "mux_b"), "b0 10\nb1 11\nb2 12\n")
}

// testPending writes two PENDING streams, checks nothing is visible until
// BatchCommitWriteStreams, then that both streams' rows are.
func (s *suite) testPending(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	table := s.createTable(t, ctx, "mw_pending", people)
	md, dp := descriptor(t, people)
	mw := s.mw
	var streams []*managedwriter.ManagedStream
	for range 2 {
		ms, err := mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(table),
			managedwriter.WithType(managedwriter.PendingStream), managedwriter.WithSchemaDescriptor(dp))
		if err != nil {
			t.Fatalf("NewManagedStream: %v", err)
		}
		defer ms.Close()
		streams = append(streams, ms)
	}
	if off := appendOK(t, ctx, streams[0], [][]byte{person(t, md, "p0", 1), person(t, md, "p1", 2)}); off != 0 {
		t.Errorf("first append offset %d, want 0", off)
	}
	if off := appendOK(t, ctx, streams[0], [][]byte{person(t, md, "p2", 3)}); off != 2 {
		t.Errorf("second append offset %d, want 2", off)
	}
	if off := appendOK(t, ctx, streams[1], [][]byte{person(t, md, "q0", 4)}, managedwriter.WithOffset(0)); off != 0 {
		t.Errorf("other stream's append offset %d, want 0", off)
	}
	checkRows(t, "before commit", s.rows(t, ctx, "mw_pending"), "")

	var names []string
	for i, ms := range streams {
		n, err := ms.Finalize(ctx)
		if err != nil {
			t.Fatalf("Finalize: %v", err)
		}
		if want := []int64{3, 1}[i]; n != want {
			t.Errorf("stream %d finalized with %d rows, want %d", i, n, want)
		}
		names = append(names, ms.StreamName())
	}
	// Appending after finalize fails in-band.
	res, err := streams[0].AppendRows(ctx, [][]byte{person(t, md, "late", 9)})
	if err == nil {
		_, err = res.GetResult(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "Stream has been finalized") {
		t.Errorf("append after finalize: %v, want a STREAM_FINALIZED error", err)
	}
	checkRows(t, "after finalize", s.rows(t, ctx, "mw_pending"), "")

	resp, err := mw.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: table, WriteStreams: names})
	if err != nil {
		t.Fatalf("BatchCommitWriteStreams: %v", err)
	}
	if len(resp.GetStreamErrors()) > 0 || resp.GetCommitTime() == nil {
		t.Fatalf("BatchCommitWriteStreams: stream errors %v, commit time %v", resp.GetStreamErrors(), resp.GetCommitTime())
	}
	checkRows(t, "after commit", s.rows(t, ctx, "mw_pending"), "p0 1\np1 2\np2 3\nq0 4\n")
	ws, err := mw.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{Name: names[0]})
	if err != nil {
		t.Fatalf("GetWriteStream: %v", err)
	}
	if !proto.Equal(ws.GetCommitTime(), resp.GetCommitTime()) {
		t.Errorf("stream commit time %v, want the batch's %v", ws.GetCommitTime(), resp.GetCommitTime())
	}
}

// testCommitted writes a COMMITTED stream with explicit offsets: rows are
// visible at once, a repeated offset is ALREADY_EXISTS and a gap is
// OUT_OF_RANGE, and neither writes anything.
func (s *suite) testCommitted(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	table := s.createTable(t, ctx, "mw_committed", people)
	md, dp := descriptor(t, people)
	mw := s.mw
	ms, err := mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(table),
		managedwriter.WithType(managedwriter.CommittedStream), managedwriter.WithSchemaDescriptor(dp))
	if err != nil {
		t.Fatalf("NewManagedStream: %v", err)
	}
	defer ms.Close()
	if off := appendOK(t, ctx, ms, [][]byte{person(t, md, "c0", 1), person(t, md, "c1", 2)}, managedwriter.WithOffset(0)); off != 0 {
		t.Errorf("offset %d, want 0", off)
	}
	checkRows(t, "after first append", s.rows(t, ctx, "mw_committed"), "c0 1\nc1 2\n")
	if off := appendOK(t, ctx, ms, [][]byte{person(t, md, "c2", 3)}, managedwriter.WithOffset(2)); off != 2 {
		t.Errorf("offset %d, want 2", off)
	}
	for _, tc := range []struct {
		offset int64
		code   codes.Code
	}{{0, codes.AlreadyExists}, {7, codes.OutOfRange}} {
		res, err := ms.AppendRows(ctx, [][]byte{person(t, md, "dup", 9)}, managedwriter.WithOffset(tc.offset))
		if err == nil {
			_, err = res.GetResult(ctx)
		}
		if got := status.Code(err); got != tc.code {
			t.Errorf("append at offset %d: %v (code %v), want %v", tc.offset, err, got, tc.code)
		}
	}
	if off := appendOK(t, ctx, ms, [][]byte{person(t, md, "c3", 4)}, managedwriter.WithOffset(3)); off != 3 {
		t.Errorf("offset %d, want 3", off)
	}
	n, err := ms.Finalize(ctx)
	if err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	if n != 4 {
		t.Errorf("finalized with %d rows, want 4", n)
	}
	checkRows(t, "after finalize", s.rows(t, ctx, "mw_committed"), "c0 1\nc1 2\nc2 3\nc3 4\n")
}
