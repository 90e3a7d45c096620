package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/penstockdb/penstock/internal/schema"
)

// tableSpec is the validated, normalized and encoded form of the mutable
// parts of a table as a caller supplied them.
type tableSpec struct {
	schema     *schema.Table
	schemaJSON string
	layout     Table // only TimePartitioning, RangePartitioning, Clustering set
	tp, rp, cl sql.NullString
	extra      string
	// constraints is Extra's tableConstraints member, checked against the
	// schema with the layout.
	constraints json.RawMessage
}

// prepareTable validates t's schema and Extra and returns them, with the
// partitioning and clustering, normalized and encoded. It does not look at
// the store, nor check the layout (see tableSpec.validateLayout).
func prepareTable(t *Table) (*tableSpec, error) {
	if err := schema.Validate(t.Schema); err != nil {
		return nil, schemaError(err, "")
	}
	sp := &tableSpec{schema: schema.Normalize(t.Schema)}
	if sp.schema == nil {
		sp.schema = &schema.Table{}
	}
	if tp := t.TimePartitioning; tp != nil {
		c := *tp
		c.Type = strings.ToUpper(strings.TrimSpace(c.Type))
		if c.Type == "" {
			c.Type = "DAY"
		}
		sp.layout.TimePartitioning = &c
	}
	if rp := t.RangePartitioning; rp != nil {
		c := *rp
		sp.layout.RangePartitioning = &c
	}
	if cl := t.Clustering; cl != nil && len(cl.Fields) > 0 {
		sp.layout.Clustering = &Clustering{Fields: slices.Clone(cl.Fields)}
	}
	l := &sp.layout
	var err error
	if sp.schemaJSON, err = encodeSchema(sp.schema); err != nil {
		return nil, err
	}
	if sp.tp, err = encodeNullJSON(l.TimePartitioning); err != nil {
		return nil, err
	}
	if sp.rp, err = encodeNullJSON(l.RangePartitioning); err != nil {
		return nil, err
	}
	if sp.cl, err = encodeNullJSON(l.Clustering); err != nil {
		return nil, err
	}
	if sp.extra, err = encodeExtra(t.Extra); err != nil {
		return nil, err
	}
	sp.constraints = t.Extra["tableConstraints"]
	return sp, nil
}

// validateLayout checks the partitioning and clustering against the schema.
func (sp *tableSpec) validateLayout() error {
	l := &sp.layout
	if err := ValidateLayout(sp.schema, l.TimePartitioning, l.RangePartitioning, l.Clustering); err != nil {
		return err
	}
	return ValidateConstraints(sp.schema, sp.constraints)
}

