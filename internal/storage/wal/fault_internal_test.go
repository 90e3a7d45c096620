package wal

import (
	"errors"
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
	if fn := fs.check.Load(); fn != nil {
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
	if _, err := l.Append(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	// The next append has to create segment 2 first, and syncing its header fails.
	injected := errors.New("injected: cannot sync new segment")
	fs.set(func(op, name string) error {
		if op == "sync" && strings.HasSuffix(name, tmpSuffix) {
			return injected
		}
		return nil
	})
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

type recordingFile struct {
	osFile
	r *recorder
}

func (f recordingFile) WriteAt(p []byte, off int64) (int, error) {
	name := filepathBase(f.f.Name())
	if off == 0 {
		f.r.add("header " + name)
	} else {
		f.r.add("write " + name)
	}
	return f.osFile.WriteAt(p, off)
}

func (f recordingFile) Sync() error {
	f.r.add("sync " + filepathBase(f.f.Name()))
	return f.osFile.Sync()
}

func filepathBase(name string) string { return name[strings.LastIndexByte(name, '/')+1:] }

// TestLog_DurabilityOrder checks the order of operations behind an acknowledgement: with
// SyncAlways every ack follows a sync of what was written, and a new segment's header and
// directory entry are synced before any record is written to it.
func TestLog_DurabilityOrder(t *testing.T) {
	rec := &recorder{}
	l, err := open(t.TempDir(), Options{SegmentSize: 100}, fsHooks{
		wrap: func(f *os.File) file { return recordingFile{osFile{f}, rec} },
		syncDir: func(dir string) error {
			rec.add("syncdir")
			return syncDir(dir)
		},
	})
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

	rec.mu.Lock()
	ops := slices.Clone(rec.ops)
	rec.mu.Unlock()
	unsynced := false // written since the last sync
	ready := map[string]bool{}
	state := map[string]string{} // file -> last step of its creation
	segments := 0
	for i, op := range ops {
		kind, name, _ := strings.Cut(op, " ")
		switch kind {
		case "header":
			state[name] = "header"
			segments++
		case "sync":
			if state[name] == "header" {
				state[name] = "synced"
			}
			unsynced = false
		case "syncdir":
			for n, s := range state {
				if s == "synced" {
					ready[n] = true
				}
			}
		case "write":
			if !ready[name] {
				t.Fatalf("op %d: record written to %s before its header and directory entry were synced: %q", i, name, ops)
			}
			unsynced = true
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
