package wal

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
)

// Write-path tuning. Payloads of at least directWriteMin bytes are written straight from the
// caller's slice (no user-space copy); smaller ones and all frame headers are gathered into a
// reused buffer that is written out whenever it reaches gatherFlushAt, so it stays small
// however large a round is.
const (
	directWriteMin = 64 << 10 // 64 KiB
	gatherFlushAt  = 1 << 20  // 1 MiB
)

// pending is one queued append.
type pending struct {
	data []byte
	done func(Pos, error)
	w    *waiter
	rej  error // set when queued: complete with this error, write nothing
	pos  Pos
}

// waiter lets Append wait without allocating a closure per call.
type waiter struct {
	c   chan struct{}
	pos Pos
	err error
}

var waiterPool = sync.Pool{New: func() any { return &waiter{c: make(chan struct{}, 1)} }}

func (p *pending) complete(pos Pos, err error) {
	switch {
	case p.w != nil:
		p.w.pos, p.w.err = pos, err
		p.w.c <- struct{}{}
	case p.done != nil:
		p.done(pos, err)
	}
}

// AppendAsync queues one record and returns at once. The log keeps data (without copying it)
// until done is called, so the caller must not modify it before then. done is called exactly
// once, from the log's flusher goroutine, in log order across all callers, after the record is
// durable per Options.Sync, or with an error: one wrapping ErrFailed (and the cause) once a
// write or sync failed, ErrTooLarge, or ErrClosed if Close had begun. Only if the log is
// already fully closed is done called directly from AppendAsync, with ErrClosed. done may be
// nil. done runs on the flusher: it must be quick and must not call Append or Close (it may
// call AppendAsync).
//
// Records queued by concurrent callers are group-committed: up to Options.MaxBatchBytes per
// round, written together and made durable with one fdatasync.
func (l *Log) AppendAsync(data []byte, done func(pos Pos, err error)) {
	l.enqueue(pending{data: data, done: done})
}

// Append is AppendAsync followed by waiting for the outcome. It returns the record's position,
// or the error AppendAsync would have given done.
func (l *Log) Append(data []byte) (Pos, error) {
	w := waiterPool.Get().(*waiter)
	l.enqueue(pending{data: data, w: w})
	<-w.c
	pos, err := w.pos, w.err
	w.err = nil
	waiterPool.Put(w)
	return pos, err
}

func (l *Log) enqueue(p pending) {
	if l.phase.Load() == phaseFresh {
		l.phase.CompareAndSwap(phaseFresh, phaseAppending)
	}
	if len(p.data) > MaxRecordSize {
		p.rej = ErrTooLarge
	}
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		p.complete(Pos{}, ErrClosed)
		return
	}
	if l.closing {
		p.rej = ErrClosed
	}
	l.queue = append(l.queue, p)
	if len(l.queue) == 1 {
		l.cond.Signal()
	}
	l.mu.Unlock()
}

// flusher is the only goroutine that writes segments and completes appends.
func (l *Log) flusher() {
	defer close(l.flusherC)
	var batch []pending
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closing {
			l.cond.Wait()
		}
		if len(l.queue) == 0 {
			l.stopped = true
			l.mu.Unlock()
			return
		}
		batch, l.queue = l.queue, batch[:0]
		l.mu.Unlock()

		for rest := batch; len(rest) > 0; {
			n := l.round(rest)
			rest = rest[n:]
		}
		clear(batch) // drop references to payloads and callbacks
		if cap(batch) > 1<<16 {
			batch = nil // do not pin the memory of a rare burst
		}
	}
}

// round writes and syncs a prefix of batch as one group commit, completes those appends in
// order and returns how many it took.
func (l *Log) round(batch []pending) int {
	if l.failErr == nil && l.end >= l.opts.SegmentSize && l.end > segmentHeaderSize {
		if err := l.roll(); err != nil {
			l.fail(err)
		}
	}
	if l.failErr != nil {
		finish(batch, l.failErr)
		return len(batch)
	}

	// Choose the round: at least one record, then more while the round stays within
	// MaxBatchBytes and the segment has not reached SegmentSize.
	var n, records int
	var bytes int64
	end := l.end
	for ; n < len(batch); n++ {
		p := &batch[n]
		if p.rej != nil {
			continue
		}
		size := int64(len(p.data))
		if records > 0 && (bytes+size > l.opts.MaxBatchBytes || end >= l.opts.SegmentSize) {
			break
		}
		p.pos = Pos{Segment: l.active.num, Offset: end}
		end += frameHeaderSize + size
		bytes += size
		records++
	}

	if records > 0 {
		err := l.write(batch[:n])
		if err == nil && l.opts.Sync == SyncAlways {
			if err = l.w.Sync(); err != nil {
				err = fmt.Errorf("wal: %w", err)
			}
		}
		if err != nil {
			l.fail(err)
			finish(batch[:n], l.failErr)
			return n
		}
		if l.pre != nil {
			// After the sync: the preparer's zeros go to the disk between rounds rather than
			// compete with this round's own writes.
			l.pre.credit(end - l.end)
		}
		l.total.Add(end - l.end)
		l.end = end
		l.fileSize = max(l.fileSize, end)
		l.active.size.Store(end)
		l.stats.rounds.Add(1)
		l.stats.records.Add(int64(records))
		l.stats.bytes.Add(bytes)
	}
	finish(batch[:n], nil)
	return n
}

