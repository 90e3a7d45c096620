package wal_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/penstockdb/penstock/internal/storage/wal"
)

// record is a replayed or appended record.
type record struct {
	pos  wal.Pos
	data []byte
}

// payload returns deterministic bytes of length n for record i.
func payload(i, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*31 + j*7 + j>>8)
	}
	return b
}

func mustOpen(tb testing.TB, dir string, opts wal.Options) *wal.Log {
	tb.Helper()
	l, err := wal.Open(dir, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

func mustAppend(tb testing.TB, l *wal.Log, data []byte) wal.Pos {
	tb.Helper()
	pos, err := l.Append(data)
	if err != nil {
		tb.Fatalf("Append(%d bytes): %v", len(data), err)
	}
	return pos
}

func replayAll(tb testing.TB, l *wal.Log) []record {
	tb.Helper()
	var got []record
	if err := l.Replay(func(pos wal.Pos, data []byte) error {
		got = append(got, record{pos, bytes.Clone(data)})
		return nil
	}); err != nil {
		tb.Fatalf("Replay: %v", err)
	}
	return got
}

func checkRecords(tb testing.TB, got, want []record) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].pos != want[i].pos {
			tb.Errorf("record %d: pos %v, want %v", i, got[i].pos, want[i].pos)
		}
		if !bytes.Equal(got[i].data, want[i].data) {
			tb.Errorf("record %d: %d bytes differ from the %d appended", i, len(got[i].data), len(want[i].data))
		}
	}
}

// checkSize checks that l.Size() counts the bytes of the segment files in dir up to the end of
// their last record in recs (a segment with none counts its 16-byte header), and that the files
// hold nothing else: a sealed segment ends at its last record, and the last one may only have
// zeros after it (space preallocated for the next records).
func checkSize(tb testing.TB, l *wal.Log, dir string, recs []record) {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		tb.Fatal(err)
	}
	ends := map[string]int64{}
	for _, r := range recs {
		ends[filepath.Base(segPath(dir, r.pos.Segment))] = r.pos.Offset + 12 + int64(len(r.data))
	}
	var want int64
	for i, name := range names {
		end, ok := ends[filepath.Base(name)]
		if !ok {
			end = 16
		}
		want += end
		b := readFile(tb, name)
		switch {
		case int64(len(b)) < end:
			tb.Errorf("%s has %d bytes, its records end at %d", name, len(b), end)
		case i < len(names)-1 && int64(len(b)) != end:
			tb.Errorf("sealed segment %s has %d bytes, its records end at %d", name, len(b), end)
		case !bytes.Equal(b[end:], make([]byte, len(b)-int(end))):
			tb.Errorf("%s holds bytes other than zeros after its last record", name)
		}
	}
	if got := l.Size(); got != want {
		tb.Errorf("Size() = %d, the records in the files take %d bytes", got, want)
	}
}

func TestLog_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, wal.Options{})
	// Sizes cover the empty record, gathered small records and payloads written directly.
	sizes := []int{0, 1, 100, 4096, 70 << 10, 1 << 20, 3, (1 << 20) + 13}
	var want []record
	for i, n := range sizes {
		data := payload(i, n)
		want = append(want, record{mustAppend(t, l, data), data})
	}
	for _, r := range want {
		got, err := l.ReadAt(r.pos)
		if err != nil {
			t.Fatalf("ReadAt(%v): %v", r.pos, err)
		}
		if !bytes.Equal(got, r.data) {
			t.Errorf("ReadAt(%v): %d bytes differ from the %d appended", r.pos, len(got), len(r.data))
		}
	}
	checkSize(t, l, dir, want)
	if got, want := l.Stats().Records, int64(len(sizes)); got != want {
		t.Errorf("Stats().Records = %d, want %d", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	l = mustOpen(t, dir, wal.Options{})
	checkRecords(t, replayAll(t, l), want)
	checkSize(t, l, dir, want)
}

func TestLog_ReplayOrderAndPositions(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir, wal.Options{Sync: wal.SyncNever})
	var want []record
	for i := range 50 {
		data := payload(i, i*3)
		want = append(want, record{mustAppend(t, l, data), data})
	}
	// Frames are contiguous: the first follows the 16-byte segment header, each next one
	// follows the 12-byte frame header and payload of the previous.
	next := wal.Pos{Segment: 1, Offset: 16}
	for i, r := range want {
		if r.pos != next {
			t.Fatalf("record %d at %v, want %v", i, r.pos, next)
		}
		next.Offset += 12 + int64(len(r.data))
	}
	l.Close()
	l = mustOpen(t, dir, wal.Options{})
	checkRecords(t, replayAll(t, l), want)
}

