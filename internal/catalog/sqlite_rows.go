package catalog

import (
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/penstockdb/penstock/internal/schema"
)

// The row types below are the catalog's on-disk form. Every cached value
// is built by decoding a row (on load and after each write alike), so what
// readers see before a restart is exactly what they see after it.

type datasetRow struct {
	uid        int64
	project    string
	id         string
	location   string
	creationMs int64
	modifiedMs int64
	generation int64
	extra      string
}

func (r *datasetRow) entry() (*dsEntry, error) {
	extra, err := decodeExtra(r.extra)
	if err != nil {
		return nil, err
	}
	return &dsEntry{
		uid: r.uid,
		gen: r.generation,
		ds: &Dataset{
			Project:      r.project,
			ID:           r.id,
			Location:     r.location,
			CreationTime: msTime(r.creationMs),
			ModifiedTime: msTime(r.modifiedMs),
			ETag:         etag('d', r.uid, r.generation, r.modifiedMs),
			Extra:        extra,
		},
		tables: make(map[string]*tableEntry),
	}, nil
}

type tableRow struct {
	uid               int64
	datasetUID        int64
	id                string
	schemaVersion     int64
	timePartitioning  sql.NullString
	rangePartitioning sql.NullString
	clustering        sql.NullString
	creationMs        int64
	modifiedMs        int64
	generation        int64
	extra             string
}

// entry decodes the row into a cache entry of dataset ds whose schema
// history is hist (hist[len-1] being the current schema).
func (r *tableRow) entry(ds *Dataset, hist []*schema.Table) (*tableEntry, error) {
	t := &Table{
		UID:           r.uid,
		Project:       ds.Project,
		Dataset:       ds.ID,
		ID:            r.id,
		Schema:        hist[len(hist)-1],
		SchemaVersion: r.schemaVersion,
		Location:      ds.Location,
		CreationTime:  msTime(r.creationMs),
		ModifiedTime:  msTime(r.modifiedMs),
		ETag:          etag('t', r.uid, r.generation, r.modifiedMs),
	}
	var err error
	if t.Extra, err = decodeExtra(r.extra); err != nil {
		return nil, err
	}
	if err := decodeNullJSON(r.timePartitioning, &t.TimePartitioning); err != nil {
		return nil, fmt.Errorf("time_partitioning: %w", err)
	}
	if err := decodeNullJSON(r.rangePartitioning, &t.RangePartitioning); err != nil {
		return nil, fmt.Errorf("range_partitioning: %w", err)
	}
	if err := decodeNullJSON(r.clustering, &t.Clustering); err != nil {
		return nil, fmt.Errorf("clustering: %w", err)
	}
	return &tableEntry{t: t, gen: r.generation, schemas: hist}, nil
}

// etag derives a resource's entity tag from what changes on every update:
// its generation and modification time, and its never-reused uid so that
// a re-created resource never repeats an old tag. kind separates dataset
// and table uids.
func etag(kind byte, uid, generation, modifiedMs int64) string {
	var b [25]byte
	b[0] = kind
	binary.BigEndian.PutUint64(b[1:], uint64(uid))
	binary.BigEndian.PutUint64(b[9:], uint64(generation))
	binary.BigEndian.PutUint64(b[17:], uint64(modifiedMs))
	sum := sha256.Sum256(b[:])
	return base64.StdEncoding.EncodeToString(sum[:16])
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// encodeExtra renders Extra as a JSON object, refusing values that are
// not valid JSON.
func encodeExtra(m map[string]json.RawMessage) (string, error) {
	for k, v := range m {
		if len(v) != 0 && !json.Valid(v) { // an empty value encodes as null
			return "", invalidf("Invalid JSON value for field %q.", k)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", invalidf("Invalid resource: %v", err)
	}
	return string(b), nil
}

// decodeExtra parses a stored Extra object; an empty object gives nil.
func decodeExtra(s string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("extra: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func encodeSchema(t *schema.Table) (string, error) {
	if t == nil {
		t = &schema.Table{}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return "", invalidf("Invalid schema: %v", err)
	}
	return string(b), nil
}

func decodeSchema(s string) (*schema.Table, error) {
	t := new(schema.Table)
	if err := json.Unmarshal([]byte(s), t); err != nil {
		return nil, err
	}
	return t, nil
}

// encodeNullJSON renders v as JSON, or SQL NULL for a nil pointer.
func encodeNullJSON[T any](v *T) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, invalidf("Invalid resource: %v", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeNullJSON[T any](s sql.NullString, dst **T) error {
	if !s.Valid {
		*dst = nil
		return nil
	}
	v := new(T)
	if err := json.Unmarshal([]byte(s.String), v); err != nil {
		return err
	}
	*dst = v
	return nil
}
