package wal

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// faults injects errors into the files the flusher writes. check is called before every
// operation with the operation ("write" or "sync") and the file name; a non-nil result fails it.
type faults struct {
	check atomic.Pointer[func(op, name string) error]
}

func (fs *faults) set(fn func(op, name string) error) { fs.check.Store(&fn) }

func (fs *faults) err(op, name string) error {
	if fn := fs.check.Load(); fn != nil && *fn != nil {
		return (*fn)(op, name)
	}
	return nil
}

type faultyFile struct {
	osFile
	fs *faults
}

func (f faultyFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.err("write", f.f.Name()); err != nil {
		// A short write, as when the disk fills up mid-write.
		n, _ := f.osFile.WriteAt(p[:len(p)/2], off)
		return n, err
	}
	return f.osFile.WriteAt(p, off)
}

func (f faultyFile) Sync() error {
	if err := f.fs.err("sync", f.f.Name()); err != nil {
		return err
	}
	return f.osFile.Sync()
}

func (f faultyFile) StartWriteback(off, n int64) error {
	if err := f.fs.err("writeback", f.f.Name()); err != nil {
		return err
	}
	return f.osFile.StartWriteback(off, n)
}

func openFaulty(t *testing.T, dir string, opts Options) (*Log, *faults) {
	t.Helper()
	fs := &faults{}
	l, err := open(dir, opts, fsHooks{
		wrap:    func(f *os.File) file { return faultyFile{osFile{f}, fs} },
		syncDir: syncDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, fs
}

func failOp(op string, err error) func(string, string) error {
	return func(o, _ string) error {
		if o == op {
			return err
		}
		return nil
	}
}

func TestLog_FailedIsPermanent(t *testing.T) {
	for _, tt := range []struct {
		name  string
		op    string
		cause error
	}{
		{"write error", "write", syscall.ENOSPC},
		{"sync error", "sync", syscall.EIO},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l, fs := openFaulty(t, dir, Options{})
			a, err := l.Append([]byte("acknowledged A"))
			if err != nil {
				t.Fatal(err)
			}
			sizeBefore := l.Size()

			fs.set(failOp(tt.op, tt.cause))
			_, err = l.Append([]byte("failed B, a record long enough to be written in part"))
			if !errors.Is(err, ErrFailed) || !errors.Is(err, tt.cause) {
				t.Fatalf("Append during the fault: got %v, want ErrFailed wrapping %v", err, tt.cause)
			}
			// The fault is gone, but the log stays failed: no retry after a failed fsync.
			fs.set(nil)
			if _, err := l.Append([]byte("C")); !errors.Is(err, ErrFailed) || !errors.Is(err, tt.cause) {
				t.Errorf("Append after the fault: got %v, want ErrFailed wrapping %v", err, tt.cause)
			}
			if got, err := l.ReadAt(a); err != nil || string(got) != "acknowledged A" {
				t.Errorf("ReadAt(%v) of a durable record after the failure = %q, %v", a, got, err)
			}
			if got := l.Size(); got != sizeBefore {
				t.Errorf("Size() = %d after the failure, want %d (only completed rounds count)", got, sizeBefore)
			}
			if err := l.Close(); !errors.Is(err, ErrFailed) {
				t.Errorf("Close of a failed log: got %v, want ErrFailed", err)
			}

			l2, err := Open(dir, Options{})
			if err != nil {
				t.Fatalf("reopen after failure: %v", err)
			}
			defer l2.Close()
			var got []string
			if err := l2.Replay(func(_ Pos, d []byte) error { got = append(got, string(d)); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || got[0] != "acknowledged A" {
				t.Errorf("after reopen: %q, want the acknowledged record first", got)
			}
			for _, s := range got {
				if s == "C" {
					t.Errorf("record appended after the failure was written")
				}
			}
			if _, err := l2.Append([]byte("D")); err != nil {
				t.Errorf("Append after reopen: %v", err)
			}
		})
	}
}

func TestLog_FailedRoll(t *testing.T) {
	dir := t.TempDir()
	l, fs := openFaulty(t, dir, Options{SegmentSize: 64})
	// Segment 2 cannot be created: syncing it under its temporary name fails, both when the
	// preparer makes it a spare in the background (which must not fail the log) and when the
	// roll, finding no spare, creates it itself (which must).
	injected := errors.New("injected: cannot sync new segment")
	fs.set(func(op, name string) error {
		if op == "sync" && strings.HasSuffix(name, segmentName(2)+".tmp") {
			return injected
		}
		return nil
	})
	if _, err := l.Append(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	// The next append has to create segment 2 first.
	if _, err := l.Append([]byte("x")); !errors.Is(err, ErrFailed) || !errors.Is(err, injected) {
		t.Fatalf("Append needing a new segment: got %v, want ErrFailed wrapping the injected error", err)
	}
	l.Close()
	if _, err := os.Stat(dir + "/" + segmentName(2)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("segment 2 exists after its creation failed (%v)", err)
	}
	l2, err := Open(dir, Options{SegmentSize: 64})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	l2.Close()
}

// TestLog_FailureUnderConcurrency: every callback runs exactly once and in log order, and no
// append succeeds after one has failed.
func TestLog_FailureUnderConcurrency(t *testing.T) {
	// Rounds of at most 64 payload bytes, so the 400 appends need many writes.
	l, fs := openFaulty(t, t.TempDir(), Options{MaxBatchBytes: 64})
	var writes atomic.Int32
	fs.set(func(op, _ string) error {
		if op == "write" && writes.Add(1) > 5 {
			return syscall.EIO
		}
		return nil
	})
	const writers, perWriter = 8, 50
	var mu sync.Mutex
	calls := make(map[[2]int]int)
	failed := false
	var lastPos Pos
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var done sync.WaitGroup
			for i := range perWriter {
				done.Add(1)
				l.AppendAsync([]byte("record"), func(pos Pos, err error) {
					defer done.Done()
					mu.Lock()
					defer mu.Unlock()
					calls[[2]int{w, i}]++
					switch {
					case err == nil && failed:
						t.Errorf("append succeeded after an earlier one failed")
					case err == nil:
						if pos.Segment == lastPos.Segment && pos.Offset <= lastPos.Offset {
							t.Errorf("callback for %v after %v", pos, lastPos)
						}
						lastPos = pos
					case errors.Is(err, ErrFailed) && errors.Is(err, syscall.EIO):
						failed = true
					default:
						t.Errorf("unexpected error %v", err)
					}
				})
			}
			done.Wait()
		}()
	}
	wg.Wait()
	if len(calls) != writers*perWriter {
		t.Errorf("%d appends completed, want %d", len(calls), writers*perWriter)
	}
	for k, n := range calls {
		if n != 1 {
			t.Errorf("append %v: done called %d times", k, n)
		}
	}
	if !failed {
		t.Errorf("no append failed; the fault was not hit")
	}
}

// recorder logs the file operations of a log, in order.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) add(op string) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// recordingFile logs "header SEG" (a write at offset 0), "write SEG" (a record write by the
// flusher), "zero SEG" (a write of zeros by the preparer), "sync ROLE SEG", "truncate SEG", where
// SEG is the segment file name without .tmp and ROLE is log or prep.
type recordingFile struct {
	osFile
	r    *recorder
	role string
}

func segOf(name string) string { return strings.TrimSuffix(filepathBase(name), ".tmp") }

func (f recordingFile) WriteAt(p []byte, off int64) (int, error) {
	switch {
	case off == 0:
		f.r.add("header " + segOf(f.f.Name()))
	case f.role == "prep" && isZero(p):
		f.r.add("zero " + segOf(f.f.Name()))
	case f.role == "prep":
		f.r.add("bad-prep-write " + segOf(f.f.Name()))
	default:
		f.r.add("write " + segOf(f.f.Name()))
	}
	return f.osFile.WriteAt(p, off)
}

func (f recordingFile) Sync() error {
	f.r.add("sync " + f.role + " " + segOf(f.f.Name()))
	return f.osFile.Sync()
}

func (f recordingFile) Truncate(size int64) error {
	f.r.add("truncate " + segOf(f.f.Name()))
	return f.osFile.Truncate(size)
}

func filepathBase(name string) string { return name[strings.LastIndexByte(name, '/')+1:] }

func recordingHooks(rec *recorder) fsHooks {
	return fsHooks{
		wrap:     func(f *os.File) file { return recordingFile{osFile{f}, rec, "log"} },
		wrapPrep: func(f *os.File) file { return recordingFile{osFile{f}, rec, "prep"} },
		syncDir: func(dir string) error {
			rec.add("syncdir")
			return syncDir(dir)
		},
		rename: func(oldpath, newpath string) error {
			rec.add("rename " + segOf(newpath))
			return os.Rename(oldpath, newpath)
		},
	}
}

// TestLog_DurabilityOrder checks the order of operations behind an acknowledgement: with
// SyncAlways every ack follows a sync of what the flusher wrote, and a new segment's header
// is synced before the file is renamed into place, and the rename synced (directory) before any
// record is written to it. The preparer writes nothing but zeros after the header.
func TestLog_DurabilityOrder(t *testing.T) {
	for _, prealloc := range []bool{true, false} {
		t.Run(fmt.Sprintf("prealloc=%v", prealloc), func(t *testing.T) {
			rec := &recorder{}
			opts := Options{SegmentSize: 100, DisablePrealloc: !prealloc}
			l, err := open(t.TempDir(), opts, recordingHooks(rec))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Add(1)
				l.AppendAsync(make([]byte, 40+i), func(_ Pos, err error) {
					defer wg.Done()
					if err != nil {
						t.Error(err)
					}
					rec.add("ack")
				})
			}
			wg.Wait()
			if st := l.Stats(); !prealloc && st.ZeroBytes != 0 {
				t.Errorf("Stats().ZeroBytes = %d with preallocation off", st.ZeroBytes)
			}

			rec.mu.Lock()
			ops := slices.Clone(rec.ops)
			rec.mu.Unlock()
			checkDurabilityOrder(t, ops)
		})
	}
}

