package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Default settings.
const (
	DefaultSegmentSize   = 128 << 20 // 128 MiB
	DefaultMaxBatchBytes = 16 << 20  // 16 MiB
)

// Errors returned by the log. Corruption is reported as *CorruptionError, whose Err is one of
// ErrChecksum, ErrBadHeader, ErrTruncated or ErrMissingSegment.
var (
	// ErrClosed is returned by operations on a closed log, and given to the done callback of
	// appends made after Close began.
	ErrClosed = errors.New("wal: log closed")
	// ErrFailed is wrapped (together with the original cause) by every append error after a
	// write or sync failed. The log stays failed until it is closed and reopened; reopening
	// recovers every record whose append completed without error (records of the failed round
	// may or may not be there).
	ErrFailed = errors.New("wal: log failed")
	// ErrNotFound is returned by ReadAt for a position outside the log: an unknown or removed
	// segment, or an offset before the first or at/after the last readable record.
	ErrNotFound = errors.New("wal: record not found")
	// ErrTooLarge is given to the done callback of a record longer than MaxRecordSize. Such a
	// record is not written; the log stays usable.
	ErrTooLarge = errors.New("wal: record too large")
	// ErrReplayOrder is returned by Replay when it is called a second time or after the first
	// append.
	ErrReplayOrder = errors.New("wal: Replay must be called at most once, before the first append")

	// ErrChecksum means a frame's header or payload checksum does not match its bytes.
	ErrChecksum = errors.New("wal: checksum mismatch")
	// ErrBadHeader means a segment file header is missing, has the wrong magic or version, or
	// names another segment.
	ErrBadHeader = errors.New("wal: bad segment header")
	// ErrTruncated means a sealed segment ends in the middle of a frame.
	ErrTruncated = errors.New("wal: segment ends inside a frame")
	// ErrMissingSegment means segment numbers are not contiguous.
	ErrMissingSegment = errors.New("wal: missing segment")
)

// CorruptionError reports damage that the log does not repair: anything but a torn tail of the
// last segment. A server must refuse to start on it rather than serve a log with a hole.
type CorruptionError struct {
	Segment uint32 // segment number (file name)
	Offset  int64  // byte offset of the damaged frame or header within the segment file
	Err     error  // ErrChecksum, ErrBadHeader, ErrTruncated, ErrMissingSegment or an I/O error
}

// Error describes the damage with the file name, so an operator knows where to look.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corrupt log: segment %s at offset %d: %v", segmentName(e.Segment), e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *CorruptionError) Unwrap() error { return e.Err }

// SyncMode says when an append counts as complete.
type SyncMode int

const (
	// SyncAlways completes an append after its bytes were written and fdatasync'ed: it survives
	// kill -9 and power loss. The default.
	SyncAlways SyncMode = iota
	// SyncNever completes an append after write(2): it survives kill -9 of the process but not
	// power loss or an OS crash. Segments are still synced when they are sealed and on Close.
	SyncNever
)

