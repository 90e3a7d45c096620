package wal

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Preallocation. An fdatasync that has to record a new file size commits the file system's
// journal; one that only overwrites blocks already written does not, and on ext4 it is several
// times faster. So with SyncAlways a background goroutine, the preparer, makes the next segment
// ready before it is needed: a spare file with the segment header and zeros up to SegmentSize,
// written and synced under the .tmp name. A roll renames the spare into place, and the records
// of the new segment overwrite zeros instead of growing the file.
//
// The preparer never writes to the active segment: writing zeros into the file the flusher
// syncs makes the flusher's fdatasync write them too, and commit the size they add (measured:
// rounds got slower than without preallocation). So a segment that was not prepared in advance
// (the first one of a new log, or one the roll had to create itself because the spare was not
// ready) grows with its records as before; Open keeps the zero-filled tail of a prepared one.
//
// The preparer is paced by the log: it may write prepRatio bytes of zeros per byte of records,
// so an idle log costs nothing, the zeros never take more than their share of the disk, and in
// steady state the spare is ready when the active segment is half full. It writes real zeros,
// not fallocate(2): fallocated blocks are "unwritten" extents, and the first write into one
// still changes metadata that the next fdatasync has to commit. It starts the writeback of each
// chunk at once (sync_file_range) and syncs the file once at the end, so the zeros reach the
// disk evenly and cost one journal commit per segment.
//
// Zeros after the last record are what recovery already treats as a torn tail, so the byte
// format does not change.
const (
	prepChunk     = 1 << 20  // zeros written per step
	prepRatio     = 2        // zero bytes the preparer may write per record byte written
	prepCreditMax = 64 << 20 // cap on the preparer's unused allowance
)

// spareFile is a segment file being prepared under its .tmp name.
type spareFile struct {
	num    uint32
	f      file  // the preparer's descriptor
	size   int64 // bytes written: header and zeros
	synced bool  // size bytes are durable (and so the header, once size > 0)
}

// preparer makes spare segments in the background. Its state is guarded by mu; the flusher
// calls credit, seal and activate, Close calls stop.
type preparer struct {
	dir    string
	fs     fsHooks
	target int64 // a spare is complete at this size (SegmentSize)
	chunk  int64
	ratio  int64

	mu      sync.Mutex
	cond    sync.Cond // broadcast on every change a waiter may wait for
	active  uint32    // the active segment; the spare is active+1. 0 during a roll.
	spare   *spareFile
	busy    bool   // the preparer works on spare outside mu
	skip    uint32 // a spare whose preparation failed; not retried
	allowed int64  // zero bytes the preparer may still write
	idle    bool   // the preparer waits for work or credit
	stopped bool
	done    chan struct{}

	zeroBytes atomic.Int64 // zeros written and synced in spares
	zeros     []byte
}

func newPreparer(dir string, fs fsHooks, target int64) *preparer {
	p := &preparer{dir: dir, fs: fs, target: target, chunk: prepChunk, ratio: prepRatio, done: make(chan struct{})}
	p.cond.L = &p.mu
	return p
}

// start runs the preparer while active is the active segment.
func (p *preparer) start(active uint32) {
	p.active = active
	go p.run()
}

func tmpPath(dir string, n uint32) string { return filepath.Join(dir, segmentName(n)+".tmp") }

func (p *preparer) run() {
	defer close(p.done)
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.stopped {
		sp, to, ok := p.next()
		if !ok {
			p.idle = true
			p.cond.Wait()
			p.idle = false
			continue
		}
		p.busy = true
		p.mu.Unlock()
		if err := p.step(sp, to); err != nil {
			// Nothing depends on a spare: drop it, and let the roll create the segment.
			if sp.f != nil {
				sp.f.Close()
			}
			os.Remove(tmpPath(p.dir, sp.num))
			p.mu.Lock()
			p.spare, p.skip = nil, sp.num
		} else {
			p.mu.Lock()
		}
		p.busy = false
		p.cond.Broadcast()
	}
}

