//go:build !linux

package wal

import "os"

// preallocSupported: elsewhere segments grow with every round, as the preparer's reasoning about
// writeback errors holds for Linux only.
const preallocSupported = false

// datasync falls back to (*os.File).Sync, which is fsync(2) (F_FULLFSYNC on macOS).
func datasync(f *os.File) error { return f.Sync() }
