package catalogtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
)

func testDelete(t *testing.T, newStore func(t *testing.T) Opener) {
	ctx := context.Background()

	t.Run("Table", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		old := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: sch(field("a", "STRING", ""))})
		keep := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "keep"})
		if err := e.cat.DeleteTable(ctx, "p", "d", "t"); err != nil {
			t.Fatalf("DeleteTable: %v", err)
		}
		if got := e.deletedUIDs(); !slices.Equal(got, []int64{old.UID}) {
			t.Errorf("OnTableDeleted calls: got %v, want [%d]", got, old.UID)
		}
		_, err := e.cat.GetTable(ctx, "p", "d", "t")
		wantErr(t, "GetTable after delete", err, catalog.ErrTableNotFound)
		_, err = e.cat.TableByUID(ctx, old.UID)
		wantErr(t, "TableByUID after delete", err, catalog.ErrTableNotFound)
		_, err = e.cat.SchemaAt(ctx, old.UID, 1)
		wantErr(t, "SchemaAt after delete", err, catalog.ErrTableNotFound)
		wantErr(t, "second DeleteTable", e.cat.DeleteTable(ctx, "p", "d", "t"), catalog.ErrTableNotFound)
		if list, _ := e.cat.ListTables(ctx, "p", "d"); len(list) != 1 || list[0].UID != keep.UID {
			t.Errorf("ListTables after delete: %v", list)
		}

		// Re-creating the name gives a new table with a new, never used UID.
		again := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: sch(field("b", "INTEGER", ""))})
		if again.UID == old.UID || again.UID == keep.UID {
			t.Errorf("re-created table reuses UID %d", again.UID)
		}
		if again.SchemaVersion != 1 || again.Schema.Fields[0].Name != "b" {
			t.Errorf("re-created table: version %d, schema %s", again.SchemaVersion, schemaJSON(again.Schema))
		}
		_, err = e.cat.TableByUID(ctx, old.UID)
		wantErr(t, "TableByUID(old uid) after re-create", err, catalog.ErrTableNotFound)
	})

	t.Run("UIDsNeverReused", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		seen := map[int64]bool{}
		for i := range 6 {
			tb := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t"})
			if seen[tb.UID] {
				t.Fatalf("round %d: UID %d reused", i, tb.UID)
			}
			seen[tb.UID] = true
			if i%2 == 0 {
				if err := e.cat.DeleteTable(ctx, "p", "d", "t"); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := e.cat.DeleteDataset(ctx, "p", "d", true); err != nil {
					t.Fatal(err)
				}
				e.mustCreateDataset("p", "d")
			}
		}
		if got := e.deletedUIDs(); len(got) != 6 {
			t.Errorf("OnTableDeleted calls: got %v, want 6", got)
		}
	})

	t.Run("ErrDatasetNotEmpty", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		tb := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t"})
		wantErr(t, "DeleteDataset", e.cat.DeleteDataset(ctx, "p", "d", false), catalog.ErrDatasetNotEmpty)
		if _, err := e.cat.GetDataset(ctx, "p", "d"); err != nil {
			t.Errorf("dataset gone after refused delete: %v", err)
		}
		if got := e.mustGetTable("p", "d", "t"); got.UID != tb.UID {
			t.Errorf("table changed after refused delete: %+v", got)
		}
		if got := e.deletedUIDs(); len(got) != 0 {
			t.Errorf("OnTableDeleted called for a refused delete: %v", got)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		if err := e.cat.DeleteDataset(ctx, "p", "d", false); err != nil {
			t.Fatalf("DeleteDataset(empty): %v", err)
		}
		_, err := e.cat.GetDataset(ctx, "p", "d")
		wantErr(t, "GetDataset after delete", err, catalog.ErrDatasetNotFound)
		if list, _ := e.cat.ListDatasets(ctx, "p"); len(list) != 0 {
			t.Errorf("ListDatasets after delete: %v", list)
		}
	})

	t.Run("DeleteContents", func(t *testing.T) {
		e := newEnv(t, newStore)
		first := e.mustCreateDataset("p", "d")
		e.mustCreateDataset("p", "other")
		var uids []int64
		for _, id := range []string{"a", "b", "c"} {
			uids = append(uids, e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: id}).UID)
		}
		survivor := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "other", ID: "a"})
		if err := e.cat.DeleteDataset(ctx, "p", "d", true); err != nil {
			t.Fatalf("DeleteDataset(deleteContents): %v", err)
		}
		got := e.deletedUIDs()
		slices.Sort(got)
		if !slices.Equal(got, uids) {
			t.Errorf("OnTableDeleted calls: got %v, want %v", got, uids)
		}
		for _, uid := range uids {
			_, err := e.cat.TableByUID(ctx, uid)
			wantErr(t, fmt.Sprintf("TableByUID(%d)", uid), err, catalog.ErrTableNotFound)
		}
		_, err := e.cat.GetTable(ctx, "p", "d", "a")
		wantErr(t, "GetTable in deleted dataset", err, catalog.ErrDatasetNotFound)
		if _, err := e.cat.TableByUID(ctx, survivor.UID); err != nil {
			t.Errorf("table of another dataset gone: %v", err)
		}

		// Re-creating the dataset (at the same instant) gives an empty one
		// with a new ETag.
		again := e.mustCreateDataset("p", "d")
		if again.ETag == first.ETag {
			t.Errorf("re-created dataset repeats ETag %q", again.ETag)
		}
		if list, err := e.cat.ListTables(ctx, "p", "d"); err != nil || len(list) != 0 {
			t.Errorf("ListTables of re-created dataset: %v, %v", list, err)
		}
	})
}

