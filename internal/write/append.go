package write

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/storage/record"
)

// writerSchema is a logged writer schema (descriptor or Arrow schema + the
// table schema version it was validated against).
type writerSchema struct {
	id       uint64
	tableUID int64
	version  int64
	desc     []byte
	key      string
	cdc      bool // compiled against cdcSchema (carries _CHANGE_TYPE)
	arrow    bool // desc is an encapsulated Arrow Schema message
}

func schemaKey(uid, version int64, desc []byte, arrow bool) string {
	var h [sha256.Size]byte
	if arrow {
		h = sha256.Sum256(append([]byte("arrow\x00"), desc...))
	} else {
		h = sha256.Sum256(desc)
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(uid))
	binary.LittleEndian.PutUint64(b[8:], uint64(version))
	return string(b[:]) + string(h[:])
}

// Writer is a writer schema compiled against a table schema version. A
// connection compiles one per destination and reuses it for every request.
type Writer struct {
	schema *writerSchema
	dec    *rowcodec.ProtoDecoder // proto writers
	adec   *rowcodec.ArrowDecoder // Arrow writers
	table  *catalog.Table         // the table as compiled against
	// cdcMode is what a CDC writer's connection has sent so far: 0
	// nothing, 1 plain rows, 2 UPSERT/DELETE rows. A Writer belongs to one
	// connection, which appends sequentially.
	cdcMode int8
}

// IsArrow reports whether w takes Arrow record batches rather than proto
// rows.
func (w *Writer) IsArrow() bool { return w.adec != nil }

// TableVersion returns the table schema version the writer was compiled
// against.
func (w *Writer) TableVersion() int64 { return w.table.SchemaVersion }

// Table returns the table as the writer was compiled against it.
func (w *Writer) Table() *catalog.Table { return w.table }

// Stream is a resolved stream handle. Connections cache it.
type Stream struct {
	st    *stream
	table *catalog.Table // as resolved; re-read per request for schema changes
	Name  string
}

// TableUID returns the UID of the stream's table.
func (s *Stream) TableUID() int64 { return s.st.table.uid }

// IsDefault reports whether s is a _default stream.
func (s *Stream) IsDefault() bool { return s.st.isDefault }

// Resolve finds a stream by name. Errors: ErrInvalidStreamName,
// ErrTableNotFound, ErrStreamNotFound (all as *Error naming the stream).
func (e *Engine) Resolve(ctx context.Context, name string) (*Stream, error) {
	ref, id, err := ParseStream(name)
	if err != nil {
		return nil, err
	}
	t, ts, err := e.lookupTable(ctx, ref, name)
	if err != nil {
		return nil, err
	}
	if id == "_default" {
		return &Stream{st: ts.def, table: t, Name: name}, nil
	}
	e.mu.RLock()
	st := e.streams[name]
	e.mu.RUnlock()
	if st == nil || st.table != ts {
		return nil, newError(ErrStreamNotFound, name, "Requested entity was not found.")
	}
	return &Stream{st: st, table: t, Name: name}, nil
}

// CompileWriter compiles a writer schema (DescriptorProto) against the
// current schema of the stream's table. Errors: ErrInvalidDescriptor,
// ErrSchemaExtraFields, ErrSchemaIncompatible (as *Error naming the
// stream), ErrTableNotFound.
func (e *Engine) CompileWriter(ctx context.Context, s *Stream, desc *descriptorpb.DescriptorProto) (*Writer, error) {
	t, err := e.cat.TableByUID(ctx, s.TableUID())
	if err != nil {
		return nil, newError(ErrTableNotFound, s.Name, "Requested entity was not found.")
	}
	target := t.Schema
	cdc := hasChangeType(desc) && primaryKey(t) != nil
	if cdc {
		target = cdcSchema(t.Schema)
	}
	dec, err := rowcodec.CompileProto(desc, target)
	if err != nil {
		return nil, compileError(s, err, ErrInvalidDescriptor, "Invalid proto schema: ")
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(desc)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidDescriptor, Entity: s.Name, Message: "Invalid proto schema: " + err.Error()}
	}
	ws, err := e.internSchema(t.UID, t.SchemaVersion, raw, cdc, false)
	if err != nil {
		return nil, err
	}
	return &Writer{schema: ws, dec: dec, table: t}, nil
}

