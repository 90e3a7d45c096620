package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// The byte layout below is specified in docs/format/wal.md; change both together and bump
// formatVersion when the bytes change.
const (
	// formatVersion is written into every segment header. Open refuses other versions.
	formatVersion = 1

	// segmentHeaderSize is the size of the header at the start of every segment file, in bytes.
	segmentHeaderSize = 16

	// frameHeaderSize is the size of the header in front of every record payload, in bytes.
	frameHeaderSize = 12

	// MaxRecordSize is the largest payload one record may carry, in bytes (1 GiB - 1). The length
	// field has 30 bits; the top two bits of the same word are flags.
	MaxRecordSize = 1<<30 - 1

	lengthMask     = 1<<30 - 1
	flagRoundStart = 1 << 30 // first frame of a write round (see recovery rules)
	flagReserved   = 1 << 31 // must be zero in version 1

	segmentSuffix = ".wal"
	tmpSuffix     = ".wal.tmp"
)

// segmentMagic opens every segment file.
var segmentMagic = [8]byte{'P', 'N', 'S', 'T', 'K', 'W', 'A', 'L'}

// castagnoli is built once at package init: crc32.MakeTable picks the hardware (SSE4.2 / ARMv8)
// implementation for this polynomial, and building it lazily would put a sync.Once on the hot path.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// segmentName returns the file name of segment n, e.g. 0000000001.wal.
func segmentName(n uint32) string {
	return fmt.Sprintf("%010d%s", n, segmentSuffix)
}

// parseSegmentName returns the segment number of a file name made by segmentName.
func parseSegmentName(name string) (uint32, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 10 {
		return 0, false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

// appendSegmentHeader appends the header of segment n to dst.
func appendSegmentHeader(dst []byte, n uint32) []byte {
	dst = append(dst, segmentMagic[:]...)
	dst = binary.LittleEndian.AppendUint16(dst, formatVersion)
	dst = binary.LittleEndian.AppendUint16(dst, 0) // flags, reserved
	return binary.LittleEndian.AppendUint32(dst, n)
}

// checkSegmentHeader validates the header bytes of segment n.
func checkSegmentHeader(h []byte, n uint32) error {
	if len(h) < segmentHeaderSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadHeader, len(h), segmentHeaderSize)
	}
	if [8]byte(h[:8]) != segmentMagic {
		return fmt.Errorf("%w: bad magic %q", ErrBadHeader, h[:8])
	}
	if v := binary.LittleEndian.Uint16(h[8:]); v != formatVersion {
		return fmt.Errorf("%w: format version %d, this build reads %d", ErrBadHeader, v, formatVersion)
	}
	if fl := binary.LittleEndian.Uint16(h[10:]); fl != 0 {
		return fmt.Errorf("%w: unknown flags %#x", ErrBadHeader, fl)
	}
	if got := binary.LittleEndian.Uint32(h[12:]); got != n {
		return fmt.Errorf("%w: header says segment %d, file name says %d", ErrBadHeader, got, n)
	}
	return nil
}

// putFrameHeader writes the frame header for payload into h (frameHeaderSize bytes).
func putFrameHeader(h []byte, payload []byte, roundStart bool) {
	word := uint32(len(payload))
	if roundStart {
		word |= flagRoundStart
	}
	binary.LittleEndian.PutUint32(h[0:], word)
	binary.LittleEndian.PutUint32(h[4:], crc(payload))
	binary.LittleEndian.PutUint32(h[8:], crc(h[:8]))
}

// frameHeader is a decoded frame header whose own checksum has been verified.
type frameHeader struct {
	length     int64
	payloadCRC uint32
	roundStart bool
}

// parseFrameHeader decodes h (frameHeaderSize bytes). ok is false if the header checksum does not
// match or a reserved bit is set, which is how a torn or zeroed header is recognised.
func parseFrameHeader(h []byte) (fh frameHeader, ok bool) {
	word := binary.LittleEndian.Uint32(h[0:])
	if word&flagReserved != 0 {
		return fh, false
	}
	if binary.LittleEndian.Uint32(h[8:]) != crc(h[:8]) {
		return fh, false
	}
	return frameHeader{
		length:     int64(word & lengthMask),
		payloadCRC: binary.LittleEndian.Uint32(h[4:]),
		roundStart: word&flagRoundStart != 0,
	}, true
}
