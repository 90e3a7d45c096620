package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReplay feeds arbitrary bytes as the only segment file. Open and Replay must not panic, and
// every record Replay returns must be one whose checksums verify, at a position that ReadAt
// agrees with. When Open succeeds the log must accept an append and replay it after a reopen.
// withHeader prepends a valid segment header, so the fuzzer spends its time on frames. With
// prealloc the log runs with SyncAlways and preallocation, so that Open overwrites a torn tail
// with zeros instead of truncating it.
//
// Syncs are skipped: they test nothing here and, on a busy disk, take seconds each. Each input
// also creates and deletes a directory; where the file system discards freed blocks
// synchronously, run the fuzzer with TMPDIR=/dev/shm:
//
//	TMPDIR=/dev/shm go test ./internal/storage/wal -run '^$' -fuzz FuzzReplay -fuzztime 60s
func FuzzReplay(f *testing.F) {
	for _, seg := range []string{segmentName(1), segmentName(2)} {
		if b, err := os.ReadFile(filepath.Join(fixtureDir("log"), seg)); err == nil {
			f.Add(b, false, false)
			f.Add(b[segmentHeaderSize:], true, false)
			f.Add(b[:len(b)-5], false, true)
		}
	}
	frames, _ := encodeFrames(rounds([]string{"A"}, []string{"B-payload", "C", "D"}, []string{"E"}))
	f.Add(frames, false, false)
	f.Add(frames[segmentHeaderSize:], true, true)
	f.Add(append(bytes.Clone(frames[segmentHeaderSize:]), make([]byte, 40)...), true, false)
	f.Add(append(bytes.Clone(frames[segmentHeaderSize:]), make([]byte, 40)...), true, true)
	f.Add([]byte{}, true, false)
	f.Add([]byte{}, false, true)
	f.Add(make([]byte, 64), true, true)

	f.Fuzz(func(t *testing.T, data []byte, withHeader, prealloc bool) {
		if withHeader {
			data = append(appendSegmentHeader(nil, 1), data...)
		}
		dir := t.TempDir()
		name := filepath.Join(dir, segmentName(1))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{Sync: SyncNever}
		if prealloc {
			opts = Options{SegmentSize: 1 << 20}
		}
		l, err := open(dir, opts, noSyncHooks)
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				t.Fatalf("Open: %v is neither success nor *CorruptionError", err)
			}
			return
		}
		defer l.Close()
		onDisk, err := os.ReadFile(name) // after Open cut any torn tail
		if err != nil {
			t.Fatal(err)
		}
		// Open cut the tail off, or (preallocating) overwrote it with zeros.
		end := len(onDisk)
		if prealloc {
			end = len(bytes.TrimRight(onDisk, "\x00"))
			if len(onDisk) != len(data) {
				t.Fatalf("Open changed the file's size from %d to %d", len(data), len(onDisk))
			}
		}
		if !bytes.HasPrefix(data, onDisk[:end]) {
			t.Fatalf("Open changed bytes other than cutting the tail")
		}
		var recs [][]byte
		var positions []Pos
		next := int64(segmentHeaderSize)
		err = l.Replay(func(pos Pos, d []byte) error {
			if pos.Segment != 1 || pos.Offset != next {
				t.Fatalf("record at %v, want 1:%d", pos, next)
			}
			h := onDisk[pos.Offset : pos.Offset+frameHeaderSize]
			word := binary.LittleEndian.Uint32(h)
			if crc(h[:8]) != binary.LittleEndian.Uint32(h[8:]) || crc(d) != binary.LittleEndian.Uint32(h[4:]) ||
				int(word&lengthMask) != len(d) || word&flagReserved != 0 {
				t.Fatalf("Replay returned a record at %v whose checksums do not verify", pos)
			}
			if !bytes.Equal(onDisk[pos.Offset+frameHeaderSize:pos.Offset+frameHeaderSize+int64(len(d))], d) {
				t.Fatalf("Replay returned bytes that are not in the file at %v", pos)
			}
			next = pos.Offset + frameHeaderSize + int64(len(d))
			recs = append(recs, bytes.Clone(d))
			positions = append(positions, pos)
			return nil
		})
		if err != nil {
			t.Fatalf("Replay after a successful Open: %v", err)
		}
		if next < int64(end) || !isZero(onDisk[next:]) {
			t.Fatalf("records end at %d, file (%d bytes) has more than zeros after them", next, len(onDisk))
		}
		for i, pos := range positions {
			if got, err := l.ReadAt(pos); err != nil || !bytes.Equal(got, recs[i]) {
				t.Fatalf("ReadAt(%v) = %v, disagrees with Replay", pos, err)
			}
		}
		added := []byte("appended by the fuzzer")
		if _, err := l.Append(added); err != nil {
			t.Fatalf("Append: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		l2, err := open(dir, opts, noSyncHooks)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer l2.Close()
		n := 0
		err = l2.Replay(func(_ Pos, d []byte) error {
			if n < len(recs) && !bytes.Equal(d, recs[n]) || n == len(recs) && !bytes.Equal(d, added) {
				t.Fatalf("record %d changed across reopen", n)
			}
			n++
			return nil
		})
		if err != nil || n != len(recs)+1 {
			t.Fatalf("after reopen: %d records, %v; want %d", n, err, len(recs)+1)
		}
	})
}

var noSyncHooks = fsHooks{
	wrap:    func(f *os.File) file { return noSyncFile{osFile{f}} },
	syncDir: func(string) error { return nil },
}

type noSyncFile struct{ osFile }

func (noSyncFile) Sync() error { return nil }