// compileError turns a writer-schema compile error into an engine error
// naming the stream: a *rowcodec.SchemaError by its kind, anything else as
// other (with prefix before its text).
func compileError(s *Stream, err error, other error, prefix string) error {
	var se *rowcodec.SchemaError
	if errors.As(err, &se) {
		kind := ErrSchemaIncompatible
		switch se.Kind {
		case rowcodec.InvalidDescriptor:
			kind = ErrInvalidDescriptor
		case rowcodec.ExtraFields:
			kind = ErrSchemaExtraFields
		}
		return &Error{Kind: kind, Entity: s.Name, Message: se.Message}
	}
	return &Error{Kind: other, Entity: s.Name, Message: prefix + err.Error()}
}

// CompileArrowWriter compiles an Arrow writer schema (an encapsulated IPC
// Schema message, ArrowSchema.serialized_schema) against the current
// schema of the stream's table. Arrow writers carry no CDC pseudo-columns.
// Errors: ErrInvalidDescriptor (the bytes are not an Arrow schema),
// ErrSchemaExtraFields, ErrSchemaIncompatible (as *Error naming the
// stream), ErrTableNotFound.
func (e *Engine) CompileArrowWriter(ctx context.Context, s *Stream, serializedSchema []byte) (*Writer, error) {
	t, err := e.cat.TableByUID(ctx, s.TableUID())
	if err != nil {
		return nil, newError(ErrTableNotFound, s.Name, "Requested entity was not found.")
	}
	dec, err := rowcodec.CompileArrow(serializedSchema, t.Schema)
	if err != nil {
		return nil, compileError(s, err, ErrSchemaIncompatible, "")
	}
	ws, err := e.internSchema(t.UID, t.SchemaVersion, append([]byte(nil), serializedSchema...), false, true)
	if err != nil {
		return nil, err
	}
	return &Writer{schema: ws, adec: dec, table: t}, nil
}

// internSchema returns the logged writer schema for (uid, version, desc),
// logging a new one if needed. The record is queued before any rows that
// use it, so log order keeps replay consistent without waiting.
func (e *Engine) internSchema(uid, version int64, desc []byte, cdc, arrow bool) (*writerSchema, error) {
	key := schemaKey(uid, version, desc, arrow)
	e.mu.RLock()
	ws := e.schemaKeys[key]
	e.mu.RUnlock()
	if ws != nil {
		return ws, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, newError(ErrUnavailable, "", "The server is shutting down.")
	}
	if ws = e.schemaKeys[key]; ws != nil {
		return ws, nil
	}
	ws = &writerSchema{id: e.nextSchema, tableUID: uid, version: version, desc: desc, key: key, cdc: cdc, arrow: arrow}
	e.nextSchema++
	e.schemas[ws.id] = ws
	e.schemaKeys[key] = ws
	rs := &record.Schema{ID: ws.id, TableUID: uid, TableVersion: version, Descriptor: desc, Format: record.FormatProto}
	if arrow {
		rs.Format = record.FormatArrow
	}
	e.backend.AppendAsync(record.AppendSchema(nil, rs), func(Ref, error) {})
	return ws, nil
}

// AppendOptions are the per-request knobs of an append.
type AppendOptions struct {
	// Offset is the requested stream offset, or -1 for none.
	Offset int64
	// MissingValues and DefaultMissing are the missing-value
	// interpretations in force for this request.
	MissingValues  map[string]rowcodec.MissingValue
	DefaultMissing rowcodec.MissingValue
}

// Ack is an append in flight. It completes once the rows are durable
// (and visible, per the stream's type) or have failed.
type Ack struct {
	done   chan struct{}
	offset int64
	err    error
}

// Done is closed when the append has completed.
func (p *Ack) Done() <-chan struct{} { return p.done }

// Result returns the stream offset of the first row (-1 for the default
// stream) and the error, once Done is closed.
func (p *Ack) Result() (int64, error) { return p.offset, p.err }

