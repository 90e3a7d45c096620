package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// probeService is a hand-written gRPC service (no generated code) that
// exercises the server options: Size echoes the request size, Boom and
// BoomStream panic.
var probeService = grpc.ServiceDesc{
	ServiceName: "penstock.test.Probe",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Size", Handler: unaryProbe("/penstock.test.Probe/Size", func(in *wrapperspb.BytesValue) *wrapperspb.Int64Value {
			return wrapperspb.Int64(int64(len(in.Value)))
		})},
		{MethodName: "Boom", Handler: unaryProbe("/penstock.test.Probe/Boom", func(*wrapperspb.BytesValue) *wrapperspb.Int64Value {
			panic("boom")
		})},
	},
	Streams: []grpc.StreamDesc{{
		StreamName:    "BoomStream",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			var in wrapperspb.BytesValue
			if err := stream.RecvMsg(&in); err != nil {
				return err
			}
			panic("stream boom")
		},
	}},
}

func unaryProbe(method string, fn func(*wrapperspb.BytesValue) *wrapperspb.Int64Value) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.BytesValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		h := func(_ context.Context, req any) (any, error) { return fn(req.(*wrapperspb.BytesValue)), nil }
		if icpt == nil {
			return h(ctx, in)
		}
		return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: method}, h)
	}
}

func startProbe(t *testing.T, logger *slog.Logger) *grpc.ClientConn {
	t.Helper()
	s := newGRPCServer(logger)
	s.RegisterService(&probeService, struct{}{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestGRPCServer_LargeAndCompressedMessages(t *testing.T) {
	conn := startProbe(t, nil)
	for _, tt := range []struct {
		name string
		size int
		opts []grpc.CallOption
	}{
		// Java sends 15 MiB requests; grpc-go's default limit is 4 MiB.
		{"20MiB", 20 << 20, nil},
		{"gzip", 1 << 20, []grpc.CallOption{grpc.UseCompressor(gzip.Name)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out wrapperspb.Int64Value
			err := conn.Invoke(t.Context(), "/penstock.test.Probe/Size", wrapperspb.Bytes(bytes.Repeat([]byte{'x'}, tt.size)), &out, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := out.Value, int64(tt.size); got != want {
				t.Errorf("got %d, want %d", got, want)
			}
		})
	}
}

func TestGRPCServer_RecoversPanics(t *testing.T) {
	var logs syncBuffer
	conn := startProbe(t, slog.New(slog.NewTextHandler(&logs, nil)))

	for i := range 2 { // the server survives the first panic
		err := conn.Invoke(t.Context(), "/penstock.test.Probe/Boom", wrapperspb.Bytes(nil), new(wrapperspb.Int64Value))
		if got, want := status.Code(err), codes.Internal; got != want {
			t.Fatalf("call %d: got %v (%v), want %v", i, got, err, want)
		}
	}

	stream, err := conn.NewStream(t.Context(), &probeService.Streams[0], "/penstock.test.Probe/BoomStream")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(wrapperspb.Bytes(nil)); err != nil {
		t.Fatal(err)
	}
	err = stream.RecvMsg(new(wrapperspb.Int64Value))
	if got, want := status.Code(err), codes.Internal; got != want {
		t.Fatalf("stream: got %v (%v), want %v", got, err, want)
	}
	for _, want := range []string{"method=/penstock.test.Probe/Boom", "panic=boom", "method=/penstock.test.Probe/BoomStream", "stack="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
