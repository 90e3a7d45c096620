package wal

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestFormat_Checksum pins the checksum to CRC-32C (Castagnoli) with its standard check value;
// the IEEE polynomial would give 0xcbf43926.
func TestFormat_Checksum(t *testing.T) {
	if got, want := crc([]byte("123456789")), uint32(0xe3069283); got != want {
		t.Errorf("crc(123456789) = %#x, want %#x", got, want)
	}
}

// TestFormat_Frame checks one frame against bytes worked out by hand in docs/format/wal.md.
func TestFormat_Frame(t *testing.T) {
	h := make([]byte, frameHeaderSize)
	putFrameHeader(h, []byte("penstock"), true)
	want, _ := hex.DecodeString("08000040" + "5deb4734" + "5ee9d9e6")
	if !bytes.Equal(h, want) {
		t.Errorf("frame header = %x, want %x", h, want)
	}
	fh, ok := parseFrameHeader(h)
	if !ok || fh.length != 8 || !fh.roundStart || fh.payloadCRC != 0x3447eb5d {
		t.Errorf("parseFrameHeader = %+v, %v", fh, ok)
	}
	for i := range h {
		b := bytes.Clone(h)
		b[i] ^= 0x01
		if _, ok := parseFrameHeader(b); ok {
			t.Errorf("header with byte %d flipped still parses", i)
		}
	}
	if _, ok := parseFrameHeader(make([]byte, frameHeaderSize)); ok {
		t.Errorf("an all-zero header parses")
	}
}

func TestFormat_SegmentNames(t *testing.T) {
	if got, want := segmentName(1), "0000000001.wal"; got != want {
		t.Errorf("segmentName(1) = %q, want %q", got, want)
	}
	if got, want := segmentName(4294967295), "4294967295.wal"; got != want {
		t.Errorf("segmentName(max) = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		name string
		n    uint32
		ok   bool
	}{
		{"0000000001.wal", 1, true},
		{"0000000042.wal", 42, true},
		{"4294967295.wal", 4294967295, true},
		{"4294967296.wal", 0, false},
		{"0000000000.wal", 0, false},
		{"000000001.wal", 0, false},
		{"000000001a.wal", 0, false},
		{"0000000001.wal.tmp", 0, false},
		{"0000000001.log", 0, false},
	} {
		n, ok := parseSegmentName(tt.name)
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", tt.name, n, ok, tt.n, tt.ok)
		}
	}
}