// testReopen checks that everything survives a close and reopen.
func testReopen(t *testing.T, newStore func(t *testing.T) Opener) {
	ctx := context.Background()
	e := newEnv(t, newStore)
	e.mustCreateDataset("p", "d")
	e.mustCreateDataset("p", "empty")
	e.mustCreateDataset("q", "d")
	dsUpd, err := e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d",
		Extra: map[string]json.RawMessage{"labels": raw(`{"k":"v"}`)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	evolved := newEvolvableIn(t, e, "p", "d", "t")
	e.clock.Advance(time.Second)
	next := evolved.Clone()
	next.Schema.Fields = append(next.Schema.Fields, field("added", "STRING", ""))
	evolved, err = e.cat.UpdateTable(ctx, next, "")
	if err != nil {
		t.Fatal(err)
	}
	plain := e.mustCreateTable(&catalog.Table{Project: "q", Dataset: "d", ID: "plain",
		Schema: sch(field("n", "INTEGER", "REQUIRED"))})
	doomed := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "doomed"})
	if err := e.cat.DeleteTable(ctx, "p", "d", "doomed"); err != nil {
		t.Fatal(err)
	}

	wantDatasets := snapshotDatasets(t, e.cat, "p", "q")
	wantTables := snapshotTables(t, e.cat, []string{"p", "d"}, []string{"p", "empty"}, []string{"q", "d"})
	s1, _ := e.cat.SchemaAt(ctx, evolved.UID, 1)

	e.reopen()

	if got := snapshotDatasets(t, e.cat, "p", "q"); got != wantDatasets {
		t.Errorf("datasets after reopen:\n got %s\nwant %s", got, wantDatasets)
	}
	if got := snapshotTables(t, e.cat, []string{"p", "d"}, []string{"p", "empty"}, []string{"q", "d"}); got != wantTables {
		t.Errorf("tables after reopen:\n got %s\nwant %s", got, wantTables)
	}
	if got, err := e.cat.SchemaAt(ctx, evolved.UID, 1); err != nil || schemaJSON(got) != schemaJSON(s1) {
		t.Errorf("SchemaAt(1) after reopen: %s, %v; want %s", schemaJSON(got), err, schemaJSON(s1))
	}
	if got, err := e.cat.TableByUID(ctx, plain.UID); err != nil || got.ID != "plain" {
		t.Errorf("TableByUID after reopen: %+v, %v", got, err)
	}
	_, err = e.cat.TableByUID(ctx, doomed.UID)
	wantErr(t, "TableByUID(deleted) after reopen", err, catalog.ErrTableNotFound)

	// ETags from before the restart still match.
	if _, err := e.cat.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}, dsUpd.ETag); err != nil {
		t.Errorf("UpdateDataset with pre-restart etag: %v", err)
	}
	if _, err := e.cat.UpdateTable(ctx, evolved, evolved.ETag); err != nil {
		t.Errorf("UpdateTable with pre-restart etag: %v", err)
	}
	// UIDs keep growing past every UID ever handed out, deleted ones included.
	fresh := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "doomed"})
	for _, uid := range []int64{evolved.UID, plain.UID, doomed.UID} {
		if fresh.UID == uid {
			t.Errorf("table created after reopen reuses UID %d", uid)
		}
	}
}