func checkDurabilityOrder(t *testing.T, ops []string) {
	t.Helper()
	unsynced := false            // the flusher wrote since its last sync
	state := map[string]string{} // segment -> last step of its creation
	segments := 0
	for i, op := range ops {
		kind, arg, _ := strings.Cut(op, " ")
		switch kind {
		case "header":
			state[arg] = "header"
			segments++
		case "sync":
			role, name, _ := strings.Cut(arg, " ")
			if state[name] == "header" {
				state[name] = "synced"
			}
			if role == "log" {
				unsynced = false
			}
		case "rename":
			if state[arg] != "synced" {
				t.Fatalf("op %d: %s renamed into place before its header was synced: %q", i, arg, ops)
			}
			state[arg] = "renamed"
		case "syncdir":
			for n, s := range state {
				if s == "renamed" {
					state[n] = "ready"
				}
			}
		case "write":
			if state[arg] != "ready" {
				t.Fatalf("op %d: record written to %s before its header, rename and directory were synced: %q", i, arg, ops)
			}
			unsynced = true
		case "zero":
			if state[arg] == "" {
				t.Fatalf("op %d: zeros written to %s before its header: %q", i, arg, ops)
			}
		case "bad-prep-write":
			t.Fatalf("op %d: the preparer wrote something other than zeros to %s: %q", i, arg, ops)
		case "ack":
			if unsynced {
				t.Fatalf("op %d: ack before the sync of the written bytes: %q", i, ops)
			}
		}
	}
	if segments < 3 {
		t.Errorf("only %d segments created; the test wants rolls", segments)
	}
}
