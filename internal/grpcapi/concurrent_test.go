package grpcapi_test

import (
	"context"
	"sort"
	"sync"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/penstockdb/penstock/internal/grpcapi"
)

// TestConcurrentConnectionsOneStream: several connections append to the
// same COMMITTED stream at once. Appends are serialised per stream: the
// offsets handed out tile the stream exactly, and racing writers of the
// same explicit offset get exactly one success.
func TestConcurrentConnectionsOneStream(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	raw := srv.raw()
	ctx := context.Background()
	ws, err := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("t"),
		WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED}})
	if err != nil {
		t.Fatal(err)
	}
	const conns, reqs, batch = 6, 20, 3
	var mu sync.Mutex
	var offsets []int64
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := raw.AppendRows(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < reqs; i++ {
				req := protoReq(ws.GetName(), dp, simpleRows(t, md, (c*reqs+i)*batch, batch))
				if err := cl.Send(req); err != nil {
					t.Error(err)
					return
				}
				resp, err := cl.Recv()
				if err != nil || resp.GetError() != nil {
					t.Errorf("append: %v %v", err, resp.GetError())
					return
				}
				mu.Lock()
				offsets = append(offsets, resp.GetAppendResult().GetOffset().GetValue())
				mu.Unlock()
			}
			_ = cl.CloseSend()
		}()
	}
	wg.Wait()
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	for i, off := range offsets {
		if off != int64(i*batch) {
			t.Fatalf("offset #%d = %d, want %d: offsets do not tile the stream", i, off, i*batch)
		}
	}
	assertOnce(t, ints(srv.rows("t"), 1), conns*reqs*batch)

	// Racing writers of one explicit offset: exactly one wins.
	end := int64(conns * reqs * batch)
	var wins, exists int
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := raw.AppendRows(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			req := protoReq(ws.GetName(), dp, simpleRows(t, md, 100000+c, 1))
			req.Offset = wrapperspb.Int64(end)
			_ = cl.Send(req)
			resp, err := cl.Recv()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case resp.GetError() == nil:
				wins++
			case codes.Code(resp.GetError().GetCode()) == codes.AlreadyExists:
				exists++
			default:
				t.Errorf("racing append: %v", resp.GetError())
			}
		}()
	}
	wg.Wait()
	if wins != 1 || exists != conns-1 {
		t.Fatalf("racing appends at offset %d: %d won, %d ALREADY_EXISTS; want 1 and %d", end, wins, exists, conns-1)
	}
	if n := len(srv.rows("t")); n != int(end)+1 {
		t.Fatalf("%d rows, want %d", n, end+1)
	}
}
