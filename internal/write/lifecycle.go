package write

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/penstockdb/penstock/internal/storage/record"
)

// CreateStream creates a COMMITTED, PENDING or BUFFERED stream on a table
// and returns it once its creation is durable. Errors: ErrInvalidArgument
// (bad type or table path), ErrTableNotFound, ErrStorage, ErrUnavailable.
func (e *Engine) CreateStream(ctx context.Context, tablePath string, typ StreamType) (StreamInfo, error) {
	ref, err := ParseTable(tablePath)
	if err != nil {
		return StreamInfo{}, newError(ErrInvalidArgument, tablePath, "Invalid table name.")
	}
	if typ != Committed && typ != Pending && typ != Buffered {
		return StreamInfo{}, newError(ErrInvalidArgument, tablePath, "Stream type must be COMMITTED, PENDING or BUFFERED.")
	}
	t, ts, err := e.lookupTable(ctx, ref, tablePath)
	if err != nil {
		return StreamInfo{}, err
	}
	now := e.now().Truncate(time.Microsecond)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return StreamInfo{}, newError(ErrUnavailable, "", "The server is shutting down.")
	}
	id := e.nextStream
	e.nextStream++
	e.mu.Unlock()
	st := &stream{id: id, table: ts, typ: typ, created: now, lastActivity: now, flushed: -1, flushReq: -1}
	st.name = tablePath + "/streams/" + newStreamID(id)
	data := record.AppendStreamCreated(nil, &record.StreamCreated{Stream: id, TableUID: t.UID, Type: typ.record(), Micros: now.UnixMicro(), Name: st.name})
	// Registered after the record is durable, outside the log's callback
	// (which must not take e.mu). If ctx ends first the stream stays
	// unknown until a restart replays it; its name was never returned.
	if err := e.logSync(ctx, data, nil); err != nil {
		return StreamInfo{}, err
	}
	e.mu.Lock()
	if _, ok := e.tables[t.UID]; ok {
		e.streams[st.name] = st
		e.byID[id] = st
	}
	e.mu.Unlock()
	return e.info(st, ref, t.UID, t.Location), nil
}

// GetStream describes a stream. For _default streams CreateTime is zero.
// Errors: ErrInvalidStreamName, ErrTableNotFound, ErrStreamNotFound.
func (e *Engine) GetStream(ctx context.Context, name string) (StreamInfo, error) {
	s, err := e.Resolve(ctx, name)
	if err != nil {
		return StreamInfo{}, err
	}
	ref, _, _ := ParseStream(name)
	info := e.info(s.st, ref, s.table.UID, s.table.Location)
	info.Name = name
	return info, nil
}

func (e *Engine) info(st *stream, ref TableRef, uid int64, location string) StreamInfo {
	info := StreamInfo{Name: st.name, Type: st.typ, Table: ref, TableUID: uid, CreateTime: st.created, Location: location}
	switch st.typ {
	case Committed:
		info.CommitTime = st.created
	case Pending:
		st.table.mu.RLock()
		if st.committed {
			info.CommitTime = st.committedAt
		}
		st.table.mu.RUnlock()
	}
	return info
}

// Finalize stops appends to an explicit stream and returns its row count.
// Finalizing again returns the same count. Errors: ErrNotOnDefault,
// ErrStreamNotFound, ErrTableNotFound, ErrStorage.
func (e *Engine) Finalize(ctx context.Context, name string) (int64, error) {
	s, err := e.Resolve(ctx, name)
	if err != nil {
		return 0, err
	}
	st := s.st
	if st.isDefault {
		return 0, newError(ErrNotOnDefault, name, "FinalizeWriteStream is not supported on the default stream.")
	}
	now := e.now().Truncate(time.Microsecond)
	st.mu.Lock()
	if st.finalized {
		n := st.rowCount
		st.mu.Unlock()
		return n, nil
	}
	st.finalized = true
	st.finalizedAt = now
	st.rowCount = st.end
	n := st.end
	done := make(chan error, 1)
	// Queued under the lock: after every append already accepted.
	e.backend.AppendAsync(record.AppendFinalized(nil, &record.Finalized{Stream: st.id, Micros: now.UnixMicro(), RowCount: n}),
		func(_ Ref, err error) { done <- err })
	st.mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return n, nil
}

