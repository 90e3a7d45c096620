package loadgen_test

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/penstockdb/penstock/internal/loadgen"
	"github.com/penstockdb/penstock/internal/servertest"
)

// action is what the faulty proxy does with one AppendRows request.
type action int

const (
	forward   action = iota
	drop             // answer success without forwarding: the rows are lost
	duplicate        // forward twice, answer once: the rows are duplicated
)

// faultyProxy is a BigQueryWrite server in front of a real one that
// misbehaves on the AppendRows requests its policy picks (by position on
// the call, 0-based), while keeping one answer per request in order. All
// other methods pass through.
type faultyProxy struct {
	storagepb.UnimplementedBigQueryWriteServer
	up     storagepb.BigQueryWriteClient
	policy func(i int) action
	// dropped and duplicated count affected rows.
	dropped, duplicated atomic.Int64
}

func startProxy(t *testing.T, in *servertest.Instance, policy func(int) action) (*faultyProxy, string) {
	t.Helper()
	conn, err := grpc.NewClient(in.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	p := &faultyProxy{up: storagepb.NewBigQueryWriteClient(conn), policy: policy}
	s := grpc.NewServer()
	storagepb.RegisterBigQueryWriteServer(s, p)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return p, l.Addr().String()
}

func (p *faultyProxy) CreateWriteStream(ctx context.Context, r *storagepb.CreateWriteStreamRequest) (*storagepb.WriteStream, error) {
	return p.up.CreateWriteStream(ctx, r)
}

func (p *faultyProxy) GetWriteStream(ctx context.Context, r *storagepb.GetWriteStreamRequest) (*storagepb.WriteStream, error) {
	return p.up.GetWriteStream(ctx, r)
}

func (p *faultyProxy) FinalizeWriteStream(ctx context.Context, r *storagepb.FinalizeWriteStreamRequest) (*storagepb.FinalizeWriteStreamResponse, error) {
	return p.up.FinalizeWriteStream(ctx, r)
}

func (p *faultyProxy) BatchCommitWriteStreams(ctx context.Context, r *storagepb.BatchCommitWriteStreamsRequest) (*storagepb.BatchCommitWriteStreamsResponse, error) {
	return p.up.BatchCommitWriteStreams(ctx, r)
}

func (p *faultyProxy) FlushRows(ctx context.Context, r *storagepb.FlushRowsRequest) (*storagepb.FlushRowsResponse, error) {
	return p.up.FlushRows(ctx, r)
}

// answer is how the proxy answers one client request, in order.
type answer int

const (
	relay   answer = iota // the upstream's next answer
	fake                  // a made-up success
	swallow               // read and discard the upstream's next answer
)

func (p *faultyProxy) AppendRows(srv storagepb.BigQueryWrite_AppendRowsServer) error {
	up, err := p.up.AppendRows(srv.Context())
	if err != nil {
		return err
	}
	order := make(chan answer, 1024)
	recvErr := make(chan error, 1)
	go func() {
		defer close(order)
		for i := 0; ; i++ {
			req, err := srv.Recv()
			if err == io.EOF {
				_ = up.CloseSend()
				return
			}
			if err != nil {
				recvErr <- err
				return
			}
			rows := int64(len(req.GetProtoRows().GetRows().GetSerializedRows()))
			switch p.policy(i) {
			case drop:
				p.dropped.Add(rows)
				order <- fake
			case duplicate:
				p.duplicated.Add(rows)
				_ = up.Send(req)
				order <- relay
				_ = up.Send(req)
				order <- swallow
			default:
				_ = up.Send(req)
				order <- relay
			}
		}
	}()
	for a := range order {
		switch a {
		case fake:
			resp := &storagepb.AppendRowsResponse{Response: &storagepb.AppendRowsResponse_AppendResult_{
				AppendResult: &storagepb.AppendRowsResponse_AppendResult{},
			}}
			if err := srv.Send(resp); err != nil {
				return err
			}
		case relay, swallow:
			resp, err := up.Recv()
			if err != nil {
				return err
			}
			if a == relay {
				if err := srv.Send(resp); err != nil {
					return err
				}
			}
		}
	}
	select {
	case err := <-recvErr:
		return err
	default:
		return nil
	}
}

func TestRun_ReportsLostRows(t *testing.T) {
	in := servertest.Start(t)
	// Every fifth request after the first is acknowledged and dropped.
	proxy, addr := startProxy(t, in, func(i int) action {
		if i > 0 && i%5 == 0 {
			return drop
		}
		return forward
	})
	for _, maxRows := range []int64{0, 10} { // row by row, then counts only
		o := small(in, loadgen.ModeDefault)
		o.GRPC, o.VerifyMaxRows = addr, maxRows
		before := proxy.dropped.Load()
		rep, err := loadgen.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		dropped := proxy.dropped.Load() - before
		if dropped == 0 {
			t.Fatal("the proxy dropped nothing")
		}
		v := rep.Verify
		if v.OK || v.Lost != dropped || v.Expected != 1000 || v.Found != 1000-dropped || v.Duplicated != 0 {
			t.Errorf("verify (max rows %d): got %+v, want FAILED with %d lost of 1000", maxRows, v, dropped)
		}
	}
}

func TestRun_ReportsDuplicatedRows(t *testing.T) {
	in := servertest.Start(t)
	proxy, addr := startProxy(t, in, func(i int) action {
		if i%4 == 3 {
			return duplicate
		}
		return forward
	})
	o := small(in, loadgen.ModeDefault)
	o.GRPC = addr
	rep, err := loadgen.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	dup := proxy.duplicated.Load()
	if dup == 0 {
		t.Fatal("the proxy duplicated nothing")
	}
	v := rep.Verify
	if v.OK || v.Duplicated != dup || v.Lost != 0 || v.Found != 1000+dup {
		t.Errorf("verify: got %+v, want FAILED with %d duplicated", v, dup)
	}
}

// TestRun_OffsetRetryAfterBrokenCall breaks the AppendRows call once in
// the middle of an offset run; the load generator reopens it and resends
// the unanswered requests at the same offsets, and nothing is lost or
// duplicated.
func TestRun_OffsetRetryAfterBrokenCall(t *testing.T) {
	in := servertest.Start(t)
	var calls atomic.Int32
	b := &breakingProxy{faultyProxy: faultyProxy{policy: func(int) action { return forward }}, calls: &calls}
	addr := b.start(t, in)
	o := small(in, loadgen.ModeCommitted)
	o.GRPC, o.Offsets, o.Conns = addr, true, 1
	rep, err := loadgen.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() < 2 {
		t.Fatalf("AppendRows calls: got %d, want a reconnect", calls.Load())
	}
	if v := rep.Verify; !v.OK || v.Found != 1000 || rep.Rows != 1000 {
		t.Errorf("got %d rows acknowledged, verify %+v; want all 1000 exactly once", rep.Rows, v)
	}
	if rep.Errors["Unavailable"] != 1 {
		t.Errorf("errors: got %v, want one Unavailable", rep.Errors)
	}
}

// breakingProxy forwards everything but ends the first AppendRows call
// with UNAVAILABLE after forwarding its 5th request and before relaying
// that request's answer.
type breakingProxy struct {
	faultyProxy
	calls *atomic.Int32
}

func (b *breakingProxy) start(t *testing.T, in *servertest.Instance) string {
	t.Helper()
	conn, err := grpc.NewClient(in.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	b.up = storagepb.NewBigQueryWriteClient(conn)
	s := grpc.NewServer()
	storagepb.RegisterBigQueryWriteServer(s, b)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return l.Addr().String()
}

func (b *breakingProxy) AppendRows(srv storagepb.BigQueryWrite_AppendRowsServer) error {
	if b.calls.Add(1) > 1 {
		return b.faultyProxy.AppendRows(srv)
	}
	up, err := b.up.AppendRows(srv.Context())
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		req, err := srv.Recv()
		if err != nil {
			return err
		}
		if err := up.Send(req); err != nil {
			return err
		}
		if i == 4 {
			// Let the upstream write it, then fail without answering.
			if _, err := up.Recv(); err != nil {
				return err
			}
			return errUnavailable
		}
		resp, err := up.Recv()
		if err != nil {
			return err
		}
		if err := srv.Send(resp); err != nil {
			return err
		}
	}
}

var errUnavailable = status.Error(codes.Unavailable, "proxy: call broken on purpose")
