package catalogtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/schema"
)

func testTables(t *testing.T, newStore func(t *testing.T) Opener) {
	ctx := context.Background()

	t.Run("Create", func(t *testing.T) {
		e := newEnv(t, newStore)
		ds, err := e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d", Location: "EU"})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		start := e.clock.Now()
		in := &catalog.Table{Project: "p", Dataset: "d", ID: "t1",
			Schema: sch(
				field("id", "int64", "required"),
				field("name", "string", ""),
				field("ts", "TIMESTAMP", ""),
				field("rec", "STRUCT", "repeated", field("x", "bool", ""), field("y", "FLOAT64", "")),
			),
			TimePartitioning: &catalog.TimePartitioning{Field: "ts", ExpirationMs: 86400000},
			Clustering:       &catalog.Clustering{Fields: []string{"name", "id"}},
			Extra:            map[string]json.RawMessage{"description": raw(`"events"`), "labels": raw(`{"a":"b"}`)},
		}
		got, err := e.cat.CreateTable(ctx, in)
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		if got.UID <= 0 {
			t.Errorf("UID: got %d, want > 0", got.UID)
		}
		if got.Project != "p" || got.Dataset != "d" || got.ID != "t1" {
			t.Errorf("identity: got %s:%s.%s", got.Project, got.Dataset, got.ID)
		}
		if got.SchemaVersion != 1 {
			t.Errorf("SchemaVersion: got %d, want 1", got.SchemaVersion)
		}
		wantSchema := sch(
			field("id", "INTEGER", "REQUIRED"),
			field("name", "STRING", "NULLABLE"),
			field("ts", "TIMESTAMP", "NULLABLE"),
			field("rec", "RECORD", "REPEATED", field("x", "BOOLEAN", "NULLABLE"), field("y", "FLOAT", "NULLABLE")),
		)
		if g, w := schemaJSON(got.Schema), schemaJSON(wantSchema); g != w {
			t.Errorf("normalized schema:\n got %s\nwant %s", g, w)
		}
		if got.Location != ds.Location {
			t.Errorf("Location: got %q, want the dataset's %q", got.Location, ds.Location)
		}
		wantTime(t, "CreationTime", got.CreationTime, start)
		wantTime(t, "ModifiedTime", got.ModifiedTime, start)
		if got.ETag == "" {
			t.Errorf("ETag is empty")
		}
		if tp := got.TimePartitioning; tp == nil || tp.Type != "DAY" || tp.Field != "ts" || tp.ExpirationMs != 86400000 {
			t.Errorf("TimePartitioning: got %+v, want DAY on ts expiring after 86400000 ms", tp)
		}
		if cl := got.Clustering; cl == nil || strings.Join(cl.Fields, ",") != "name,id" {
			t.Errorf("Clustering: got %+v, want [name id]", cl)
		}
		if g, w := extraJSON(got.Extra), `{"description":"events","labels":{"a":"b"}}`; g != w {
			t.Errorf("Extra: got %s, want %s", g, w)
		}
		// The caller's schema was not modified by normalization.
		if in.Schema.Fields[0].Type != "int64" || in.Schema.Fields[1].Mode != "" {
			t.Errorf("CreateTable modified the caller's schema: %s", schemaJSON(in.Schema))
		}

		read := e.mustGetTable("p", "d", "t1")
		if read.UID != got.UID || read.ETag != got.ETag || read.SchemaVersion != 1 ||
			schemaJSON(read.Schema) != schemaJSON(wantSchema) || extraJSON(read.Extra) != extraJSON(got.Extra) {
			t.Errorf("GetTable: got %+v, want %+v", read, got)
		}
		byUID, err := e.cat.TableByUID(ctx, got.UID)
		if err != nil {
			t.Fatalf("TableByUID: %v", err)
		}
		if byUID.ID != "t1" || byUID.Dataset != "d" || byUID.Project != "p" || byUID.ETag != got.ETag {
			t.Errorf("TableByUID: got %+v", byUID)
		}
		s1, err := e.cat.SchemaAt(ctx, got.UID, 1)
		if err != nil {
			t.Fatalf("SchemaAt(1): %v", err)
		}
		if g, w := schemaJSON(s1), schemaJSON(wantSchema); g != w {
			t.Errorf("SchemaAt(1): got %s, want %s", g, w)
		}

		// Returned tables are copies apart from the (read-only) schema.
		read.Extra["description"] = raw(`"changed"`)
		read.TimePartitioning.ExpirationMs = 1
		read.Clustering.Fields[0] = "ts"
		read.ID = "other"
		again := e.mustGetTable("p", "d", "t1")
		if extraJSON(again.Extra) != extraJSON(got.Extra) || again.TimePartitioning.ExpirationMs != 86400000 ||
			again.Clustering.Fields[0] != "name" || again.ID != "t1" {
			t.Errorf("stored table changed through a returned value: %+v", again)
		}
	})

	t.Run("NoSchema", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		got := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "empty"})
		if got.Schema == nil || len(got.Schema.Fields) != 0 {
			t.Errorf("table created without a schema: Schema = %s, want non-nil with no fields", schemaJSON(got.Schema))
		}
		read := e.mustGetTable("p", "d", "empty")
		if read.Schema == nil || len(read.Schema.Fields) != 0 || read.SchemaVersion != 1 {
			t.Errorf("GetTable: Schema = %s, version %d", schemaJSON(read.Schema), read.SchemaVersion)
		}
	})

	t.Run("ErrTableExists", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		e.mustCreateDataset("p", "d2")
		first := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: sch(field("a", "STRING", ""))})
		_, err := e.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: sch(field("b", "STRING", ""))})
		wantErr(t, "second CreateTable", err, catalog.ErrTableExists)
		if read := e.mustGetTable("p", "d", "t"); read.UID != first.UID || read.Schema.Fields[0].Name != "a" {
			t.Errorf("refused create changed the table: %+v", read)
		}
		// The same id in another dataset is another table.
		other := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d2", ID: "t"})
		if other.UID == first.UID {
			t.Errorf("tables in different datasets share UID %d", other.UID)
		}
	})

	t.Run("ErrDatasetNotFound", func(t *testing.T) {
		e := newEnv(t, newStore)
		_, err := e.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "nope", ID: "t"})
		wantErr(t, "CreateTable", err, catalog.ErrDatasetNotFound)
		_, err = e.cat.GetTable(ctx, "p", "nope", "t")
		wantErr(t, "GetTable", err, catalog.ErrDatasetNotFound)
		_, err = e.cat.ListTables(ctx, "p", "nope")
		wantErr(t, "ListTables", err, catalog.ErrDatasetNotFound)
		_, err = e.cat.UpdateTable(ctx, &catalog.Table{Project: "p", Dataset: "nope", ID: "t"}, "")
		wantErr(t, "UpdateTable", err, catalog.ErrDatasetNotFound)
		wantErr(t, "DeleteTable", e.cat.DeleteTable(ctx, "p", "nope", "t"), catalog.ErrDatasetNotFound)
	})

	t.Run("ErrTableNotFound", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		tb := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t"})
		_, err := e.cat.GetTable(ctx, "p", "d", "nope")
		wantErr(t, "GetTable", err, catalog.ErrTableNotFound)
		_, err = e.cat.GetTable(ctx, "p", "d", "T")
		wantErr(t, "GetTable (other case)", err, catalog.ErrTableNotFound)
		_, err = e.cat.UpdateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "nope"}, "")
		wantErr(t, "UpdateTable", err, catalog.ErrTableNotFound)
		wantErr(t, "DeleteTable", e.cat.DeleteTable(ctx, "p", "d", "nope"), catalog.ErrTableNotFound)
		_, err = e.cat.TableByUID(ctx, tb.UID+1000)
		wantErr(t, "TableByUID", err, catalog.ErrTableNotFound)
		_, err = e.cat.SchemaAt(ctx, tb.UID+1000, 1)
		wantErr(t, "SchemaAt(unknown uid)", err, catalog.ErrTableNotFound)
		_, err = e.cat.SchemaAt(ctx, tb.UID, 2)
		wantErr(t, "SchemaAt(future version)", err, catalog.ErrTableNotFound)
		_, err = e.cat.SchemaAt(ctx, tb.UID, 0)
		wantErr(t, "SchemaAt(0)", err, catalog.ErrTableNotFound)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		tests := []struct {
			name string
			t    catalog.Table
			want string
		}{
			{"bad field name", catalog.Table{ID: "t", Schema: sch(field("x-y", "STRING", ""))},
				`Invalid field name "x-y". Fields must contain only letters, numbers, and underscores, start with a letter or underscore, and be at most 300 characters long.`},
			{"duplicate field", catalog.Table{ID: "t", Schema: sch(field("a", "STRING", ""), field("A", "STRING", ""))},
				"Field A already exists in schema"},
			{"unknown type", catalog.Table{ID: "t", Schema: sch(field("a", "VARCHAR", ""))},
				"Invalid value for type: VARCHAR is not a valid value"},
			{"empty record", catalog.Table{ID: "t", Schema: sch(field("r", "RECORD", ""))},
				"Field r is type RECORD but has no schema"},
			{"bad table id", catalog.Table{ID: "a.b"}, `Invalid table ID "a.b".`},
			{"decorator", catalog.Table{ID: "t$20250101"}, `Invalid table ID "t$20250101".`},
			{"empty table id", catalog.Table{ID: ""}, `Invalid table ID ""`},
			{"long table id", catalog.Table{ID: strings.Repeat("t", 1025)}, "Invalid table ID"},
			{"partition field missing", catalog.Table{ID: "t", Schema: sch(field("a", "STRING", "")),
				TimePartitioning: &catalog.TimePartitioning{Type: "DAY", Field: "ts"}},
				"The field specified for partitioning cannot be found in the schema"},
			{"partition field string", catalog.Table{ID: "t", Schema: sch(field("a", "STRING", "")),
				TimePartitioning: &catalog.TimePartitioning{Type: "DAY", Field: "a"}},
				"The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: STRING."},
			{"partition type", catalog.Table{ID: "t", TimePartitioning: &catalog.TimePartitioning{Type: "WEEK"}},
				"WEEK is not a valid value"},
			{"range on string", catalog.Table{ID: "t", Schema: sch(field("a", "STRING", "")),
				RangePartitioning: rangePart("a", 0, 100, 10)}, "range partitioning can only be of type INTEGER"},
			{"range interval", catalog.Table{ID: "t", Schema: sch(field("a", "INTEGER", "")),
				RangePartitioning: rangePart("a", 0, 100, 0)}, "interval"},
			{"clustering missing", catalog.Table{ID: "t", Schema: sch(field("a", "STRING", "")),
				Clustering: &catalog.Clustering{Fields: []string{"b"}}},
				"The field specified for clustering cannot be found in the schema. Invalid field: b"},
			{"clustering five", catalog.Table{ID: "t", Schema: sch(field("a", "STRING", ""), field("b", "STRING", ""),
				field("c", "STRING", ""), field("d", "STRING", ""), field("e", "STRING", "")),
				Clustering: &catalog.Clustering{Fields: []string{"a", "b", "c", "d", "e"}}}, "Too many clustering fields"},
			{"clustering float", catalog.Table{ID: "t", Schema: sch(field("f", "FLOAT", "")),
				Clustering: &catalog.Clustering{Fields: []string{"f"}}}, "not supported for clustering"},
			{"bad extra", catalog.Table{ID: "t", Extra: map[string]json.RawMessage{"labels": raw(`{`)}}, "labels"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tb := tt.t
				tb.Project, tb.Dataset = "p", "d"
				_, err := e.cat.CreateTable(ctx, &tb)
				wantInvalid(t, "CreateTable", err, tt.want)
				if _, err := e.cat.GetTable(ctx, "p", "d", tb.ID); err == nil {
					t.Errorf("refused table %q exists", tb.ID)
				}
			})
		}
		_, err := e.cat.CreateTable(ctx, nil)
		wantErr(t, "CreateTable(nil)", err, catalog.ErrInvalid)
	})

	t.Run("Layout", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		ingestion := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "ingestion",
			TimePartitioning: &catalog.TimePartitioning{Type: "hour"}})
		if tp := ingestion.TimePartitioning; tp == nil || tp.Type != "HOUR" || tp.Field != "" {
			t.Errorf("ingestion-time partitioning: got %+v, want HOUR without field", tp)
		}
		ranged := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "ranged",
			Schema:            sch(field("n", "INT64", "REQUIRED"), field("s", "STRING", "")),
			RangePartitioning: rangePart("n", -10, 100, 5),
			Clustering:        &catalog.Clustering{Fields: []string{"s"}}})
		rp := ranged.RangePartitioning
		if rp == nil || rp.Field != "n" || rp.Range.Start != -10 || rp.Range.End != 100 || rp.Range.Interval != 5 {
			t.Errorf("RangePartitioning: got %+v", rp)
		}
		if read := e.mustGetTable("p", "d", "ranged"); read.RangePartitioning == nil || *read.RangePartitioning != *rp {
			t.Errorf("GetTable RangePartitioning: got %+v, want %+v", read.RangePartitioning, rp)
		}
	})

	t.Run("List", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		e.mustCreateDataset("p", "other")
		if got, err := e.cat.ListTables(ctx, "p", "d"); err != nil || len(got) != 0 {
			t.Fatalf("ListTables(empty dataset): got %v, %v; want none", got, err)
		}
		for _, id := range []string{"t3", "t1", "a-b", "t2"} {
			e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: id, Schema: sch(field("c", "STRING", ""))})
		}
		e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "other", ID: "x"})
		got, err := e.cat.ListTables(ctx, "p", "d")
		if err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		var ids []string
		for _, tb := range got {
			if tb.Dataset != "d" || tb.Project != "p" || tb.UID <= 0 {
				t.Errorf("ListTables item: %+v", tb)
			}
			ids = append(ids, tb.ID)
		}
		if g, w := strings.Join(ids, ","), "a-b,t1,t2,t3"; g != w {
			t.Errorf("ListTables order: got %s, want %s", g, w)
		}
	})
}

func rangePart(field string, start, end, interval int64) *catalog.RangePartitioning {
	rp := &catalog.RangePartitioning{Field: field}
	rp.Range.Start, rp.Range.End, rp.Range.Interval = start, end, interval
	return rp
}

// evolutionBase is the schema UpdateTable tests start from.
func evolutionBase() *schema.Table {
	return sch(
		field("id", "INTEGER", "REQUIRED"),
		field("name", "STRING", "NULLABLE"),
		field("ts", "TIMESTAMP", "NULLABLE"),
		field("rec", "RECORD", "NULLABLE", field("x", "STRING", "NULLABLE")),
	)
}