// newEvolvableIn creates a partitioned, clustered table with evolutionBase.
func newEvolvableIn(t *testing.T, e *env, project, dataset, id string) *catalog.Table {
	t.Helper()
	return e.mustCreateTable(&catalog.Table{Project: project, Dataset: dataset, ID: id, Schema: evolutionBase(),
		TimePartitioning: &catalog.TimePartitioning{Type: "DAY", Field: "ts", ExpirationMs: 1000},
		Clustering:       &catalog.Clustering{Fields: []string{"name"}},
		Extra:            map[string]json.RawMessage{"description": raw(`"kept"`)}})
}

func snapshotDatasets(t *testing.T, c catalog.Catalog, projects ...string) string {
	t.Helper()
	var out string
	for _, p := range projects {
		list, err := c.ListDatasets(context.Background(), p)
		if err != nil {
			t.Fatalf("ListDatasets(%s): %v", p, err)
		}
		for _, d := range list {
			out += fmt.Sprintf("%s:%s loc=%s created=%d modified=%d etag=%s extra=%s\n", d.Project, d.ID, d.Location,
				d.CreationTime.UnixMilli(), d.ModifiedTime.UnixMilli(), d.ETag, extraJSON(d.Extra))
		}
	}
	return out
}

func snapshotTables(t *testing.T, c catalog.Catalog, datasets ...[]string) string {
	t.Helper()
	var out string
	for _, pd := range datasets {
		list, err := c.ListTables(context.Background(), pd[0], pd[1])
		if err != nil {
			t.Fatalf("ListTables(%s:%s): %v", pd[0], pd[1], err)
		}
		for _, tb := range list {
			tp, _ := json.Marshal(tb.TimePartitioning)
			rp, _ := json.Marshal(tb.RangePartitioning)
			cl, _ := json.Marshal(tb.Clustering)
			out += fmt.Sprintf("%s:%s.%s uid=%d v=%d loc=%s created=%d modified=%d etag=%s tp=%s rp=%s cl=%s extra=%s schema=%s\n",
				tb.Project, tb.Dataset, tb.ID, tb.UID, tb.SchemaVersion, tb.Location, tb.CreationTime.UnixMilli(),
				tb.ModifiedTime.UnixMilli(), tb.ETag, tp, rp, cl, extraJSON(tb.Extra), schemaJSON(tb.Schema))
		}
	}
	return out
}

