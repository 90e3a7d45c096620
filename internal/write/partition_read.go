package write

import (
	"context"
	"fmt"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/storage/record"
)

// RowMeta is what a SQL layer needs to expose the pseudo-columns of a row
// that are not part of SELECT *.
type RowMeta struct {
	// Partition is the start (UTC) of the row's ingestion-time partition:
	// the day a partition decorator named, or the append time truncated
	// to the table's granularity. It is zero when the table is not
	// partitioned by ingestion time.
	Partition time.Time
	// Buffered reports whether the row is still in the streaming buffer
	// (the rule of Stats: written through a _default stream or insertAll
	// less than Options.StreamingBuffer ago). BigQuery reads
	// _PARTITIONTIME and _PARTITIONDATE as NULL for such rows.
	Buffered bool
	// Appended is when the row was appended.
	Appended time.Time
}

// PartitionTime returns the row's _PARTITIONTIME: Partition, or ok=false
// (NULL) when the table is not partitioned by ingestion time or the row is
// still buffered.
func (m RowMeta) PartitionTime() (t time.Time, ok bool) {
	if m.Partition.IsZero() || m.Buffered {
		return time.Time{}, false
	}
	return m.Partition, true
}

// ReadRowsMeta is ReadRows that also passes each row's RowMeta: it calls
// fn for the table's visible rows in log order, skipping the first start
// rows, at most max rows (max < 0: no limit), projected onto t.Schema, and
// returns the total number of visible rows. It stops at, and returns, the
// first error fn returns. Rows come as appended: on a table with a primary
// key it does not apply CDC changes the way ReadRows does.
func (e *Engine) ReadRowsMeta(ctx context.Context, t *catalog.Table, start, max int64, fn func(rowcodec.Row, RowMeta) error) (int64, error) {
	spans, total := e.snapshot(t.UID)
	if start < 0 {
		start = 0
	}
	cutoff := int64(-1 << 63) // negative StreamingBuffer: rows never leave it
	if e.opts.StreamingBuffer > 0 {
		cutoff = e.now().Add(-e.opts.StreamingBuffer).UnixMicro()
	}
	for _, sp := range spans {
		if max == 0 {
			break
		}
		if start >= sp.visible {
			start -= sp.visible
			continue
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		meta, err := e.chunkMeta(t, sp.c, cutoff)
		if err != nil {
			return total, err
		}
		rows, _, err := e.decodeChunk(ctx, t, sp.c)
		if err != nil {
			return total, err
		}
		end := sp.visible
		if max > 0 && end-start > max {
			end = start + max
		}
		for _, r := range rows[start:end] {
			if err := fn(r, meta); err != nil {
				return total, err
			}
		}
		if max > 0 {
			max -= end - start
		}
		start = 0
	}
	return total, nil
}

// chunkMeta returns the RowMeta shared by all rows of a chunk. Only
// ingestion-time partitioned tables need the record itself (for a
// decorator's partition).
func (e *Engine) chunkMeta(t *catalog.Table, c chunk, cutoff int64) (RowMeta, error) {
	m := RowMeta{Appended: time.UnixMicro(c.micros).UTC(), Buffered: c.st.isDefault && c.micros > cutoff}
	if !isIngestionTime(t) {
		return m, nil
	}
	data, err := e.backend.ReadAt(c.ref)
	if err != nil {
		return m, fmt.Errorf("%w: reading rows at %v: %v", ErrStorage, c.ref, err)
	}
	rec, err := record.DecodeRows(data)
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if rec.HasPartition {
		m.Partition = time.UnixMicro(rec.PartitionMicros).UTC()
	} else {
		m.Partition, _ = partitionOf(t, rec.Micros)
	}
	return m, nil
}