// hasWork reports whether a spare is to be made or completed. Needs mu.
func (p *preparer) hasWork() bool {
	if sp := p.spare; sp != nil {
		return !sp.synced
	}
	n := p.active + 1
	return p.active != 0 && n != 0 && n != p.skip
}

// next picks the next step, spare sp up to size to, if there is work and credit. Needs mu.
func (p *preparer) next() (sp *spareFile, to int64, ok bool) {
	if !p.hasWork() {
		return nil, 0, false
	}
	sp = p.spare
	if sp == nil {
		sp = &spareFile{num: p.active + 1}
	}
	from := max(sp.size, segmentHeaderSize)
	to = min(from+p.chunk, p.target) // > from: the log preallocates only if target > from
	if p.allowed < max(to-from, 1) {
		return nil, 0, false
	}
	p.allowed -= to - from
	p.spare = sp
	return sp, to, true
}

// step extends spare sp with zeros up to to (creating it first if needed), starts their
// writeback, and syncs the file once it is complete.
func (p *preparer) step(sp *spareFile, to int64) error {
	if sp.f == nil {
		f, err := os.OpenFile(tmpPath(p.dir, sp.num), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		sp.f = p.fs.prepFile(f)
		if _, err := sp.f.WriteAt(appendSegmentHeader(nil, sp.num), 0); err != nil {
			return err
		}
	}
	from := max(sp.size, segmentHeaderSize)
	if p.zeros == nil {
		p.zeros = make([]byte, p.chunk)
	}
	for off := from; off < to; {
		n := min(to-off, int64(len(p.zeros)))
		if _, err := sp.f.WriteAt(p.zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	if err := sp.f.StartWriteback(sp.size, to-sp.size); err != nil {
		return err
	}
	p.zeroBytes.Add(to - from)
	synced := false
	if to >= p.target {
		if err := sp.f.Sync(); err != nil {
			return err
		}
		synced = true
	}
	p.mu.Lock()
	sp.size, sp.synced = to, synced
	p.mu.Unlock()
	return nil
}

// credit gives the preparer its share for n bytes of records the flusher is writing.
func (p *preparer) credit(n int64) {
	p.mu.Lock()
	if p.hasWork() {
		p.allowed = min(p.allowed+p.ratio*n, prepCreditMax)
		if p.idle {
			p.cond.Broadcast()
		}
	}
	p.mu.Unlock()
}

// seal is called by a roll to segment next. It returns the spare for next if there is one,
// possibly not yet complete; the caller must sync it unless spare.synced, rename it into place
// and call activate. Without a spare the caller creates next itself and calls activate.
func (p *preparer) seal(next uint32) (spare *spareFile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = 0 // no new steps
	for p.busy {
		p.cond.Wait()
	}
	if sp := p.spare; sp != nil && sp.num == next && sp.f != nil {
		spare = sp
	}
	p.spare = nil
	return spare
}

// activate records that segment n is now the active one; the preparer starts on the next.
func (p *preparer) activate(n uint32) {
	p.mu.Lock()
	p.active = n
	p.cond.Broadcast()
	p.mu.Unlock()
}

// stop ends the preparer and removes an unused spare. Called by Close after the flusher exited.
func (p *preparer) stop() {
	p.mu.Lock()
	p.stopped = true
	p.cond.Broadcast()
	p.mu.Unlock()
	<-p.done
	if sp := p.spare; sp != nil {
		if sp.f != nil {
			sp.f.Close()
		}
		os.Remove(tmpPath(p.dir, sp.num))
	}
}

// zeroTail overwrites with zeros every block of f in [from, to) that is not already zero, so
// that the file holds nothing after its last record but zeros.
func zeroTail(r interface {
	ReadAt([]byte, int64) (int, error)
}, w file, from, to int64) error {
	buf := make([]byte, min(to-from, 1<<20))
	zero := make([]byte, len(buf))
	for off := from; off < to; {
		n := min(to-off, int64(len(buf)))
		if _, err := r.ReadAt(buf[:n], off); err != nil {
			return err
		}
		if !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := w.WriteAt(zero[:n], off); err != nil {
				return err
			}
		}
		off += n
	}
	return nil
}