func testConcurrency(t *testing.T, newStore func(t *testing.T) Opener) {
	ctx := context.Background()
	const n = 16

	t.Run("CreateSameTable", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		var wg sync.WaitGroup
		results := make([]*catalog.Table, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				results[i], errs[i] = e.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t",
					Schema: sch(field(fmt.Sprintf("c%d", i), "STRING", ""))})
			})
		}
		wg.Wait()
		var winner *catalog.Table
		for i, err := range errs {
			switch {
			case err == nil && winner != nil:
				t.Errorf("two creates succeeded: UIDs %d and %d", winner.UID, results[i].UID)
			case err == nil:
				winner = results[i]
			case !errors.Is(err, catalog.ErrTableExists):
				t.Errorf("losing create: got %v, want ErrTableExists", err)
			}
		}
		if winner == nil {
			t.Fatal("no create succeeded")
		}
		got := e.mustGetTable("p", "d", "t")
		if got.UID != winner.UID || schemaJSON(got.Schema) != schemaJSON(winner.Schema) {
			t.Errorf("stored table %+v is not the winner %+v", got, winner)
		}
	})

	t.Run("CreateSameDataset", func(t *testing.T) {
		e := newEnv(t, newStore)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = e.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, catalog.ErrDatasetExists) {
				t.Errorf("losing create: got %v, want ErrDatasetExists", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d creates succeeded, want 1", ok)
		}
	})

	t.Run("Mixed", func(t *testing.T) {
		e := newEnv(t, newStore)
		e.mustCreateDataset("p", "d")
		var wg sync.WaitGroup
		uids := make([]int64, n)
		for i := range n {
			wg.Go(func() {
				id := fmt.Sprintf("t%02d", i)
				tb, err := e.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: id,
					Schema: sch(field("a", "STRING", ""))})
				if err != nil {
					t.Errorf("CreateTable(%s): %v", id, err)
					return
				}
				uids[i] = tb.UID
				for j := range 5 {
					next := tb.Clone()
					next.Schema.Fields = append(next.Schema.Fields, field(fmt.Sprintf("f%d", j), "INTEGER", ""))
					if tb, err = e.cat.UpdateTable(ctx, next, tb.ETag); err != nil {
						t.Errorf("UpdateTable(%s): %v", id, err)
						return
					}
					// Readers run alongside other goroutines' writers.
					if _, err := e.cat.GetTable(ctx, "p", "d", id); err != nil {
						t.Errorf("GetTable(%s): %v", id, err)
					}
					if got, err := e.cat.TableByUID(ctx, tb.UID); err != nil || got.SchemaVersion != tb.SchemaVersion {
						t.Errorf("TableByUID(%s): %+v, %v", id, got, err)
					}
					if _, err := e.cat.ListTables(ctx, "p", "d"); err != nil {
						t.Errorf("ListTables: %v", err)
					}
					if _, err := e.cat.SchemaAt(ctx, tb.UID, tb.SchemaVersion); err != nil {
						t.Errorf("SchemaAt: %v", err)
					}
				}
				if tb.SchemaVersion != 6 {
					t.Errorf("%s: SchemaVersion %d, want 6", id, tb.SchemaVersion)
				}
				if i%2 == 0 {
					if err := e.cat.DeleteTable(ctx, "p", "d", id); err != nil {
						t.Errorf("DeleteTable(%s): %v", id, err)
					}
				}
			})
		}
		wg.Wait()
		seen := map[int64]bool{}
		for _, uid := range uids {
			if seen[uid] {
				t.Errorf("UID %d handed out twice", uid)
			}
			seen[uid] = true
		}
		if list, _ := e.cat.ListTables(ctx, "p", "d"); len(list) != n/2 {
			t.Errorf("ListTables: %d tables, want %d", len(list), n/2)
		}
		if got := e.deletedUIDs(); len(got) != n/2 {
			t.Errorf("OnTableDeleted calls: %d, want %d", len(got), n/2)
		}
	})
}

func testClosed(t *testing.T, newStore func(t *testing.T) Opener) {
	ctx := context.Background()
	e := newEnv(t, newStore)
	e.mustCreateDataset("p", "d")
	tb := e.mustCreateTable(&catalog.Table{Project: "p", Dataset: "d", ID: "t"})
	c := e.cat
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	e.cat = nil
	calls := map[string]func() error{
		"CreateDataset": func() error { _, err := c.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "x"}); return err },
		"GetDataset":    func() error { _, err := c.GetDataset(ctx, "p", "d"); return err },
		"ListDatasets":  func() error { _, err := c.ListDatasets(ctx, "p"); return err },
		"UpdateDataset": func() error { _, err := c.UpdateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}, ""); return err },
		"DeleteDataset": func() error { return c.DeleteDataset(ctx, "p", "d", true) },
		"CreateTable": func() error {
			_, err := c.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "x"})
			return err
		},
		"GetTable":    func() error { _, err := c.GetTable(ctx, "p", "d", "t"); return err },
		"TableByUID":  func() error { _, err := c.TableByUID(ctx, tb.UID); return err },
		"ListTables":  func() error { _, err := c.ListTables(ctx, "p", "d"); return err },
		"UpdateTable": func() error { _, err := c.UpdateTable(ctx, tb, ""); return err },
		"DeleteTable": func() error { return c.DeleteTable(ctx, "p", "d", "t") },
		"SchemaAt":    func() error { _, err := c.SchemaAt(ctx, tb.UID, 1); return err },
		"Close":       c.Close,
	}
	for name, call := range calls {
		wantErr(t, name+" after Close", call(), catalog.ErrClosed)
	}
}
