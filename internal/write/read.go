package write

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
	"github.com/penstockdb/penstock/internal/storage/record"
)

// span is the visible part of one chunk in a read snapshot.
type span struct {
	c       chunk
	visible int64
}

// snapshot returns, in log order, the visible spans of a table that hold
// rows start .. start+limit-1 (limit < 0: all), how many rows of the first of
// them to skip, and the total number of visible rows. The spans are
// consistent: a batch commit or flush is either wholly in or wholly out.
// It walks every chunk to count the total but copies only the spans the
// caller needs, so paging through a large table stays linear.
func (e *Engine) snapshot(uid int64, start, limit int64) (spans []span, skip, total int64) {
	e.mu.RLock()
	ts := e.tables[uid]
	e.mu.RUnlock()
	if ts == nil {
		return nil, 0, 0
	}
	if start < 0 {
		start = 0
	}
	want := limit // rows still to cover; < 0: unlimited
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	for i := range ts.chunks {
		c := &ts.chunks[i]
		v := c.visible()
		if v == 0 {
			continue
		}
		total += v
		switch {
		case want == 0:
		case start >= v && len(spans) == 0:
			start -= v
		default:
			got := v
			if len(spans) == 0 {
				skip = start
				got -= skip
			}
			spans = append(spans, span{c: *c, visible: v})
			if want > 0 {
				want = max(want-got, 0)
			}
		}
	}
	return spans, skip, total
}

// ReadRows calls fn for the table's visible rows in log order, skipping the
// first start rows, at most max rows (max < 0: no limit). Rows are
// projected onto t.Schema (columns added after a row was written read as
// NULL). On a table with a primary key, UPSERT and DELETE rows are applied
// per key first (see cdc.go). It returns the total number of visible rows.
// If fn returns an error, ReadRows stops and returns it with the total.
func (e *Engine) ReadRows(ctx context.Context, t *catalog.Table, start, max int64, fn func(rowcodec.Row) error) (int64, error) {
	return e.read(ctx, t, start, max, false, func(r rowcodec.Row, _ RowMeta) error { return fn(r) })
}

// read is ReadRows and ReadRowsMeta: withMeta says whether fn needs each
// row's RowMeta (which costs nothing extra except on ingestion-time
// partitioned tables).
func (e *Engine) read(ctx context.Context, t *catalog.Table, start, max int64, withMeta bool, fn func(rowcodec.Row, RowMeta) error) (int64, error) {
	cutoff := e.bufferCutoff()
	if primaryKey(t) != nil {
		spans, _, _ := e.snapshot(t.UID, 0, -1)
		return e.readMerged(ctx, t, spans, start, max, withMeta, cutoff, fn)
	}
	spans, skip, total := e.snapshot(t.UID, start, max)
	for _, sp := range spans {
		if max == 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		dc, err := e.decodeChunk(ctx, t, sp.c)
		if err != nil {
			return total, err
		}
		var meta RowMeta
		if withMeta {
			meta = chunkMeta(t, sp.c, dc.rec, cutoff)
		}
		end := sp.visible
		if max > 0 && end-skip > max {
			end = skip + max
		}
		for _, r := range dc.rows[skip:end] {
			if err := fn(r, meta); err != nil {
				return total, err
			}
		}
		if max > 0 {
			max -= end - skip
		}
		skip = 0
	}
	return total, nil
}

