package write

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/storage/record"
)

// insertAll (tabledata.insertAll) semantics, spec rest-api.md §2.
//
// Request-level problems are errors (nothing is written): a missing
// dataset or table (wrapping catalog.ErrDatasetNotFound or
// catalog.ErrTableNotFound), no rows or too many rows, a bad template
// suffix (ErrInvalidArgument), a bad or out-of-window partition decorator
// (ErrInvalidPartition). Row-level problems are RowErrors in the result.

// Limits of one insertAll request.
const (
	// MaxInsertRows is the most rows one request may carry.
	MaxInsertRows = 50_000
	// MaxInsertIDLength is the longest insertId accepted, in characters.
	MaxInsertIDLength = 128
)

// ErrInvalidPartition reports a partition decorator insertAll cannot
// write to: malformed, on a table that is not partitioned by ingestion
// time per DAY, or naming a day outside the streaming window.
var ErrInvalidPartition = errors.New("write: invalid partition decorator")

// InsertRow is one element of an insertAll request's rows.
type InsertRow struct {
	// InsertID is the row's de-duplication key; "" for none.
	InsertID string
	// JSON is the row's json object as sent; nil when absent or null.
	JSON []byte
}

// InsertRequest is one insertAll call.
type InsertRequest struct {
	Project, Dataset string
	// Table is the table id as addressed, possibly with a partition
	// decorator ("events$20240131").
	Table string
	// TemplateSuffix, when set, makes Table a template: rows go to the
	// table named Table+TemplateSuffix, created from the template first.
	TemplateSuffix string
	Rows           []InsertRow
	// SkipInvalidRows writes the valid rows even when some are invalid.
	SkipInvalidRows bool
	// IgnoreUnknownValues drops keys that name no column instead of
	// rejecting the row.
	IgnoreUnknownValues bool
}

// InsertResult is the outcome of an acceptable insertAll request.
type InsertResult struct {
	// RowErrors lists the problems of the invalid rows, in row order; a
	// row may have several.
	RowErrors []rowcodec.RowError
	// Stopped is true when valid rows were not written because others
	// were invalid (SkipInvalidRows unset): insertAll reports each of them
	// as "stopped".
	Stopped bool
	// Written counts the rows this request stored; Duplicates the valid
	// rows dropped because their insertId was seen within the window.
	Written, Duplicates int
	// Table is the table written to (the instance table for a template).
	Table *catalog.Table
}

// InsertOptions are the flags of InsertRows.
type InsertOptions struct {
	// SkipInvalidRows writes the valid rows even when some are invalid.
	SkipInvalidRows bool
	// IgnoreUnknownValues drops keys that are not columns instead of
	// rejecting the row.
	IgnoreUnknownValues bool
}

// InsertRows validates JSON rows (insertAll `json` objects, no insertIds)
// against t's current schema and appends them to t's _default stream,
// returning once they are durable and visible. Invalid rows are returned
// as RowErrors; unless o.SkipInvalidRows, any invalid row means nothing
// is written. Errors: ErrTableNotFound, ErrStorage, ErrUnavailable,
// context errors.
func (e *Engine) InsertRows(ctx context.Context, t *catalog.Table, rows [][]byte, o InsertOptions) ([]rowcodec.RowError, error) {
	in := make([]InsertRow, len(rows))
	for i, r := range rows {
		in[i] = InsertRow{JSON: r}
	}
	var part insertPartition
	if p, ok := partitionOf(t, e.now().UnixMicro()); ok {
		part = insertPartition{at: p, ok: true}
	}
	res, err := e.insert(ctx, t, in, o, dedupScope{table: t.UID}, part)
	return res.RowErrors, err
}

