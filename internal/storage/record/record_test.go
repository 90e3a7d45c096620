package record_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/penstockdb/penstock/internal/storage/record"
)

func TestRoundTrip(t *testing.T) {
	t.Run("StreamCreated", func(t *testing.T) {
		in := &record.StreamCreated{Stream: 7, TableUID: 3, Type: record.TypePending, Micros: -5, Name: "projects/p/datasets/d/tables/t/streams/abc"}
		out, err := record.DecodeStreamCreated(record.AppendStreamCreated(nil, in))
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
	})
	t.Run("Schema", func(t *testing.T) {
		in := &record.Schema{ID: 9, TableUID: 1, TableVersion: 4, Descriptor: []byte{1, 2, 3}}
		out, err := record.DecodeSchema(record.AppendSchema(nil, in))
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
	})
	t.Run("ArrowSchema", func(t *testing.T) {
		in := &record.Schema{ID: 9, TableUID: 1, TableVersion: 4, Descriptor: []byte{0xff, 0xff, 0xff, 0xff, 8}, Format: record.FormatArrow}
		b := record.AppendSchema(nil, in)
		out, err := record.DecodeSchema(b)
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
		// A proto schema keeps the layout records had before Arrow.
		proto := record.AppendSchema(nil, &record.Schema{ID: 9, TableUID: 1, TableVersion: 4, Descriptor: in.Descriptor, Format: record.FormatProto})
		if !bytes.Equal(proto, b[:len(b)-1]) {
			t.Errorf("proto schema record %x, want %x", proto, b[:len(b)-1])
		}
	})
	t.Run("ArrowRows", func(t *testing.T) {
		in := &record.Rows{Stream: 4, TableUID: 2, Micros: 77, Format: record.FormatArrow, SchemaID: 3,
			Rows: [][]byte{[]byte("batch bytes")}, N: 1000}
		b := record.AppendRows(nil, in)
		if len(b) > record.RowsSize(in) {
			t.Fatalf("RowsSize %d < encoded %d", record.RowsSize(in), len(b))
		}
		record.PatchFirst(b, 50)
		in.First = 50
		h, err := record.DecodeHeader(b)
		if err != nil || h.N != 1000 || h.First != 50 {
			t.Fatalf("header %+v, %v; want N 1000, First 50", h, err)
		}
		out, err := record.DecodeRows(b)
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
		if out.RowCount() != 1000 {
			t.Errorf("RowCount %d, want 1000", out.RowCount())
		}
		if _, err := record.DecodeRows(b[:len(b)-1]); !errors.Is(err, record.ErrCorrupt) {
			t.Errorf("truncated: got %v, want ErrCorrupt", err)
		}
	})
	t.Run("Finalized", func(t *testing.T) {
		in := &record.Finalized{Stream: 1 << 40, Micros: 1700000000000000, RowCount: 12}
		out, err := record.DecodeFinalized(record.AppendFinalized(nil, in))
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
	})
	t.Run("Flushed", func(t *testing.T) {
		in := &record.Flushed{Stream: 2, Offset: 99}
		out, err := record.DecodeFlushed(record.AppendFlushed(nil, in))
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
	})
	t.Run("Committed", func(t *testing.T) {
		in := &record.Committed{TableUID: 5, Micros: 1, Streams: []uint64{3, 4, 5}}
		out, err := record.DecodeCommitted(record.AppendCommitted(nil, in))
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
	})
	t.Run("Rows", func(t *testing.T) {
		in := &record.Rows{Stream: 4, TableUID: 2, First: 0, Micros: 77, Format: record.FormatJSON,
			SchemaID: 0, TableVersion: 3, IgnoreUnknown: true, DefaultMissing: 2,
			Missing: []record.MissingValue{{Column: "a", Value: 1}},
			Rows:    [][]byte{[]byte(`{"a":1}`), {}, []byte("xyz")}}
		b := record.AppendRows(nil, in)
		if len(b) > record.RowsSize(in) {
			t.Fatalf("RowsSize %d < encoded %d", record.RowsSize(in), len(b))
		}
		record.PatchFirst(b, 1234)
		in.First = 1234
		out, err := record.DecodeRows(b)
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Fatalf("got %+v, %v; want %+v", out, err, in)
		}
		h, err := record.DecodeHeader(b)
		if err != nil || h.N != 3 || h.First != 1234 || h.Stream != 4 || h.TableUID != 2 || h.Micros != 77 {
			t.Fatalf("header %+v, %v", h, err)
		}
	})
	t.Run("RowsPartition", func(t *testing.T) {
		for _, part := range []int64{0, 1714521600000000, -86400000000} {
			in := &record.Rows{Stream: 0, TableUID: 9, Micros: 5, Format: record.FormatJSON, TableVersion: 1,
				IgnoreUnknown: part != 0, HasPartition: true, PartitionMicros: part,
				Missing: []record.MissingValue{{Column: "c", Value: 2}},
				Rows:    [][]byte{[]byte(`{"a":1}`)}}
			b := record.AppendRows(nil, in)
			if len(b) > record.RowsSize(in) {
				t.Fatalf("RowsSize %d < encoded %d", record.RowsSize(in), len(b))
			}
			out, err := record.DecodeRows(b)
			if err != nil || !reflect.DeepEqual(in, out) {
				t.Fatalf("partition %d: got %+v, %v; want %+v", part, out, err, in)
			}
		}
	})
}

