package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // Java clients compress requests with gzip
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/penstockdb/penstock/internal/grpcapi"
)

// gRPC transport settings real clients need (spec storage-write-api.md §3.8).
const (
	// MaxGRPCMessageBytes bounds one gRPC message either way. It sits well
	// above the API's own request limit, which the service enforces and
	// answers in-band; grpc-go's 4 MiB default would fail legitimate
	// requests with RESOURCE_EXHAUSTED before the service sees them.
	MaxGRPCMessageBytes = 128 << 20 // 128 MiB
	// keepaliveMinTime is the shortest client ping interval tolerated.
	// Java pings every 60 s and Node every 30 s, also without active
	// calls; grpc-go's default (5 min, no pings without streams) would
	// answer them with GOAWAY too_many_pings.
	keepaliveMinTime = 10 * time.Second
	// keepaliveTime and keepaliveTimeout: after this long without traffic
	// the server pings the client and drops the connection if no answer
	// comes within the timeout, so dead clients do not hold streams open.
	keepaliveTime    = 2 * time.Minute
	keepaliveTimeout = 20 * time.Second
)

// newGRPCServer returns a gRPC server with Penstock's transport settings
// and panic recovery. Services are registered by the caller.
func newGRPCServer(logger *slog.Logger) *grpc.Server {
	return grpc.NewServer(
		grpc.MaxRecvMsgSize(MaxGRPCMessageBytes),
		grpc.MaxSendMsgSize(MaxGRPCMessageBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             keepaliveMinTime,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    keepaliveTime,
			Timeout: keepaliveTimeout,
		}),
		// AppendRows rows alias one copy of the request instead of one
		// allocation per row (grpcapi/codec.go).
		grpc.ForceServerCodecV2(grpcapi.Codec()),
		grpc.ChainUnaryInterceptor(recoverUnary(logger)),
		grpc.ChainStreamInterceptor(recoverStream(logger)),
	)
}

// recoverUnary turns a handler panic into codes.Internal and logs the
// stack, so one bad request cannot take the process down.
func recoverUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				err = panicStatus(logger, info.FullMethod, v)
			}
		}()
		return handler(ctx, req)
	}
}

// recoverStream is recoverUnary for streaming RPCs.
func recoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = panicStatus(logger, info.FullMethod, v)
			}
		}()
		return handler(srv, ss)
	}
}

func panicStatus(logger *slog.Logger, method string, v any) error {
	logger.Error("gRPC handler panic", "method", method, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal error in Penstock; the server log has the details")
}