// InsertAll performs one insertAll request: it resolves the destination
// (creating a template's instance table on first use), validates every
// row, drops rows whose insertId was written to the same destination
// within the de-duplication window, and appends the rest to the table's
// _default stream in one log record. It returns once those rows are
// durable and visible.
//
// Without SkipInvalidRows any invalid row means nothing is written (the
// result lists the invalid rows and sets Stopped). With it the valid rows
// are written and only the invalid ones are listed.
//
// Errors: wrapping catalog.ErrDatasetNotFound or catalog.ErrTableNotFound
// (for a template: the template), ErrInvalidArgument (no rows, more than
// MaxInsertRows, bad template suffix or template), ErrInvalidPartition,
// ErrTableNotFound (table deleted meanwhile), ErrStorage, ErrUnavailable,
// context errors.
func (e *Engine) InsertAll(ctx context.Context, req InsertRequest) (InsertResult, error) {
	base, dec, hasDec := strings.Cut(req.Table, "$")
	t, err := e.cat.GetTable(ctx, req.Project, req.Dataset, base)
	if err != nil {
		return InsertResult{}, fmt.Errorf("insertAll into %s:%s.%s: %w", req.Project, req.Dataset, base, err)
	}
	switch n := len(req.Rows); {
	case n == 0:
		return InsertResult{}, newError(ErrInvalidArgument, "", "No rows present in the request.")
	case n > MaxInsertRows:
		return InsertResult{}, newError(ErrInvalidArgument, "",
			"Too many rows present in the request, limit: %d row count: %d.", MaxInsertRows, n)
	}
	now := e.now()
	scope := dedupScope{}
	var part insertPartition
	if hasDec {
		day, err := decoratorPartition(t, req.Table, dec, now)
		if err != nil {
			return InsertResult{}, err
		}
		part = insertPartition{at: day, ok: true}
		scope.decorator, scope.hasDecorator = day.UnixMicro(), true
	}
	if req.TemplateSuffix != "" {
		tmpl := t
		if t, err = e.templateInstance(ctx, tmpl, req.TemplateSuffix); err != nil {
			return InsertResult{}, err
		}
		scope.template = tmpl.UID
	}
	scope.table = t.UID
	if !part.ok {
		if p, ok := partitionOf(t, now.UnixMicro()); ok {
			part = insertPartition{at: p, ok: true}
		}
	}
	return e.insert(ctx, t, req.Rows, InsertOptions{SkipInvalidRows: req.SkipInvalidRows, IgnoreUnknownValues: req.IgnoreUnknownValues}, scope, part)
}

// insertPartition is the ingestion-time partition a request writes to.
type insertPartition struct {
	at time.Time
	ok bool
}