func failed(err error) *Ack {
	p := &Ack{done: make(chan struct{}), offset: -1, err: err}
	close(p.done)
	return p
}

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// Append validates rows and queues them to the log. Validation order
// follows the Storage Write API: stream state, offset, then rows. The
// returned Ack completes when the rows are durable. For an Arrow writer,
// rows holds exactly one element, the encapsulated RecordBatch message;
// the row count (and so the offset advance) is the batch's. Errors (in
// the Pending): ErrStreamFinalized, ErrStreamExpired, ErrOffsetExists,
// ErrOffsetOutOfRange, ErrOffsetOnDefault, ErrInvalidRows (with
// RowErrors), ErrInvalidArgument (a malformed or empty Arrow batch),
// ErrTableNotFound, ErrStorage, ErrUnavailable.
func (e *Engine) Append(s *Stream, w *Writer, rows [][]byte, o AppendOptions) *Ack {
	st := s.st
	if w.table.UID != st.table.uid {
		return failed(newError(ErrInvalidArgument, s.Name, "The writer schema was set for another table."))
	}
	now := e.now()
	ropts := rowcodec.Options{MissingValues: o.MissingValues, DefaultMissing: o.DefaultMissing, Now: now}
	if w.adec != nil {
		return e.appendArrow(s, w, rows, o, &ropts, now)
	}
	rowErrs := w.dec.Validate(rows, &ropts)
	if len(rowErrs) == 0 && w.schema.cdc {
		if err := w.checkChanges(s, rows, &ropts); err != nil {
			st.mu.Lock()
			cerr := e.checkAppendLocked(s, o.Offset, now)
			st.mu.Unlock()
			if cerr != nil {
				return failed(cerr)
			}
			return failed(err)
		}
	}

	rec := &record.Rows{
		Stream: st.id, TableUID: st.table.uid, Micros: now.UnixMicro(),
		Format: record.FormatProto, SchemaID: w.schema.id, DefaultMissing: byte(o.DefaultMissing), Rows: rows,
	}
	for col, v := range o.MissingValues {
		rec.Missing = append(rec.Missing, record.MissingValue{Column: col, Value: byte(v)})
	}
	return e.appendRecord(s, rec, o.Offset, rowErrs, now)
}

// appendArrow is Append for an Arrow writer.
func (e *Engine) appendArrow(s *Stream, w *Writer, rows [][]byte, o AppendOptions, ropts *rowcodec.Options, now time.Time) *Ack {
	var bad string
	var n int
	var rowErrs rowcodec.RowErrors
	if len(rows) != 1 {
		bad = "An Arrow append carries exactly one serialized_record_batch."
	} else {
		var err error
		n, rowErrs, err = w.adec.Validate(rows[0], ropts)
		switch {
		case err != nil:
			bad = "Invalid Arrow record batch: " + strings.TrimPrefix(err.Error(), "rowcodec: ")
		case n == 0:
			bad = "The request has no rows."
		}
	}
	if bad != "" {
		st := s.st
		st.mu.Lock()
		err := e.checkAppendLocked(s, o.Offset, now)
		st.mu.Unlock()
		if err != nil {
			return failed(err)
		}
		return failed(&Error{Kind: ErrInvalidArgument, Entity: s.Name, Message: bad})
	}
	rec := &record.Rows{
		Stream: s.st.id, TableUID: s.st.table.uid, Micros: now.UnixMicro(),
		Format: record.FormatArrow, SchemaID: w.schema.id, DefaultMissing: byte(o.DefaultMissing), Rows: rows, N: n,
	}
	for col, v := range o.MissingValues {
		rec.Missing = append(rec.Missing, record.MissingValue{Column: col, Value: byte(v)})
	}
	return e.appendRecord(s, rec, o.Offset, rowErrs, now)
}

