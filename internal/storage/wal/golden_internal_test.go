package wal

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata fixtures from the current code")

// The fixtures of format version N live in testdata/vN: log/ is a small log written by the code,
// torn-tail/ and corrupt-middle/ are damaged copies of it. Regenerate with
//
//	go test ./internal/storage/wal -run TestGolden -update
//
// only together with a formatVersion bump (or when adding fixtures for a new version).
func fixtureDir(name string) string {
	return filepath.Join("testdata", fmt.Sprintf("v%d", formatVersion), name)
}

// goldenOptions and goldenRecords make a log of two segments, three records in the last one.
var goldenOptions = Options{SegmentSize: 300, Sync: SyncNever}

func goldenRecords() [][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return [][]byte{
		{},
		[]byte("penstock"),
		all,
		bytes.Repeat([]byte{'z'}, 200),
		[]byte("hello"),
		[]byte("written by the wal"),
	}
}

func writeGolden(t *testing.T, dir string) []Pos {
	t.Helper()
	l, err := Open(dir, goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	var pos []Pos
	for _, r := range goldenRecords() {
		p, err := l.Append(r) // one Append at a time: one round per record, deterministic flags
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, p)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return pos
}

func readSegments(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = b
	}
	return out
}

func writeSegments(t *testing.T, dir string, segs map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range segs {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGolden_Format fails when the bytes the log writes change without a format version bump.
func TestGolden_Format(t *testing.T) {
	tmp := t.TempDir()
	pos := writeGolden(t, tmp)
	got := readSegments(t, tmp)
	if len(got) != 2 || pos[len(pos)-1].Segment != 2 || pos[len(pos)-3].Segment != 2 {
		t.Fatalf("golden log has %d segments, positions %v; want 2 segments, 3 records in the last", len(got), pos)
	}
	if *update {
		writeSegments(t, fixtureDir("log"), got)
		last := got[segmentName(2)]
		// torn-tail: the last record half written, then zeros to the old length.
		torn := maps2(got)
		cut := int(pos[len(pos)-1].Offset) + 7
		torn[segmentName(2)] = append(bytes.Clone(last[:cut]), make([]byte, len(last)-cut)...)
		writeSegments(t, fixtureDir("torn-tail"), torn)
		// corrupt-middle: one bit of the first record of the last segment flipped.
		bad := maps2(got)
		b := bytes.Clone(last)
		b[pos[len(pos)-3].Offset+frameHeaderSize+3] ^= 0x20
		bad[segmentName(2)] = b
		writeSegments(t, fixtureDir("corrupt-middle"), bad)
	}
	want := readSegments(t, fixtureDir("log"))
	if len(want) == 0 {
		t.Fatalf("no fixtures for format version %d in %s; if the format changed on purpose, run this test with -update", formatVersion, fixtureDir("log"))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || !bytes.Equal(g, w) {
			t.Errorf("%s: the code writes different bytes than the version-%d fixture (%d vs %d bytes); a format change needs a formatVersion bump and new fixtures", name, formatVersion, len(g), len(w))
		}
	}
	if len(got) != len(want) {
		t.Errorf("the code writes %d segment files, the fixture has %d", len(got), len(want))
	}
}

func maps2(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = bytes.Clone(v)
	}
	return out
}

// copyFixture copies a fixture directory, since Open may repair it in place.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	segs := readSegments(t, fixtureDir(name))
	if len(segs) == 0 {
		t.Fatalf("fixture %s is missing", fixtureDir(name))
	}
	dir := filepath.Join(t.TempDir(), name)
	writeSegments(t, dir, segs)
	return dir
}

func replayFixture(t *testing.T, dir string) ([][]byte, error) {
	t.Helper()
	l, err := Open(dir, Options{})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var got [][]byte
	err = l.Replay(func(_ Pos, d []byte) error {
		got = append(got, bytes.Clone(d))
		return nil
	})
	return got, err
}

func TestGolden_Fixtures(t *testing.T) {
	recs := goldenRecords()
	t.Run("log", func(t *testing.T) {
		got, err := replayFixture(t, copyFixture(t, "log"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, recs, bytes.Equal) {
			t.Errorf("replayed %d records that differ from the %d written", len(got), len(recs))
		}
	})
	t.Run("torn-tail", func(t *testing.T) {
		got, err := replayFixture(t, copyFixture(t, "torn-tail"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, recs[:len(recs)-1], bytes.Equal) {
			t.Errorf("replayed %d records, want all but the torn last one", len(got))
		}
	})
	t.Run("corrupt-middle", func(t *testing.T) {
		_, err := replayFixture(t, copyFixture(t, "corrupt-middle"))
		var ce *CorruptionError
		if !errors.As(err, &ce) || !errors.Is(err, ErrChecksum) {
			t.Fatalf("got %v, want *CorruptionError wrapping ErrChecksum", err)
		}
		// The first record of segment 2 follows its 16-byte header.
		if ce.Segment != 2 || ce.Offset != segmentHeaderSize {
			t.Errorf("corruption at %d:%d, want 2:%d", ce.Segment, ce.Offset, segmentHeaderSize)
		}
	})
}
