package restapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/write"
)

// This file is the only place where errors become HTTP responses. Every
// error a handler returns is looked up in errorTable with errors.Is, in
// order; the first match decides the HTTP status, the BigQuery reason, the
// canonical status name and the message. Anything unmatched is an internal
// error: 500 internalError, logged with the request id.
//
// Rule: a deterministic failure (bad input, missing or existing resource)
// must never map to a reason or status the official clients retry
// (backendError, rateLimitExceeded, internalError, 5xx), or a client call
// such as create_dataset(exists_ok=True) spins until its deadline.

// Transport-level errors raised by this package. Handlers wrap them with a
// detail message ("%w: text"); the detail is what the client sees.
var (
	// errBadRequest: the body is not acceptable JSON (reason badRequest).
	errBadRequest = errors.New("restapi: bad request")
	// errPayloadTooLarge: the body exceeds Options.MaxRequestBytes.
	errPayloadTooLarge = errors.New("restapi: payload too large")
	// errInvalid: a parameter or body field has a value BigQuery refuses.
	errInvalid = errors.New("restapi: invalid")
	// errNoRoute: no route has this path.
	errNoRoute = errors.New("restapi: no such route")
	// errMethodNotAllowed: the path exists but not with this HTTP method.
	errMethodNotAllowed = errors.New("restapi: method not allowed")
	// errNotImplemented: the route is part of the API but Penstock does not
	// serve it (yet).
	errNotImplemented = errors.New("restapi: not implemented")
)

// resourceRef names the resource a request addresses, for messages such as
// "Not found: Table p:d.t". Handlers fill it from the path, or from the
// body for inserts.
type resourceRef struct {
	Project, Dataset, Table string
}

func (r resourceRef) datasetName() string { return r.Project + ":" + r.Dataset }
func (r resourceRef) tableName() string   { return r.Project + ":" + r.Dataset + "." + r.Table }

// errorMapping is one row of the table.
type errorMapping struct {
	err    error
	code   int    // HTTP status
	reason string // errors[0].reason
	status string // canonical status name
	// message builds the client-facing text; nil means "the text after the
	// sentinel's own prefix" (see detail).
	message func(err error, ref resourceRef) string
	// log marks server faults that are mapped but must still be logged.
	log bool
}