func TestLog_ReopenAndAppend(t *testing.T) {
	dir := t.TempDir()
	var want []record
	for round := range 3 {
		l := mustOpen(t, dir, wal.Options{})
		checkRecords(t, replayAll(t, l), want)
		for i := range 5 {
			data := payload(round*10+i, 10+i)
			want = append(want, record{mustAppend(t, l, data), data})
		}
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	l := mustOpen(t, dir, wal.Options{})
	checkRecords(t, replayAll(t, l), want)
}

func TestLog_Replay(t *testing.T) {
	t.Run("ErrReplayOrder after append", func(t *testing.T) {
		l := mustOpen(t, t.TempDir(), wal.Options{})
		mustAppend(t, l, []byte("x"))
		if err := l.Replay(func(wal.Pos, []byte) error { return nil }); !errors.Is(err, wal.ErrReplayOrder) {
			t.Errorf("Replay after Append: got %v, want ErrReplayOrder", err)
		}
	})
	t.Run("ErrReplayOrder twice", func(t *testing.T) {
		l := mustOpen(t, t.TempDir(), wal.Options{})
		replayAll(t, l)
		if err := l.Replay(func(wal.Pos, []byte) error { return nil }); !errors.Is(err, wal.ErrReplayOrder) {
			t.Errorf("second Replay: got %v, want ErrReplayOrder", err)
		}
	})
	t.Run("callback error stops", func(t *testing.T) {
		dir := t.TempDir()
		l := mustOpen(t, dir, wal.Options{})
		for i := range 5 {
			mustAppend(t, l, payload(i, 5))
		}
		l.Close()
		l = mustOpen(t, dir, wal.Options{})
		stop := errors.New("stop")
		calls := 0
		err := l.Replay(func(wal.Pos, []byte) error {
			calls++
			if calls == 2 {
				return stop
			}
			return nil
		})
		if err != stop {
			t.Errorf("Replay: got %v, want the callback's error unchanged", err)
		}
		if calls != 2 {
			t.Errorf("callback ran %d times, want 2", calls)
		}
	})
}

func TestLog_SegmentRoll(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentSize: 1000}
	l := mustOpen(t, dir, opts)
	var want []record
	for i := range 60 {
		data := payload(i, 90+i%7)
		want = append(want, record{mustAppend(t, l, data), data})
	}
	if got := l.Stats().Rolls; got < 5 {
		t.Errorf("Stats().Rolls = %d, want at least 5 for 60 records of ~100 bytes in 1000-byte segments", got)
	}
	checkSize(t, l, dir, want)
	l.Close()

	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for i, name := range names {
		if got, want := filepath.Base(name), fmt.Sprintf("%010d.wal", i+1); got != want {
			t.Errorf("file %d is %s, want %s", i, got, want)
		}
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		// A segment exceeds SegmentSize by at most one frame.
		if fi.Size() >= opts.SegmentSize+12+100 {
			t.Errorf("%s has %d bytes, more than SegmentSize plus one frame", name, fi.Size())
		}
	}
	for i := 1; i < len(want); i++ {
		a, b := want[i-1].pos, want[i].pos
		if b.Segment < a.Segment || (b.Segment == a.Segment && b.Offset <= a.Offset) {
			t.Errorf("record %d at %v does not follow record %d at %v", i, b, i-1, a)
		}
		if b.Segment == a.Segment+1 && b.Offset != 16 {
			t.Errorf("first record of segment %d at offset %d, want 16", b.Segment, b.Offset)
		}
	}

	l = mustOpen(t, dir, opts)
	checkRecords(t, replayAll(t, l), want)
	for _, r := range want {
		got, err := l.ReadAt(r.pos)
		if err != nil || !bytes.Equal(got, r.data) {
			t.Errorf("ReadAt(%v) = %d bytes, %v", r.pos, len(got), err)
		}
	}
	// Appends continue in the last segment after a reopen.
	data := []byte("after reopen")
	pos := mustAppend(t, l, data)
	if last := want[len(want)-1].pos; pos.Segment < last.Segment {
		t.Errorf("append after reopen at %v, before the last record %v", pos, last)
	}
}

