package wal

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Preallocation. An fdatasync that has to record a new file size (and newly allocated blocks)
// commits the file system's journal; one that only overwrites blocks already written does not,
// and on ext4 it is much faster (BenchmarkDatasync: 1.5 to 2 times). So with SyncAlways a
// background goroutine, the preparer, makes the next segment ready before it is needed, as a
// spare under the .tmp name: it creates the file with the segment header and syncs it (from
// then on the spare can be renamed into place), then writes zeros up to SegmentSize, 1 MiB at a
// time, starting the writeback of each step at once (sync_file_range) and syncing the file
// after the last. It writes real zeros rather than calling fallocate(2): fallocated blocks are
// "unwritten" extents, and writing into them still changes metadata that the next fdatasync
// must commit (measured in the log: 1 MiB rounds into fallocated space were slower than into a
// growing file).
//
// Zero-filling writes every byte of a segment twice. The preparer is paced by the log: it may
// write prepRatio bytes of zeros per byte of records, credited after each round's sync so that
// the zeros go to the disk between rounds; in steady state the spare is complete when the active
// segment is half full, and an idle log makes no spare at all.
//
// A roll renames the spare into place, whatever part of it is zero-filled, and syncs the
// directory. The preparer never writes to the active segment: zeros written into the file the
// flusher syncs make the flusher's fdatasync write them too, and commit the size they add
// (measured: rounds got slower than with no preallocation at all). So records beyond a spare's
// zeros, and in a segment that was not prepared in advance (the first one of a new log, one the
// roll had to create itself), grow the file as before. Open keeps the zero-filled tail of the
// last segment.
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
	ready  bool  // created and synced: may be renamed into place
	zeroed bool  // zero-filled up to the target and synced
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
	started bool   // the log has written a round since Open: make spares
	allowed int64  // zero bytes the preparer may still write
	idle    bool   // the preparer waits for work or credit
	stopped bool
	done    chan struct{}

	zeroBytes atomic.Int64 // zeros written in spares
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

// wantSpare reports whether a spare is to be created. Needs mu.
func (p *preparer) wantSpare() bool {
	n := p.active + 1
	return p.spare == nil && p.started && p.active != 0 && n != 0 && n != p.skip
}

// wantZeros reports whether the spare is to be zero-filled further. Needs mu.
func (p *preparer) wantZeros() bool {
	return p.spare != nil && p.spare.ready && !p.spare.zeroed
}

// next picks the next step: create the spare (to == 0), or zero-fill it up to to. Needs mu.
func (p *preparer) next() (sp *spareFile, to int64, ok bool) {
	switch {
	case p.wantSpare():
		p.spare = &spareFile{num: p.active + 1}
		return p.spare, 0, true
	case p.wantZeros():
		sp = p.spare
		to = min(sp.size+p.chunk, p.target) // > size: the log preallocates only if target > 16
		if p.allowed < to-sp.size {
			return nil, 0, false
		}
		p.allowed -= to - sp.size
		return sp, to, true
	}
	return nil, 0, false
}

// step creates spare sp (to == 0) or extends its zeros up to to, starting their writeback, and
// syncing the file after the last step.
func (p *preparer) step(sp *spareFile, to int64) error {
	if to == 0 {
		f, err := os.OpenFile(tmpPath(p.dir, sp.num), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		sp.f = p.fs.prepFile(f)
		if _, err := sp.f.WriteAt(appendSegmentHeader(nil, sp.num), 0); err != nil {
			return err
		}
		if err := sp.f.Sync(); err != nil {
			return err
		}
		p.mu.Lock()
		sp.size, sp.ready = segmentHeaderSize, true
		p.mu.Unlock()
		return nil
	}
	if p.zeros == nil {
		p.zeros = make([]byte, p.chunk)
	}
	for off := sp.size; off < to; {
		n := min(to-off, int64(len(p.zeros)))
		if _, err := sp.f.WriteAt(p.zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	if err := sp.f.StartWriteback(sp.size, to-sp.size); err != nil {
		return err
	}
	p.zeroBytes.Add(to - sp.size)
	zeroed := false
	if to >= p.target {
		if err := sp.f.Sync(); err != nil {
			return err
		}
		zeroed = true
	}
	p.mu.Lock()
	sp.size, sp.zeroed = to, zeroed
	p.mu.Unlock()
	return nil
}

// credit tells the preparer that the flusher wrote (and synced) a round of n bytes.
func (p *preparer) credit(n int64) {
	p.mu.Lock()
	wake := !p.started
	p.started = true
	if p.wantSpare() || p.wantZeros() || p.spare != nil && !p.spare.ready {
		p.allowed = min(p.allowed+p.ratio*n, prepCreditMax)
		wake = true
	}
	if wake && p.idle {
		p.cond.Broadcast()
	}
	p.mu.Unlock()
}

// seal is called by a roll to segment next. It returns the spare for next if there is one
// ready to be renamed into place (then the caller calls activate once it is), else nil (then the
// caller creates segment next itself).
func (p *preparer) seal(next uint32) (spare *spareFile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = 0 // no new steps
	for p.busy {
		p.cond.Wait()
	}
	if sp := p.spare; sp != nil && sp.num == next && sp.ready {
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
