package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/penstockdb/penstock/internal/schema"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// formatVersion is stored in SQLite's user_version; see docs/format/catalog.md.
const formatVersion = 1

// ddl creates the catalog's tables in an empty database. The layout is
// specified in docs/format/catalog.md; change both together.
const ddl = `
CREATE TABLE datasets (
	uid         INTEGER PRIMARY KEY AUTOINCREMENT,
	project     TEXT    NOT NULL,
	dataset     TEXT    NOT NULL,
	location    TEXT    NOT NULL,
	creation_ms INTEGER NOT NULL,
	modified_ms INTEGER NOT NULL,
	generation  INTEGER NOT NULL,
	extra       TEXT    NOT NULL,
	UNIQUE (project, dataset)
);
CREATE TABLE tables (
	uid                INTEGER PRIMARY KEY AUTOINCREMENT,
	dataset_uid        INTEGER NOT NULL REFERENCES datasets (uid),
	table_id           TEXT    NOT NULL,
	schema_version     INTEGER NOT NULL,
	time_partitioning  TEXT,
	range_partitioning TEXT,
	clustering         TEXT,
	creation_ms        INTEGER NOT NULL,
	modified_ms        INTEGER NOT NULL,
	generation         INTEGER NOT NULL,
	extra              TEXT    NOT NULL,
	UNIQUE (dataset_uid, table_id)
);
CREATE TABLE table_schemas (
	table_uid  INTEGER NOT NULL REFERENCES tables (uid),
	version    INTEGER NOT NULL,
	schema     TEXT    NOT NULL,
	created_ms INTEGER NOT NULL,
	PRIMARY KEY (table_uid, version)
);
PRAGMA user_version = 1;
`

// SQLite is the embedded Catalog: one SQLite database file (WAL journal,
// synchronous=FULL, so every mutation is on disk before its method
// returns) plus an in-memory copy of all metadata that serves every read
// without touching the database.
//
// Writes are serialized in Go and go through a single connection. Reads
// (GetTable, TableByUID, SchemaAt, ...) are map lookups under a read lock.
//
// Values returned by reads are fresh structs, but the *schema.Table a
// Table points to (and what SchemaAt returns) is shared with the catalog
// and with other callers and must be treated as read-only; use
// Table.Clone or schema.Table.Clone to get one to modify. Other pointed-to
// values (partitioning, clustering, the Extra map) are copied.
type SQLite struct {
	opts Options
	db   *sql.DB

	// wmu serializes mutations. A writer holds it from the moment it
	// reads the cache to decide what to do until the cache reflects the
	// committed change, so decisions never rest on stale state.
	wmu sync.Mutex

	// mu guards everything below. Writers take it only to publish
	// committed changes; readers hold it shared while they look up.
	mu     sync.RWMutex
	closed bool
	// projects maps project → dataset id → dataset. The *Dataset and
	// *Table values in entries are immutable: a change publishes a new
	// entry holding new values, so a reader may copy one after unlocking.
	projects map[string]map[string]*dsEntry
	byUID    map[int64]*tableEntry
}

var _ Catalog = (*SQLite)(nil)

type dsEntry struct {
	uid    int64
	ds     *Dataset
	gen    int64
	tables map[string]*tableEntry // by table id
}

type tableEntry struct {
	t       *Table
	gen     int64
	schemas []*schema.Table // schemas[v-1] is the schema at version v
}

// Open opens or creates the catalog database at path (a file name; its
// directory must exist) and loads it into memory. It returns an error if
// the file is not a catalog of a format this build understands.
func Open(path string, opts Options) (*SQLite, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("catalog: open %q: path must be non-empty and must not contain '?'", path)
	}
	// _txlock=immediate takes the write lock at BEGIN, so a transaction
	// never fails half way for lock upgrade; with one connection and
	// writes serialized in Go it only matters if another process opens
	// the file, which busy_timeout then waits out.
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &SQLite{opts: opts, db: db}
	if err := s.init(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	return s, nil
}

// init creates the tables in a new database, checks the format version of
// an existing one, and loads the cache.
func (s *SQLite) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	switch version {
	case 0:
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return errors.New("not a Penstock catalog (it has tables but no format version)")
		}
		if _, err := s.db.ExecContext(ctx, "BEGIN IMMEDIATE;"+ddl+"COMMIT;"); err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
	case formatVersion:
	default:
		return fmt.Errorf("catalog format version %d is not supported (this build reads version %d)", version, formatVersion)
	}
	return s.load(ctx)
}

// Close closes the database. Calls after Close, including a second Close,
// return ErrClosed.
func (s *SQLite) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.projects, s.byUID = nil, nil
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("catalog: close: %w", err)
	}
	return nil
}

// txn is one write transaction, begun lazily by the first statement so
// that a mutation refused on the cached state touches no SQL.
type txn struct {
	ctx context.Context
	db  *sql.DB
	tx  *sql.Tx
}