// errorTable is ordered: the first errors.Is match wins.
var errorTable = []errorMapping{
	// catalog
	{err: catalog.ErrDatasetNotFound, code: http.StatusNotFound, reason: "notFound", status: "NOT_FOUND",
		message: func(_ error, r resourceRef) string { return "Not found: Dataset " + r.datasetName() }},
	{err: catalog.ErrTableNotFound, code: http.StatusNotFound, reason: "notFound", status: "NOT_FOUND",
		message: func(_ error, r resourceRef) string { return "Not found: Table " + r.tableName() }},
	{err: catalog.ErrDatasetExists, code: http.StatusConflict, reason: "duplicate", status: "ALREADY_EXISTS",
		message: func(_ error, r resourceRef) string { return "Already Exists: Dataset " + r.datasetName() }},
	{err: catalog.ErrTableExists, code: http.StatusConflict, reason: "duplicate", status: "ALREADY_EXISTS",
		message: func(_ error, r resourceRef) string { return "Already Exists: Table " + r.tableName() }},
	// BigQuery's status name for resourceInUse is unverified; 400s are
	// INVALID_ARGUMENT elsewhere in its envelopes.
	{err: catalog.ErrDatasetNotEmpty, code: http.StatusBadRequest, reason: "resourceInUse", status: "INVALID_ARGUMENT",
		message: func(_ error, r resourceRef) string { return "Dataset " + r.datasetName() + " is still in use" }},
	{err: catalog.ErrInvalid, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT",
		message: func(err error, _ resourceRef) string { return catalog.Message(err) }},
	{err: catalog.ErrPreconditionFailed, code: http.StatusPreconditionFailed, reason: "conditionNotMet", status: "FAILED_PRECONDITION",
		message: func(error, resourceRef) string { return "Precondition check failed." }},
	// A closed catalog means the server is shutting down: a genuine
	// transient condition, so a retryable answer is right.
	{err: catalog.ErrClosed, code: http.StatusServiceUnavailable, reason: "backendError", status: "UNAVAILABLE",
		message: func(error, resourceRef) string { return "The service is shutting down; retry." }},

	// write (the data path). REST reaches the engine through reads and,
	// later, insertAll; the stream errors belong to the Storage Write API
	// and are mapped only so that none can fall through to a retryable 500.
	{err: write.ErrTableNotFound, code: http.StatusNotFound, reason: "notFound", status: "NOT_FOUND",
		message: func(_ error, r resourceRef) string { return "Not found: Table " + r.tableName() }},
	{err: write.ErrStreamNotFound, code: http.StatusNotFound, reason: "notFound", status: "NOT_FOUND"},
	{err: write.ErrRequestTooLarge, code: http.StatusBadRequest, reason: "badRequest", status: "INVALID_ARGUMENT"},
	{err: write.ErrInvalidRows, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrInvalidArgument, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	// insertAll: a partition decorator the table cannot take, or outside
	// the streaming window.
	{err: write.ErrInvalidPartition, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrInvalidStreamName, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrStreamFinalized, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrOffsetExists, code: http.StatusConflict, reason: "duplicate", status: "ALREADY_EXISTS"},
	{err: write.ErrOffsetOutOfRange, code: http.StatusBadRequest, reason: "invalid", status: "OUT_OF_RANGE"},
	{err: write.ErrOffsetOnDefault, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrInvalidStreamType, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrInvalidStreamState, code: http.StatusBadRequest, reason: "invalid", status: "FAILED_PRECONDITION"},
	{err: write.ErrAlreadyCommitted, code: http.StatusBadRequest, reason: "invalid", status: "FAILED_PRECONDITION"},
	{err: write.ErrStreamExpired, code: http.StatusBadRequest, reason: "invalid", status: "FAILED_PRECONDITION"},
	{err: write.ErrNotOnDefault, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrFlushedAlready, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrFlushBeyondEnd, code: http.StatusBadRequest, reason: "invalid", status: "OUT_OF_RANGE"},
	{err: write.ErrWrongTable, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrSchemaExtraFields, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrSchemaIncompatible, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: write.ErrInvalidDescriptor, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	// Engine closed: shutting down, transient.
	{err: write.ErrUnavailable, code: http.StatusServiceUnavailable, reason: "backendError", status: "UNAVAILABLE",
		message: func(error, resourceRef) string { return "The service is shutting down; retry." }},
	// A storage failure is a genuine server fault: 500, logged, with the
	// generic message (the cause stays in the log).
	{err: write.ErrStorage, code: http.StatusInternalServerError, reason: "internalError", status: "INTERNAL",
		message: func(error, resourceRef) string { return internalMessage }, log: true},

	// this package
	{err: errPayloadTooLarge, code: http.StatusBadRequest, reason: "badRequest", status: "INVALID_ARGUMENT"},
	{err: errBadRequest, code: http.StatusBadRequest, reason: "badRequest", status: "INVALID_ARGUMENT"},
	{err: errInvalid, code: http.StatusBadRequest, reason: "invalid", status: "INVALID_ARGUMENT"},
	{err: errNoRoute, code: http.StatusNotFound, reason: "notFound", status: "NOT_FOUND"},
	{err: errMethodNotAllowed, code: http.StatusMethodNotAllowed, reason: "httpMethodNotAllowed", status: "UNIMPLEMENTED"},
	{err: errNotImplemented, code: http.StatusNotImplemented, reason: "notImplemented", status: "UNIMPLEMENTED"},

	// The caller went away; nobody reads this answer (499 is the
	// conventional "client closed request" code of the CANCELLED status).
	{err: context.Canceled, code: 499, reason: "stopped", status: "CANCELLED",
		message: func(error, resourceRef) string { return "The request was cancelled by the client." }},
}

// internalMessage is the text of a 500; the request id is appended so a
// user can find the log line.
const internalMessage = "An internal error occurred and the request could not be completed."

// apiError is a resolved error, ready to be written.
type apiError struct {
	Code    int
	Reason  string
	Status  string
	Message string
	// Internal is true when err matched nothing; it is logged and
	// answered with the generic 500.
	Internal bool
	// Log is true for mapped server faults, which are logged too.
	Log bool
}

// lookupError resolves err against errorTable.
func lookupError(err error, ref resourceRef) apiError {
	for i := range errorTable {
		m := &errorTable[i]
		if !errors.Is(err, m.err) {
			continue
		}
		var msg string
		if m.message != nil {
			msg = m.message(err, ref)
		} else {
			msg = detail(err, m.err)
		}
		return apiError{Code: m.code, Reason: m.reason, Status: m.status, Message: msg, Log: m.log}
	}
	return apiError{Code: http.StatusInternalServerError, Reason: "internalError", Status: "INTERNAL",
		Message: internalMessage, Internal: true}
}

// detail returns the client-facing part of err: the text following the
// sentinel's own message and ": " (domain errors are built as
// fmt.Errorf("%w: what is wrong", ErrX), possibly wrapped again), or, when
// the sentinel appears without a detail, the text after its package prefix
// ("catalog: invalid" → "invalid").
//
// A typed error whose own text does not repeat the sentinel's (it only
// unwraps to it) is already worded for users and is shown whole.
func detail(err, sentinel error) string {
	msg, s := err.Error(), sentinel.Error()
	if i := strings.Index(msg, s+": "); i >= 0 {
		return msg[i+len(s)+2:]
	}
	if !strings.Contains(msg, s) {
		return msg
	}
	if _, after, ok := strings.Cut(s, ": "); ok {
		return after
	}
	return s
}

// envelope is BigQuery's JSON error body.
type envelope struct {
	Error envelopeError `json:"error"`
}

type envelopeError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  []envelopeItem `json:"errors"`
	Status  string         `json:"status"`
}

type envelopeItem struct {
	Message string `json:"message"`
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
}

// writeAPIError writes e as an error envelope.
func writeAPIError(w http.ResponseWriter, e apiError) {
	writeJSON(w, e.Code, envelope{Error: envelopeError{
		Code:    e.Code,
		Message: e.Message,
		Errors:  []envelopeItem{{Message: e.Message, Domain: "global", Reason: e.Reason}},
		Status:  e.Status,
	}})
}