// String returns "always" or "never".
func (m SyncMode) String() string {
	switch m {
	case SyncAlways:
		return "always"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// Options configures a Log. The zero value means all defaults.
type Options struct {
	// SegmentSize is the size in bytes after which the log rolls to a new segment file. A
	// segment can exceed it by at most one record. <= 0 means DefaultSegmentSize.
	SegmentSize int64
	// Sync says when an append completes. Zero is SyncAlways.
	Sync SyncMode
	// MaxBatchBytes caps the payload bytes one group-commit round writes before it syncs. A
	// single record larger than the cap forms a round on its own. <= 0 means
	// DefaultMaxBatchBytes.
	MaxBatchBytes int64
	// DisablePrealloc turns preallocation off: records are then appended to files that grow
	// with every round. Preallocation is only used with SyncAlways, on Linux: the next segment
	// is created and zero-filled in the background, paced at two bytes of zeros per byte of
	// records, so that a round's fdatasync need not commit a new file size. It writes every
	// segment twice; turn it off where disk bandwidth, not sync latency, is the limit (see
	// docs/format/wal.md).
	DisablePrealloc bool
}

// DefaultOptions returns the defaults: 128 MiB segments, SyncAlways, 16 MiB rounds.
func DefaultOptions() Options {
	return Options{SegmentSize: DefaultSegmentSize, Sync: SyncAlways, MaxBatchBytes: DefaultMaxBatchBytes}
}

func (o Options) withDefaults() (Options, error) {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.Sync != SyncAlways && o.Sync != SyncNever {
		return o, fmt.Errorf("wal: invalid sync mode %d", int(o.Sync))
	}
	return o, nil
}

// Pos identifies a record: segment number and byte offset of its frame start.
type Pos struct {
	Segment uint32
	Offset  int64
}

// String formats p as segment:offset.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Segment, p.Offset) }

// Stats are cumulative counters since Open.
type Stats struct {
	Records int64 // records written and completed without error
	Bytes   int64 // payload bytes of those records
	Rounds  int64 // group-commit rounds (one write and, with SyncAlways, one fdatasync each)
	Rolls   int64 // segments created after Open
	// ZeroBytes counts the zeros written into spare segments ahead of the records
	// (preallocation). Size and Bytes do not include them.
	ZeroBytes int64
	// RollsUnprepared counts rolls that found no completely zero-filled spare segment, so that
	// some records of the new segment grow the file.
	RollsUnprepared int64
}

// segment is one segment file as seen by readers.
type segment struct {
	num uint32
	// size is the readable end: the file size for sealed segments, and the end of the last
	// completed round for the active one.
	size atomic.Int64

	mu sync.Mutex // guards rf
	rf *os.File   // read handle, opened on first ReadAt
}

// Log is a segmented, checksummed, group-committed write-ahead log of opaque records. Its
// methods are safe for concurrent use.
type Log struct {
	dir  string
	opts Options
	fs   fsHooks

	// The append queue. Guarded by mu; cond signals the flusher.
	mu       sync.Mutex
	cond     sync.Cond
	queue    []pending
	closing  bool // Close began: new appends are answered with ErrClosed in order
	stopped  bool // flusher exited: new appends are answered with ErrClosed directly
	flusherC chan struct{}

	// Owned by the flusher goroutine (and by Open before it starts).
	w       file // active segment, written at offset end
	active  *segment
	end     int64 // bytes written to the active segment
	buf     []byte
	failErr error     // non-nil once a write or sync failed
	pre     *preparer // prepares zero-filled spare segments; nil without preallocation
	// fileSize is the active segment's file size: larger than end when the records are written
	// into zero-filled space.
	fileSize int64

	segMu sync.RWMutex // guards segs (the slice, not the elements)
	segs  []*segment   // ascending by num; the last one is active

	phase     atomic.Int32 // phaseFresh, phaseReplayed, phaseAppending
	total     atomic.Int64 // readable bytes across segments
	stats     struct{ records, bytes, rounds, rolls, unprepared atomic.Int64 }
	closeOnce sync.Once
	closeErr  error
	closed    bool // guarded by segMu; ReadAt answers ErrClosed
}

const (
	phaseFresh int32 = iota
	phaseReplayed
	phaseAppending
)

// Open opens or creates the log in dir (creating dir if needed). It checks every segment
// header, scans the last segment and cuts off a torn tail there (truncating the file to the end
// of the last whole record and syncing it). Damage that is not a torn tail of the last segment
// is returned as a *CorruptionError; damage inside earlier segments is found by Replay, which
// reads them. The caller must hold whatever lock keeps other processes out of dir.
func Open(dir string, opts Options) (*Log, error) {
	return open(dir, opts, osHooks)
}

// fsHooks are the points where tests change how files are written and synced.
type fsHooks struct {
	wrap    func(*os.File) file // every file the log writes or syncs goes through it
	syncDir func(dir string) error
	// Optional: the preparer's descriptors go through wrapPrep if set (else wrap), and
	// renames through rename (else os.Rename).
	wrapPrep func(*os.File) file
	rename   func(oldpath, newpath string) error
}

var osHooks = fsHooks{wrap: func(f *os.File) file { return osFile{f} }, syncDir: syncDir}

func (h fsHooks) prepFile(f *os.File) file {
	if h.wrapPrep != nil {
		return h.wrapPrep(f)
	}
	return h.wrap(f)
}

func (h fsHooks) doRename(oldpath, newpath string) error {
	if h.rename != nil {
		return h.rename(oldpath, newpath)
	}
	return os.Rename(oldpath, newpath)
}

// preallocating reports whether the log zero-fills segment space ahead of its records.
func (l *Log) preallocating() bool {
	return l.opts.Sync == SyncAlways && !l.opts.DisablePrealloc && preallocSupported &&
		l.opts.SegmentSize > segmentHeaderSize
}

func open(dir string, opts Options, fs fsHooks) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		// A new directory's own entry must be durable too, or a crash could lose the whole log.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
		if err := fs.syncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
	}
	l := &Log{dir: dir, opts: opts, fs: fs, flusherC: make(chan struct{})}
	l.cond.L = &l.mu
	if err := l.load(); err != nil {
		if l.w != nil {
			l.w.Close()
		}
		return nil, err
	}
	if l.preallocating() {
		l.pre = newPreparer(l.dir, l.fs, l.opts.SegmentSize)
		l.pre.start(l.active.num)
	}
	go l.flusher()
	return l, nil
}

