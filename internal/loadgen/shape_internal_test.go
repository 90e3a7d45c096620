package loadgen

import (
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TestShapes decodes each shape's hand-encoded proto rows with the
// descriptor it sends, and its JSON rows with encoding/json, and checks
// both carry the same columns and sequence number at the documented size.
func TestShapes(t *testing.T) {
	sizes := map[Shape][2]int{Narrow: {20, 40}, Typical: {90, 110}, Wide: {900, 1100}}
	for _, name := range Shapes {
		t.Run(string(name), func(t *testing.T) {
			s, err := compileShape(name)
			if err != nil {
				t.Fatal(err)
			}
			fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
				Name: proto.String("shape.proto"), Syntax: proto.String("proto2"), MessageType: []*descriptorpb.DescriptorProto{s.desc},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			md := fd.Messages().Get(0)
			ts := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
			for _, seq := range []int64{0, 1, 12345, makeSeq(3, 1<<39)} {
				b := s.appendProto(nil, seq, ts.UnixMicro())
				if lo, hi := sizes[name][0], sizes[name][1]; len(b) < lo || len(b) > hi {
					t.Errorf("seq %d: proto row is %d bytes, want %d..%d", seq, len(b), lo, hi)
				}
				m := dynamicpb.NewMessage(md)
				if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, m); err != nil {
					t.Fatalf("seq %d: %v", seq, err)
				}
				if len(m.GetUnknown()) > 0 {
					t.Errorf("seq %d: unknown fields in the encoding", seq)
				}
				if got := m.Get(md.Fields().ByName("seq")).Int(); got != seq {
					t.Errorf("proto seq: got %d, want %d", got, seq)
				}
				checkAllSet(t, m, s.columns)

				var row map[string]any
				j := s.appendJSON(nil, seq, rfc3339Micros(ts))
				if err := json.Unmarshal(j, &row); err != nil {
					t.Fatalf("seq %d: JSON row %s: %v", seq, j, err)
				}
				if got, ok := row["seq"].(float64); !ok || int64(got) != seq {
					t.Errorf("JSON seq: got %v, want %d", row["seq"], seq)
				}
				if len(row) != len(s.columns) {
					t.Errorf("JSON row has %d keys, schema %d columns: %s", len(row), len(s.columns), j)
				}
				for _, c := range s.columns {
					if _, ok := row[c.name]; !ok {
						t.Errorf("JSON row lacks %s: %s", c.name, j)
					}
				}
				if name == Typical && row["ts"] != "2026-01-02T03:04:05.000006Z" {
					t.Errorf("JSON ts: got %v", row["ts"])
				}
			}
		})
	}
}

// checkAllSet fails unless every column (recursively) has a value.
func checkAllSet(t *testing.T, m protoreflect.Message, cols []column) {
	t.Helper()
	for _, c := range cols {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(c.name))
		if fd == nil || !m.Has(fd) {
			t.Errorf("column %s not set", c.name)
			continue
		}
		if len(c.fields) == 0 {
			continue
		}
		if fd.IsList() {
			l := m.Get(fd).List()
			for i := 0; i < l.Len(); i++ {
				checkAllSet(t, l.Get(i).Message(), c.fields)
			}
		} else {
			checkAllSet(t, m.Get(fd).Message(), c.fields)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	if h.Quantile(0.5) != 0 || h.Summary() != nil {
		t.Fatal("empty histogram reports values")
	}
	// 1..10000 µs: the q-quantile is q*10 ms, within the 1/64 bucket width.
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := time.Duration(q * 10000 * float64(time.Microsecond))
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/64+1 {
			t.Errorf("q%.2f: got %v, want %v (+1/64)", q, got, want)
		}
	}
	if got, want := h.Quantile(1), 10*time.Millisecond; got != want {
		t.Errorf("max quantile: got %v, want %v", got, want)
	}
	var h2 histogram
	h2.Record(time.Second)
	h2.Record(-time.Second)
	h.Merge(&h2)
	if h.Count() != 10002 || h.Summary().Max != 1000 || h.Quantile(0) != 0 {
		t.Errorf("after merge: count %d, summary %+v, min %v", h.Count(), h.Summary(), h.Quantile(0))
	}
	for v := uint64(0); v < 1<<20; v = v*3/2 + 1 {
		if b := bucket(v); bucketValue(b) < v || (b > 0 && bucketValue(b-1) >= v) {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, b, bucketValue(b-1), bucketValue(b))
		}
	}
}

func TestCountBits(t *testing.T) {
	set := make([]uint64, 4)
	var want []bool
	for i := range 256 {
		on := i%3 == 0 || i%7 == 0
		want = append(want, on)
		if on {
			set[i/64] |= 1 << (i % 64)
		}
	}
	for lo := int64(0); lo < 256; lo += 13 {
		for hi := lo; hi <= 256; hi += 29 {
			var n int64
			for i := lo; i < hi; i++ {
				if want[i] {
					n++
				}
			}
			if got := countBits(set, span{lo, hi}); got != n {
				t.Errorf("countBits [%d,%d): got %d, want %d", lo, hi, got, n)
			}
		}
	}
}

func TestLedgerSpans(t *testing.T) {
	var l ledger
	addSpan(&l.acked, 0, 10)
	addSpan(&l.acked, 10, 5)
	addSpan(&l.acked, 20, 5)
	addSpan(&l.acked, 25, 0)
	if got, want := len(l.acked), 2; got != want {
		t.Errorf("spans: got %v, want contiguous ones merged", l.acked)
	}
	if got := count(l.acked); got != 20 {
		t.Errorf("count: got %d, want 20", got)
	}
	l.demote(false)
	if len(l.acked) != 0 || count(l.unknown) != 20 {
		t.Errorf("demote: acked %v unknown %v", l.acked, l.unknown)
	}
}
