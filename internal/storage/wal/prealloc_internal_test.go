package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// These tests drive the preparer directly: they let it write as fast as it likes and wait for
// its spare, so that what they check does not depend on timing.

// prealloc skips a test where the log does not preallocate.
func needPrealloc(t *testing.T) {
	t.Helper()
	if !preallocSupported {
		t.Skip("no preallocation on this platform")
	}
}

// openPre opens a log with preallocation whose preparer is not paced, using fs (osHooks if
// the zero value).
func openPre(t *testing.T, dir string, opts Options, fs fsHooks) *Log {
	t.Helper()
	if fs.wrap == nil {
		fs = osHooks
	}
	l, err := open(dir, opts, fs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if l.pre == nil {
		t.Fatalf("options %+v: the log does not preallocate", opts)
	}
	unpace(l)
	return l
}

func unpace(l *Log) {
	l.pre.mu.Lock()
	l.pre.ratio = 1 << 30
	l.pre.mu.Unlock()
}

// waitSpare waits until the preparer has a zero-filled, synced spare for segment n.
func waitSpare(t *testing.T, l *Log, n uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.pre.mu.Lock()
		sp := l.pre.spare
		ready := sp != nil && sp.num == n && sp.zeroed
		l.pre.mu.Unlock()
		if ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no spare for segment %d after 10s", n)
		}
		time.Sleep(time.Millisecond)
	}
}

type rec struct {
	pos  Pos
	data []byte
}

func recData(i, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*13 + j*5 + 1)
	}
	return b
}

func appendRec(t *testing.T, l *Log, i, n int) rec {
	t.Helper()
	d := recData(i, n)
	pos, err := l.Append(d)
	if err != nil {
		t.Fatalf("Append %d: %v", i, err)
	}
	return rec{pos, d}
}

func replayRecs(t *testing.T, l *Log) []rec {
	t.Helper()
	var got []rec
	if err := l.Replay(func(pos Pos, d []byte) error {
		got = append(got, rec{pos, bytes.Clone(d)})
		return nil
	}); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return got
}

func sameRecs(t *testing.T, got, want []rec) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b rec) bool { return a.pos == b.pos && bytes.Equal(a.data, b.data) }) {
		t.Fatalf("got %d records, want %d (or positions or bytes differ)", len(got), len(want))
	}
}

