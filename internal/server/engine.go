package server

// This file is replaced by the write engine. Until then it wires a data
// engine that stores nothing, so the server, its config loading and its
// tests can run end to end on catalog operations alone.
//
// Contract between this file and server.go (keep it when replacing):
//
//	type engine interface { restapi.TableData; Close() error }   // or any type with those methods
//	func openEngine(dir string, cfg config.Config, cat catalog.Catalog, logger *slog.Logger) (engine, error)
//	func registerGRPC(s *grpc.Server, e engine)
//	func dropTable(e engine, uid int64)                          // catalog.Options.OnTableDeleted
//	func insertRows(ctx context.Context, e engine, t *catalog.Table, rows []json.RawMessage) error
//
// insertRows stores config-file seed rows (insertAll JSON objects) in a
// table the server has just created.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/restapi"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/write"
)

// errNoEngine is returned for work that needs the write engine. It wraps
// errors.ErrUnsupported so tests can skip on it.
var errNoEngine = fmt.Errorf("server: inserting rows needs the write engine, which is not built yet: %w", errors.ErrUnsupported)

// engine is the data engine the server runs.
type engine interface {
	restapi.TableData
	Close() error
}

// noEngine reports every table as empty.
type noEngine struct{}

func (noEngine) ReadRows(context.Context, *catalog.Table, int64, int64, func(rowcodec.Row) error) (int64, error) {
	return 0, nil
}

func (noEngine) Stats(context.Context, *catalog.Table) (write.TableStats, error) {
	return write.TableStats{}, nil
}

func (noEngine) Close() error { return nil }

func openEngine(dir string, cfg config.Config, cat catalog.Catalog, logger *slog.Logger) (engine, error) {
	return noEngine{}, nil
}

func registerGRPC(s *grpc.Server, e engine) {}

func dropTable(e engine, uid int64) {}

func insertRows(ctx context.Context, e engine, t *catalog.Table, rows []json.RawMessage) error {
	return errNoEngine
}