// finish completes batch in order: appends rejected when queued with their own error, the
// others with err, or with their position if err is nil.
func finish(batch []pending, err error) {
	for i := range batch {
		p := &batch[i]
		switch {
		case p.rej != nil:
			p.complete(Pos{}, p.rej)
		case err != nil:
			p.complete(Pos{}, err)
		default:
			p.complete(p.pos, nil)
		}
	}
}

// write writes the frames of the accepted records in batch at l.end.
func (l *Log) write(batch []pending) error {
	buf := l.buf[:0]
	off := l.end // file offset of buf[0]
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if _, err := l.w.WriteAt(buf, off); err != nil {
			return fmt.Errorf("wal: writing %s: %w", segmentName(l.active.num), err)
		}
		off += int64(len(buf))
		buf = buf[:0]
		return nil
	}
	first := true
	for i := range batch {
		p := &batch[i]
		if p.rej != nil {
			continue
		}
		// The header goes straight into buf: a local array would escape through the CRC
		// function (an indirect call) and cost an allocation per record.
		buf = append(buf, make([]byte, frameHeaderSize)...)
		putFrameHeader(buf[len(buf)-frameHeaderSize:], p.data, first)
		first = false
		if len(p.data) < directWriteMin {
			buf = append(buf, p.data...)
			if len(buf) >= gatherFlushAt {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := l.w.WriteAt(p.data, off); err != nil {
			return fmt.Errorf("wal: writing %s: %w", segmentName(l.active.num), err)
		}
		off += int64(len(p.data))
	}
	err := flush()
	l.buf = buf[:0]
	return err
}

// roll seals the active segment and starts the next one.
func (l *Log) roll() error {
	if l.opts.Sync == SyncNever {
		// Sealed segments are always durable, so damage in them is never a torn tail.
		if err := l.w.Sync(); err != nil {
			return fmt.Errorf("wal: %w", err)
		}
	}
	if l.active.num == math.MaxUint32 {
		return errors.New("wal: segment numbers exhausted")
	}
	if l.fileSize > l.end {
		// A sealed segment ends at its last record: zeros after it would read as damage.
		// (Spares are SegmentSize long and a roll comes after that, so this does not happen
		// unless a spare was made larger.)
		if err := l.w.Truncate(l.end); err != nil {
			return fmt.Errorf("wal: sealing %s: %w", segmentName(l.active.num), err)
		}
		if err := l.w.Sync(); err != nil {
			return fmt.Errorf("wal: sealing %s: %w", segmentName(l.active.num), err)
		}
	}
	n := l.active.num + 1
	if l.pre == nil {
		if err := l.createSegment(n); err != nil {
			return err
		}
		l.stats.rolls.Add(1)
		return nil
	}

	if spare := l.pre.seal(n); spare == nil {
		if err := l.createSegment(n); err != nil {
			return err
		}
		l.stats.unprepared.Add(1)
	} else {
		if !spare.zeroed {
			l.stats.unprepared.Add(1)
		}
		if err := l.useSpare(spare); err != nil {
			return err
		}
	}
	l.stats.rolls.Add(1)
	return nil
}

// useSpare makes the preparer's spare the active segment: it renames it into place and syncs
// the directory before any record is written to it. The spare's header and size are durable
// already; zeros the preparer wrote after its last sync are synced by the first round's
// fdatasync, if they have not reached the disk by then.
func (l *Log) useSpare(sp *spareFile) error {
	tmp, name := tmpPath(l.dir, sp.num), l.path(sp.num)
	fail := func(err error) error {
		sp.f.Close()
		os.Remove(tmp)
		return fmt.Errorf("wal: starting segment %s: %w", segmentName(sp.num), err)
	}
	if err := l.fs.doRename(tmp, name); err != nil {
		return fail(err)
	}
	if err := sp.f.Close(); err != nil {
		return fail(err)
	}
	if err := l.fs.syncDir(l.dir); err != nil {
		// As in createSegment: the file holds no record, so leaving it is harmless.
		return fmt.Errorf("wal: starting segment %s: %w", segmentName(sp.num), err)
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: starting segment %s: %w", segmentName(sp.num), err)
	}
	s := &segment{num: sp.num}
	s.size.Store(segmentHeaderSize)
	l.segMu.Lock()
	l.segs = append(l.segs, s)
	l.segMu.Unlock()
	l.total.Add(segmentHeaderSize)
	l.w.Close()
	l.w, l.active, l.end, l.fileSize = l.fs.wrap(f), s, segmentHeaderSize, sp.size
	l.pre.activate(sp.num)
	return nil
}

// fail makes the log permanently failed. After a failed write or fsync the kernel may have
// dropped the dirty pages and a retried fsync could wrongly succeed, so nothing is retried. The
// records of the failed round are not acknowledged; after a reopen they may or may not be
// there, while every acknowledged record is.
func (l *Log) fail(err error) {
	l.failErr = fmt.Errorf("%w: %w", ErrFailed, err)
}
