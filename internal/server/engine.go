package server

// The data engine: the embedded storage (write-ahead log) under the write
// engine, and the Storage Write API service that fronts it.
//
// Contract with server.go:
//
//	type engine interface { restapi.TableData; Close() error }
//	func openEngine(dir string, cfg config.Config, cat catalog.Catalog, logger *slog.Logger) (engine, error)
//	func registerGRPC(s *grpc.Server, e engine)
//	func drainGRPC(e engine)                                       // before GracefulStop
//	func dropTable(e engine, uid int64)                            // catalog.Options.OnTableDeleted
//	func insertRows(ctx context.Context, e engine, t *catalog.Table, rows []json.RawMessage) error

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/grpcapi"
	"github.com/penstockdb/penstock/internal/restapi"
	"github.com/penstockdb/penstock/internal/storage"
	"github.com/penstockdb/penstock/internal/storage/wal"
	"github.com/penstockdb/penstock/internal/write"
)

// engine is the data engine the server runs.
type engine interface {
	restapi.TableData
	Close() error
}

// dataEngine is the write engine over the embedded log, plus its gRPC
// service.
type dataEngine struct {
	*write.Engine
	svc *grpcapi.Service
}

var _ engine = (*dataEngine)(nil)

func openEngine(dir string, cfg config.Config, cat catalog.Catalog, logger *slog.Logger) (engine, error) {
	so := storage.Options{Sync: wal.SyncAlways, DisablePrealloc: !cfg.WALPrealloc}
	if cfg.Sync == config.SyncNever {
		so.Sync = wal.SyncNever
	}
	st, err := storage.Open(dir, so)
	if err != nil {
		return nil, err
	}
	eng, err := write.Open(context.Background(), st, cat, writeOptions(cfg))
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	svc := grpcapi.New(grpcapi.Options{Engine: eng, Catalog: cat, Logger: logger})
	return &dataEngine{Engine: eng, svc: svc}, nil
}

// writeOptions maps the configuration onto the write engine. Zero
// settings mean "none": a zero streaming buffer leaves nothing buffered, a
// zero window turns insertId de-duplication off.
func writeOptions(cfg config.Config) write.Options {
	o := write.Options{StreamingBuffer: cfg.StreamingBuffer, DedupWindow: cfg.DedupWindow}
	if o.StreamingBuffer <= 0 {
		o.StreamingBuffer = time.Nanosecond // rows leave the buffer at once
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = -1
	}
	return o
}

func registerGRPC(s *grpc.Server, e engine) {
	if de, ok := e.(*dataEngine); ok {
		de.svc.Register(s)
	}
}

// drainGRPC ends open AppendRows calls (after answering what they have
// received) so a graceful stop can complete.
func drainGRPC(e engine) {
	if de, ok := e.(*dataEngine); ok {
		de.svc.Drain()
	}
}

func dropTable(e engine, uid int64) {
	if de, ok := e.(*dataEngine); ok {
		de.DropTable(uid)
	}
}

// insertRows stores config-file seed rows in a table the server has just
// created. Any invalid row fails the whole load.
func insertRows(ctx context.Context, e engine, t *catalog.Table, rows []json.RawMessage) error {
	de, ok := e.(*dataEngine)
	if !ok || len(rows) == 0 {
		return nil
	}
	raw := make([][]byte, len(rows))
	for i, r := range rows {
		raw[i] = r
	}
	rowErrs, err := de.InsertRows(ctx, t, raw, write.InsertOptions{})
	if err != nil {
		return err
	}
	if len(rowErrs) > 0 {
		return fmt.Errorf("seed row %d of table %s.%s: %s", rowErrs[0].Index, t.Dataset, t.ID, rowErrs[0].Message)
	}
	return nil
}
