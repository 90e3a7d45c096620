package catalogtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/schema"
)

// newEvolvable creates p:d.t with evolutionBase, time-partitioned on ts
// and clustered on name.
func newEvolvable(t *testing.T, newStore func(t *testing.T) Opener) (*env, *catalog.Table) {
	e := newEnv(t, newStore)
	e.mustCreateDataset("p", "d")
	tb := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: evolutionBase(),
		TimePartitioning: &catalog.TimePartitioning{Type: "DAY", Field: "ts"},
		Clustering:       &catalog.Clustering{Fields: []string{"name"}},
		Extra:            map[string]json.RawMessage{"description": raw(`"v1"`)}})
	return e, tb
}

// withSchema returns a copy of cur with its schema replaced by s, ready
// for UpdateTable.
func withSchema(cur *catalog.Table, s *schema.Table) *catalog.Table {
	c := cur.Clone()
	c.Schema = s
	return c
}

func testUpdateTable(t *testing.T, newStore func(t *testing.T) Opener) {
	ctx := context.Background()

	t.Run("Evolve", func(t *testing.T) {
		e, created := newEvolvable(t, newStore)
		e.clock.Advance(time.Hour)
		next := evolutionBase()
		next.Fields[0].Mode = "NULLABLE"                                               // relax
		next.Fields[3].Fields = append(next.Fields[3].Fields, field("y", "int64", "")) // nested append, alias
		next.Fields = append(next.Fields, field("tags", "STRING", "REPEATED"), field("note", "STRING", ""))
		got, err := e.cat.UpdateTable(ctx, withSchema(created, next), "")
		if err != nil {
			t.Fatalf("UpdateTable: %v", err)
		}
		if got.SchemaVersion != 2 {
			t.Errorf("SchemaVersion: got %d, want 2", got.SchemaVersion)
		}
		want := schema.Normalize(next)
		if g, w := schemaJSON(got.Schema), schemaJSON(want); g != w {
			t.Errorf("schema after update:\n got %s\nwant %s", g, w)
		}
		if got.UID != created.UID {
			t.Errorf("UID changed: %d → %d", created.UID, got.UID)
		}
		wantTime(t, "CreationTime", got.CreationTime, created.CreationTime)
		wantTime(t, "ModifiedTime", got.ModifiedTime, created.ModifiedTime.Add(time.Hour))
		if got.ETag == created.ETag {
			t.Errorf("ETag unchanged by update")
		}
		read := e.mustGetTable("p", "d", "t")
		if read.SchemaVersion != 2 || read.ETag != got.ETag || schemaJSON(read.Schema) != schemaJSON(want) {
			t.Errorf("GetTable after update: %+v", read)
		}
		byUID, err := e.cat.TableByUID(ctx, created.UID)
		if err != nil || byUID.SchemaVersion != 2 {
			t.Errorf("TableByUID after update: %+v, %v", byUID, err)
		}
		s1, err := e.cat.SchemaAt(ctx, created.UID, 1)
		if err != nil || schemaJSON(s1) != schemaJSON(evolutionBase()) {
			t.Errorf("SchemaAt(1): got %s, %v; want %s", schemaJSON(s1), err, schemaJSON(evolutionBase()))
		}
		s2, err := e.cat.SchemaAt(ctx, created.UID, 2)
		if err != nil || schemaJSON(s2) != schemaJSON(want) {
			t.Errorf("SchemaAt(2): got %s, %v; want %s", schemaJSON(s2), err, schemaJSON(want))
		}

		// A further permitted change (a description) is version 3.
		third := want.Clone()
		third.Fields[1].Description = "the name"
		got3, err := e.cat.UpdateTable(ctx, withSchema(got, third), got.ETag)
		if err != nil {
			t.Fatalf("UpdateTable(description): %v", err)
		}
		if got3.SchemaVersion != 3 || got3.Schema.Fields[1].Description != "the name" {
			t.Errorf("after description change: version %d, schema %s", got3.SchemaVersion, schemaJSON(got3.Schema))
		}
		if s2again, _ := e.cat.SchemaAt(ctx, created.UID, 2); schemaJSON(s2again) != schemaJSON(want) {
			t.Errorf("SchemaAt(2) changed by a later update: %s", schemaJSON(s2again))
		}
	})

	t.Run("SameSchema", func(t *testing.T) {
		e, created := newEvolvable(t, newStore)
		upd := created.Clone()
		upd.Schema = sch(field("id", "INT64", "required"), field("name", "string", ""), field("ts", "timestamp", ""),
			field("rec", "STRUCT", "", field("x", "STRING", ""))) // same schema, other spellings
		upd.Extra = map[string]json.RawMessage{"description": raw(`"v2"`), "friendlyName": raw(`"T"`)}
		got, err := e.cat.UpdateTable(ctx, upd, "")
		if err != nil {
			t.Fatalf("UpdateTable: %v", err)
		}
		if got.SchemaVersion != 1 {
			t.Errorf("SchemaVersion after an update that keeps the schema: got %d, want 1", got.SchemaVersion)
		}
		if g, w := extraJSON(got.Extra), `{"description":"v2","friendlyName":"T"}`; g != w {
			t.Errorf("Extra: got %s, want %s", g, w)
		}
		if got.ETag == created.ETag {
			t.Errorf("ETag unchanged by update")
		}
		_, err = e.cat.SchemaAt(ctx, created.UID, 2)
		wantErr(t, "SchemaAt(2) without a schema change", err, catalog.ErrTableNotFound)
	})

	t.Run("Refused", func(t *testing.T) {
		prefix := "Provided Schema does not match Table p:d.t. "
		tests := []struct {
			name   string
			modify func(s *schema.Table) *schema.Table
			want   string
		}{
			{"missing column", func(s *schema.Table) *schema.Table { s.Fields = s.Fields[1:]; return s },
				prefix + "Field id is missing in new schema"},
			{"nil schema", func(*schema.Table) *schema.Table { return nil }, prefix + "Field id is missing in new schema"},
			{"missing nested", func(s *schema.Table) *schema.Table { s.Fields[3].Fields[0].Name = "z"; return s },
				prefix + "Field rec.x is missing in new schema"},
			{"type change", func(s *schema.Table) *schema.Table { s.Fields[1].Type = "INTEGER"; return s },
				prefix + "Field name has changed type from STRING to INTEGER"},
			{"tighten mode", func(s *schema.Table) *schema.Table { s.Fields[1].Mode = "REQUIRED"; return s },
				prefix + "Field name has changed mode from NULLABLE to REQUIRED"},
			{"add required", func(s *schema.Table) *schema.Table {
				s.Fields = append(s.Fields, field("must", "STRING", "REQUIRED"))
				return s
			}, prefix + "Cannot add required fields to an existing schema. (field: must)"},
			{"invalid new schema", func(s *schema.Table) *schema.Table {
				s.Fields = append(s.Fields, field("bad-name", "STRING", ""))
				return s
			}, `Invalid field name "bad-name".`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e, created := newEvolvable(t, newStore)
				_, err := e.cat.UpdateTable(ctx, withSchema(created, tt.modify(evolutionBase())), "")
				wantInvalid(t, "UpdateTable", err, tt.want)
				read := e.mustGetTable("p", "d", "t")
				if read.SchemaVersion != 1 || read.ETag != created.ETag || schemaJSON(read.Schema) != schemaJSON(created.Schema) {
					t.Errorf("refused update changed the table: %+v", read)
				}
			})
		}
	})

	t.Run("ErrPreconditionFailed", func(t *testing.T) {
		e, created := newEvolvable(t, newStore)
		upd := created.Clone()
		upd.Extra = map[string]json.RawMessage{"description": raw(`"v2"`)}
		_, err := e.cat.UpdateTable(ctx, upd, "not-the-etag")
		wantErr(t, "UpdateTable(stale etag)", err, catalog.ErrPreconditionFailed)
		if read := e.mustGetTable("p", "d", "t"); read.ETag != created.ETag || extraJSON(read.Extra) != `{"description":"v1"}` {
			t.Errorf("refused update changed the table: %+v", read)
		}
		got, err := e.cat.UpdateTable(ctx, upd, created.ETag)
		if err != nil {
			t.Fatalf("UpdateTable(current etag): %v", err)
		}
		_, err = e.cat.UpdateTable(ctx, upd, created.ETag)
		wantErr(t, "UpdateTable(etag before last update)", err, catalog.ErrPreconditionFailed)
		if _, err := e.cat.UpdateTable(ctx, upd, got.ETag); err != nil {
			t.Errorf("UpdateTable(latest etag): %v", err)
		}
	})

	t.Run("Layout", func(t *testing.T) {
		e, created := newEvolvable(t, newStore)
		upd := created.Clone()
		upd.TimePartitioning.ExpirationMs = 3600000
		upd.TimePartitioning.RequirePartitionFilter = true
		upd.Clustering = &catalog.Clustering{Fields: []string{"id", "name"}}
		got, err := e.cat.UpdateTable(ctx, upd, "")
		if err != nil {
			t.Fatalf("UpdateTable(expiration, clustering): %v", err)
		}
		if tp := got.TimePartitioning; tp.ExpirationMs != 3600000 || !tp.RequirePartitionFilter {
			t.Errorf("TimePartitioning after update: %+v", tp)
		}
		if cl := got.Clustering; cl == nil || len(cl.Fields) != 2 || cl.Fields[0] != "id" {
			t.Errorf("Clustering after update: %+v", cl)
		}
		upd = got.Clone()
		upd.Clustering = nil
		if got, err = e.cat.UpdateTable(ctx, upd, ""); err != nil || got.Clustering != nil {
			t.Errorf("removing clustering: %+v, %v", got.Clustering, err)
		}

		refused := []struct {
			name   string
			modify func(*catalog.Table)
		}{
			{"partition field", func(c *catalog.Table) { c.TimePartitioning.Field = "" }},
			{"partition type", func(c *catalog.Table) { c.TimePartitioning.Type = "MONTH" }},
			{"remove partitioning", func(c *catalog.Table) { c.TimePartitioning = nil }},
			{"switch to range", func(c *catalog.Table) {
				c.TimePartitioning = nil
				c.RangePartitioning = rangePart("id", 0, 10, 1)
			}},
			{"bad clustering", func(c *catalog.Table) { c.Clustering = &catalog.Clustering{Fields: []string{"nope"}} }},
		}
		for _, tt := range refused {
			c := got.Clone()
			tt.modify(c)
			_, err := e.cat.UpdateTable(ctx, c, "")
			wantErr(t, "UpdateTable("+tt.name+")", err, catalog.ErrInvalid)
		}

		e.mustCreateDataset("p", "d2")
		plain := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d2", ID: "plain", Schema: evolutionBase()})
		c := plain.Clone()
		c.TimePartitioning = &catalog.TimePartitioning{Type: "DAY", Field: "ts"}
		_, err = e.cat.UpdateTable(ctx, c, "")
		wantErr(t, "UpdateTable(partition an unpartitioned table)", err, catalog.ErrInvalid)
		ranged := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d2", ID: "ranged", Schema: evolutionBase(),
			RangePartitioning: rangePart("id", 0, 100, 10)})
		c = ranged.Clone()
		c.RangePartitioning.Range.End = 200
		_, err = e.cat.UpdateTable(ctx, c, "")
		wantErr(t, "UpdateTable(range change)", err, catalog.ErrInvalid)
	})
}
