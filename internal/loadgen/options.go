// Package loadgen drives a server that speaks BigQuery's Storage Write API
// (gRPC) and REST API the way clients do, measures what it sees and checks
// what was kept: rows/s, MB/s, ack latency, errors by code, the server
// process's memory and CPU, and at the end whether every acknowledged row
// is readable exactly once. It works against Penstock or any other server
// with the same APIs, so runs can be compared side by side.
//
// Run executes one load (a mode, a row shape, N connections) against a
// dataset and table it creates and deletes. Recover starts a server
// process, loads it, kills it with SIGKILL, restarts it and checks every
// acknowledged row survived.
//
// The package is a client: it talks to servers over the network only and
// imports no server package.
package loadgen

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrInvalidOptions is wrapped by the errors Run and Recover return for
// options that cannot work together.
var ErrInvalidOptions = errors.New("loadgen: invalid options")

// Mode is how rows are written.
type Mode string

// The modes.
const (
	// ModeDefault appends to the table's _default stream.
	ModeDefault Mode = "default"
	// ModeCommitted appends to one COMMITTED stream per connection.
	ModeCommitted Mode = "committed"
	// ModePending appends to one PENDING stream per connection; at the end
	// each connection finalizes and commits its own stream.
	ModePending Mode = "pending"
	// ModeBuffered appends to one BUFFERED stream per connection, flushing
	// every FlushInterval and once more at the end.
	ModeBuffered Mode = "buffered"
	// ModeInsertAll posts tabledata.insertAll requests over HTTP.
	ModeInsertAll Mode = "insertall"
	// ModeCommit appends to one PENDING stream per connection, finalizes
	// them all, and commits them with one BatchCommitWriteStreams call
	// whose latency it reports.
	ModeCommit Mode = "commit"
	// ModeMixed gives the connections the gRPC stream types in turn:
	// default, committed, pending (each committed on its own at the end)
	// and buffered.
	ModeMixed Mode = "mixed"
)

// Modes lists every mode.
var Modes = []Mode{ModeDefault, ModeCommitted, ModePending, ModeBuffered, ModeInsertAll, ModeCommit, ModeMixed}

// mixedModes are the modes ModeMixed hands out, by connection number.
var mixedModes = []Mode{ModeDefault, ModeCommitted, ModePending, ModeBuffered}

// forConn returns the mode connection i uses.
func (m Mode) forConn(i int) Mode {
	if m == ModeMixed {
		return mixedModes[i%len(mixedModes)]
	}
	return m
}

// explicit reports whether m writes to streams it creates.
func (m Mode) explicit() bool {
	return m == ModeCommitted || m == ModePending || m == ModeBuffered || m == ModeCommit
}

// Defaults.
const (
	DefaultGRPC           = "127.0.0.1:9060"
	DefaultHTTP           = "http://127.0.0.1:9050"
	DefaultProject        = "bench"
	DefaultConns          = 1
	DefaultRowsPerRequest = 10_000
	DefaultInflight       = 8
	DefaultDuration       = 10 * time.Second
	DefaultFlushInterval  = time.Second
	// DefaultVerifyMaxRows is the largest acknowledged row count read
	// back row by row; above it verification compares counts only.
	DefaultVerifyMaxRows = 5_000_000
	// DefaultDrainTimeout bounds the wait for outstanding acks after the
	// load stops.
	DefaultDrainTimeout = 60 * time.Second
	// DefaultMaxReconnects bounds how often one connection reopens its
	// AppendRows call after it broke.
	DefaultMaxReconnects = 5
)

// Options configure Run. Zero values take the defaults above.
type Options struct {
	// GRPC is the Storage Write API address, host:port (plaintext).
	GRPC string
	// HTTP is the REST API root, e.g. http://127.0.0.1:9050 ("http://" is
	// added when missing).
	HTTP string
	// Project is the project the dataset is created in.
	Project string
	// Mode is how rows are written.
	Mode Mode
	// Conns is the number of concurrent connections (each its own gRPC
	// client connection, AppendRows call and stream, or HTTP client).
	Conns int
	// RowsPerRequest is the number of rows in each request.
	RowsPerRequest int
	// Shape is the row shape.
	Shape Shape
	// Offsets sends an explicit offset with every append (explicit
	// streams only).
	Offsets bool
	// Inflight bounds the unanswered requests per AppendRows connection
	// (insertAll always has one).
	Inflight int
	// Duration is how long to send for; ignored when Rows is set.
	Duration time.Duration
	// Rows, when positive, is the total number of rows to send instead
	// of a duration.
	Rows int64
	// Rate, when positive, caps the total send rate in rows per second
	// (for latency at a chosen load).
	Rate float64
	// FlushInterval is how often BUFFERED streams are flushed.
	FlushInterval time.Duration
	// PID, when positive, is a local server process whose peak memory
	// and CPU are sampled from /proc.
	PID int
	// VerifyMaxRows bounds the row-by-row read-back; negative disables
	// verification.
	VerifyMaxRows int64
	// Keep leaves the dataset in place at the end.
	Keep bool
	// DrainTimeout bounds the wait for outstanding acks at the end.
	DrainTimeout time.Duration
	// MaxReconnects bounds how often a connection is reopened after it
	// broke.
	MaxReconnects int
	// Progress, if not nil, gets a progress line every second.
	Progress io.Writer
}

// withDefaults fills zero fields and checks the combination.
func (o Options) withDefaults() (Options, error) {
	if o.GRPC == "" {
		o.GRPC = DefaultGRPC
	}
	if o.HTTP == "" {
		o.HTTP = DefaultHTTP
	}
	if !strings.Contains(o.HTTP, "://") {
		o.HTTP = "http://" + o.HTTP
	}
	o.HTTP = strings.TrimRight(o.HTTP, "/")
	if o.Project == "" {
		o.Project = DefaultProject
	}
	if o.Mode == "" {
		o.Mode = ModeDefault
	}
	if o.Conns <= 0 {
		o.Conns = DefaultConns
	}
	if o.RowsPerRequest <= 0 {
		o.RowsPerRequest = DefaultRowsPerRequest
	}
	if o.Shape == "" {
		o.Shape = Typical
	}
	if o.Inflight <= 0 {
		o.Inflight = DefaultInflight
	}
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.VerifyMaxRows == 0 {
		o.VerifyMaxRows = DefaultVerifyMaxRows
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.MaxReconnects == 0 {
		o.MaxReconnects = DefaultMaxReconnects
	}
	known := false
	for _, m := range Modes {
		known = known || m == o.Mode
	}
	if !known {
		return o, fmt.Errorf("%w: unknown mode %q (want one of %s)", ErrInvalidOptions, o.Mode, joinModes())
	}
	if o.Offsets && !o.Mode.explicit() && o.Mode != ModeMixed {
		return o, fmt.Errorf("%w: --offsets needs explicit streams (committed, pending, buffered, commit or mixed), not %s", ErrInvalidOptions, o.Mode)
	}
	if o.Mode == ModeInsertAll && o.RowsPerRequest > 50_000 {
		return o, fmt.Errorf("%w: insertAll takes at most 50000 rows per request", ErrInvalidOptions)
	}
	return o, nil
}

func joinModes() string {
	s := make([]string, len(Modes))
	for i, m := range Modes {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}
