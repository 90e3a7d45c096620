// Package write is Penstock's stream and commit engine: the domain core of
// the Storage Write API and of insertAll. It owns stream lifecycles,
// offsets, finalize, flush and atomic batch commit, decides which rows are
// visible, and logs every decision to a durable Backend before it is
// acknowledged. It never imports a transport.
//
// State lives in memory and is rebuilt at Open by replaying the backend's
// log; see docs/DESIGN.md for the life of an append and LOCKS.md for the
// lock order (engine.mu → stream.mu (by id) → table.mu).
package write

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/storage/record"
)

// Engine is the stream and commit engine. It is safe for concurrent use.
type Engine struct {
	opts    Options
	backend Backend
	cat     catalog.Catalog

	mu         sync.RWMutex
	closed     bool
	closing    atomic.Bool        // set with closed; read without e.mu
	streams    map[string]*stream // by full name
	byID       map[uint64]*stream
	tables     map[int64]*tableState
	dropped    map[int64]bool
	schemas    map[uint64]*writerSchema
	schemaKeys map[string]*writerSchema
	nextStream uint64
	nextSchema uint64

	stopSweep chan struct{}

	decMu    sync.Mutex
	decoders map[decoderKey]any // *rowcodec.ProtoDecoder or *rowcodec.JSONDecoder

	dedup dedupIndex // insertAll insertIds (dedup.go); its lock is a leaf
}

// tableState is the engine's view of one table's data: the logged row
// chunks in log order, and its _default stream.
type tableState struct {
	uid int64
	def *stream

	mu      sync.RWMutex
	chunks  []chunk
	dropped bool
}

// chunk is one logged Rows record: n rows of stream st starting at offset
// first. Which of them are visible is decided by st's state.
type chunk struct {
	ref    Ref
	st     *stream
	first  int64
	n      int32
	bytes  int32
	micros int64
}

// visible returns how many of c's rows are visible. Caller holds the
// table's mu (read or write).
func (c *chunk) visible() int64 {
	switch c.st.typ {
	case Pending:
		if !c.st.committed {
			return 0
		}
	case Buffered:
		v := c.st.flushed + 1 - c.first
		if v <= 0 {
			return 0
		}
		if v < int64(c.n) {
			return v
		}
	}
	return int64(c.n)
}

type decoderKey struct {
	format   record.RowFormat
	schemaID uint64 // FormatProto
	uid      int64  // FormatJSON
	version  int64  // FormatJSON
}

// Open replays the backend's log and returns a ready engine. It fails if a
// record cannot be decoded (the log is damaged beyond its torn tail).
func Open(ctx context.Context, b Backend, cat catalog.Catalog, opts Options) (*Engine, error) {
	e := &Engine{
		opts:       opts.withDefaults(),
		backend:    b,
		cat:        cat,
		streams:    map[string]*stream{},
		byID:       map[uint64]*stream{},
		tables:     map[int64]*tableState{},
		dropped:    map[int64]bool{},
		schemas:    map[uint64]*writerSchema{},
		schemaKeys: map[string]*writerSchema{},
		decoders:   map[decoderKey]any{},
		nextStream: 1,
		nextSchema: 1,
	}
	r := replayer{e: e, ctx: ctx}
	if err := b.Replay(r.apply); err != nil {
		return nil, fmt.Errorf("write: replaying log: %w", err)
	}
	e.stopSweep = make(chan struct{})
	if e.opts.SweepInterval > 0 {
		go e.sweepLoop(e.opts.SweepInterval, e.stopSweep)
	}
	return e, nil
}

// Close stops accepting work and closes the backend after queued records
// are durable. Later calls return ErrUnavailable.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.closing.Store(true)
	e.mu.Unlock()
	close(e.stopSweep)
	return e.backend.Close()
}

func (e *Engine) now() time.Time { return e.opts.Now() }