// readMerged reads every visible row of a primary-key table, applies the
// CDC changes, then pages through the result.
func (e *Engine) readMerged(ctx context.Context, t *catalog.Table, spans []span, start, max int64, withMeta bool, cutoff int64, fn func(rowcodec.Row, RowMeta) error) (int64, error) {
	var rows []rowcodec.Row
	var infos []cdcInfo
	var metas []RowMeta
	for _, sp := range spans {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		dc, err := e.decodeChunk(ctx, t, sp.c)
		if err != nil {
			return 0, err
		}
		rows = append(rows, dc.rows[:sp.visible]...)
		if dc.infos == nil {
			dc.infos = make([]cdcInfo, len(dc.rows))
		}
		infos = append(infos, dc.infos[:sp.visible]...)
		var meta RowMeta
		if withMeta {
			meta = chunkMeta(t, sp.c, dc.rec, cutoff)
		}
		for range sp.visible {
			metas = append(metas, meta)
		}
	}
	keep := mergeChanges(t, rows, infos)
	total := int64(len(keep))
	start = min(max64(start, 0), total)
	end := total
	if max >= 0 && start+max < end {
		end = start + max
	}
	for _, i := range keep[start:end] {
		if err := fn(rows[i], metas[i]); err != nil {
			return total, err
		}
	}
	return total, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// bufferCutoff returns the append time (µs) after which _default-stream
// rows still count as in the streaming buffer.
func (e *Engine) bufferCutoff() int64 {
	if e.opts.StreamingBuffer > 0 {
		return e.now().Add(-e.opts.StreamingBuffer).UnixMicro()
	}
	return -1 << 63 // negative StreamingBuffer: rows never leave it
}

// decodedChunk is one logged Rows record decoded onto a table's schema.
type decodedChunk struct {
	rows  []rowcodec.Row
	infos []cdcInfo // CDC writers only, else nil
	rec   *record.Rows
}

// decodeChunk reads one logged Rows record and decodes all its rows onto
// t's current schema. For rows written by a CDC writer it also returns each
// row's change type and sequence number (nil otherwise).
func (e *Engine) decodeChunk(ctx context.Context, t *catalog.Table, c chunk) (*decodedChunk, error) {
	data, err := e.backend.ReadAt(c.ref)
	if err != nil {
		return nil, fmt.Errorf("%w: reading rows at %v: %v", ErrStorage, c.ref, err)
	}
	rec, err := record.DecodeRows(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	opts := rowcodec.Options{
		Now:            time.UnixMicro(rec.Micros),
		Seed:           rowSeed(rec.Stream, rec.TableUID, rec.First),
		DefaultMissing: rowcodec.MissingValue(rec.DefaultMissing),
	}
	if len(rec.Missing) > 0 {
		opts.MissingValues = make(map[string]rowcodec.MissingValue, len(rec.Missing))
		for _, m := range rec.Missing {
			opts.MissingValues[m.Column] = rowcodec.MissingValue(m.Value)
		}
	}
	rows := make([]rowcodec.Row, 0, len(rec.Rows))
	emit := func(_ int, r rowcodec.Row) error { rows = append(rows, r); return nil }
	var from *schema.Table
	var infos []cdcInfo
	switch rec.Format {
	case record.FormatProto:
		dec, sch, cdc, err := e.protoDecoder(ctx, rec.SchemaID)
		if err != nil {
			return nil, err
		}
		from = sch
		if err := dec.Decode(rec.Rows, &opts, emit); err != nil {
			return nil, fmt.Errorf("%w: decoding stored rows: %v", ErrStorage, err)
		}
		if cdc {
			n := len(sch.Fields) - 2
			infos = make([]cdcInfo, len(rows))
			for i, r := range rows {
				infos[i], _ = changeOf(r, n)
			}
		}
	case record.FormatArrow:
		dec, sch, err := e.arrowDecoder(ctx, rec.SchemaID)
		if err != nil {
			return nil, err
		}
		from = sch
		if len(rec.Rows) != 1 {
			return nil, fmt.Errorf("%w: Arrow rows record with %d batches", ErrStorage, len(rec.Rows))
		}
		if err := dec.Decode(rec.Rows[0], &opts, emit); err != nil {
			return nil, fmt.Errorf("%w: decoding stored rows: %v", ErrStorage, err)
		}
		if len(rows) != rec.RowCount() {
			return nil, fmt.Errorf("%w: Arrow batch holds %d rows, the record says %d", ErrStorage, len(rows), rec.RowCount())
		}
	case record.FormatJSON:
		dec, sch, err := e.jsonDecoder(ctx, rec.TableUID, rec.TableVersion)
		if err != nil {
			return nil, err
		}
		from = sch
		jo := rowcodec.JSONOptions{Options: opts, IgnoreUnknownValues: rec.IgnoreUnknown}
		if err := dec.Decode(rec.Rows, &jo, emit); err != nil {
			return nil, fmt.Errorf("%w: decoding stored rows: %v", ErrStorage, err)
		}
	default:
		return nil, fmt.Errorf("%w: unknown row format %d", ErrStorage, rec.Format)
	}
	if t.SchemaVersion != versionOf(from, t) {
		for i, r := range rows {
			rows[i] = rowcodec.Project(r, from, t.Schema)
		}
	}
	return &decodedChunk{rows: rows, infos: infos, rec: rec}, nil
}

// versionOf is a cheap identity check: the projection is needed whenever
// the decoded schema is not the table's current one.
func versionOf(from *schema.Table, t *catalog.Table) int64 {
	if from == t.Schema {
		return t.SchemaVersion
	}
	return -1
}

func rowSeed(stream uint64, uid, first int64) uint64 {
	h := fnv.New64a()
	var b [24]byte
	binary.LittleEndian.PutUint64(b[:8], stream)
	binary.LittleEndian.PutUint64(b[8:16], uint64(uid))
	binary.LittleEndian.PutUint64(b[16:], uint64(first))
	_, _ = h.Write(b[:])
	return h.Sum64()
}

func (e *Engine) protoDecoder(ctx context.Context, id uint64) (*rowcodec.ProtoDecoder, *schema.Table, bool, error) {
	e.mu.RLock()
	ws := e.schemas[id]
	e.mu.RUnlock()
	if ws == nil || ws.arrow {
		return nil, nil, false, fmt.Errorf("%w: proto writer schema %d missing from log", ErrStorage, id)
	}
	sch, err := e.cat.SchemaAt(ctx, ws.tableUID, ws.version)
	if err != nil {
		return nil, nil, false, fmt.Errorf("%w: schema history: %v", ErrStorage, err)
	}
	if ws.cdc {
		sch = cdcSchema(sch)
	}
	key := decoderKey{format: record.FormatProto, schemaID: id}
	e.decMu.Lock()
	d, ok := e.decoders[key]
	e.decMu.Unlock()
	if ok {
		return d.(*rowcodec.ProtoDecoder), sch, ws.cdc, nil
	}
	var desc descriptorpb.DescriptorProto
	if err := proto.Unmarshal(ws.desc, &desc); err != nil {
		return nil, nil, false, fmt.Errorf("%w: stored descriptor: %v", ErrStorage, err)
	}
	dec, err := rowcodec.CompileProto(&desc, sch)
	if err != nil {
		return nil, nil, false, fmt.Errorf("%w: stored descriptor: %v", ErrStorage, err)
	}
	e.decMu.Lock()
	e.decoders[key] = dec
	e.decMu.Unlock()
	return dec, sch, ws.cdc, nil
}

// arrowDecoder returns the compiled decoder of Arrow writer schema id and
// the table schema it maps onto.
func (e *Engine) arrowDecoder(ctx context.Context, id uint64) (*rowcodec.ArrowDecoder, *schema.Table, error) {
	e.mu.RLock()
	ws := e.schemas[id]
	e.mu.RUnlock()
	if ws == nil || !ws.arrow {
		return nil, nil, fmt.Errorf("%w: Arrow writer schema %d missing from log", ErrStorage, id)
	}
	sch, err := e.cat.SchemaAt(ctx, ws.tableUID, ws.version)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: schema history: %v", ErrStorage, err)
	}
	key := decoderKey{format: record.FormatArrow, schemaID: id}
	e.decMu.Lock()
	d, ok := e.decoders[key]
	e.decMu.Unlock()
	if ok {
		return d.(*rowcodec.ArrowDecoder), sch, nil
	}
	dec, err := rowcodec.CompileArrow(ws.desc, sch)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: stored Arrow schema: %v", ErrStorage, err)
	}
	e.decMu.Lock()
	e.decoders[key] = dec
	e.decMu.Unlock()
	return dec, sch, nil
}

