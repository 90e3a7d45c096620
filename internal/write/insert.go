package write

import (
	"context"
	"fmt"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/storage/record"
)

// InsertOptions are insertAll's per-request flags.
type InsertOptions struct {
	// SkipInvalidRows writes the valid rows even when some are invalid.
	SkipInvalidRows bool
	// IgnoreUnknownValues drops keys that are not columns instead of
	// rejecting the row.
	IgnoreUnknownValues bool
}

// InsertRows validates JSON rows (insertAll `json` objects) against t's
// current schema and appends them to t's _default stream, returning once
// they are durable and visible. Invalid rows are returned as RowErrors;
// unless o.SkipInvalidRows, any invalid row means nothing is written.
// Errors: ErrTableNotFound, ErrStorage, ErrUnavailable, context errors.
func (e *Engine) InsertRows(ctx context.Context, t *catalog.Table, rows [][]byte, o InsertOptions) ([]rowcodec.RowError, error) {
	dec, _, err := e.jsonDecoder(ctx, t.UID, t.SchemaVersion)
	if err != nil {
		return nil, err
	}
	ts, err := e.table(t.UID)
	if err != nil {
		return nil, err
	}
	now := e.now()
	jo := rowcodec.JSONOptions{Options: rowcodec.Options{Now: now}, IgnoreUnknownValues: o.IgnoreUnknownValues}
	rowErrs := dec.Validate(rows, &jo)
	if len(rowErrs) > 0 {
		if !o.SkipInvalidRows {
			return rowErrs, nil
		}
		bad := make(map[int]bool, len(rowErrs))
		for _, re := range rowErrs {
			bad[re.Index] = true
		}
		good := make([][]byte, 0, len(rows)-len(bad))
		for i, r := range rows {
			if !bad[i] {
				good = append(good, r)
			}
		}
		rows = good
	}
	if len(rows) == 0 {
		return rowErrs, nil
	}
	rec := &record.Rows{
		Stream: record.DefaultStream, TableUID: t.UID, Micros: now.UnixMicro(), Format: record.FormatJSON,
		TableVersion: t.SchemaVersion, IgnoreUnknown: o.IgnoreUnknownValues, Rows: rows,
	}
	name := t.Project + "/" + t.Dataset + "/" + t.ID
	ack := e.appendRecord(&Stream{st: ts.def, table: t, Name: name}, rec, -1, nil, now)
	select {
	case <-ack.Done():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if _, err := ack.Result(); err != nil {
		return nil, fmt.Errorf("inserting into %s: %w", name, err)
	}
	return rowErrs, nil
}
