//go:build !unix

package server

import (
	"fmt"
	"os"
	"path/filepath"
)

// dirLock on systems without flock only keeps the LOCK file open; it does
// not exclude a second server. Penstock's supported platforms are unix.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("server: opening lock file: %w", err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() error { return l.f.Close() }