// CreateTable implements Catalog. t's Project, Dataset, ID, Schema,
// partitioning, Clustering and Extra are used; the rest is filled in
// (Location is the dataset's). A nil Schema creates a table with no
// columns; the stored Schema is then empty, never nil. A time
// partitioning without a type gets DAY.
func (s *SQLite) CreateTable(ctx context.Context, t *Table) (*Table, error) {
	if t == nil {
		return nil, invalidf("Missing table.")
	}
	if err := ValidateTableID(t.ID); err != nil {
		return nil, err
	}
	sp, err := prepareTable(t)
	if err != nil {
		return nil, err
	}
	if err := sp.validateLayout(); err != nil {
		return nil, err
	}
	var out *Table
	err = s.mutate(ctx, func(w *txn) (func(), error) {
		ds := s.projects[t.Project][t.Dataset]
		if ds == nil {
			return nil, ErrDatasetNotFound
		}
		if ds.tables[t.ID] != nil {
			return nil, ErrTableExists
		}
		ms := s.opts.now().UnixMilli()
		r := tableRow{datasetUID: ds.uid, id: t.ID, schemaVersion: 1, timePartitioning: sp.tp,
			rangePartitioning: sp.rp, clustering: sp.cl, creationMs: ms, modifiedMs: ms, generation: 1,
			extra: sp.extra}
		res, err := w.exec(`INSERT INTO tables (dataset_uid, table_id, schema_version, time_partitioning,
			range_partitioning, clustering, creation_ms, modified_ms, generation, extra)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.datasetUID, r.id, r.schemaVersion, r.timePartitioning, r.rangePartitioning, r.clustering,
			r.creationMs, r.modifiedMs, r.generation, r.extra)
		if err != nil {
			return nil, err
		}
		if r.uid, err = res.LastInsertId(); err != nil {
			return nil, err
		}
		sch, err := s.insertSchema(w, r.uid, 1, sp.schemaJSON, ms)
		if err != nil {
			return nil, err
		}
		te, err := r.entry(ds.ds, []*schema.Table{sch})
		if err != nil {
			return nil, err
		}
		out = te.t
		return func() {
			ds.tables[r.id] = te
			s.byUID[r.uid] = te
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return out.shallowCopy(), nil
}

// insertSchema stores version of a table's schema and returns it decoded
// from its stored form.
func (s *SQLite) insertSchema(w *txn, uid, version int64, text string, ms int64) (*schema.Table, error) {
	if _, err := w.exec(`INSERT INTO table_schemas (table_uid, version, schema, created_ms) VALUES (?, ?, ?, ?)`,
		uid, version, text, ms); err != nil {
		return nil, err
	}
	sch, err := decodeSchema(text)
	if err != nil {
		return nil, fmt.Errorf("catalog: decode schema: %w", err)
	}
	return sch, nil
}

// lookupTable finds a live table; the caller holds s.mu or s.wmu.
func (s *SQLite) lookupTable(project, dataset, id string) (*dsEntry, *tableEntry, error) {
	ds := s.projects[project][dataset]
	if ds == nil {
		return nil, nil, ErrDatasetNotFound
	}
	te := ds.tables[id]
	if te == nil {
		return nil, nil, ErrTableNotFound
	}
	return ds, te, nil
}

// GetTable implements Catalog. The returned Schema is shared and
// read-only (see SQLite).
func (s *SQLite) GetTable(ctx context.Context, project, dataset, id string) (*Table, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	_, te, err := s.lookupTable(project, dataset, id)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	return te.t.shallowCopy(), nil
}

// TableByUID implements Catalog. The returned Schema is shared and
// read-only (see SQLite).
func (s *SQLite) TableByUID(ctx context.Context, uid int64) (*Table, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	te := s.byUID[uid]
	s.mu.RUnlock()
	if te == nil {
		return nil, ErrTableNotFound
	}
	return te.t.shallowCopy(), nil
}

// ListTables implements Catalog. Schemas are shared and read-only.
func (s *SQLite) ListTables(ctx context.Context, project, dataset string) ([]*Table, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	ds := s.projects[project][dataset]
	if ds == nil {
		s.mu.RUnlock()
		return nil, ErrDatasetNotFound
	}
	out := make([]*Table, 0, len(ds.tables))
	for _, te := range ds.tables {
		out = append(out, te.t)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Table) int { return strings.Compare(a.ID, b.ID) })
	for i, t := range out {
		out[i] = t.shallowCopy()
	}
	return out, nil
}

// SchemaAt implements Catalog. Versions run from 1 to the table's current
// SchemaVersion; any other version, or a uid that is not a live table,
// gives an error wrapping ErrTableNotFound. The schema is shared and
// read-only.
func (s *SQLite) SchemaAt(ctx context.Context, uid int64, version int64) (*schema.Table, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	te := s.byUID[uid]
	if te == nil {
		return nil, ErrTableNotFound
	}
	if version < 1 || version > int64(len(te.schemas)) {
		return nil, fmt.Errorf("%w: table uid %d has no schema version %d", ErrTableNotFound, uid, version)
	}
	return te.schemas[version-1], nil
}

// UpdateTable implements Catalog. t is identified by Project, Dataset and
// ID; its Schema (nil meaning no columns), partitioning, Clustering and
// Extra replace the stored ones. Refused with ErrInvalid: a schema change
// schema.CheckEvolution refuses (message "Provided Schema does not match
// Table p:d.t. ..."), adding, removing or changing time partitioning other
// than its expirationMs and requirePartitionFilter, any range
// partitioning change, and anything CreateTable would refuse. The schema
// version goes up by one only when the normalized schema differs.
func (s *SQLite) UpdateTable(ctx context.Context, t *Table, ifMatch string) (*Table, error) {
	if t == nil {
		return nil, invalidf("Missing table.")
	}
	sp, err := prepareTable(t)
	if err != nil {
		return nil, err
	}
	var out *Table
	err = s.mutate(ctx, func(w *txn) (func(), error) {
		ds, cur, err := s.lookupTable(t.Project, t.Dataset, t.ID)
		if err != nil {
			return nil, err
		}
		if ifMatch != "" && ifMatch != cur.t.ETag {
			return nil, ErrPreconditionFailed
		}
		name := fmt.Sprintf("%s:%s.%s", t.Project, t.Dataset, t.ID)
		if err := schema.CheckEvolution(cur.t.Schema, sp.schema); err != nil {
			return nil, schemaError(err, "Provided Schema does not match Table "+name+". ")
		}
		if err := sp.validateLayout(); err != nil {
			return nil, err
		}
		if err := checkLayoutChange(cur.t, &sp.layout, name); err != nil {
			return nil, err
		}
		ms := s.opts.now().UnixMilli()
		hist := cur.schemas
		if !schema.Equal(cur.t.Schema, sp.schema) {
			sch, err := s.insertSchema(w, cur.t.UID, cur.t.SchemaVersion+1, sp.schemaJSON, ms)
			if err != nil {
				return nil, err
			}
			hist = append(slices.Clip(hist), sch)
		}
		r := tableRow{uid: cur.t.UID, datasetUID: ds.uid, id: cur.t.ID, schemaVersion: int64(len(hist)),
			timePartitioning: sp.tp, rangePartitioning: sp.rp, clustering: sp.cl,
			creationMs: cur.t.CreationTime.UnixMilli(), modifiedMs: ms, generation: cur.gen + 1, extra: sp.extra}
		if _, err := w.exec(`UPDATE tables SET schema_version = ?, time_partitioning = ?, range_partitioning = ?,
			clustering = ?, modified_ms = ?, generation = ?, extra = ? WHERE uid = ?`,
			r.schemaVersion, r.timePartitioning, r.rangePartitioning, r.clustering, r.modifiedMs, r.generation,
			r.extra, r.uid); err != nil {
			return nil, err
		}
		te, err := r.entry(ds.ds, hist)
		if err != nil {
			return nil, err
		}
		out = te.t
		return func() {
			ds.tables[r.id] = te
			s.byUID[r.uid] = te
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return out.shallowCopy(), nil
}

// DeleteTable implements Catalog: the table and its schema history are
// removed, then Options.OnTableDeleted is called with its UID.
func (s *SQLite) DeleteTable(ctx context.Context, project, dataset, id string) error {
	var uid int64
	err := s.mutate(ctx, func(w *txn) (func(), error) {
		ds, cur, err := s.lookupTable(project, dataset, id)
		if err != nil {
			return nil, err
		}
		uid = cur.t.UID
		if _, err := w.exec(`DELETE FROM table_schemas WHERE table_uid = ?`, uid); err != nil {
			return nil, err
		}
		if _, err := w.exec(`DELETE FROM tables WHERE uid = ?`, uid); err != nil {
			return nil, err
		}
		return func() {
			delete(ds.tables, id)
			delete(s.byUID, uid)
		}, nil
	})
	if err != nil {
		return err
	}
	s.notifyDeleted([]int64{uid})
	return nil
}