// load finds the segments, validates them and opens the active one for writing.
func (l *Log) load() error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	var nums []uint32
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, tmpSuffix) {
			// A segment whose creation did not finish; it never held a record.
			if err := os.Remove(filepath.Join(l.dir, name)); err != nil {
				return fmt.Errorf("wal: removing leftover %s: %w", name, err)
			}
			continue
		}
		if n, ok := parseSegmentName(name); ok && e.Type().IsRegular() {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	if len(nums) == 0 {
		return l.createSegment(1)
	}
	for i, n := range nums {
		if i > 0 && n != nums[i-1]+1 {
			return &CorruptionError{Segment: nums[i-1] + 1, Err: ErrMissingSegment}
		}
		s := &segment{num: n}
		last := i == len(nums)-1
		size, err := l.checkSegment(n, last)
		if err != nil {
			return err
		}
		s.size.Store(size.end)
		l.total.Add(size.end)
		l.segs = append(l.segs, s)
		l.fileSize = size.file
	}
	l.active = l.segs[len(l.segs)-1]
	f, err := os.OpenFile(l.path(l.active.num), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	l.w = l.fs.wrap(f)
	l.end = l.active.size.Load()
	return nil
}

// segSize is what checkSegment found: the end of the records and the size of the file.
type segSize struct{ end, file int64 }

// checkSegment validates segment n's header and returns its size. For the last segment it
// also scans the records and cuts off a torn tail: it truncates the file, or, when the log
// preallocates and the file is not larger than a segment, overwrites the tail with zeros and
// keeps the space for the next records.
func (l *Log) checkSegment(n uint32, last bool) (segSize, error) {
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(l.path(n), flag, 0)
	if err != nil {
		return segSize{}, fmt.Errorf("wal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return segSize{}, fmt.Errorf("wal: %w", err)
	}
	size := fi.Size()
	var h [segmentHeaderSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil && size >= segmentHeaderSize {
		return segSize{}, fmt.Errorf("wal: %w", err)
	}
	if err := checkSegmentHeader(h[:min(size, segmentHeaderSize)], n); err != nil {
		return segSize{}, &CorruptionError{Segment: n, Err: err}
	}
	if !last {
		return segSize{size, size}, nil
	}
	end, err := recoverTail(f, n, size)
	if err != nil {
		return segSize{}, err
	}
	if end == size {
		return segSize{end, size}, nil
	}
	w := l.fs.wrap(f)
	if l.preallocating() && size <= l.opts.SegmentSize {
		// Nothing after end was acknowledged (recoverTail checked), so it may be overwritten.
		if err := zeroTail(f, w, end, size); err != nil {
			return segSize{}, fmt.Errorf("wal: zeroing torn tail of %s: %w", segmentName(n), err)
		}
		if err := w.Sync(); err != nil {
			return segSize{}, fmt.Errorf("wal: zeroing torn tail of %s: %w", segmentName(n), err)
		}
		return segSize{end, size}, nil
	}
	if err := w.Truncate(end); err != nil {
		return segSize{}, fmt.Errorf("wal: cutting torn tail of %s: %w", segmentName(n), err)
	}
	if err := w.Sync(); err != nil {
		return segSize{}, fmt.Errorf("wal: cutting torn tail of %s: %w", segmentName(n), err)
	}
	return segSize{end, end}, nil
}

func (l *Log) path(n uint32) string { return filepath.Join(l.dir, segmentName(n)) }

// createSegment makes segment n durable (header written and synced under a temporary name,
// renamed, directory synced) and makes it the active segment. Records are only written to a
// segment after this returns, so no acknowledged record can live in a file the directory lost.
func (l *Log) createSegment(n uint32) error {
	tmp := tmpPath(l.dir, n)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: creating segment: %w", err)
	}
	w := l.fs.wrap(f)
	fail := func(err error) error {
		w.Close()
		os.Remove(tmp)
		return fmt.Errorf("wal: creating segment %s: %w", segmentName(n), err)
	}
	if _, err := w.WriteAt(appendSegmentHeader(nil, n), 0); err != nil {
		return fail(err)
	}
	if err := w.Sync(); err != nil {
		return fail(err)
	}
	if err := l.fs.doRename(tmp, l.path(n)); err != nil {
		return fail(err)
	}
	if err := l.fs.syncDir(l.dir); err != nil {
		// The file exists under its final name but may not survive a crash; it holds no
		// record, so leaving it is harmless.
		w.Close()
		return fmt.Errorf("wal: creating segment %s: %w", segmentName(n), err)
	}
	s := &segment{num: n}
	s.size.Store(segmentHeaderSize)
	l.segMu.Lock()
	l.segs = append(l.segs, s)
	l.segMu.Unlock()
	l.total.Add(segmentHeaderSize)
	if l.w != nil {
		l.w.Close()
	}
	l.w, l.active, l.end, l.fileSize = w, s, segmentHeaderSize, segmentHeaderSize
	if l.pre != nil {
		l.pre.activate(n)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Size returns the number of readable bytes across all segment files, headers included.
func (l *Log) Size() int64 { return l.total.Load() }

// Stats returns counters since Open.
func (l *Log) Stats() Stats {
	st := Stats{
		Records:         l.stats.records.Load(),
		Bytes:           l.stats.bytes.Load(),
		Rounds:          l.stats.rounds.Load(),
		Rolls:           l.stats.rolls.Load(),
		RollsUnprepared: l.stats.unprepared.Load(),
	}
	if l.pre != nil {
		st.ZeroBytes = l.pre.zeroBytes.Load()
	}
	return st
}

// Close waits until every append queued before it has completed, syncs the active segment
// (unless the log failed) and closes the files. Appends queued after Close began complete with
// ErrClosed. Close returns the error that failed the log, if any, or an error from the final
// sync or close. Calling Close again returns nil.
func (l *Log) Close() error {
	first := false
	l.closeOnce.Do(func() {
		first = true
		l.mu.Lock()
		l.closing = true
		l.cond.Signal()
		l.mu.Unlock()
		<-l.flusherC
		if l.pre != nil {
			l.pre.stop()
		}
		// The flusher has exited, so its state is ours now.
		err := l.failErr
		if err == nil && l.opts.Sync == SyncNever {
			if serr := l.w.Sync(); serr != nil {
				err = fmt.Errorf("wal: final sync: %w", serr)
			}
		}
		if cerr := l.w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("wal: %w", cerr)
		}
		l.segMu.Lock()
		l.closed = true
		for _, s := range l.segs {
			s.closeReader()
		}
		l.segMu.Unlock()
		l.closeErr = err
	})
	if !first {
		return nil
	}
	return l.closeErr
}
