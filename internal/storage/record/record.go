// Package record defines the meaning of Penstock's write-ahead-log records:
// stream lifecycle events, writer schemas and appended rows. The log itself
// (storage/wal) sees opaque bytes; this package encodes and decodes them.
//
// It is a leaf package (stdlib only) shared by the write engine, which
// produces records, and the storage backends, which persist them. The byte
// layout is specified in docs/format/records.md; changing it requires a
// new Version.
//
// Every record starts with one byte: its Kind. Integers are unsigned or
// zig-zag varints except where a fixed width is noted (fixed fields can be
// patched in place after encoding, see Rows.PatchOffset).
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind identifies a record type.
type Kind byte

// Record kinds. Values are part of the on-disk format: never renumber.
const (
	KindStreamCreated Kind = 1
	KindSchema        Kind = 2
	KindRows          Kind = 3
	KindFinalized     Kind = 4
	KindFlushed       Kind = 5
	KindCommitted     Kind = 6
)

// ErrCorrupt is returned (wrapped) when a record cannot be decoded.
var ErrCorrupt = errors.New("record: corrupt record")

// StreamType is a stream's type as stored.
type StreamType byte

// Stream types. Values are part of the on-disk format.
const (
	TypeCommitted StreamType = 1
	TypePending   StreamType = 2
	TypeBuffered  StreamType = 3
)

// RowFormat says how Rows.Data encodes rows.
type RowFormat byte

// Row formats. Values are part of the on-disk format.
const (
	FormatProto RowFormat = 1 // serialized proto2 messages described by the Schema record
	FormatJSON  RowFormat = 2 // insertAll JSON objects, decoded against the table schema version
	// FormatArrow: one encapsulated Arrow IPC RecordBatch message holding
	// all the record's rows, described by an Arrow Schema record.
	FormatArrow RowFormat = 3
)

// DefaultStream is the stream id of every table's _default stream.
const DefaultStream uint64 = 0

// StreamCreated records a new explicit stream.
type StreamCreated struct {
	Stream   uint64 // engine-assigned id, > 0
	TableUID int64
	Type     StreamType
	Micros   int64 // creation time
	Name     string
}

// Schema records a writer schema validated against a table schema
// version: a serialized DescriptorProto (Format FormatProto, or 0 as in
// records written before Arrow existed) or an encapsulated Arrow IPC
// Schema message (Format FormatArrow). Rows refer to it by ID.
type Schema struct {
	ID           uint64
	TableUID     int64
	TableVersion int64
	Descriptor   []byte
	Format       RowFormat // 0 reads as FormatProto
}

// Finalized records FinalizeWriteStream.
type Finalized struct {
	Stream   uint64
	Micros   int64
	RowCount int64
}

// Flushed records FlushRows: rows 0..Offset (inclusive) are visible.
type Flushed struct {
	Stream uint64
	Offset int64
}

// Committed records an atomic BatchCommitWriteStreams.
type Committed struct {
	TableUID int64
	Micros   int64
	Streams  []uint64
}

// MissingValue is one per-request missing-value interpretation.
type MissingValue struct {
	Column string
	Value  byte
}

// Rows records one accepted append request: N rows starting at stream
// offset First. For FormatProto and FormatArrow, SchemaID names the Schema
// record; for FormatJSON, TableVersion names the table schema version the
// rows were validated against.
type Rows struct {
	Stream         uint64
	TableUID       int64
	First          int64
	Micros         int64 // append time (default expressions see this)
	Format         RowFormat
	SchemaID       uint64
	TableVersion   int64
	IgnoreUnknown  bool // FormatJSON: insertAll ignoreUnknownValues
	DefaultMissing byte
	// HasPartition says the rows were routed to the ingestion-time
	// partition starting at PartitionMicros (UTC, microseconds since the
	// epoch): insertAll into an ingestion-time partitioned table, with or
	// without a partition decorator. Records without it (older records,
	// Storage Write API appends) take the partition from Micros.
	HasPartition    bool
	PartitionMicros int64
	Missing         []MissingValue
	// Rows are the rows exactly as the client sent them. For FormatArrow
	// it holds exactly one element, the record batch message, and N is
	// its row count.
	Rows [][]byte
	// N is the row count of a FormatArrow record (ignored otherwise: the
	// count is len(Rows)).
	N int
}

// RowCount returns the number of rows r records.
func (r *Rows) RowCount() int {
	if r.Format == FormatArrow {
		return r.N
	}
	return len(r.Rows)
}

// Header is the part of a Rows record that recovery needs, decoded
// without touching the row bytes.
type Header struct {
	Stream   uint64
	TableUID int64
	First    int64
	Micros   int64
	N        int
}

