//go:build unix

package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// dirLock is an exclusive advisory lock (flock) on the LOCK file of a data
// directory. The kernel releases it when the process exits, however it
// exits, so a crash never leaves a stale lock behind.
type dirLock struct{ f *os.File }

// lockDir takes the lock of dir without waiting. It returns an error
// wrapping ErrDataDirLocked if another server holds it (in this process or
// another). The holder's pid is written into the file for the message.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("server: opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is in use by another Penstock server%s; stop it or choose another --data-dir",
				ErrDataDirLocked, dir, holder)
		}
		return nil, fmt.Errorf("server: locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if pid := strings.TrimSpace(string(b[:n])); pid != "" {
		return " (pid " + pid + ")"
	}
	return ""
}

func (l *dirLock) unlock() error { return l.f.Close() }