func TestLog_Concurrent(t *testing.T) {
	for _, mode := range []wal.SyncMode{wal.SyncAlways, wal.SyncNever} {
		t.Run("sync="+mode.String(), func(t *testing.T) {
			const writers, perWriter = 16, 100
			dir := t.TempDir()
			// Small segments and rounds, so rolls and round splits happen under concurrency.
			opts := wal.Options{Sync: mode, SegmentSize: 16 << 10, MaxBatchBytes: 2 << 10}
			l := mustOpen(t, dir, opts)

			var mu sync.Mutex
			var order []wal.Pos              // positions in callback order
			calls := map[string]int{}        // record id -> callbacks
			lastSeen := make([]int, writers) // per writer: last sequence number completed
			for i := range lastSeen {
				lastSeen[i] = -1
			}
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var done sync.WaitGroup
					for i := range perWriter {
						data := []byte(fmt.Sprintf("w%02d-%04d-%s", w, i, bytes.Repeat([]byte{'x'}, i%50)))
						done.Add(1)
						l.AppendAsync(data, func(pos wal.Pos, err error) {
							defer done.Done()
							mu.Lock()
							defer mu.Unlock()
							if err != nil {
								t.Errorf("append w%d/%d: %v", w, i, err)
							}
							calls[string(data)]++
							order = append(order, pos)
							if lastSeen[w] != i-1 {
								t.Errorf("writer %d: record %d completed after record %d", w, i, lastSeen[w])
							}
							lastSeen[w] = i
						})
					}
					done.Wait()
				}()
			}
			wg.Wait()

			if got, want := len(calls), writers*perWriter; got != want {
				t.Fatalf("%d distinct records completed, want %d", got, want)
			}
			for id, n := range calls {
				if n != 1 {
					t.Errorf("record %s: done called %d times", id, n)
				}
			}
			if !slices.IsSortedFunc(order, comparePos) {
				t.Errorf("callbacks not in log order")
			}
			if st := l.Stats(); st.Rounds >= st.Records {
				t.Logf("no group commit observed: %d rounds for %d records", st.Rounds, st.Records)
			}
			l.Close()

			l = mustOpen(t, dir, opts)
			got := replayAll(t, l)
			if len(got) != writers*perWriter {
				t.Fatalf("replayed %d records, want %d", len(got), writers*perWriter)
			}
			for i, r := range got {
				if r.pos != order[i] {
					t.Fatalf("replayed record %d at %v, callback order had %v", i, r.pos, order[i])
				}
				if calls[string(r.data)] != 1 {
					t.Fatalf("replayed record %q was not acknowledged once", r.data)
				}
			}
		})
	}
}

func comparePos(a, b wal.Pos) int {
	if a.Segment != b.Segment {
		return int(a.Segment) - int(b.Segment)
	}
	return int(a.Offset - b.Offset)
}