// rowsFixed is the size of the fixed-width prefix of a Rows record:
// kind(1) stream(8) table(8) first(8) micros(8) n(4).
const rowsFixed = 1 + 8 + 8 + 8 + 8 + 4

// KindOf returns the kind of an encoded record, or 0 for an empty one.
func KindOf(b []byte) Kind {
	if len(b) == 0 {
		return 0
	}
	return Kind(b[0])
}

// AppendStreamCreated encodes r onto dst.
func AppendStreamCreated(dst []byte, r *StreamCreated) []byte {
	dst = append(dst, byte(KindStreamCreated))
	dst = binary.AppendUvarint(dst, r.Stream)
	dst = binary.AppendVarint(dst, r.TableUID)
	dst = append(dst, byte(r.Type))
	dst = binary.AppendVarint(dst, r.Micros)
	return appendString(dst, r.Name)
}

// AppendSchema encodes r onto dst.
func AppendSchema(dst []byte, r *Schema) []byte {
	dst = append(dst, byte(KindSchema))
	dst = binary.AppendUvarint(dst, r.ID)
	dst = binary.AppendVarint(dst, r.TableUID)
	dst = binary.AppendVarint(dst, r.TableVersion)
	dst = appendBytes(dst, r.Descriptor)
	if r.Format != 0 && r.Format != FormatProto {
		// Proto schemas keep the original layout; others add a format byte.
		dst = append(dst, byte(r.Format))
	}
	return dst
}

// AppendFinalized encodes r onto dst.
func AppendFinalized(dst []byte, r *Finalized) []byte {
	dst = append(dst, byte(KindFinalized))
	dst = binary.AppendUvarint(dst, r.Stream)
	dst = binary.AppendVarint(dst, r.Micros)
	return binary.AppendVarint(dst, r.RowCount)
}

// AppendFlushed encodes r onto dst.
func AppendFlushed(dst []byte, r *Flushed) []byte {
	dst = append(dst, byte(KindFlushed))
	dst = binary.AppendUvarint(dst, r.Stream)
	return binary.AppendVarint(dst, r.Offset)
}

// AppendCommitted encodes r onto dst.
func AppendCommitted(dst []byte, r *Committed) []byte {
	dst = append(dst, byte(KindCommitted))
	dst = binary.AppendVarint(dst, r.TableUID)
	dst = binary.AppendVarint(dst, r.Micros)
	dst = binary.AppendUvarint(dst, uint64(len(r.Streams)))
	for _, s := range r.Streams {
		dst = binary.AppendUvarint(dst, s)
	}
	return dst
}

// AppendRows encodes r onto dst. The fixed-width prefix lets PatchFirst
// set the stream offset after encoding, so the (large) row bytes can be
// copied outside the stream lock.
func AppendRows(dst []byte, r *Rows) []byte {
	dst = append(dst, byte(KindRows))
	dst = binary.LittleEndian.AppendUint64(dst, r.Stream)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.TableUID))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.First))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(r.Micros))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(r.RowCount()))
	dst = append(dst, byte(r.Format))
	dst = binary.AppendUvarint(dst, r.SchemaID)
	dst = binary.AppendVarint(dst, r.TableVersion)
	var flags byte
	if r.IgnoreUnknown {
		flags |= flagIgnoreUnknown
	}
	if r.HasPartition {
		flags |= flagPartition
	}
	dst = append(dst, flags, r.DefaultMissing)
	if r.HasPartition {
		dst = binary.AppendVarint(dst, r.PartitionMicros)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Missing)))
	for _, m := range r.Missing {
		dst = appendString(dst, m.Column)
		dst = append(dst, m.Value)
	}
	for _, row := range r.Rows {
		dst = appendBytes(dst, row)
	}
	return dst
}

// Rows flags bits. Values are part of the on-disk format.
const (
	flagIgnoreUnknown = 1 << 0
	flagPartition     = 1 << 1 // a varint partition follows defaultMissing
)

// RowsSize returns an upper bound of the encoded size of r, for sizing
// buffers.
func RowsSize(r *Rows) int {
	n := rowsFixed + 1 + 4*binary.MaxVarintLen64 + 2
	for _, m := range r.Missing {
		n += binary.MaxVarintLen64 + len(m.Column) + 1
	}
	for _, row := range r.Rows {
		n += binary.MaxVarintLen64 + len(row)
	}
	return n
}

// PatchFirst overwrites the stream offset of an encoded Rows record.
func PatchFirst(b []byte, first int64) {
	binary.LittleEndian.PutUint64(b[17:25], uint64(first))
}

// DecodeHeader decodes the fixed prefix of an encoded Rows record.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < rowsFixed || Kind(b[0]) != KindRows {
		return Header{}, fmt.Errorf("%w: short rows header", ErrCorrupt)
	}
	return Header{
		Stream:   binary.LittleEndian.Uint64(b[1:9]),
		TableUID: int64(binary.LittleEndian.Uint64(b[9:17])),
		First:    int64(binary.LittleEndian.Uint64(b[17:25])),
		Micros:   int64(binary.LittleEndian.Uint64(b[25:33])),
		N:        int(binary.LittleEndian.Uint32(b[33:37])),
	}, nil
}

