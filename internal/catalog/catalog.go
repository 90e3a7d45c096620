// Package catalog holds Penstock's durable metadata: projects, datasets and
// tables with their schema history. Every mutation is durable before the
// method returns.
//
// Catalog is the seam: the embedded implementation (SQLite, this package's
// Open) and a later PostgreSQL one satisfy the same interface and pass the
// same suite (catalogtest).
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/penstockdb/penstock/internal/schema"
)

// Domain errors. Transports map them to wire codes (restapi/errors.go,
// grpcapi/status.go); compare with errors.Is.
var (
	ErrDatasetNotFound = errors.New("catalog: dataset not found")
	ErrDatasetExists   = errors.New("catalog: dataset already exists")
	ErrDatasetNotEmpty = errors.New("catalog: dataset is not empty")
	ErrTableNotFound   = errors.New("catalog: table not found")
	ErrTableExists     = errors.New("catalog: table already exists")
	// ErrInvalid wraps every validation failure (bad ids, bad schemas,
	// disallowed schema changes); the wrapped message says what is wrong
	// in words a BigQuery user recognises.
	ErrInvalid = errors.New("catalog: invalid")
	// ErrPreconditionFailed is returned when an update carries an etag
	// that does not match the stored resource.
	ErrPreconditionFailed = errors.New("catalog: precondition failed")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("catalog: closed")
)

// Dataset is a BigQuery dataset. Extra carries the REST resource fields
// Penstock stores but does not interpret (labels, description,
// friendlyName, defaultTableExpirationMs, access, ...), as raw JSON values
// keyed by their REST field name.
type Dataset struct {
	Project      string
	ID           string
	Location     string // e.g. "US"; never empty once stored
	CreationTime time.Time
	ModifiedTime time.Time
	ETag         string
	Extra        map[string]json.RawMessage
}

// TimePartitioning mirrors the REST resource (expirationMs kept as int64).
type TimePartitioning struct {
	Type                   string `json:"type"`
	Field                  string `json:"field,omitempty"`
	ExpirationMs           int64  `json:"expirationMs,omitempty,string"`
	RequirePartitionFilter bool   `json:"requirePartitionFilter,omitempty"`
}

// RangePartitioning mirrors the REST resource.
type RangePartitioning struct {
	Field string `json:"field"`
	Range struct {
		Start    int64 `json:"start,string"`
		End      int64 `json:"end,string"`
		Interval int64 `json:"interval,string"`
	} `json:"range"`
}

// Clustering mirrors the REST resource.
type Clustering struct {
	Fields []string `json:"fields"`
}

// Table is a BigQuery table. UID is unique for the life of the catalog and
// never reused, so data logged for a dropped table can never reappear in a
// new table of the same name. SchemaVersion starts at 1 and increases by
// one on every schema change.
type Table struct {
	UID               int64
	Project           string
	Dataset           string
	ID                string
	Schema            *schema.Table // never nil once stored; read-only when returned (see Catalog)
	SchemaVersion     int64
	TimePartitioning  *TimePartitioning
	RangePartitioning *RangePartitioning
	Clustering        *Clustering
	Location          string
	CreationTime      time.Time
	ModifiedTime      time.Time
	ETag              string
	Extra             map[string]json.RawMessage
}

// Catalog is the metadata store. Implementations are safe for concurrent
// use. Any project id is valid and exists implicitly.
//
// Returned values are copies: callers may keep and modify them, with one
// exception. A Table's Schema, and the schema SchemaAt returns, may be
// shared with the catalog and other callers and must be treated as
// read-only (replace the pointer, or Clone before editing in place): this
// keeps GetTable and TableByUID, which sit on the append hot path, free of
// deep copies.
type Catalog interface {
	// CreateDataset stores a new dataset, filling CreationTime,
	// ModifiedTime, ETag and a default Location ("US"). It returns
	// ErrDatasetExists if the id is taken and ErrInvalid for a bad id.
	CreateDataset(ctx context.Context, ds *Dataset) (*Dataset, error)
	// GetDataset returns ErrDatasetNotFound if absent.
	GetDataset(ctx context.Context, project, id string) (*Dataset, error)
	// ListDatasets returns the project's datasets ordered by id.
	ListDatasets(ctx context.Context, project string) ([]*Dataset, error)
	// UpdateDataset replaces the stored dataset's mutable fields
	// (Extra, Location is immutable). If ifMatch is non-empty and differs
	// from the stored ETag it returns ErrPreconditionFailed.
	UpdateDataset(ctx context.Context, ds *Dataset, ifMatch string) (*Dataset, error)
	// DeleteDataset removes a dataset. With deleteContents it removes its
	// tables too (calling Options.OnTableDeleted for each); otherwise a
	// dataset holding tables gives ErrDatasetNotEmpty.
	DeleteDataset(ctx context.Context, project, id string, deleteContents bool) error

	// CreateTable stores a new table (validating and normalising its
	// schema: legacy type names, explicit modes) at SchemaVersion 1.
	// Errors: ErrDatasetNotFound, ErrTableExists, ErrInvalid.
	CreateTable(ctx context.Context, t *Table) (*Table, error)
	// GetTable returns ErrTableNotFound (or ErrDatasetNotFound) if absent.
	GetTable(ctx context.Context, project, dataset, id string) (*Table, error)
	// TableByUID returns the live table with that UID, or ErrTableNotFound.
	TableByUID(ctx context.Context, uid int64) (*Table, error)
	// ListTables returns the dataset's tables ordered by id.
	ListTables(ctx context.Context, project, dataset string) ([]*Table, error)
	// UpdateTable replaces the table's mutable fields. A changed schema must
	// be a permitted evolution (added NULLABLE/REPEATED columns, also inside
	// RECORDs; REQUIRED relaxed to NULLABLE; descriptions) or ErrInvalid is
	// returned; a permitted change bumps SchemaVersion. ifMatch as for
	// UpdateDataset.
	UpdateTable(ctx context.Context, t *Table, ifMatch string) (*Table, error)
	// DeleteTable removes a table and calls Options.OnTableDeleted.
	DeleteTable(ctx context.Context, project, dataset, id string) error
	// SchemaAt returns the schema a table had at a given version (schema
	// history is kept for the table's life), or ErrTableNotFound.
	SchemaAt(ctx context.Context, uid int64, version int64) (*schema.Table, error)

	// Close releases the store. Later calls return ErrClosed.
	Close() error
}
