package wal_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/penstockdb/penstock/internal/storage/wal"
)

func segPath(dir string, n uint32) string { return filepath.Join(dir, fmt.Sprintf("%010d.wal", n)) }

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func writeFile(tb testing.TB, name string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// copyLog copies the segment files of src into a new directory and returns it.
func copyLog(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	names, err := filepath.Glob(filepath.Join(src, "*.wal"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, name := range names {
		writeFile(tb, filepath.Join(dst, filepath.Base(name)), readFile(tb, name))
	}
	return dst
}

// buildLog writes records of the given sizes, one Append (so one write round) each, closes the
// log and returns its directory and records.
func buildLog(tb testing.TB, opts wal.Options, sizes ...int) (string, []record) {
	tb.Helper()
	dir := tb.TempDir()
	l, err := wal.Open(dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	var recs []record
	for i, n := range sizes {
		data := payload(i, n)
		recs = append(recs, record{mustAppend(tb, l, data), data})
	}
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir, recs
}

// wantCorruption checks that err is a *CorruptionError at seg:off wrapping cause.
func wantCorruption(tb testing.TB, err error, seg uint32, off int64, cause error) {
	tb.Helper()
	var ce *wal.CorruptionError
	if !errors.As(err, &ce) {
		tb.Fatalf("got error %v, want *CorruptionError", err)
	}
	if ce.Segment != seg || ce.Offset != off {
		tb.Errorf("corruption reported at %d:%d, want %d:%d (%v)", ce.Segment, ce.Offset, seg, off, err)
	}
	if cause != nil && !errors.Is(err, cause) {
		tb.Errorf("error %v does not wrap %v", err, cause)
	}
}

func TestOpen_TornTailAtEveryOffset(t *testing.T) {
	scenarios := []struct {
		name string
		opts wal.Options
	}{
		{"one segment", wal.Options{Sync: wal.SyncNever}},
		// Segments of 100 bytes put the last record alone into a fresh segment.
		{"last record alone in its segment", wal.Options{Sync: wal.SyncNever, SegmentSize: 100}},
	}
	fills := []struct {
		name string
		fill func(n int) []byte
	}{
		{"truncated", func(int) []byte { return nil }},
		{"zero-filled", func(n int) []byte { return make([]byte, n) }}, // preallocation, unwritten blocks
		{"garbage", func(n int) []byte {
			b := make([]byte, n)
			r := rand.New(rand.NewPCG(uint64(n), 7))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			src, recs := buildLog(t, sc.opts, 20, 0, 35, 50)
			lastRec := recs[len(recs)-1]
			whole := recs[:len(recs)-1]
			seg := readFile(t, segPath(src, lastRec.pos.Segment))
			for cut := int(lastRec.pos.Offset); cut < len(seg); cut++ {
				for _, fl := range fills {
					dir := copyLog(t, src)
					name := segPath(dir, lastRec.pos.Segment)
					writeFile(t, name, append(bytes.Clone(seg[:cut]), fl.fill(len(seg)-cut)...))

					l, err := wal.Open(dir, sc.opts)
					if err != nil {
						t.Fatalf("cut at %d, %s: Open: %v", cut, fl.name, err)
					}
					checkRecords(t, replayAll(t, l), whole)
					if got, want := int64(len(readFile(t, name))), lastRec.pos.Offset; got != want {
						t.Errorf("cut at %d, %s: file has %d bytes after Open, want %d", cut, fl.name, got, want)
					}
					data := []byte("after the cut")
					pos := mustAppend(t, l, data)
					if pos != lastRec.pos {
						t.Errorf("cut at %d, %s: next append at %v, want %v", cut, fl.name, pos, lastRec.pos)
					}
					if err := l.Close(); err != nil {
						t.Fatal(err)
					}
					l = mustOpen(t, dir, sc.opts)
					checkRecords(t, replayAll(t, l), append(whole[:len(whole):len(whole)], record{pos, data}))
					l.Close()
				}
			}
		})
	}
}

func TestOpen_BitFlipInMiddle(t *testing.T) {
	src, recs := buildLog(t, wal.Options{}, 10, 30, 25, 40)
	victim := recs[1]
	seg := readFile(t, segPath(src, 1))
	frameLen := 12 + len(victim.data)
	for i := range frameLen {
		dir := copyLog(t, src)
		b := bytes.Clone(seg)
		b[int(victim.pos.Offset)+i] ^= 0x10
		writeFile(t, segPath(dir, 1), b)
		_, err := wal.Open(dir, wal.Options{})
		wantCorruption(t, err, 1, victim.pos.Offset, wal.ErrChecksum)
		// Nothing was repaired.
		if !bytes.Equal(readFile(t, segPath(dir, 1)), b) {
			t.Fatalf("flip at byte %d: Open changed the damaged file", i)
		}
	}
}

func TestOpen_BitFlipInLastRecord(t *testing.T) {
	src, recs := buildLog(t, wal.Options{}, 10, 30, 25, 40)
	victim := recs[len(recs)-1]
	seg := readFile(t, segPath(src, 1))
	for i := range 12 + len(victim.data) {
		dir := copyLog(t, src)
		b := bytes.Clone(seg)
		b[int(victim.pos.Offset)+i] ^= 0x01
		writeFile(t, segPath(dir, 1), b)
		l, err := wal.Open(dir, wal.Options{})
		if err != nil {
			t.Fatalf("flip at byte %d of the last record: %v", i, err)
		}
		checkRecords(t, replayAll(t, l), recs[:len(recs)-1])
		l.Close()
	}
}

func TestReplay_DamageInSealedSegment(t *testing.T) {
	opts := wal.Options{SegmentSize: 200}
	src, recs := buildLog(t, opts, 60, 60, 60, 60, 60, 60, 60, 60, 60)
	if recs[len(recs)-1].pos.Segment < 3 {
		t.Fatalf("need at least 3 segments, have %d", recs[len(recs)-1].pos.Segment)
	}
	var lastOfFirst record // last record of segment 1: a torn tail would be cut if it were the last segment
	for _, r := range recs {
		if r.pos.Segment == 1 {
			lastOfFirst = r
		}
	}
	seg1 := readFile(t, segPath(src, 1))

	t.Run("bit flip", func(t *testing.T) {
		dir := copyLog(t, src)
		b := bytes.Clone(seg1)
		b[lastOfFirst.pos.Offset+15] ^= 0x80
		writeFile(t, segPath(dir, 1), b)
		l := mustOpen(t, dir, opts) // Open only scans the last segment
		err := l.Replay(func(wal.Pos, []byte) error { return nil })
		wantCorruption(t, err, 1, lastOfFirst.pos.Offset, wal.ErrChecksum)
	})
	t.Run("truncated", func(t *testing.T) {
		dir := copyLog(t, src)
		writeFile(t, segPath(dir, 1), seg1[:len(seg1)-3])
		l := mustOpen(t, dir, opts)
		var n int
		err := l.Replay(func(wal.Pos, []byte) error { n++; return nil })
		wantCorruption(t, err, 1, lastOfFirst.pos.Offset, wal.ErrTruncated)
		if n == 0 {
			t.Errorf("Replay returned no record before the damage")
		}
	})
	t.Run("zero tail", func(t *testing.T) {
		dir := copyLog(t, src)
		writeFile(t, segPath(dir, 1), append(bytes.Clone(seg1), make([]byte, 64)...))
		l := mustOpen(t, dir, opts)
		err := l.Replay(func(wal.Pos, []byte) error { return nil })
		wantCorruption(t, err, 1, int64(len(seg1)), wal.ErrChecksum)
	})
}

func TestOpen_BadSegmentHeader(t *testing.T) {
	opts := wal.Options{SegmentSize: 60} // one record per segment
	src, _ := buildLog(t, opts, 50, 50, 50)
	tests := []struct {
		name   string
		seg    uint32
		damage func([]byte) []byte
	}{
		{"magic", 1, func(b []byte) []byte { b[0] ^= 1; return b }},
		{"version", 2, func(b []byte) []byte { b[8] = 99; return b }},
		{"flags", 3, func(b []byte) []byte { b[10] = 1; return b }},
		{"segment number", 2, func(b []byte) []byte { b[12] = 7; return b }},
		{"short last segment", 3, func(b []byte) []byte { return b[:10] }},
		{"empty last segment", 3, func(b []byte) []byte { return b[:0] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyLog(t, src)
			name := segPath(dir, tt.seg)
			writeFile(t, name, tt.damage(readFile(t, name)))
			_, err := wal.Open(dir, opts)
			wantCorruption(t, err, tt.seg, 0, wal.ErrBadHeader)
		})
	}
}

func TestOpen_MissingSegment(t *testing.T) {
	opts := wal.Options{SegmentSize: 60} // one record per segment
	src, _ := buildLog(t, opts, 50, 50, 50)
	dir := copyLog(t, src)
	if err := os.Remove(segPath(dir, 2)); err != nil {
		t.Fatal(err)
	}
	_, err := wal.Open(dir, opts)
	wantCorruption(t, err, 2, 0, wal.ErrMissingSegment)
}

func TestOpen_IgnoresAndCleansFiles(t *testing.T) {
	src, recs := buildLog(t, wal.Options{}, 10, 20)
	dir := copyLog(t, src)
	tmp := filepath.Join(dir, "0000000002.wal.tmp")
	writeFile(t, tmp, []byte("half-made segment"))
	writeFile(t, filepath.Join(dir, "LOCK"), nil)
	writeFile(t, filepath.Join(dir, "notes.wal"), []byte("not a segment name"))
	l := mustOpen(t, dir, wal.Options{})
	checkRecords(t, replayAll(t, l), recs)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover %s still there after Open (%v)", tmp, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
		t.Errorf("Open touched a foreign file: %v", err)
	}
}