// DecodeRows decodes a whole Rows record. The returned row slices alias b.
func DecodeRows(b []byte) (*Rows, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	d := decoder{b: b, i: rowsFixed}
	r := &Rows{Stream: h.Stream, TableUID: h.TableUID, First: h.First, Micros: h.Micros}
	r.Format = RowFormat(d.byte())
	r.SchemaID = d.uvarint()
	r.TableVersion = d.varint()
	flags := d.byte()
	r.IgnoreUnknown = flags&flagIgnoreUnknown != 0
	r.DefaultMissing = d.byte()
	if flags&flagPartition != 0 {
		r.HasPartition = true
		r.PartitionMicros = d.varint()
	}
	nm := d.count()
	for i := 0; i < nm && d.err == nil; i++ {
		r.Missing = append(r.Missing, MissingValue{Column: d.string(), Value: d.byte()})
	}
	if r.Format == FormatArrow {
		r.N = h.N
		r.Rows = [][]byte{d.bytes()}
		if err := d.finish(); err != nil {
			return nil, err
		}
		return r, nil
	}
	if h.N > len(b) {
		return nil, fmt.Errorf("%w: row count %d exceeds record size", ErrCorrupt, h.N)
	}
	r.Rows = make([][]byte, h.N)
	for i := range r.Rows {
		r.Rows[i] = d.bytes()
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeStreamCreated decodes a KindStreamCreated record.
func DecodeStreamCreated(b []byte) (*StreamCreated, error) {
	d := decoder{b: b, i: 1}
	if err := d.kind(KindStreamCreated); err != nil {
		return nil, err
	}
	r := &StreamCreated{Stream: d.uvarint(), TableUID: d.varint(), Type: StreamType(d.byte()), Micros: d.varint()}
	r.Name = d.string()
	return r, d.finish()
}

// DecodeSchema decodes a KindSchema record. Descriptor aliases b.
func DecodeSchema(b []byte) (*Schema, error) {
	d := decoder{b: b, i: 1}
	if err := d.kind(KindSchema); err != nil {
		return nil, err
	}
	r := &Schema{ID: d.uvarint(), TableUID: d.varint(), TableVersion: d.varint()}
	r.Descriptor = d.bytes()
	if d.err == nil && d.i < len(d.b) {
		r.Format = RowFormat(d.byte())
	}
	return r, d.finish()
}

// DecodeFinalized decodes a KindFinalized record.
func DecodeFinalized(b []byte) (*Finalized, error) {
	d := decoder{b: b, i: 1}
	if err := d.kind(KindFinalized); err != nil {
		return nil, err
	}
	r := &Finalized{Stream: d.uvarint(), Micros: d.varint(), RowCount: d.varint()}
	return r, d.finish()
}

// DecodeFlushed decodes a KindFlushed record.
func DecodeFlushed(b []byte) (*Flushed, error) {
	d := decoder{b: b, i: 1}
	if err := d.kind(KindFlushed); err != nil {
		return nil, err
	}
	r := &Flushed{Stream: d.uvarint(), Offset: d.varint()}
	return r, d.finish()
}

// DecodeCommitted decodes a KindCommitted record.
func DecodeCommitted(b []byte) (*Committed, error) {
	d := decoder{b: b, i: 1}
	if err := d.kind(KindCommitted); err != nil {
		return nil, err
	}
	r := &Committed{TableUID: d.varint(), Micros: d.varint()}
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		r.Streams = append(r.Streams, d.uvarint())
	}
	return r, d.finish()
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decoder reads fields sequentially and remembers the first error, so
// decode functions stay linear.
type decoder struct {
	b   []byte
	i   int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s at byte %d", ErrCorrupt, what, d.i)
	}
}

func (d *decoder) kind(k Kind) error {
	if len(d.b) == 0 || Kind(d.b[0]) != k {
		return fmt.Errorf("%w: want kind %d", ErrCorrupt, k)
	}
	return nil
}

func (d *decoder) byte() byte {
	if d.err != nil || d.i >= len(d.b) {
		d.fail("byte")
		return 0
	}
	c := d.b[d.i]
	d.i++
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.i += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.i += n
	return v
}

// count reads a length that must fit in the remaining bytes (each counted
// item takes at least one byte), which bounds allocations on corrupt input.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)-d.i) {
		d.fail("count")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	b := d.b[d.i : d.i+n : d.i+n]
	d.i += n
	return b
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	if d.i != len(d.b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b)-d.i)
	}
	return nil
}
