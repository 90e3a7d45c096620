package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// prepFaults returns hooks whose preparer descriptors fail per fs, and whose renames fail
// while renameErr holds an error.
func prepFaults(fs *faults, renameErr *atomic.Pointer[error]) fsHooks {
	return fsHooks{
		wrap:     osHooks.wrap,
		wrapPrep: func(f *os.File) file { return faultyFile{osFile{f}, fs} },
		syncDir:  syncDir,
		rename: func(oldpath, newpath string) error {
			if p := renameErr.Load(); p != nil {
				return *p
			}
			return os.Rename(oldpath, newpath)
		},
	}
}

// TestPrealloc_SpareFailure: when making a spare fails, the log carries on: the spare is
// removed, the roll creates the segment itself, and spares work again once the fault is gone.
func TestPrealloc_SpareFailure(t *testing.T) {
	needPrealloc(t)
	for _, op := range []string{"write", "writeback", "sync"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			fs := &faults{}
			var noRename atomic.Pointer[error]
			opts := Options{SegmentSize: 2048}
			l := openPre(t, dir, opts, prepFaults(fs, &noRename))
			var tried atomic.Int32
			fs.set(func(o, _ string) error {
				if o == op {
					tried.Add(1)
					return syscall.ENOSPC
				}
				return nil
			})
			var recs []rec
			for i := range 12 { // 3 segments of 3 records
				recs = append(recs, appendRec(t, l, i, 600))
				if i > 0 && tried.Load() == 0 {
					// Let the preparer try (and fail) before the next roll.
					waitFor(t, func() bool { return tried.Load() > 0 })
				}
			}
			st := l.Stats()
			if st.Rolls < 2 || st.RollsUnprepared != st.Rolls {
				t.Errorf("Stats: %d rolls, %d unprepared; want every roll without a spare", st.Rolls, st.RollsUnprepared)
			}
			// The preparer may be trying the next spare right now; it must remove it.
			waitFor(t, func() bool { tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); return len(tmps) == 0 })

			// The fault is gone. The preparer does not retry the spare that failed, so the
			// next roll may still find none; the ones after it use spares.
			fs.set(nil)
			for seg := recs[len(recs)-1].pos.Segment; recs[len(recs)-1].pos.Segment == seg; {
				recs = append(recs, appendRec(t, l, len(recs), 600))
			}
			before := l.Stats()
			for i := range 9 {
				if last := recs[len(recs)-1].pos; i > 0 && last.Offset > 1000 {
					waitSpare(t, l, last.Segment+1)
				}
				recs = append(recs, appendRec(t, l, len(recs), 600))
			}
			if st := l.Stats(); st.Rolls-before.Rolls < 2 || st.RollsUnprepared != before.RollsUnprepared {
				t.Errorf("after the fault: %d rolls, %d of them unprepared; want spares again", st.Rolls-before.Rolls, st.RollsUnprepared-before.RollsUnprepared)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			checkFiles(t, dir, recs)
			l = openPre(t, dir, opts, fsHooks{})
			sameRecs(t, replayRecs(t, l), recs)
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPrealloc_RollFailure: a failure while putting the spare in place (its rename or the
// directory sync) fails the log like any roll failure, and the log reopens with every
// acknowledged record.
func TestPrealloc_RollFailure(t *testing.T) {
	needPrealloc(t)
	injected := errors.New("injected")
	for _, step := range []string{"rename", "syncdir"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			var renameErr atomic.Pointer[error]
			var dirErr atomic.Bool
			hooks := prepFaults(&faults{}, &renameErr)
			hooks.syncDir = func(d string) error {
				if dirErr.Load() {
					return injected
				}
				return syncDir(d)
			}
			opts := Options{SegmentSize: 2048}
			l := openPre(t, dir, opts, hooks)
			recs := []rec{appendRec(t, l, 0, 2100)} // fills segment 1
			waitSpare(t, l, 2)
			if step == "rename" {
				renameErr.Store(&injected)
			} else {
				dirErr.Store(true)
			}
			if _, err := l.Append([]byte("needs segment 2")); !errors.Is(err, ErrFailed) || !errors.Is(err, injected) {
				t.Fatalf("Append that rolls: got %v, want ErrFailed wrapping the injected error", err)
			}
			if _, err := l.Append([]byte("x")); !errors.Is(err, ErrFailed) {
				t.Errorf("Append after the failure: %v, want ErrFailed", err)
			}
			if err := l.Close(); !errors.Is(err, ErrFailed) {
				t.Errorf("Close: %v, want ErrFailed", err)
			}
			renameErr.Store(nil)
			dirErr.Store(false)
			l = openPre(t, dir, opts, fsHooks{})
			sameRecs(t, replayRecs(t, l), recs)
			recs = append(recs, appendRec(t, l, 1, 10))
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			checkFiles(t, dir, recs)
		})
	}
}

// TestPrealloc_PartialSpare: a roll that finds the spare only partly zero-filled uses it:
// records beyond its zeros grow the file.
func TestPrealloc_PartialSpare(t *testing.T) {
	needPrealloc(t)
	dir := t.TempDir()
	opts := Options{SegmentSize: 8192}
	l := openPre(t, dir, opts, fsHooks{})
	l.pre.mu.Lock()
	l.pre.ratio, l.pre.chunk = 0, 1024 // no credit from appends, small steps
	l.pre.mu.Unlock()
	recs := []rec{appendRec(t, l, 0, 8200)} // fills segment 1
	l.pre.mu.Lock()
	l.pre.allowed = 3 * 1024 // three steps
	l.pre.cond.Broadcast()
	l.pre.mu.Unlock()
	waitFor(t, func() bool {
		l.pre.mu.Lock()
		defer l.pre.mu.Unlock()
		return l.pre.spare != nil && l.pre.spare.size == segmentHeaderSize+3*1024 && !l.pre.busy
	})
	for i := 1; i < 6; i++ {
		recs = append(recs, appendRec(t, l, i, 1500)) // into segment 2, beyond its zeros at 3088
	}
	if st := l.Stats(); st.Rolls != 1 || st.RollsUnprepared != 1 {
		t.Errorf("Stats: %d rolls, %d unprepared; want 1 roll onto a partial spare", st.Rolls, st.RollsUnprepared)
	}
	if recs[len(recs)-1].pos.Segment != 2 {
		t.Fatalf("last record at %v, want segment 2", recs[len(recs)-1].pos)
	}
	l.Close()
	checkFiles(t, dir, recs)
	l = openPre(t, dir, opts, fsHooks{})
	sameRecs(t, replayRecs(t, l), recs)
}

// TestPrealloc_SealTruncates: should a segment have zero-filled space left when it is sealed
// (here: spares made larger than a segment), the roll cuts it, so that sealed segments end
// at their last record.
func TestPrealloc_SealTruncates(t *testing.T) {
	needPrealloc(t)
	dir := t.TempDir()
	opts := Options{SegmentSize: 2048}
	l := openPre(t, dir, opts, fsHooks{})
	l.pre.mu.Lock()
	l.pre.target = 3 * 2048
	l.pre.mu.Unlock()
	var recs []rec
	for i := range 9 {
		if i > 0 {
			waitSpare(t, l, recs[len(recs)-1].pos.Segment+1)
		}
		recs = append(recs, appendRec(t, l, i, 1000))
	}
	if got := fileSize(t, filepath.Join(dir, segmentName(2))); got != 16+3*(12+1000) {
		t.Errorf("sealed segment 2 has %d bytes, want its three records' %d", got, 16+3*(12+1000))
	}
	l.Close()
	checkFiles(t, dir, recs)
	l = openPre(t, dir, opts, fsHooks{})
	sameRecs(t, replayRecs(t, l), recs)
}

// TestPrealloc_Off: without SyncAlways, or with DisablePrealloc, nothing is preallocated.
func TestPrealloc_Off(t *testing.T) {
	for _, opts := range []Options{{SegmentSize: 1024, Sync: SyncNever}, {SegmentSize: 1024, DisablePrealloc: true}} {
		dir := t.TempDir()
		l, err := Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if l.pre != nil {
			t.Errorf("%+v: the log preallocates", opts)
		}
		var recs []rec
		for i := range 10 {
			recs = append(recs, appendRec(t, l, i, 300))
		}
		if st := l.Stats(); st.ZeroBytes != 0 || st.RollsUnprepared != 0 {
			t.Errorf("%+v: Stats %+v", opts, st)
		}
		l.Close()
		checkFiles(t, dir, recs)
		last := recs[len(recs)-1]
		if got, want := fileSize(t, filepath.Join(dir, segmentName(last.pos.Segment))), last.pos.Offset+12+300; got != want {
			t.Errorf("%+v: last segment has %d bytes, want %d", opts, got, want)
		}
	}
}

// TestPrealloc_CrashAtEveryStep stops the log (as kill -9 would: what was written stays, in
// whatever order it was written) before every file operation of the flusher and the preparer,
// by copying the directory. Every copy must open cleanly, with every record acknowledged before
// the copy, remove a leftover spare and carry on.
func TestPrealloc_CrashAtEveryStep(t *testing.T) {
	needPrealloc(t)
	dir := t.TempDir()
	var (
		mu    sync.Mutex // serializes file operations with the copies
		acked []rec      // guarded by mu
		snaps []snapshot
	)
	snap := func(op string) {
		snaps = append(snaps, snapshot{op: op, dir: copyDir(t, dir), acked: slices.Clone(acked)})
	}
	wrap := func(role string) func(*os.File) file {
		return func(f *os.File) file { return snapFile{osFile{f}, &mu, func(op string) { snap(role + " " + op) }} }
	}
	hooks := fsHooks{
		wrap:     wrap("log"),
		wrapPrep: wrap("prep"),
		syncDir: func(d string) error {
			mu.Lock()
			defer mu.Unlock()
			snap("syncdir")
			return syncDir(d)
		},
		rename: func(o, n string) error {
			mu.Lock()
			defer mu.Unlock()
			snap("rename " + filepath.Base(n))
			return os.Rename(o, n)
		},
	}
	opts := Options{SegmentSize: 4096}
	l := openPre(t, dir, opts, hooks)
	l.pre.mu.Lock()
	l.pre.chunk = 1024
	l.pre.mu.Unlock()
	for i := range 24 {
		r := appendRec(t, l, i, 500+i*20)
		mu.Lock()
		acked = append(acked, r)
		mu.Unlock()
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Rolls < 3 || st.ZeroBytes == 0 {
		t.Fatalf("Stats %+v: the test wants rolls onto spares", st)
	}
	prepSteps := 0
	for _, s := range snaps {
		if s.op[:4] == "prep" {
			prepSteps++
		}
	}
	if prepSteps == 0 {
		t.Fatalf("no copy was taken during the preparer's work")
	}

	for i, s := range snaps {
		l, err := open(s.dir, opts, noSyncHooks)
		if err != nil {
			t.Fatalf("copy %d (before %s): Open: %v", i, s.op, err)
		}
		got := replayRecs(t, l)
		if len(got) < len(s.acked) {
			t.Fatalf("copy %d (before %s): %d records, %d were acknowledged", i, s.op, len(got), len(s.acked))
		}
		sameRecs(t, got[:len(s.acked)], s.acked)
		if tmps, _ := filepath.Glob(filepath.Join(s.dir, "*.tmp")); len(tmps) > 0 {
			t.Fatalf("copy %d (before %s): Open left %v", i, s.op, tmps)
		}
		r := appendRec(t, l, 500, 700)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l, err = open(s.dir, opts, noSyncHooks)
		if err != nil {
			t.Fatalf("copy %d (before %s): reopen: %v", i, s.op, err)
		}
		sameRecs(t, replayRecs(t, l), append(got, r))
		l.Close()
	}
	t.Logf("%d copies, %d during the preparer's work", len(snaps), prepSteps)
}

type snapshot struct {
	op    string
	dir   string
	acked []rec
}

// snapFile calls snap, under mu, before each write, writeback, sync and truncate.
type snapFile struct {
	osFile
	mu   *sync.Mutex
	snap func(op string)
}

func (f snapFile) before(op string) func() {
	f.mu.Lock()
	f.snap(fmt.Sprintf("%s %s", op, filepath.Base(f.f.Name())))
	return f.mu.Unlock
}

func (f snapFile) WriteAt(p []byte, off int64) (int, error) {
	defer f.before("write")()
	return f.osFile.WriteAt(p, off)
}

func (f snapFile) Sync() error {
	defer f.before("sync")()
	return f.osFile.Sync()
}

func (f snapFile) StartWriteback(off, n int64) error {
	defer f.before("writeback")()
	return f.osFile.StartWriteback(off, n)
}

func (f snapFile) Truncate(size int64) error {
	defer f.before("truncate")()
	return f.osFile.Truncate(size)
}