func (e *Engine) jsonDecoder(ctx context.Context, uid, version int64) (*rowcodec.JSONDecoder, *schema.Table, error) {
	sch, err := e.cat.SchemaAt(ctx, uid, version)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: schema history: %v", ErrStorage, err)
	}
	key := decoderKey{format: record.FormatJSON, uid: uid, version: version}
	e.decMu.Lock()
	d, ok := e.decoders[key]
	e.decMu.Unlock()
	if ok {
		return d.(*rowcodec.JSONDecoder), sch, nil
	}
	dec, err := rowcodec.CompileJSON(sch)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	e.decMu.Lock()
	e.decoders[key] = dec
	e.decMu.Unlock()
	return dec, sch, nil
}

// Stats returns the numbers tables.get reports for t.
func (e *Engine) Stats(_ context.Context, t *catalog.Table) (TableStats, error) {
	e.mu.RLock()
	ts := e.tables[t.UID]
	e.mu.RUnlock()
	var st TableStats
	if ts == nil {
		return st, nil
	}
	cutoff := e.bufferCutoff()
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	for i := range ts.chunks {
		c := &ts.chunks[i]
		v := c.visible()
		if v == 0 {
			continue
		}
		bytes := int64(c.bytes) * v / int64(c.n)
		if c.st.isDefault && c.micros > cutoff {
			st.BufferRows += v
			st.BufferBytes += bytes
			if at := time.UnixMicro(c.micros); st.OldestBuffered.IsZero() || at.Before(st.OldestBuffered) {
				st.OldestBuffered = at
			}
			continue
		}
		st.NumRows += v
		st.NumBytes += bytes
	}
	return st, nil
}