// table returns the state for a live catalog table, creating it on first
// use. Caller must not hold e.mu.
func (e *Engine) table(uid int64) (*tableState, error) {
	e.mu.RLock()
	ts, ok := e.tables[uid]
	closed := e.closed
	e.mu.RUnlock()
	if closed {
		return nil, newError(ErrUnavailable, "", "The server is shutting down.")
	}
	if ok {
		return ts, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tableLocked(uid), nil
}

// tableLocked is table with e.mu held for writing.
func (e *Engine) tableLocked(uid int64) *tableState {
	if ts, ok := e.tables[uid]; ok {
		return ts
	}
	ts := &tableState{uid: uid}
	ts.def = &stream{id: record.DefaultStream, table: ts, typ: Default, isDefault: true, flushed: -1}
	e.tables[uid] = ts
	return ts
}

// DropTable forgets a deleted table's data and streams. The catalog calls
// it (through the server's wiring) when a table is deleted.
func (e *Engine) DropTable(uid int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropped[uid] = true
	ts, ok := e.tables[uid]
	if !ok {
		return
	}
	delete(e.tables, uid)
	ts.mu.Lock()
	ts.dropped = true
	ts.chunks = nil
	ts.mu.Unlock()
	for name, st := range e.streams {
		if st.table == ts {
			delete(e.streams, name)
			delete(e.byID, st.id)
		}
	}
}

// lookupTable resolves a table reference through the catalog.
func (e *Engine) lookupTable(ctx context.Context, ref TableRef, entity string) (*catalog.Table, *tableState, error) {
	t, err := e.cat.GetTable(ctx, ref.Project, ref.Dataset, ref.Table)
	if err != nil {
		if errors.Is(err, catalog.ErrTableNotFound) || errors.Is(err, catalog.ErrDatasetNotFound) {
			return nil, nil, newError(ErrTableNotFound, entity, "Requested entity was not found.")
		}
		return nil, nil, fmt.Errorf("%w: catalog: %v", ErrStorage, err)
	}
	ts, err := e.table(t.UID)
	if err != nil {
		return nil, nil, err
	}
	return t, ts, nil
}

// replayer applies logged records to a fresh engine.
type replayer struct {
	e   *Engine
	ctx context.Context
}

func (r *replayer) live(uid int64) *tableState {
	e := r.e
	if ts, ok := e.tables[uid]; ok {
		return ts
	}
	if e.dropped[uid] {
		return nil
	}
	if _, err := e.cat.TableByUID(r.ctx, uid); err != nil {
		e.dropped[uid] = true
		return nil
	}
	return e.tableLocked(uid)
}

func (r *replayer) apply(ref Ref, data []byte) error {
	e := r.e
	switch record.KindOf(data) {
	case record.KindRows:
		h, err := record.DecodeHeader(data)
		if err != nil {
			return err
		}
		ts := r.live(h.TableUID)
		if ts == nil {
			return nil
		}
		st := ts.def
		if h.Stream != record.DefaultStream {
			st = e.byID[h.Stream]
			if st == nil {
				return nil // stream of a dropped table
			}
		}
		if end := h.First + int64(h.N); end > st.end {
			st.end = end
		}
		st.lastActivity = time.UnixMicro(h.Micros)
		ts.chunks = append(ts.chunks, chunk{ref: ref, st: st, first: h.First, n: int32(h.N), bytes: int32(len(data)), micros: h.Micros})
	case record.KindStreamCreated:
		sc, err := record.DecodeStreamCreated(data)
		if err != nil {
			return err
		}
		if sc.Stream >= e.nextStream {
			e.nextStream = sc.Stream + 1
		}
		ts := r.live(sc.TableUID)
		if ts == nil {
			return nil
		}
		created := time.UnixMicro(sc.Micros)
		st := &stream{id: sc.Stream, name: sc.Name, table: ts, typ: typeFromRecord(sc.Type), created: created, lastActivity: created, flushed: -1, flushReq: -1}
		e.streams[st.name] = st
		e.byID[st.id] = st
	case record.KindSchema:
		s, err := record.DecodeSchema(data)
		if err != nil {
			return err
		}
		if s.ID >= e.nextSchema {
			e.nextSchema = s.ID + 1
		}
		ws := &writerSchema{id: s.ID, tableUID: s.TableUID, version: s.TableVersion, desc: append([]byte(nil), s.Descriptor...),
			arrow: s.Format == record.FormatArrow}
		var desc descriptorpb.DescriptorProto
		if !ws.arrow && proto.Unmarshal(ws.desc, &desc) == nil {
			ws.cdc = hasChangeType(&desc)
		}
		ws.key = schemaKey(ws.tableUID, ws.version, ws.desc, ws.arrow)
		e.schemas[ws.id] = ws
		e.schemaKeys[ws.key] = ws
	case record.KindFinalized:
		f, err := record.DecodeFinalized(data)
		if err != nil {
			return err
		}
		if st := e.byID[f.Stream]; st != nil {
			st.finalized = true
			st.finalizedAt = time.UnixMicro(f.Micros)
			st.rowCount = f.RowCount
		}
	case record.KindFlushed:
		f, err := record.DecodeFlushed(data)
		if err != nil {
			return err
		}
		if st := e.byID[f.Stream]; st != nil && f.Offset > st.flushed {
			st.flushed = f.Offset
			st.flushReq = f.Offset
		}
	case record.KindCommitted:
		c, err := record.DecodeCommitted(data)
		if err != nil {
			return err
		}
		for _, id := range c.Streams {
			if st := e.byID[id]; st != nil {
				st.committed = true
				st.committedAt = time.UnixMicro(c.Micros)
			}
		}
	default:
		return fmt.Errorf("%w: unknown record kind %d at %v", record.ErrCorrupt, record.KindOf(data), ref)
	}
	return nil
}

// logSync appends data and waits until it is durable. apply, if not nil,
// runs once the record is durable, before logSync returns and even if ctx
// ends first, so memory never disagrees with what a restart would replay.
func (e *Engine) logSync(ctx context.Context, data []byte, apply func()) error {
	done := make(chan error, 1)
	e.backend.AppendAsync(data, func(_ Ref, err error) {
		if err == nil && apply != nil {
			apply()
		}
		done <- err
	})
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%w: %v", ErrStorage, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
