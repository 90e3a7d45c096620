//go:build !linux

package wal

import "os"

// datasync falls back to (*os.File).Sync, which is fsync(2) (F_FULLFSYNC on macOS).
func datasync(f *os.File) error { return f.Sync() }