func TestLog_ReadAtConcurrentWithAppends(t *testing.T) {
	l := mustOpen(t, t.TempDir(), wal.Options{Sync: wal.SyncNever, SegmentSize: 8 << 10})
	acked := make(chan record, 1024)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				data := payload(w*1000+i, 1+i%300)
				acked <- record{mustAppend(t, l, data), data}
			}
		}()
	}
	go func() { wg.Wait(); close(acked) }()
	n := 0
	for r := range acked {
		got, err := l.ReadAt(r.pos)
		if err != nil {
			t.Fatalf("ReadAt(%v) of an acknowledged record: %v", r.pos, err)
		}
		if !bytes.Equal(got, r.data) {
			t.Fatalf("ReadAt(%v): wrong bytes", r.pos)
		}
		n++
	}
	if n != 800 {
		t.Errorf("read %d records, want 800", n)
	}
}

func TestLog_CloseDrainsQueue(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	var mu sync.Mutex
	var errs []error
	for i := range n {
		l.AppendAsync(payload(i, 64), func(_ wal.Pos, err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close returned, so every callback has run.
	if len(errs) != n {
		t.Fatalf("%d callbacks after Close, want %d", len(errs), n)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("append %d queued before Close: %v", i, err)
		}
	}

	t.Run("ErrClosed", func(t *testing.T) {
		called := 0
		l.AppendAsync([]byte("late"), func(_ wal.Pos, err error) {
			called++
			if !errors.Is(err, wal.ErrClosed) {
				t.Errorf("AppendAsync after Close: %v, want ErrClosed", err)
			}
		})
		if called != 1 {
			t.Errorf("done called %d times, want 1", called)
		}
		if _, err := l.Append([]byte("late")); !errors.Is(err, wal.ErrClosed) {
			t.Errorf("Append after Close: %v, want ErrClosed", err)
		}
		if _, err := l.ReadAt(wal.Pos{Segment: 1, Offset: 16}); !errors.Is(err, wal.ErrClosed) {
			t.Errorf("ReadAt after Close: %v, want ErrClosed", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
	})

	l = mustOpen(t, dir, wal.Options{})
	if got := len(replayAll(t, l)); got != n {
		t.Errorf("replayed %d records, want %d", got, n)
	}
}

// TestLog_CloseConcurrentWithAppends checks that appends racing with Close each complete once,
// and that a writer's callbacks stay in its order even when some get ErrClosed.
func TestLog_CloseConcurrentWithAppends(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 4, 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	okCount := 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pending sync.WaitGroup
			closedSeen := false
			calls := make([]int, perWriter)
			for i := range perWriter {
				pending.Add(1)
				l.AppendAsync(payload(i, 10), func(_ wal.Pos, err error) {
					defer pending.Done()
					calls[i]++
					switch {
					case err == nil:
						if closedSeen {
							t.Errorf("writer %d: record %d succeeded after an earlier one got ErrClosed", w, i)
						}
						mu.Lock()
						okCount++
						mu.Unlock()
					case errors.Is(err, wal.ErrClosed):
						closedSeen = true
					default:
						t.Errorf("writer %d record %d: %v", w, i, err)
					}
				})
			}
			pending.Wait()
			for i, c := range calls {
				if c != 1 {
					t.Errorf("writer %d record %d: done called %d times", w, i, c)
				}
			}
		}()
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	l = mustOpen(t, dir, wal.Options{})
	if got := len(replayAll(t, l)); got != okCount {
		t.Errorf("replayed %d records, %d were acknowledged", got, okCount)
	}
}

func TestLog_ReadAtErrors(t *testing.T) {
	l := mustOpen(t, t.TempDir(), wal.Options{})
	pos := mustAppend(t, l, []byte("hello, penstock"))
	end := pos.Offset + 12 + 15
	tests := []struct {
		name string
		pos  wal.Pos
		want error
	}{
		{"unknown segment", wal.Pos{Segment: 2, Offset: 16}, wal.ErrNotFound},
		{"segment zero", wal.Pos{Segment: 0, Offset: 16}, wal.ErrNotFound},
		{"inside segment header", wal.Pos{Segment: 1, Offset: 4}, wal.ErrNotFound},
		{"negative offset", wal.Pos{Segment: 1, Offset: -1}, wal.ErrNotFound},
		{"at end", wal.Pos{Segment: 1, Offset: end}, wal.ErrNotFound},
		{"past end", wal.Pos{Segment: 1, Offset: end + 100}, wal.ErrNotFound},
		{"not a frame start", wal.Pos{Segment: 1, Offset: pos.Offset + 1}, wal.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.ReadAt(tt.pos)
			if !errors.Is(err, tt.want) {
				t.Errorf("ReadAt(%v): got %v, want %v", tt.pos, err, tt.want)
			}
		})
	}
}

func TestLog_TooLarge(t *testing.T) {
	l := mustOpen(t, t.TempDir(), wal.Options{})
	// The allocation is never touched, so it costs address space, not memory.
	big := make([]byte, wal.MaxRecordSize+1)
	if _, err := l.Append(big); !errors.Is(err, wal.ErrTooLarge) {
		t.Errorf("Append(MaxRecordSize+1 bytes): got %v, want ErrTooLarge", err)
	}
	big = nil
	// The log is still usable.
	pos := mustAppend(t, l, []byte("ok"))
	if got, err := l.ReadAt(pos); err != nil || string(got) != "ok" {
		t.Errorf("ReadAt after ErrTooLarge = %q, %v", got, err)
	}
}

func TestLog_RemoveBefore(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentSize: 500}
	l := mustOpen(t, dir, opts)
	var recs []record
	for i := range 40 {
		data := payload(i, 100)
		recs = append(recs, record{mustAppend(t, l, data), data})
	}
	last := recs[len(recs)-1].pos.Segment
	if last < 4 {
		t.Fatalf("only %d segments; the test needs at least 4", last)
	}
	if err := l.RemoveBefore(3); err != nil {
		t.Fatalf("RemoveBefore(3): %v", err)
	}
	checkSize(t, l, dir, recs)
	for _, r := range recs {
		_, err := l.ReadAt(r.pos)
		switch {
		case r.pos.Segment < 3 && !errors.Is(err, wal.ErrNotFound):
			t.Errorf("ReadAt(%v) in a removed segment: %v, want ErrNotFound", r.pos, err)
		case r.pos.Segment >= 3 && err != nil:
			t.Errorf("ReadAt(%v): %v", r.pos, err)
		}
	}
	// The active segment is never removed.
	if err := l.RemoveBefore(last + 10); err != nil {
		t.Fatalf("RemoveBefore(past the end): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%010d.wal", last))); err != nil {
		t.Errorf("active segment removed: %v", err)
	}
	data := []byte("still appending")
	pos := mustAppend(t, l, data)
	l.Close()

	l = mustOpen(t, dir, opts)
	want := append(keptIn(recs, last), record{pos, data})
	checkRecords(t, replayAll(t, l), want)
}

func keptIn(recs []record, seg uint32) []record {
	var out []record
	for _, r := range recs {
		if r.pos.Segment >= seg {
			out = append(out, r)
		}
	}
	return out
}

func TestOpen_Options(t *testing.T) {
	t.Run("creates the directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "wal")
		l := mustOpen(t, dir, wal.DefaultOptions())
		mustAppend(t, l, []byte("x"))
		if _, err := os.Stat(segPath(dir, 1)); err != nil {
			t.Errorf("segment file: %v", err)
		}
	})
	t.Run("invalid sync mode", func(t *testing.T) {
		if l, err := wal.Open(t.TempDir(), wal.Options{Sync: wal.SyncMode(7)}); err == nil {
			l.Close()
			t.Errorf("Open with SyncMode(7) succeeded")
		}
	})
	t.Run("defaults", func(t *testing.T) {
		o := wal.DefaultOptions()
		if o.SegmentSize != 128<<20 || o.MaxBatchBytes != 16<<20 || o.Sync != wal.SyncAlways {
			t.Errorf("DefaultOptions() = %+v", o)
		}
	})
}
