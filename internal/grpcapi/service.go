// Package grpcapi serves google.cloud.bigquery.storage.v1.BigQueryWrite
// over gRPC. It is a transport only: it validates request shapes, converts
// wire types to engine calls (internal/write), and maps engine errors to
// gRPC codes and StorageError details in one table (status.go). It never
// decodes rows itself.
package grpcapi

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/write"
)

// Default transport settings.
const (
	// DefaultMaxRequestBytes is the AppendRows request size limit (20 MiB,
	// the service's documented limit). Larger requests are answered
	// in-band with INVALID_ARGUMENT; the gRPC receive limit is set higher.
	DefaultMaxRequestBytes = 20 << 20
	// DefaultIdleTimeout closes AppendRows connections without requests.
	DefaultIdleTimeout = 600 * time.Second
	// maxInflight bounds unanswered requests per connection; beyond it the
	// receive loop stops reading and HTTP/2 flow control pushes back.
	maxInflight = 256
	// maxRowErrors bounds row_errors in one response.
	maxRowErrors = 1000
)

// Options configure the service. Zero fields take the defaults above.
type Options struct {
	Engine          *write.Engine
	Catalog         catalog.Catalog
	Logger          *slog.Logger
	MaxRequestBytes int
	IdleTimeout     time.Duration
}

// Service implements storagepb.BigQueryWriteServer.
type Service struct {
	storagepb.UnimplementedBigQueryWriteServer
	opts Options
	log  *slog.Logger

	drainOnce sync.Once
	draining  chan struct{}
}

var _ storagepb.BigQueryWriteServer = (*Service)(nil)

// New returns the service.
func New(o Options) *Service {
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{opts: o, log: o.Logger, draining: make(chan struct{})}
}

// Register registers the service on s.
func (s *Service) Register(g *grpc.Server) { storagepb.RegisterBigQueryWriteServer(g, s) }

// Drain makes every open AppendRows call answer what it has received and
// end with UNAVAILABLE, so a graceful server stop does not wait on
// long-lived streams. Clients reconnect elsewhere (or after restart).
func (s *Service) Drain() { s.drainOnce.Do(func() { close(s.draining) }) }

// CreateWriteStream creates a COMMITTED, PENDING or BUFFERED stream and
// returns it in the FULL view.
func (s *Service) CreateWriteStream(ctx context.Context, req *storagepb.CreateWriteStreamRequest) (*storagepb.WriteStream, error) {
	if req.GetParent() == "" {
		return nil, grpcstatus.Error(codes.InvalidArgument, "parent is required")
	}
	typ, ok := streamTypeFromProto(req.GetWriteStream().GetType())
	if !ok {
		return nil, grpcstatus.Errorf(codes.InvalidArgument, "write_stream.type must be COMMITTED, PENDING or BUFFERED, got %s", req.GetWriteStream().GetType())
	}
	info, err := s.opts.Engine.CreateStream(ctx, req.GetParent(), typ)
	if err != nil {
		return nil, toGRPC(err)
	}
	t, err := s.opts.Catalog.TableByUID(ctx, info.TableUID)
	if err != nil {
		return nil, toGRPC(write.ErrTableNotFound)
	}
	return writeStreamProto(info, t.Schema), nil
}

// GetWriteStream describes a stream; the table schema only in the FULL
// view. The _default stream reports COMMITTED with no create time.
func (s *Service) GetWriteStream(ctx context.Context, req *storagepb.GetWriteStreamRequest) (*storagepb.WriteStream, error) {
	info, err := s.opts.Engine.GetStream(ctx, req.GetName())
	if err != nil {
		return nil, toGRPC(err)
	}
	ws := writeStreamProto(info, nil)
	if req.GetView() == storagepb.WriteStreamView_FULL {
		t, err := s.opts.Catalog.TableByUID(ctx, info.TableUID)
		if err != nil {
			return nil, toGRPC(write.ErrTableNotFound)
		}
		ws.TableSchema = tableSchemaProto(t.Schema)
	}
	return ws, nil
}

// FinalizeWriteStream finalizes an explicit stream and reports its row
// count (the same count again for an already finalized stream).
func (s *Service) FinalizeWriteStream(ctx context.Context, req *storagepb.FinalizeWriteStreamRequest) (*storagepb.FinalizeWriteStreamResponse, error) {
	n, err := s.opts.Engine.Finalize(ctx, req.GetName())
	if err != nil {
		return nil, toGRPC(err)
	}
	return &storagepb.FinalizeWriteStreamResponse{RowCount: n}, nil
}

// BatchCommitWriteStreams commits PENDING streams atomically. Per-stream
// failures come back as stream_errors with no commit_time, not as an RPC
// error.
func (s *Service) BatchCommitWriteStreams(ctx context.Context, req *storagepb.BatchCommitWriteStreamsRequest) (*storagepb.BatchCommitWriteStreamsResponse, error) {
	at, serrs, err := s.opts.Engine.BatchCommit(ctx, req.GetParent(), req.GetWriteStreams())
	if err != nil {
		return nil, toGRPC(err)
	}
	resp := &storagepb.BatchCommitWriteStreamsResponse{}
	if len(serrs) > 0 {
		for _, se := range serrs {
			resp.StreamErrors = append(resp.StreamErrors, &storagepb.StorageError{
				Code: storageErrorCode(se.Kind), Entity: se.Entity, ErrorMessage: se.Message,
			})
		}
		return resp, nil
	}
	resp.CommitTime = timestamppb.New(at)
	return resp, nil
}

// FlushRows makes a BUFFERED stream's rows visible through offset
// (inclusive). An absent offset means 0 (Node omits a zero offset).
func (s *Service) FlushRows(ctx context.Context, req *storagepb.FlushRowsRequest) (*storagepb.FlushRowsResponse, error) {
	off, err := s.opts.Engine.Flush(ctx, req.GetWriteStream(), req.GetOffset().GetValue())
	if err != nil {
		return nil, toGRPC(err)
	}
	return &storagepb.FlushRowsResponse{Offset: off}, nil
}
