package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/config"
)

// createResources creates the datasets and tables of the config file that
// do not exist yet. Existing ones are left exactly as they are, whatever
// the file says now, so a restart never undoes changes made through the
// API. Seed rows go only into tables created by this call: a restart never
// inserts them twice.
//
// A crash between creating a table and storing its rows leaves the table
// empty; the next start does not retry the rows.
func (s *Server) createResources(ctx context.Context, projects []config.Project) error {
	for _, p := range projects {
		for _, d := range p.Datasets {
			where := fmt.Sprintf("config file: dataset %s:%s", p.ID, d.ID)
			ds := &catalog.Dataset{Project: p.ID, ID: d.ID, Location: d.Location,
				Extra: extraFields(map[string]any{"description": d.Description, "labels": d.Labels})}
			switch _, err := s.cat.CreateDataset(ctx, ds); {
			case err == nil:
				s.log.Info("created dataset from config file", "dataset", p.ID+":"+d.ID)
			case errors.Is(err, catalog.ErrDatasetExists):
			default:
				return fmt.Errorf("%s: %s", where, catalog.Message(err))
			}
			for _, t := range d.Tables {
				if err := s.createTable(ctx, p.ID, d.ID, t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Server) createTable(ctx context.Context, project, dataset string, t config.Table) error {
	name := fmt.Sprintf("%s:%s.%s", project, dataset, t.ID)
	ct := &catalog.Table{
		Project: project, Dataset: dataset, ID: t.ID,
		Extra: extraFields(map[string]any{"description": t.Description, "labels": t.Labels}),
	}
	if len(t.Schema.Fields) > 0 {
		ct.Schema = t.Schema.Table.Clone()
	}
	for _, part := range []struct {
		key string
		raw json.RawMessage
		dst any
	}{
		{"timePartitioning", t.TimePartitioning, &ct.TimePartitioning},
		{"rangePartitioning", t.RangePartitioning, &ct.RangePartitioning},
		{"clustering", t.Clustering, &ct.Clustering},
	} {
		if len(part.raw) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(part.raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(part.dst); err != nil {
			return fmt.Errorf("config file: table %s: %s: %v", name, part.key, err)
		}
	}
	created, err := s.cat.CreateTable(ctx, ct)
	switch {
	case errors.Is(err, catalog.ErrTableExists):
		return nil
	case err != nil:
		return fmt.Errorf("config file: table %s: %s", name, catalog.Message(err))
	}
	s.log.Info("created table from config file", "table", name, "rows", len(t.Rows))
	if len(t.Rows) == 0 {
		return nil
	}
	if err := insertRows(ctx, s.eng, created, t.Rows); err != nil {
		return fmt.Errorf("config file: table %s: inserting rows: %w", name, err)
	}
	return nil
}

// extraFields encodes the non-empty values as REST resource fields.
func extraFields(fields map[string]any) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for k, v := range fields {
		switch v := v.(type) {
		case string:
			if v == "" {
				continue
			}
		case map[string]string:
			if len(v) == 0 {
				continue
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			continue // strings and string maps always marshal
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		out[k] = b
	}
	return out
}