// TestRowsWithoutPartitionLayout pins the bytes of a Rows record without
// a partition, so records written before the partition flag existed keep
// decoding: flags bit 1 clear means no partition varint.
func TestRowsWithoutPartitionLayout(t *testing.T) {
	old := []byte{byte(record.KindRows)}
	old = append(old, 0, 0, 0, 0, 0, 0, 0, 0) // stream 0
	old = append(old, 7, 0, 0, 0, 0, 0, 0, 0) // table 7
	old = append(old, 3, 0, 0, 0, 0, 0, 0, 0) // first 3
	old = append(old, 9, 0, 0, 0, 0, 0, 0, 0) // micros 9
	old = append(old, 1, 0, 0, 0)             // n 1
	old = append(old, byte(record.FormatJSON), 0 /* schemaID */, 2 /* version 1 */, 1 /* flags: ignoreUnknown */, 0 /* defaultMissing */, 0 /* m */)
	old = append(old, 2, '{', '}')
	r, err := record.DecodeRows(old)
	if err != nil {
		t.Fatal(err)
	}
	want := &record.Rows{TableUID: 7, First: 3, Micros: 9, Format: record.FormatJSON, TableVersion: 1, IgnoreUnknown: true, Rows: [][]byte{[]byte("{}")}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %+v, want %+v", r, want)
	}
	if got := record.AppendRows(nil, want); !bytes.Equal(got, old) {
		t.Fatalf("encoding changed:\n got %v\nwant %v", got, old)
	}
}

func TestCorrupt(t *testing.T) {
	full := record.AppendRows(nil, &record.Rows{Stream: 1, TableUID: 1, Format: record.FormatProto, Rows: [][]byte{[]byte("abc"), []byte("de")}})
	for i := 0; i < len(full); i++ {
		if _, err := record.DecodeRows(full[:i]); !errors.Is(err, record.ErrCorrupt) {
			t.Fatalf("truncated at %d: got %v, want ErrCorrupt", i, err)
		}
	}
	if _, err := record.DecodeRows(append(bytes.Clone(full), 0)); !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("trailing byte: got %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(record.AppendRows(nil, &record.Rows{Stream: 1, Rows: [][]byte{[]byte("x")}}))
	f.Add(record.AppendCommitted(nil, &record.Committed{Streams: []uint64{1}}))
	f.Add(record.AppendStreamCreated(nil, &record.StreamCreated{Name: "n"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		switch record.KindOf(b) {
		case record.KindRows:
			if r, err := record.DecodeRows(b); err == nil {
				again, err := record.DecodeRows(record.AppendRows(nil, r))
				if err != nil || !reflect.DeepEqual(again, r) {
					t.Fatalf("re-encoded record decodes to %+v, %v; want %+v", again, err, r)
				}
			}
		case record.KindCommitted:
			_, _ = record.DecodeCommitted(b)
		case record.KindStreamCreated:
			_, _ = record.DecodeStreamCreated(b)
		case record.KindSchema:
			_, _ = record.DecodeSchema(b)
		case record.KindFinalized:
			_, _ = record.DecodeFinalized(b)
		case record.KindFlushed:
			_, _ = record.DecodeFlushed(b)
		}
	})
}
