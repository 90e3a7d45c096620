package wal

import (
	"os"
	"syscall"
)

// preallocSupported: on Linux the log zero-fills segment space ahead of its records (see
// prealloc.go). The preparer relies on Linux reporting a writeback error to every descriptor of
// the file, and the gain it measures is that of Linux journaling file systems.
const preallocSupported = true

// datasync is fdatasync(2): it flushes the data and the metadata needed to read it back (such as
// the file size), but not timestamps.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