func fileSize(t *testing.T, name string) int64 {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// checkFiles checks the segment files against recs: a sealed segment ends at its last record,
// the last one holds only zeros after it, and no .tmp file is left.
func checkFiles(t *testing.T, dir string, recs []rec) {
	t.Helper()
	ends := map[uint32]int64{}
	for _, r := range recs {
		ends[r.pos.Segment] = r.pos.Offset + frameHeaderSize + int64(len(r.data))
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	last := recs[len(recs)-1].pos.Segment
	for _, name := range names {
		n, ok := parseSegmentName(filepath.Base(name))
		if !ok {
			t.Errorf("unexpected file %s", filepath.Base(name))
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		end, ok := ends[n]
		if !ok {
			end = segmentHeaderSize
		}
		switch {
		case n < last && int64(len(b)) != end:
			t.Errorf("sealed segment %d has %d bytes, its records end at %d", n, len(b), end)
		case int64(len(b)) < end || !isZeroBytes(b[end:]):
			t.Errorf("segment %d (%d bytes) holds bytes other than zeros after its records (end %d)", n, len(b), end)
		}
	}
}

func isZeroBytes(b []byte) bool { return bytes.Equal(b, make([]byte, len(b))) }

// TestPrealloc_RollUsesSpare: the spare is made under the .tmp name (header, then zeros to
// SegmentSize), the roll renames it into place, records overwrite its zeros, sealed segments end
// at their last record, and a reopened log keeps the zero-filled tail and replays everything.
func TestPrealloc_RollUsesSpare(t *testing.T) {
	needPrealloc(t)
	dir := t.TempDir()
	const segSize = 4096
	opts := Options{SegmentSize: segSize}
	l := openPre(t, dir, opts, fsHooks{})
	var recs []rec
	for i := 0; len(recs) == 0 || recs[len(recs)-1].pos.Segment < 5; i++ {
		if i > 0 {
			// The first append gave the preparer its start; from then on there is a spare
			// for the segment after the active one.
			n := recs[len(recs)-1].pos.Segment + 1
			waitSpare(t, l, n)
			if i == 1 {
				// The spare as the preparer left it: header and zeros, under the .tmp name.
				b := readAll(t, tmpPath(dir, n))
				if len(b) != segSize || !bytes.Equal(b[:segmentHeaderSize], appendSegmentHeader(nil, n)) || !isZeroBytes(b[segmentHeaderSize:]) {
					t.Fatalf("spare file: %d bytes, header %x; want %d bytes, the header of segment %d and zeros", len(b), b[:min(len(b), segmentHeaderSize)], segSize, n)
				}
			}
		}
		recs = append(recs, appendRec(t, l, i, 700+i*3))
	}
	st := l.Stats()
	if st.Rolls != 4 || st.RollsUnprepared != 0 {
		t.Errorf("Stats: %d rolls, %d unprepared; want 4 rolls, all onto prepared spares", st.Rolls, st.RollsUnprepared)
	}
	if st.ZeroBytes < 4*(segSize-segmentHeaderSize) {
		t.Errorf("Stats().ZeroBytes = %d, want at least the zeros of 4 spares", st.ZeroBytes)
	}
	var want int64
	for _, r := range recs {
		if r.pos.Segment > 1 && r.pos.Offset == segmentHeaderSize {
			want += segmentHeaderSize
		}
		want += frameHeaderSize + int64(len(r.data))
	}
	if got := l.Size(); got != want+segmentHeaderSize {
		t.Errorf("Size() = %d, want the record bytes and headers, %d", got, want+segmentHeaderSize)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, recs)
	active := filepath.Join(dir, segmentName(5))
	if got := fileSize(t, active); got != segSize {
		t.Errorf("active segment has %d bytes after Close, want the %d of the spare it was", got, segSize)
	}

	// Reopen: the zero-filled tail stays, appends continue after the last record.
	for round := range 2 {
		l = openPre(t, dir, opts, fsHooks{})
		sameRecs(t, replayRecs(t, l), recs)
		if got := fileSize(t, active); got != segSize {
			t.Errorf("reopen %d: active segment has %d bytes, want %d (zero tail kept)", round, got, segSize)
		}
		last := recs[len(recs)-1]
		r := appendRec(t, l, 1000+round, 50)
		if want := (Pos{last.pos.Segment, last.pos.Offset + frameHeaderSize + int64(len(last.data))}); r.pos != want {
			t.Errorf("reopen %d: append at %v, want %v", round, r.pos, want)
		}
		recs = append(recs, r)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		checkFiles(t, dir, recs)
	}

	// Without preallocation, Open cuts the zeros.
	l = openNoPre(t, dir, Options{SegmentSize: segSize, DisablePrealloc: true})
	sameRecs(t, replayRecs(t, l), recs)
	last := recs[len(recs)-1]
	if got, want := fileSize(t, active), last.pos.Offset+frameHeaderSize+int64(len(last.data)); got != want {
		t.Errorf("opened without preallocation: active segment has %d bytes, want %d", got, want)
	}
}

func openNoPre(t *testing.T, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if l.pre != nil {
		t.Fatalf("options %+v: the log preallocates", opts)
	}
	return l
}

// TestPrealloc_TornTailInPreallocatedSpace: a torn last record inside zero-filled space is cut
// by overwriting it with zeros (the space is kept); a later round surviving after damage is
// corruption there as anywhere.
func TestPrealloc_TornTailInPreallocatedSpace(t *testing.T) {
	needPrealloc(t)
	src := t.TempDir()
	const segSize = 2048
	opts := Options{SegmentSize: segSize}
	l := openPre(t, src, opts, fsHooks{})
	var recs []rec
	recs = append(recs, appendRec(t, l, 0, segSize)) // fills segment 1
	waitSpare(t, l, 2)
	for i := 1; i <= 3; i++ {
		recs = append(recs, appendRec(t, l, i, 100+i*10))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	victim := recs[len(recs)-1]
	if victim.pos.Segment != 2 {
		t.Fatalf("last record at %v, want it in segment 2", victim.pos)
	}
	seg := readAll(t, filepath.Join(src, segmentName(2)))
	if len(seg) != segSize {
		t.Fatalf("segment 2 has %d bytes, want %d (preallocated)", len(seg), segSize)
	}
	vEnd := victim.pos.Offset + frameHeaderSize + int64(len(victim.data))

	t.Run("torn at every offset", func(t *testing.T) {
		for cut := victim.pos.Offset; cut < vEnd; cut++ {
			for _, garbage := range []bool{false, true} {
				dir := copyDir(t, src)
				b := bytes.Clone(seg)
				for i := cut; i < vEnd+20; i++ { // the rest of the record and a little more
					b[i] = 0
					if garbage {
						b[i] = byte(i*7 + 3)
					}
				}
				writeAll(t, filepath.Join(dir, segmentName(2)), b)
				l := openPre(t, dir, opts, noSyncHooks)
				sameRecs(t, replayRecs(t, l), recs[:len(recs)-1])
				after := readAll(t, filepath.Join(dir, segmentName(2)))
				if len(after) != segSize || !bytes.Equal(after[:victim.pos.Offset], seg[:victim.pos.Offset]) || !isZeroBytes(after[victim.pos.Offset:]) {
					t.Fatalf("cut %d, garbage %v: after Open the segment has %d bytes; want %d: the records, then zeros", cut, garbage, len(after), segSize)
				}
				r := appendRec(t, l, 99, 33)
				if r.pos != victim.pos {
					t.Fatalf("cut %d: append at %v, want %v", cut, r.pos, victim.pos)
				}
				l.Close()
				l = openPre(t, dir, opts, noSyncHooks)
				sameRecs(t, replayRecs(t, l), append(slices.Clone(recs[:len(recs)-1]), r))
				l.Close()
			}
		}
	})

	t.Run("later round survives", func(t *testing.T) {
		dir := copyDir(t, src)
		b := bytes.Clone(seg)
		b[victim.pos.Offset+frameHeaderSize+2] ^= 0x40 // damage the last record's payload
		later := make([]byte, frameHeaderSize+5)
		copy(later[frameHeaderSize:], "later")
		putFrameHeader(later[:frameHeaderSize], later[frameHeaderSize:], true)
		copy(b[vEnd+333:], later) // a whole round start further on, in the zeros
		name := filepath.Join(dir, segmentName(2))
		writeAll(t, name, b)
		_, err := open(dir, opts, osHooks)
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.Segment != 2 || ce.Offset != victim.pos.Offset {
			t.Fatalf("Open: got %v, want *CorruptionError at 2:%d", err, victim.pos.Offset)
		}
		if !bytes.Equal(readAll(t, name), b) {
			t.Errorf("Open changed the damaged segment")
		}
	})
}

// TestRecover_RoundStartAfterLongZeroRun: the search for a later round skips runs of zeros
// quickly; a round start anywhere after them, also across the search's read window, is found.
func TestRecover_RoundStartAfterLongZeroRun(t *testing.T) {
	const window = 1 << 20 // findRoundStart's read size
	// A 3-byte payload's header starts with a non-zero byte, a 512-byte one's with a zero.
	for _, n := range []int{3, 512} {
		frame := make([]byte, frameHeaderSize+n)
		copy(frame[frameHeaderSize:], "abc")
		putFrameHeader(frame[:frameHeaderSize], frame[frameHeaderSize:], true)
		for _, at := range []int64{100, 4095, 4096, 4097, window - 20, window - 5, window - 1, window, window + 4099, 3*window - 7} {
			size := at + int64(len(frame)) + 50
			b := make([]byte, size)
			copy(b[at:], frame)
			got, found, err := findRoundStart(bytes.NewReader(b), 17, size)
			if err != nil || !found || got != at {
				t.Errorf("%d-byte record at %d: findRoundStart = %d, %v, %v", n, at, got, found, err)
			}
		}
	}
	if _, found, err := findRoundStart(bytes.NewReader(make([]byte, 3*window)), 0, 3*window); found || err != nil {
		t.Errorf("zeros only: found %v, %v", found, err)
	}
}

func readAll(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeAll(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies every file of src (segments and .tmp files) into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, filepath.Join(dst, e.Name()), b)
	}
	return dst
}