// insert validates, de-duplicates and appends rows to t.
func (e *Engine) insert(ctx context.Context, t *catalog.Table, rows []InsertRow, o InsertOptions, scope dedupScope, part insertPartition) (InsertResult, error) {
	res := InsertResult{Table: t}
	dec, _, err := e.jsonDecoder(ctx, t.UID, t.SchemaVersion)
	if err != nil {
		return res, err
	}
	ts, err := e.table(t.UID)
	if err != nil {
		return res, err
	}
	now := e.now()
	jo := rowcodec.JSONOptions{Options: rowcodec.Options{Now: now}, IgnoreUnknownValues: o.IgnoreUnknownValues}

	data := make([][]byte, len(rows))
	var pre []rowcodec.RowError
	for i := range rows {
		data[i] = rows[i].JSON
		if id := rows[i].InsertID; len(id) > MaxInsertIDLength && utf8.RuneCountInString(id) > MaxInsertIDLength {
			pre = append(pre, rowcodec.RowError{Index: i, Location: "insertId",
				Message: fmt.Sprintf("insertId is %d characters long; the limit is %d.", utf8.RuneCountInString(id), MaxInsertIDLength)})
		}
		if isEmptyObject(data[i]) {
			data[i] = nil // refused like a missing json object
		}
	}
	rowErrs := mergeRowErrors(pre, dec.Validate(data, &jo))

	valid := validRows(len(rows), rowErrs)
	if col := partitionColumn(t); col >= 0 && len(valid) > 0 {
		perrs, err := columnPartitionErrors(dec, t, col, data, valid, &jo, now)
		if err != nil {
			return res, err
		}
		if len(perrs) > 0 {
			rowErrs = mergeRowErrors(rowErrs, perrs)
			valid = validRows(len(rows), rowErrs)
		}
	}
	res.RowErrors = rowErrs
	if len(rowErrs) > 0 && !o.SkipInvalidRows {
		res.Stopped = true
		return res, nil
	}
	if len(valid) == 0 {
		return res, nil
	}

	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].InsertID
	}
	idx := e.dedupIdx()
	f, keep, waits := idx.claim(scope, ids, valid, now)
	res.Duplicates = len(valid) - len(keep)
	if len(keep) == 0 {
		idx.finish(f, nil)
	} else {
		out := data
		if len(keep) < len(data) {
			out = make([][]byte, len(keep))
			for j, i := range keep {
				out[j] = data[i]
			}
		}
		rec := &record.Rows{
			Stream: record.DefaultStream, TableUID: t.UID, Micros: now.UnixMicro(), Format: record.FormatJSON,
			TableVersion: t.SchemaVersion, IgnoreUnknown: o.IgnoreUnknownValues, Rows: out,
			HasPartition: part.ok, PartitionMicros: part.at.UnixMicro(),
		}
		name := TableRef{Project: t.Project, Dataset: t.Dataset, Table: t.ID}.Path() + DefaultStreamSuffix
		ack := e.appendRecord(&Stream{st: ts.def, table: t, Name: name}, rec, -1, nil, now)
		select {
		case <-ack.Done():
			_, err := ack.Result()
			idx.finish(f, err)
			if err != nil {
				return res, fmt.Errorf("insertAll into %s:%s.%s: %w", t.Project, t.Dataset, t.ID, err)
			}
		case <-ctx.Done():
			// The rows may still become durable; the reservation of their
			// ids stays until the log decides.
			go func() { <-ack.Done(); _, err := ack.Result(); idx.finish(f, err) }()
			return res, ctx.Err()
		}
		res.Written = len(keep)
	}
	// Rows dropped as duplicates of another request's rows are reported
	// as written: answer only once those are durable.
	for _, w := range waits {
		select {
		case <-w.done:
			if w.err != nil {
				return res, fmt.Errorf("insertAll into %s:%s.%s: a concurrent request with the same insertIds failed: %w", t.Project, t.Dataset, t.ID, w.err)
			}
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	return res, nil
}

// isEmptyObject reports whether b is an object without members ("{}",
// possibly with white space), which insertAll refuses like a missing json.
func isEmptyObject(b []byte) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	return i < len(b) && b[i] == '}' && skipSpace(b, i+1) == len(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// mergeRowErrors merges two lists of row errors sorted by row index into
// one, keeping the order of errors within a row (a's first).
func mergeRowErrors(a, b []rowcodec.RowError) []rowcodec.RowError {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := append(append(make([]rowcodec.RowError, 0, len(a)+len(b)), a...), b...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// validRows returns the indexes of rows without errors.
func validRows(n int, errs []rowcodec.RowError) []int {
	out := make([]int, 0, n)
	j := 0
	for i := 0; i < n; i++ {
		bad := false
		for j < len(errs) && errs[j].Index == i {
			bad = true
			j++
		}
		if !bad {
			out = append(out, i)
		}
	}
	return out
}

// templateInstance returns the table a template suffix names, creating it
// from the template on first use: same schema, time and range
// partitioning and clustering (not description or labels). A concurrent
// creation is not an error: the existing table is used.
func (e *Engine) templateInstance(ctx context.Context, tmpl *catalog.Table, suffix string) (*catalog.Table, error) {
	for _, r := range suffix {
		if !(r == '_' || r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')) {
			return nil, newError(ErrInvalidArgument, "", "Invalid template suffix %q: it may contain only letters, digits and underscores.", suffix)
		}
	}
	name := tmpl.ID + suffix
	if len(name) > catalog.MaxIDLength {
		return nil, newError(ErrInvalidArgument, "", "Invalid template suffix: the template name and suffix together are %d characters long; the limit is %d.",
			len(name), catalog.MaxIDLength)
	}
	if tmpl.Schema == nil || len(tmpl.Schema.Fields) == 0 {
		return nil, newError(ErrInvalidArgument, "", "Template table %s:%s.%s has no schema.", tmpl.Project, tmpl.Dataset, tmpl.ID)
	}
	t, err := e.cat.GetTable(ctx, tmpl.Project, tmpl.Dataset, name)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, catalog.ErrTableNotFound) {
		return nil, fmt.Errorf("insertAll: template instance %s: %w", name, err)
	}
	nt := &catalog.Table{Project: tmpl.Project, Dataset: tmpl.Dataset, ID: name, Schema: tmpl.Schema.Clone()}
	if tp := tmpl.TimePartitioning; tp != nil {
		c := *tp
		nt.TimePartitioning = &c
	}
	if rp := tmpl.RangePartitioning; rp != nil {
		c := *rp
		nt.RangePartitioning = &c
	}
	if cl := tmpl.Clustering; cl != nil {
		nt.Clustering = &catalog.Clustering{Fields: append([]string(nil), cl.Fields...)}
	}
	t, err = e.cat.CreateTable(ctx, nt)
	if errors.Is(err, catalog.ErrTableExists) {
		t, err = e.cat.GetTable(ctx, tmpl.Project, tmpl.Dataset, name)
	}
	if err != nil {
		return nil, fmt.Errorf("insertAll: creating template instance %s: %w", name, err)
	}
	return t, nil
}
