package write

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/penstockdb/penstock/internal/storage/record"
)

// StreamType is a write stream's type.
type StreamType int

// Stream types. Default is the implicit _default stream of every table
// (reported as COMMITTED by the API).
const (
	Default StreamType = iota
	Committed
	Pending
	Buffered
)

func (t StreamType) String() string {
	switch t {
	case Default:
		return "DEFAULT"
	case Committed:
		return "COMMITTED"
	case Pending:
		return "PENDING"
	case Buffered:
		return "BUFFERED"
	}
	return "UNKNOWN"
}

func (t StreamType) record() record.StreamType {
	switch t {
	case Pending:
		return record.TypePending
	case Buffered:
		return record.TypeBuffered
	}
	return record.TypeCommitted
}

func typeFromRecord(t record.StreamType) StreamType {
	switch t {
	case record.TypePending:
		return Pending
	case record.TypeBuffered:
		return Buffered
	}
	return Committed
}

// TableRef names a table.
type TableRef struct {
	Project, Dataset, Table string
}

// Path returns "projects/p/datasets/d/tables/t".
func (r TableRef) Path() string {
	return "projects/" + r.Project + "/datasets/" + r.Dataset + "/tables/" + r.Table
}

// DefaultStreamSuffix ends the name of every table's default stream.
const DefaultStreamSuffix = "/streams/_default"

// ParseTable parses "projects/p/datasets/d/tables/t". It returns
// ErrInvalidStreamName (wrapped) when the path is malformed.
func ParseTable(path string) (TableRef, error) {
	parts := strings.Split(path, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "datasets" || parts[4] != "tables" ||
		parts[1] == "" || parts[3] == "" || parts[5] == "" {
		return TableRef{}, newError(ErrInvalidStreamName, path, "Invalid table name.")
	}
	return TableRef{Project: parts[1], Dataset: parts[3], Table: parts[5]}, nil
}

// ParseStream parses a stream name into its table and stream id. It
// accepts ".../tables/t/streams/id" and, for the default stream, also
// ".../tables/t/_default" (Java's form). id is "_default" for default
// streams.
func ParseStream(name string) (TableRef, string, error) {
	parts := strings.Split(name, "/")
	bad := newError(ErrInvalidStreamName, name, "Invalid stream name.")
	var id string
	switch {
	case len(parts) == 8 && parts[6] == "streams" && parts[7] != "":
		id = parts[7]
	case len(parts) == 7 && parts[6] == "_default":
		id = "_default"
	default:
		return TableRef{}, "", bad
	}
	ref, err := ParseTable(strings.Join(parts[:6], "/"))
	if err != nil {
		return TableRef{}, "", bad
	}
	return ref, id, nil
}

// IsDefaultStream reports whether name denotes a _default stream.
func IsDefaultStream(name string) bool {
	return strings.HasSuffix(name, "/_default")
}

// newStreamID returns an opaque URL-safe id (never contains '/').
func newStreamID(seq uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seq)
	_, _ = rand.Read(b[8:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// stream is the engine's state for one stream. Fields under mu are the
// writer side (offsets, lifecycle); committed and flushed, which decide
// visibility, are guarded by the owning table's mu so readers see a
// consistent snapshot.
type stream struct {
	id        uint64
	name      string
	table     *tableState
	typ       StreamType
	created   time.Time
	isDefault bool

	mu           sync.Mutex
	end          int64 // rows accepted (reserved offsets), the next offset
	finalized    bool
	finalizedAt  time.Time
	rowCount     int64 // at finalize
	committing   bool
	lastActivity time.Time
	flushReq     int64 // highest flush offset requested (writer side)

	// Guarded by table.mu.
	committed   bool
	committedAt time.Time
	flushed     int64 // highest visible offset for BUFFERED; -1 = none
}

// StreamInfo is what GetWriteStream reports.
type StreamInfo struct {
	Name       string
	Type       StreamType
	Table      TableRef
	TableUID   int64
	CreateTime time.Time // zero for _default
	CommitTime time.Time // zero unless committed (COMMITTED streams: creation time)
	Location   string
}
