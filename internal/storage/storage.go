// Package storage is Penstock's embedded storage engine: a single shared
// write-ahead log in the data directory that the write engine logs every
// record to. It implements write.Backend.
//
// Today the log is the whole store: rows stay in it and are read back in
// place. Compaction into Parquet files (architecture §5) will live here.
package storage

import (
	"fmt"
	"path/filepath"

	"github.com/penstockdb/penstock/internal/storage/wal"
	"github.com/penstockdb/penstock/internal/write"
)

// Options configure the engine.
type Options struct {
	// Sync is the log's durability mode (wal.SyncAlways by default).
	Sync wal.SyncMode
	// SegmentSize is the log segment size in bytes; <= 0 means the
	// log's default.
	SegmentSize int64
	// DisablePrealloc turns off zero-filling segments ahead of use (see
	// wal.Options.DisablePrealloc).
	DisablePrealloc bool
}

// Engine is the embedded storage engine.
type Engine struct {
	log *wal.Log
}

var _ write.Backend = (*Engine)(nil)

// Open opens (or creates) the log under dir/wal, cutting off a torn tail.
// It returns a *wal.CorruptionError when the log is damaged elsewhere.
func Open(dir string, o Options) (*Engine, error) {
	wo := wal.DefaultOptions()
	wo.Sync = o.Sync
	wo.DisablePrealloc = o.DisablePrealloc
	if o.SegmentSize > 0 {
		wo.SegmentSize = o.SegmentSize
	}
	l, err := wal.Open(filepath.Join(dir, "wal"), wo)
	if err != nil {
		return nil, fmt.Errorf("storage: opening log: %w", err)
	}
	return &Engine{log: l}, nil
}

// Replay implements write.Backend.
func (e *Engine) Replay(fn func(ref write.Ref, data []byte) error) error {
	return e.log.Replay(func(p wal.Pos, data []byte) error {
		return fn(write.Ref{Segment: p.Segment, Offset: p.Offset}, data)
	})
}

// AppendAsync implements write.Backend.
func (e *Engine) AppendAsync(data []byte, done func(ref write.Ref, err error)) {
	e.log.AppendAsync(data, func(p wal.Pos, err error) {
		done(write.Ref{Segment: p.Segment, Offset: p.Offset}, err)
	})
}

// ReadAt implements write.Backend.
func (e *Engine) ReadAt(ref write.Ref) ([]byte, error) {
	return e.log.ReadAt(wal.Pos{Segment: ref.Segment, Offset: ref.Offset})
}

// Close implements write.Backend.
func (e *Engine) Close() error { return e.log.Close() }

// Size returns the log's size in bytes.
func (e *Engine) Size() int64 { return e.log.Size() }
