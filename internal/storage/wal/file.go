package wal

import "os"

// file is what the flusher writes segments through. Production code uses osFile; tests wrap it
// to inject write and sync failures.
type file interface {
	WriteAt(p []byte, off int64) (int, error)
	// Sync makes the written data durable (fdatasync where the platform has it).
	Sync() error
	// StartWriteback starts writing n bytes at off to the disk without waiting for them or
	// making them durable (sync_file_range on Linux; nothing elsewhere).
	StartWriteback(off, n int64) error
	// Truncate changes the file's size; a Sync must follow to make it durable.
	Truncate(size int64) error
	Close() error
}

// osFile adapts *os.File, syncing with fdatasync where available: the log never depends on
// mtime, and a file's size change is flushed by fdatasync anyway.
type osFile struct{ f *os.File }

func (o osFile) WriteAt(p []byte, off int64) (int, error) { return o.f.WriteAt(p, off) }
func (o osFile) Sync() error                              { return datasync(o.f) }
func (o osFile) Truncate(size int64) error                { return o.f.Truncate(size) }
func (o osFile) StartWriteback(off, n int64) error        { return startWriteback(o.f, off, n) }
func (o osFile) Close() error                             { return o.f.Close() }
