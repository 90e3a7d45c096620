package wal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// scanBufferSize is the read-ahead of sequential scans (Open and Replay). Records up to this
// size are handed out straight from the read buffer without a copy.
const scanBufferSize = 1 << 20

// scanner reads the frames of one segment sequentially, verifying both checksums.
type scanner struct {
	r       *bufio.Reader
	seg     uint32
	off     int64 // offset of the next frame
	size    int64 // the scan stops here
	discard int   // bytes of the previous frame still to skip in r
	big     []byte
}

func newScanner(f io.ReaderAt, seg uint32, size int64) *scanner {
	sr := io.NewSectionReader(f, segmentHeaderSize, size-segmentHeaderSize)
	return &scanner{r: bufio.NewReaderSize(sr, scanBufferSize), seg: seg, off: segmentHeaderSize, size: size}
}

// next returns the payload and offset of the next record. The payload is valid until the next
// call. At a clean end it returns io.EOF; damage is returned as *CorruptionError with the
// offset of the damaged frame; anything else is an I/O error.
func (s *scanner) next() (payload []byte, off int64, fh frameHeader, err error) {
	if s.discard > 0 {
		if _, err := s.r.Discard(s.discard); err != nil {
			return nil, 0, fh, s.ioErr(err)
		}
		s.discard = 0
	}
	off = s.off
	remaining := s.size - off
	if remaining == 0 {
		return nil, 0, fh, io.EOF
	}
	if remaining < frameHeaderSize {
		return nil, 0, fh, s.damage(fmt.Errorf("%w: %d bytes left, a frame header needs %d", ErrTruncated, remaining, frameHeaderSize))
	}
	h, err := s.r.Peek(frameHeaderSize)
	if err != nil {
		return nil, 0, fh, s.ioErr(err)
	}
	fh, ok := parseFrameHeader(h)
	if !ok {
		return nil, 0, fh, s.damage(fmt.Errorf("%w: frame header", ErrChecksum))
	}
	if fh.length > remaining-frameHeaderSize {
		return nil, 0, fh, s.damage(fmt.Errorf("%w: record of %d bytes, %d left", ErrTruncated, fh.length, remaining-frameHeaderSize))
	}
	total := frameHeaderSize + int(fh.length)
	if total <= s.r.Size() {
		b, err := s.r.Peek(total)
		if err != nil {
			return nil, 0, fh, s.ioErr(err)
		}
		payload = b[frameHeaderSize:]
		s.discard = total
	} else {
		if _, err := s.r.Discard(frameHeaderSize); err != nil {
			return nil, 0, fh, s.ioErr(err)
		}
		if int64(cap(s.big)) < fh.length {
			s.big = make([]byte, fh.length)
		}
		payload = s.big[:fh.length]
		if _, err := io.ReadFull(s.r, payload); err != nil {
			return nil, 0, fh, s.ioErr(err)
		}
	}
	if crc(payload) != fh.payloadCRC {
		return nil, 0, fh, s.damage(fmt.Errorf("%w: payload of %d bytes", ErrChecksum, fh.length))
	}
	s.off += int64(total)
	return payload, off, fh, nil
}

func (s *scanner) damage(err error) error {
	return &CorruptionError{Segment: s.seg, Offset: s.off, Err: err}
}

func (s *scanner) ioErr(err error) error {
	if errors.Is(err, io.EOF) {
		// The file is shorter than when we measured it.
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("wal: reading %s at offset %d: %w", segmentName(s.seg), s.off, err)
}

// recoverTail scans the last segment (size bytes) and returns the end of its last whole record.
// A damaged frame is a torn tail, to be cut off, unless a later write round survived after it:
// rounds are written one after another, each only once the previous one is durable, so a later
// round proves the damaged bytes were once acknowledged. Then it returns *CorruptionError.
func recoverTail(f io.ReaderAt, seg uint32, size int64) (int64, error) {
	s := newScanner(f, seg, size)
	for {
		_, _, _, err := s.next()
		if err == nil {
			continue
		}
		if err == io.EOF {
			return size, nil
		}
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			return 0, err
		}
		// Where can the next frame start? If the damaged frame's header is intact we trust its
		// length (this also keeps us from mistaking bytes inside its payload for frames);
		// otherwise any later byte may start one.
		from := ce.Offset + 1
		var h [frameHeaderSize]byte
		if ce.Offset+frameHeaderSize <= size {
			if _, err := f.ReadAt(h[:], ce.Offset); err != nil {
				return 0, s.ioErr(err)
			}
			if fh, ok := parseFrameHeader(h[:]); ok {
				from = ce.Offset + frameHeaderSize + fh.length
			}
		}
		at, found, err := findRoundStart(f, from, size)
		if err != nil {
			return 0, fmt.Errorf("wal: reading %s: %w", segmentName(seg), err)
		}
		if found {
			ce.Err = fmt.Errorf("%w; a later write round survives at offset %d, so this is not a torn tail", ce.Err, at)
			return 0, ce
		}
		return ce.Offset, nil
	}
}

// findRoundStart looks for a whole, checksum-valid frame that starts a write round at or after
// from. Where a frame is valid it continues after it; elsewhere it tries every byte offset.
func findRoundStart(r io.ReaderAt, from, size int64) (at int64, found bool, err error) {
	const window = 1 << 20
	buf := make([]byte, window)
	var base, n int64 // buf holds the bytes [base, base+n)
	for pos := from; pos+frameHeaderSize <= size; {
		if pos < base || pos+frameHeaderSize > base+n {
			base, n = pos, min(window, size-pos)
			if _, err := r.ReadAt(buf[:n], base); err != nil {
				return 0, false, err
			}
		}
		h := buf[pos-base : pos-base+frameHeaderSize]
		if isZero(h) {
			// The common torn tail: preallocated or never-written blocks. An all-zero header is
			// never valid, so no frame starts before the byte frameHeaderSize-1 ahead of the
			// next non-zero byte: skip the run (up to the end of buf, which is then refilled).
			pos = max(pos+1, pos+int64(firstNonZero(buf[pos-base:n]))-(frameHeaderSize-1))
			continue
		}
		fh, ok := parseFrameHeader(h)
		if !ok || fh.length > size-pos-frameHeaderSize {
			pos++
			continue
		}
		start := pos + frameHeaderSize
		var sum uint32
		if start+fh.length <= base+n {
			sum = crc(buf[start-base : start-base+fh.length])
		} else if sum, err = crcAt(r, start, fh.length); err != nil {
			return 0, false, err
		}
		if sum != fh.payloadCRC {
			pos++
			continue
		}
		if fh.roundStart {
			return pos, true, nil
		}
		pos = start + fh.length
	}
	return 0, false, nil
}

// zeroBlock is compared against to skip runs of zeros quickly.
var zeroBlock [4096]byte

// firstNonZero returns the index of the first non-zero byte of b, or len(b).
func firstNonZero(b []byte) int {
	i := 0
	for ; len(b)-i >= len(zeroBlock); i += len(zeroBlock) {
		if !bytes.Equal(b[i:i+len(zeroBlock)], zeroBlock[:]) {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] != 0 {
			return i
		}
	}
	return len(b)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// crcAt computes the CRC-32C of n bytes of r starting at off.
func crcAt(r io.ReaderAt, off, n int64) (uint32, error) {
	buf := make([]byte, min(n, 1<<20))
	var sum uint32
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := r.ReadAt(buf[:k], off); err != nil {
			return 0, err
		}
		sum = crc32.Update(sum, castagnoli, buf[:k])
		off += k
		n -= k
	}
	return sum, nil
}