// appendRecord performs the state and offset checks under the stream lock
// and queues rec. rowErrs, when non-empty, are reported after the state
// and offset checks pass, and nothing is written.
func (e *Engine) appendRecord(s *Stream, rec *record.Rows, offset int64, rowErrs rowcodec.RowErrors, now time.Time) *Ack {
	st := s.st
	if len(rowErrs) > 0 {
		st.mu.Lock()
		err := e.checkAppendLocked(s, offset, now)
		st.mu.Unlock()
		if err != nil {
			return failed(err)
		}
		re := &Error{Kind: ErrInvalidRows, Entity: s.Name,
			Message: "Errors found while processing rows. Please refer to the row_errors field for details. The list may not be complete because of the size limitations."}
		for _, r := range rowErrs {
			re.RowErrors = append(re.RowErrors, RowError{Index: r.Index, Location: r.Location, Message: r.Message})
		}
		return failed(re)
	}

	// Copy the rows into the record outside the lock; only the offset is
	// patched in under it.
	n := int64(rec.RowCount())
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	if need := record.RowsSize(rec); cap(buf) < need {
		buf = make([]byte, 0, need) // one allocation, no regrowth while copying rows
	}
	data := record.AppendRows(buf, rec)
	p := &Ack{done: make(chan struct{})}
	ts := st.table
	micros := rec.Micros

	st.mu.Lock()
	if err := e.checkAppendLocked(s, offset, now); err != nil {
		st.mu.Unlock()
		*bp = data[:0]
		bufPool.Put(bp)
		return failed(err)
	}
	first := st.end
	record.PatchFirst(data, first)
	st.end += n
	st.lastActivity = now
	// Queue under the lock so log order equals offset order.
	e.backend.AppendAsync(data, func(ref Ref, err error) {
		if err != nil {
			p.offset, p.err = -1, fmt.Errorf("%w: %v", ErrStorage, err)
		} else {
			ts.mu.Lock()
			ts.chunks = append(ts.chunks, chunk{ref: ref, st: st, first: first, n: int32(n), bytes: int32(len(data)), micros: micros})
			ts.mu.Unlock()
			p.offset = first
			if st.isDefault {
				p.offset = -1
			}
		}
		*bp = data[:0]
		bufPool.Put(bp)
		close(p.done)
	})
	st.mu.Unlock()
	return p
}

// checkAppendLocked applies the per-stream checks. Caller holds st.mu.
func (e *Engine) checkAppendLocked(s *Stream, offset int64, now time.Time) error {
	st := s.st
	if e.closing.Load() { // atomic: st.mu is held, and e.mu orders before it
		return newError(ErrUnavailable, s.Name, "The server is shutting down.")
	}
	st.table.mu.RLock()
	dropped := st.table.dropped
	st.table.mu.RUnlock()
	if dropped {
		return newError(ErrTableNotFound, s.Name, "Requested entity was not found.")
	}
	if st.isDefault {
		if offset >= 0 {
			return newError(ErrOffsetOnDefault, s.Name, "Offset is not supported on the default stream.")
		}
		return nil
	}
	if st.finalized {
		return newError(ErrStreamFinalized, s.Name, "Stream has been finalized and cannot be appended.")
	}
	if e.expiredLocked(st, now) {
		return newError(ErrStreamExpired, s.Name, "Stream is expired and can no longer be used.")
	}
	if offset >= 0 {
		if offset < st.end {
			return &Error{Kind: ErrOffsetExists, Entity: s.Name, Expected: st.end, Received: offset,
				Message: fmt.Sprintf("The offset is within stream, expected offset %d, received %d", st.end, offset)}
		}
		if offset > st.end {
			return &Error{Kind: ErrOffsetOutOfRange, Entity: s.Name, Expected: st.end, Received: offset,
				Message: fmt.Sprintf("The offset is beyond stream, expected offset %d, received %d", st.end, offset)}
		}
	}
	return nil
}

// expiredLocked reports whether st can no longer be used. Caller holds st.mu.
func (e *Engine) expiredLocked(st *stream, now time.Time) bool {
	switch st.typ {
	case Pending:
		st.table.mu.RLock()
		committed := st.committed
		st.table.mu.RUnlock()
		if committed {
			return false
		}
		if now.Sub(st.created) > e.opts.PendingTTL {
			return true
		}
		return st.finalized && now.Sub(st.finalizedAt) > e.opts.FinalizedTTL
	case Committed:
		return now.Sub(st.lastActivity) > e.opts.CommittedIdleTTL
	case Buffered:
		return now.Sub(st.lastActivity) > e.opts.BufferedIdleTTL
	}
	return false
}