func (w *txn) exec(query string, args ...any) (sql.Result, error) {
	if w.tx == nil {
		tx, err := w.db.BeginTx(w.ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("catalog: begin: %w", err)
		}
		w.tx = tx
	}
	r, err := w.tx.ExecContext(w.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return r, nil
}

// mutate runs fn with the writer lock held. fn decides from the cache
// (which it may read without s.mu, since only writers change it and they
// hold wmu), writes through w, and returns a function that publishes the
// change to the cache; mutate commits and then calls it under s.mu.
func (s *SQLite) mutate(ctx context.Context, fn func(w *txn) (publish func(), err error)) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrClosed
	}
	w := &txn{ctx: ctx, db: s.db}
	publish, err := fn(w)
	if err != nil {
		if w.tx != nil {
			w.tx.Rollback()
		}
		return err
	}
	if w.tx != nil {
		if err := w.tx.Commit(); err != nil {
			// The outcome is unknown (an I/O error while syncing, say):
			// rebuild the cache from what the database now holds.
			if lerr := s.load(context.WithoutCancel(ctx)); lerr != nil {
				return fmt.Errorf("catalog: commit: %w (and reloading: %v)", err, lerr)
			}
			return fmt.Errorf("catalog: commit: %w", err)
		}
	}
	if publish != nil {
		s.mu.Lock()
		publish()
		s.mu.Unlock()
	}
	return nil
}

// notifyDeleted calls Options.OnTableDeleted for each uid; callers invoke
// it after mutate returned, with no lock held.
func (s *SQLite) notifyDeleted(uids []int64) {
	if s.opts.OnTableDeleted == nil {
		return
	}
	for _, uid := range uids {
		s.opts.OnTableDeleted(uid)
	}
}

// load reads the whole database into a fresh cache and publishes it.
func (s *SQLite) load(ctx context.Context) error {
	projects := make(map[string]map[string]*dsEntry)
	byUID := make(map[int64]*tableEntry)
	dsByUID := make(map[int64]*dsEntry)

	rows, err := s.db.QueryContext(ctx, `SELECT uid, project, dataset, location, creation_ms, modified_ms,
		generation, extra FROM datasets`)
	if err != nil {
		return fmt.Errorf("read datasets: %w", err)
	}
	for rows.Next() {
		var r datasetRow
		if err := rows.Scan(&r.uid, &r.project, &r.id, &r.location, &r.creationMs, &r.modifiedMs,
			&r.generation, &r.extra); err != nil {
			rows.Close()
			return fmt.Errorf("read datasets: %w", err)
		}
		e, err := r.entry()
		if err != nil {
			rows.Close()
			return fmt.Errorf("dataset %s:%s: %w", r.project, r.id, err)
		}
		if projects[r.project] == nil {
			projects[r.project] = make(map[string]*dsEntry)
		}
		projects[r.project][r.id] = e
		dsByUID[r.uid] = e
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("read datasets: %w", err)
	}

	schemas, err := s.loadSchemas(ctx)
	if err != nil {
		return err
	}

	rows, err = s.db.QueryContext(ctx, `SELECT uid, dataset_uid, table_id, schema_version,
		time_partitioning, range_partitioning, clustering, creation_ms, modified_ms, generation, extra
		FROM tables`)
	if err != nil {
		return fmt.Errorf("read tables: %w", err)
	}
	for rows.Next() {
		var r tableRow
		if err := rows.Scan(&r.uid, &r.datasetUID, &r.id, &r.schemaVersion, &r.timePartitioning,
			&r.rangePartitioning, &r.clustering, &r.creationMs, &r.modifiedMs, &r.generation, &r.extra); err != nil {
			rows.Close()
			return fmt.Errorf("read tables: %w", err)
		}
		ds := dsByUID[r.datasetUID]
		if ds == nil {
			rows.Close()
			return fmt.Errorf("table uid %d: dataset uid %d does not exist", r.uid, r.datasetUID)
		}
		hist := schemas[r.uid]
		if int64(len(hist)) != r.schemaVersion {
			rows.Close()
			return fmt.Errorf("table uid %d: schema version %d but %d schemas stored", r.uid, r.schemaVersion, len(hist))
		}
		te, err := r.entry(ds.ds, hist)
		if err != nil {
			rows.Close()
			return fmt.Errorf("table uid %d: %w", r.uid, err)
		}
		ds.tables[r.id] = te
		byUID[r.uid] = te
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("read tables: %w", err)
	}

	s.mu.Lock()
	s.projects, s.byUID = projects, byUID
	s.mu.Unlock()
	return nil
}

// loadSchemas reads every table's schema history, checking that versions
// run 1, 2, ... without gaps.
func (s *SQLite) loadSchemas(ctx context.Context) (map[int64][]*schema.Table, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT table_uid, version, schema FROM table_schemas
		ORDER BY table_uid, version`)
	if err != nil {
		return nil, fmt.Errorf("read schemas: %w", err)
	}
	defer rows.Close()
	out := make(map[int64][]*schema.Table)
	for rows.Next() {
		var uid, version int64
		var text string
		if err := rows.Scan(&uid, &version, &text); err != nil {
			return nil, fmt.Errorf("read schemas: %w", err)
		}
		if version != int64(len(out[uid]))+1 {
			return nil, fmt.Errorf("table uid %d: schema version %d out of sequence", uid, version)
		}
		sch, err := decodeSchema(text)
		if err != nil {
			return nil, fmt.Errorf("table uid %d schema version %d: %w", uid, version, err)
		}
		out[uid] = append(out[uid], sch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schemas: %w", err)
	}
	return out, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
