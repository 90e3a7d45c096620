package write

import (
	"context"
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
// fn for the table's visible rows in log order (CDC changes applied on
// primary-key tables), skipping the first start rows, at most max rows
// (max < 0: no limit), projected onto t.Schema, and returns the total
// number of visible rows. It stops at, and returns, the first error fn
// returns.
func (e *Engine) ReadRowsMeta(ctx context.Context, t *catalog.Table, start, max int64, fn func(rowcodec.Row, RowMeta) error) (int64, error) {
	return e.read(ctx, t, start, max, true, fn)
}

// chunkMeta returns the RowMeta shared by all rows of a chunk, from the
// chunk and its decoded record.
func chunkMeta(t *catalog.Table, c chunk, rec *record.Rows, cutoff int64) RowMeta {
	m := RowMeta{Appended: time.UnixMicro(c.micros).UTC(), Buffered: c.st.isDefault && c.micros > cutoff}
	if !isIngestionTime(t) {
		return m
	}
	if rec.HasPartition {
		m.Partition = time.UnixMicro(rec.PartitionMicros).UTC()
	} else {
		m.Partition, _ = partitionOf(t, rec.Micros)
	}
	return m
}
