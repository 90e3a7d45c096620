package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// These tests build segment files frame by frame, to control which frames start a write round:
// through the public API, how records group into rounds depends on timing.

type testFrame struct {
	data       []byte
	roundStart bool
}

func encodeFrames(frames []testFrame) (b []byte, offsets []int64) {
	b = appendSegmentHeader(nil, 1)
	for _, f := range frames {
		offsets = append(offsets, int64(len(b)))
		var h [frameHeaderSize]byte
		putFrameHeader(h[:], f.data, f.roundStart)
		b = append(append(b, h[:]...), f.data...)
	}
	return b, offsets
}

// rounds turns [[A], [B, C]] into frames where A and B start rounds.
func rounds(rs ...[]string) []testFrame {
	var out []testFrame
	for _, r := range rs {
		for i, s := range r {
			out = append(out, testFrame{[]byte(s), i == 0})
		}
	}
	return out
}

func openBytes(t *testing.T, seg []byte) (*Log, []string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segmentName(1)), seg, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir, Options{Sync: SyncNever})
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { l.Close() })
	var got []string
	if err := l.Replay(func(_ Pos, data []byte) error {
		got = append(got, string(data))
		return nil
	}); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return l, got, nil
}

func TestRecover_TornRound(t *testing.T) {
	// A power loss during a round can leave any of its blocks unwritten, so intact frames may
	// follow a damaged one. They are cut with it as long as none of them starts a later round:
	// a later round is only written after the earlier one is durable and acknowledged.
	tests := []struct {
		name      string
		frames    []testFrame
		victim    int                       // index of the damaged frame
		damage    func(b []byte, off int64) // applied at the victim's offset
		want      []string                  // records after Open, if it succeeds
		corrupted bool                      // Open must fail at the victim
	}{
		{
			name:   "payload damaged, rest of round intact",
			frames: rounds([]string{"A"}, []string{"B-payload", "C", "D"}),
			victim: 1, damage: flipAt(14),
			want: []string{"A"},
		},
		{
			name:   "length damaged, rest of round intact",
			frames: rounds([]string{"A"}, []string{"B-payload", "C", "D"}),
			victim: 1, damage: flipAt(0),
			want: []string{"A"},
		},
		{
			name:   "block of zeros inside the round",
			frames: rounds([]string{"A"}, []string{"B-payload", "C", "D"}),
			victim: 1, damage: func(b []byte, off int64) { clear(b[off : off+15]) },
			want: []string{"A"},
		},
		{
			name:   "middle frame of the last round",
			frames: rounds([]string{"A"}, []string{"B-payload", "C-payload", "D"}),
			victim: 2, damage: flipAt(13),
			want: []string{"A", "B-payload"},
		},
		{
			name:   "last frame",
			frames: rounds([]string{"A"}, []string{"B-payload", "C-payload", "D"}),
			victim: 3, damage: flipAt(5),
			want: []string{"A", "B-payload", "C-payload"},
		},
		{
			name:   "a later round follows",
			frames: rounds([]string{"A"}, []string{"B-payload", "C"}, []string{"D"}),
			victim: 1, damage: flipAt(14),
			corrupted: true,
		},
		{
			name:   "a later round follows a damaged header",
			frames: rounds([]string{"A", "B"}, []string{"C"}),
			victim: 0, damage: flipAt(2),
			corrupted: true,
		},
		{
			name:   "a later round follows a zeroed frame",
			frames: rounds([]string{"A"}, []string{"B-payload"}, []string{"C"}),
			victim: 1, damage: func(b []byte, off int64) { clear(b[off : off+21]) },
			corrupted: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg, offs := encodeFrames(tt.frames)
			tt.damage(seg, offs[tt.victim])
			_, got, err := openBytes(t, seg)
			if tt.corrupted {
				var ce *CorruptionError
				if !errors.As(err, &ce) || ce.Offset != offs[tt.victim] {
					t.Fatalf("Open: got %v, want *CorruptionError at offset %d", err, offs[tt.victim])
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("records after Open: got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRecover_TornRecordHidingAFrame: when a torn record's header is intact, its length is
// trusted, so a valid-looking frame inside its unfinished payload is not taken for a later round.
func TestRecover_TornRecordHidingAFrame(t *testing.T) {
	inner, _ := encodeFrames(rounds([]string{"looks like a round start"}))
	inner = inner[segmentHeaderSize:]
	payload := append(bytes.Repeat([]byte{'p'}, 10), inner...)
	payload = append(payload, bytes.Repeat([]byte{'q'}, 50)...)
	seg, offs := encodeFrames([]testFrame{{[]byte("A"), true}, {payload, true}})
	cut := offs[1] + frameHeaderSize + 10 + int64(len(inner)) + 5 // the inner frame is whole
	_, got, err := openBytes(t, seg[:cut])
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !slices.Equal(got, []string{"A"}) {
		t.Errorf("records after Open: got %q, want [A]", got)
	}
}

func flipAt(i int64) func([]byte, int64) {
	return func(b []byte, off int64) { b[off+i] ^= 0x04 }
}
