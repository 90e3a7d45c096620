package wal

import "os"

// file is what the flusher writes segments through. Production code uses osFile; tests wrap it
// to inject write and sync failures.
type file interface {
	WriteAt(p []byte, off int64) (int, error)
	// Sync makes the written data durable (fdatasync where the platform has it).
	Sync() error
	Close() error
}

// osFile adapts *os.File, syncing with fdatasync where available: the log never depends on
// mtime, and a file's size change is flushed by fdatasync anyway.
type osFile struct{ f *os.File }

func (o osFile) WriteAt(p []byte, off int64) (int, error) { return o.f.WriteAt(p, off) }
func (o osFile) Sync() error                              { return datasync(o.f) }
func (o osFile) Close() error                             { return o.f.Close() }
