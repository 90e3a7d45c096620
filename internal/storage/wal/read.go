package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Replay calls fn for every whole record in log order, with its position. fn's data is only
// valid during the call. Replay must be called at most once, before the first append
// (otherwise ErrReplayOrder); Open has already cut off a torn tail. Replay reads every
// segment and returns *CorruptionError for damage it finds (in practice, in segments before
// the last one, which Open does not scan). An error returned by fn stops the replay and is
// returned unchanged.
func (l *Log) Replay(fn func(pos Pos, data []byte) error) error {
	if !l.phase.CompareAndSwap(phaseFresh, phaseReplayed) {
		return ErrReplayOrder
	}
	l.segMu.RLock()
	segs, closed := slices.Clone(l.segs), l.closed
	l.segMu.RUnlock()
	if closed {
		return ErrClosed
	}
	for _, s := range segs {
		if err := l.replaySegment(s, fn); err != nil {
			return err
		}
	}
	return nil
}

func (l *Log) replaySegment(s *segment, fn func(Pos, []byte) error) error {
	f, err := os.Open(l.path(s.num))
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	defer f.Close()
	sc := newScanner(f, s.num, s.size.Load())
	for {
		data, off, _, err := sc.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(Pos{Segment: s.num, Offset: off}, data); err != nil {
			return err
		}
	}
}

// ReadAt returns a copy of the record whose frame starts at pos, after verifying its
// checksums. It reads with pread and may run concurrently with appends; a record is
// guaranteed readable once its append completed without error (also after the log failed).
// It returns an error wrapping ErrNotFound if pos is outside the readable log (including
// removed segments), *CorruptionError if the bytes at pos are not a valid frame (a damaged
// record, or a pos that was never returned by the log), and ErrClosed after Close.
func (l *Log) ReadAt(pos Pos) ([]byte, error) {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	s := l.segmentLocked(pos.Segment)
	if s == nil {
		return nil, fmt.Errorf("%w: no segment %d", ErrNotFound, pos.Segment)
	}
	end := s.size.Load()
	if pos.Offset < segmentHeaderSize || pos.Offset > end-frameHeaderSize {
		return nil, fmt.Errorf("%w: offset %d outside segment %d (readable up to %d)", ErrNotFound, pos.Offset, pos.Segment, end)
	}
	f, err := s.reader(l.path(s.num))
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	var h [frameHeaderSize]byte
	if _, err := f.ReadAt(h[:], pos.Offset); err != nil {
		return nil, fmt.Errorf("wal: reading %v: %w", pos, err)
	}
	fh, ok := parseFrameHeader(h[:])
	if !ok {
		return nil, &CorruptionError{Segment: pos.Segment, Offset: pos.Offset, Err: fmt.Errorf("%w: frame header", ErrChecksum)}
	}
	if fh.length > end-pos.Offset-frameHeaderSize {
		return nil, &CorruptionError{Segment: pos.Segment, Offset: pos.Offset, Err: fmt.Errorf("%w: record of %d bytes", ErrTruncated, fh.length)}
	}
	data := make([]byte, fh.length)
	if _, err := f.ReadAt(data, pos.Offset+frameHeaderSize); err != nil {
		return nil, fmt.Errorf("wal: reading %v: %w", pos, err)
	}
	if crc(data) != fh.payloadCRC {
		return nil, &CorruptionError{Segment: pos.Segment, Offset: pos.Offset, Err: fmt.Errorf("%w: payload of %d bytes", ErrChecksum, fh.length)}
	}
	return data, nil
}

// segmentLocked returns segment n or nil. Segment numbers are contiguous. Needs segMu.
func (l *Log) segmentLocked(n uint32) *segment {
	if len(l.segs) == 0 || n < l.segs[0].num {
		return nil
	}
	i := uint64(n - l.segs[0].num)
	if i >= uint64(len(l.segs)) {
		return nil
	}
	return l.segs[i]
}

// reader returns the segment's read handle, opening it on first use.
func (s *segment) reader(path string) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rf == nil {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		s.rf = f
	}
	return s.rf, nil
}

func (s *segment) closeReader() {
	s.mu.Lock()
	if s.rf != nil {
		s.rf.Close()
		s.rf = nil
	}
	s.mu.Unlock()
}

// RemoveBefore deletes the segment files numbered below seg, oldest first, except the active
// (last) segment, which is never removed. It is how a caller releases log ranges it has stored
// elsewhere; removed records answer ErrNotFound. Removal is made durable with a directory sync.
// A crash can leave some of the files in place; Open accepts that, since the remaining
// segments stay contiguous, and Replay will then return their records again.
func (l *Log) RemoveBefore(seg uint32) error {
	l.segMu.Lock()
	defer l.segMu.Unlock()
	if l.closed {
		return ErrClosed
	}
	removed := 0
	var err error
	for _, s := range l.segs[:len(l.segs)-1] {
		if s.num >= seg {
			break
		}
		s.closeReader()
		if rerr := os.Remove(l.path(s.num)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("wal: removing segment: %w", rerr)
			break
		}
		l.total.Add(-s.size.Load())
		removed++
	}
	if removed == 0 {
		return err
	}
	l.segs = slices.Delete(l.segs, 0, removed)
	if serr := l.fs.syncDir(l.dir); err == nil && serr != nil {
		err = fmt.Errorf("wal: removing segments: %w", serr)
	}
	return err
}
