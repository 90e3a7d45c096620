package catalog

import (
	"context"
	"slices"
	"strings"
)

// DefaultLocation is the location a dataset gets when none is given.
const DefaultLocation = "US"

// CreateDataset implements Catalog. ds.Project, ds.ID, ds.Location and
// ds.Extra are used; the times and ETag are filled in.
func (s *SQLite) CreateDataset(ctx context.Context, ds *Dataset) (*Dataset, error) {
	if ds == nil {
		return nil, invalidf("Missing dataset.")
	}
	if err := validateProject(ds.Project); err != nil {
		return nil, err
	}
	if err := ValidateDatasetID(ds.ID); err != nil {
		return nil, err
	}
	extra, err := encodeExtra(ds.Extra)
	if err != nil {
		return nil, err
	}
	loc := ds.Location
	if loc == "" {
		loc = DefaultLocation
	}
	var out *Dataset
	err = s.mutate(ctx, func(w *txn) (func(), error) {
		if s.projects[ds.Project][ds.ID] != nil {
			return nil, ErrDatasetExists
		}
		ms := s.opts.now().UnixMilli()
		r := datasetRow{project: ds.Project, id: ds.ID, location: loc, creationMs: ms, modifiedMs: ms,
			generation: 1, extra: extra}
		res, err := w.exec(`INSERT INTO datasets (project, dataset, location, creation_ms, modified_ms,
			generation, extra) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.project, r.id, r.location, r.creationMs, r.modifiedMs, r.generation, r.extra)
		if err != nil {
			return nil, err
		}
		if r.uid, err = res.LastInsertId(); err != nil {
			return nil, err
		}
		e, err := r.entry()
		if err != nil {
			return nil, err
		}
		out = e.ds
		return func() {
			if s.projects[r.project] == nil {
				s.projects[r.project] = make(map[string]*dsEntry)
			}
			s.projects[r.project][r.id] = e
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return out.Clone(), nil
}

// GetDataset implements Catalog.
func (s *SQLite) GetDataset(ctx context.Context, project, id string) (*Dataset, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	e := s.projects[project][id]
	if e == nil {
		return nil, ErrDatasetNotFound
	}
	return e.ds.Clone(), nil
}

// ListDatasets implements Catalog. An unknown project has no datasets.
func (s *SQLite) ListDatasets(ctx context.Context, project string) ([]*Dataset, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	out := make([]*Dataset, 0, len(s.projects[project]))
	for _, e := range s.projects[project] {
		out = append(out, e.ds.Clone())
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Dataset) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateDataset implements Catalog: it replaces Extra, keeps Location
// (immutable; a different value in ds is ignored), bumps ModifiedTime and
// the ETag.
func (s *SQLite) UpdateDataset(ctx context.Context, ds *Dataset, ifMatch string) (*Dataset, error) {
	if ds == nil {
		return nil, invalidf("Missing dataset.")
	}
	extra, err := encodeExtra(ds.Extra)
	if err != nil {
		return nil, err
	}
	var out *Dataset
	err = s.mutate(ctx, func(w *txn) (func(), error) {
		cur := s.projects[ds.Project][ds.ID]
		if cur == nil {
			return nil, ErrDatasetNotFound
		}
		if ifMatch != "" && ifMatch != cur.ds.ETag {
			return nil, ErrPreconditionFailed
		}
		r := datasetRow{uid: cur.uid, project: cur.ds.Project, id: cur.ds.ID, location: cur.ds.Location,
			creationMs: cur.ds.CreationTime.UnixMilli(), modifiedMs: s.opts.now().UnixMilli(),
			generation: cur.gen + 1, extra: extra}
		if _, err := w.exec(`UPDATE datasets SET modified_ms = ?, generation = ?, extra = ? WHERE uid = ?`,
			r.modifiedMs, r.generation, r.extra, r.uid); err != nil {
			return nil, err
		}
		e, err := r.entry()
		if err != nil {
			return nil, err
		}
		e.tables = cur.tables
		out = e.ds
		return func() { s.projects[r.project][r.id] = e }, nil
	})
	if err != nil {
		return nil, err
	}
	return out.Clone(), nil
}

// DeleteDataset implements Catalog.
func (s *SQLite) DeleteDataset(ctx context.Context, project, id string, deleteContents bool) error {
	var deleted []int64
	err := s.mutate(ctx, func(w *txn) (func(), error) {
		cur := s.projects[project][id]
		if cur == nil {
			return nil, ErrDatasetNotFound
		}
		if len(cur.tables) != 0 && !deleteContents {
			return nil, ErrDatasetNotEmpty
		}
		if len(cur.tables) != 0 {
			if _, err := w.exec(`DELETE FROM table_schemas WHERE table_uid IN
				(SELECT uid FROM tables WHERE dataset_uid = ?)`, cur.uid); err != nil {
				return nil, err
			}
			if _, err := w.exec(`DELETE FROM tables WHERE dataset_uid = ?`, cur.uid); err != nil {
				return nil, err
			}
		}
		if _, err := w.exec(`DELETE FROM datasets WHERE uid = ?`, cur.uid); err != nil {
			return nil, err
		}
		for _, te := range cur.tables {
			deleted = append(deleted, te.t.UID)
		}
		slices.Sort(deleted)
		return func() {
			for _, uid := range deleted {
				delete(s.byUID, uid)
			}
			delete(s.projects[project], id)
			if len(s.projects[project]) == 0 {
				delete(s.projects, project)
			}
		}, nil
	})
	if err != nil {
		return err
	}
	s.notifyDeleted(deleted)
	return nil
}
