package write

import (
	"errors"
	"fmt"
)

// Domain errors of the stream and commit engine. Every error the engine
// returns wraps exactly one of these (often inside an *Error that names the
// entity); transports map them to wire codes with errors.Is.
var (
	ErrInvalidStreamName  = errors.New("write: invalid stream name")
	ErrStreamNotFound     = errors.New("write: stream not found")
	ErrTableNotFound      = errors.New("write: table not found")
	ErrStreamFinalized    = errors.New("write: stream finalized")
	ErrOffsetExists       = errors.New("write: offset already exists")
	ErrOffsetOutOfRange   = errors.New("write: offset out of range")
	ErrOffsetOnDefault    = errors.New("write: offset not allowed on the default stream")
	ErrInvalidStreamType  = errors.New("write: invalid stream type")
	ErrInvalidStreamState = errors.New("write: invalid stream state")
	ErrAlreadyCommitted   = errors.New("write: stream already committed")
	ErrStreamExpired      = errors.New("write: stream expired")
	ErrNotOnDefault       = errors.New("write: operation not supported on the default stream")
	ErrFlushedAlready     = errors.New("write: already flushed")
	ErrFlushBeyondEnd     = errors.New("write: flush offset beyond the end of the stream")
	ErrWrongTable         = errors.New("write: stream belongs to another table")
	ErrInvalidArgument    = errors.New("write: invalid argument")
	ErrSchemaExtraFields  = errors.New("write: writer schema has fields the table lacks")
	ErrSchemaIncompatible = errors.New("write: writer schema incompatible with table")
	ErrInvalidDescriptor  = errors.New("write: invalid proto descriptor")
	ErrInvalidRows        = errors.New("write: invalid rows")
	ErrRequestTooLarge    = errors.New("write: request too large")
	ErrUnavailable        = errors.New("write: engine closed")
	ErrStorage            = errors.New("write: storage failure")
)

// Error is an engine error about one entity (a stream or table name).
// Message is the client-facing text without the entity suffix.
type Error struct {
	Kind    error  // one of the Err* sentinels
	Entity  string // full stream or table name
	Message string
	// Expected and Received are set for offset errors: the current end of
	// the stream and the requested offset.
	Expected, Received int64
	// RowErrors is set for ErrInvalidRows.
	RowErrors []RowError
}

// RowError is one bad row of a request (index within the request).
type RowError struct {
	Index    int
	Location string
	Message  string
}

func (e *Error) Error() string {
	if e.Entity == "" {
		return e.Message
	}
	return e.Message + " Entity: " + e.Entity
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, entity, format string, args ...any) *Error {
	return &Error{Kind: kind, Entity: entity, Message: fmt.Sprintf(format, args...)}
}