// Flush makes rows 0..offset (inclusive) of a BUFFERED stream visible and
// returns offset. Errors: ErrNotOnDefault, ErrInvalidStreamType (not
// BUFFERED), ErrStreamFinalized, ErrFlushBeyondEnd (offset past the
// appended rows), ErrFlushedAlready (offset not beyond the cursor),
// ErrStreamNotFound, ErrStorage.
func (e *Engine) Flush(ctx context.Context, name string, offset int64) (int64, error) {
	s, err := e.Resolve(ctx, name)
	if err != nil {
		return 0, err
	}
	st := s.st
	if st.isDefault {
		return 0, newError(ErrNotOnDefault, name, "FlushRows is not supported on the default stream.")
	}
	if st.typ != Buffered {
		return 0, newError(ErrInvalidStreamType, name, "FlushRows is only supported on BUFFERED streams, this stream is %s.", st.typ)
	}
	if offset < 0 {
		return 0, newError(ErrInvalidArgument, name, "Flush offset must not be negative, got %d.", offset)
	}
	now := e.now()
	st.mu.Lock()
	switch {
	case st.finalized:
		st.mu.Unlock()
		return 0, newError(ErrStreamFinalized, name, "Stream has been finalized and cannot be flushed.")
	case e.expiredLocked(st, now):
		st.mu.Unlock()
		return 0, newError(ErrStreamExpired, name, "Stream is expired and can no longer be used.")
	case offset >= st.end:
		end := st.end
		st.mu.Unlock()
		return 0, &Error{Kind: ErrFlushBeyondEnd, Entity: name, Expected: end, Received: offset,
			Message: fmt.Sprintf("Offset %d is beyond the end of the stream (%d rows).", offset, end)}
	case offset <= st.flushReq:
		cur := st.flushReq
		st.mu.Unlock()
		return 0, &Error{Kind: ErrFlushedAlready, Entity: name, Expected: cur, Received: offset,
			Message: fmt.Sprintf("Stream is already flushed up to offset %d, requested %d.", cur, offset)}
	}
	st.flushReq = offset
	st.lastActivity = now
	ts := st.table
	done := make(chan error, 1)
	e.backend.AppendAsync(record.AppendFlushed(nil, &record.Flushed{Stream: st.id, Offset: offset}), func(_ Ref, err error) {
		if err == nil {
			ts.mu.Lock()
			if offset > st.flushed {
				st.flushed = offset
			}
			ts.mu.Unlock()
		}
		done <- err
	})
	st.mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return offset, nil
}

// StreamError is a per-stream failure of a batch commit.
type StreamError struct {
	Kind    error // ErrStreamNotFound, ErrInvalidStreamType, ErrInvalidStreamState, ErrAlreadyCommitted, ErrWrongTable
	Entity  string
	Message string
}

// BatchCommit atomically commits finalized PENDING streams of one table.
// If any stream fails a check, nothing is committed and the failures are
// returned as StreamErrors (err is nil). err is for request-level
// failures: ErrInvalidArgument (no streams, bad parent), ErrTableNotFound,
// ErrStorage.
func (e *Engine) BatchCommit(ctx context.Context, parent string, names []string) (time.Time, []StreamError, error) {
	ref, err := ParseTable(parent)
	if err != nil {
		return time.Time{}, nil, newError(ErrInvalidArgument, parent, "Invalid table name.")
	}
	if len(names) == 0 {
		return time.Time{}, nil, newError(ErrInvalidArgument, parent, "No streams to commit.")
	}
	t, ts, err := e.lookupTable(ctx, ref, parent)
	if err != nil {
		return time.Time{}, nil, err
	}
	now := e.now().Truncate(time.Microsecond)

	var serrs []StreamError
	seen := map[string]bool{}
	var streams []*stream
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		sref, id, perr := ParseStream(name)
		if perr != nil || id == "_default" {
			serrs = append(serrs, StreamError{Kind: ErrInvalidStreamType, Entity: name, Message: "Stream must be created in pending mode, actual: DEFAULT"})
			if perr != nil {
				serrs[len(serrs)-1] = StreamError{Kind: ErrStreamNotFound, Entity: name, Message: "Invalid stream name."}
			}
			continue
		}
		if sref != ref {
			serrs = append(serrs, StreamError{Kind: ErrWrongTable, Entity: name, Message: "Stream does not belong to table " + parent + "."})
			continue
		}
		e.mu.RLock()
		st := e.streams[name]
		e.mu.RUnlock()
		if st == nil || st.table != ts {
			serrs = append(serrs, StreamError{Kind: ErrStreamNotFound, Entity: name, Message: "Stream is not found."})
			continue
		}
		streams = append(streams, st)
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].id < streams[j].id })
	for _, st := range streams {
		st.mu.Lock()
	}
	unlock := func() {
		for _, st := range streams {
			st.mu.Unlock()
		}
	}
	for _, st := range streams {
		ts.mu.RLock()
		committed := st.committed
		ts.mu.RUnlock()
		switch {
		case st.typ != Pending:
			actual := "WRITE_OPTIMIZED"
			if st.typ == Buffered {
				actual = "BUFFERED"
			}
			serrs = append(serrs, StreamError{Kind: ErrInvalidStreamType, Entity: st.name, Message: "Stream must be created in pending mode, actual: " + actual})
		case committed || st.committing:
			serrs = append(serrs, StreamError{Kind: ErrAlreadyCommitted, Entity: st.name, Message: "Stream is already committed."})
		case !st.finalized:
			serrs = append(serrs, StreamError{Kind: ErrInvalidStreamState, Entity: st.name, Message: "Stream is not yet finalized."})
		case e.expiredLocked(st, now):
			serrs = append(serrs, StreamError{Kind: ErrInvalidStreamState, Entity: st.name, Message: "Stream is expired: its data was garbage collected."})
		}
	}
	if len(serrs) > 0 {
		unlock()
		return time.Time{}, serrs, nil
	}
	ids := make([]uint64, len(streams))
	for i, st := range streams {
		ids[i] = st.id
		st.committing = true
	}
	data := record.AppendCommitted(nil, &record.Committed{TableUID: t.UID, Micros: now.UnixMicro(), Streams: ids})
	err = e.logSync(ctx, data, func() {
		ts.mu.Lock()
		for _, st := range streams {
			st.committed = true
			st.committedAt = now
		}
		ts.mu.Unlock()
	})
	if err != nil && ctx.Err() == nil {
		for _, st := range streams {
			st.committing = false
		}
	}
	unlock()
	if err != nil {
		return time.Time{}, nil, err
	}
	return now, nil, nil
}
