//go:build linux

package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkDatasync measures what preallocation is about: one write of size bytes at the end
// of the records followed by fdatasync, into space prepared three ways:
//
//   - grow: the file ends at the records, every write extends it (no preallocation);
//   - fallocate: fallocate(2) reserved the space beforehand (unwritten extents);
//   - zeros: the space was written with zeros and synced beforehand (what the log does).
//
// The space is prepared before the timer starts, so this is the cost of a round's sync alone,
// not of the zero-filling (which the log does in the background, paced by its own writes).
//
//	go test ./internal/storage/wal -run '^$' -bench BenchmarkDatasync -benchtime 200x
func BenchmarkDatasync(b *testing.B) {
	for _, size := range []int{100, 4096, 1 << 20} {
		for _, space := range []string{"grow", "fallocate", "zeros"} {
			b.Run(fmt.Sprintf("size=%d/space=%s", size, space), func(b *testing.B) {
				benchDatasync(b, size, space)
			})
		}
	}
}

func benchDatasync(b *testing.B, size int, space string) {
	f, err := os.Create(filepath.Join(b.TempDir(), "seg"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	total := int64(segmentHeaderSize) + int64(b.N)*int64(size)
	if _, err := f.WriteAt(appendSegmentHeader(nil, 1), 0); err != nil {
		b.Fatal(err)
	}
	switch space {
	case "fallocate":
		if err := syscall.Fallocate(int(f.Fd()), 0, segmentHeaderSize, total-segmentHeaderSize); err != nil {
			b.Skipf("fallocate: %v", err)
		}
	case "zeros":
		zeros := make([]byte, 1<<20)
		for off := int64(segmentHeaderSize); off < total; off += int64(len(zeros)) {
			if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), total-off)], off); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + 1)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	off := int64(segmentHeaderSize)
	for range b.N {
		if _, err := f.WriteAt(data, off); err != nil {
			b.Fatal(err)
		}
		if err := datasync(f); err != nil {
			b.Fatal(err)
		}
		off += int64(size)
	}
}
