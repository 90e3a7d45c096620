package catalog_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/catalog/catalogtest"
	"github.com/penstockdb/penstock/internal/schema"
)

func TestSQLite(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalogtest.Opener {
		path := filepath.Join(t.TempDir(), "catalog.db")
		return func(o catalog.Options) (catalog.Catalog, error) { return catalog.Open(path, o) }
	})
}

func mustOpen(tb testing.TB, path string) *catalog.SQLite {
	tb.Helper()
	c, err := catalog.Open(path, catalog.Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestOpen_Pragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c := mustOpen(t, path)
	if _, err := c.CreateDataset(context.Background(), &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
		t.Fatal(err)
	}
	// Another connection sees the committed dataset and the file's settings.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: got %q, %v; want wal", mode, err)
	}
	var version, n int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != 1 {
		t.Errorf("user_version: got %d, %v; want 1", version, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM datasets").Scan(&n); err != nil || n != 1 {
		t.Errorf("datasets rows seen by another connection: %d, %v; want 1", n, err)
	}
}

// TestOpen_WithoutClose opens the file a second time while the first
// catalog is still open and was never closed, as a restarted process would
// after a crash: every acknowledged mutation must already be in the file.
func TestOpen_WithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	ctx := context.Background()
	first := mustOpen(t, path)
	if _, err := first.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
		t.Fatal(err)
	}
	tb, err := first.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t",
		Schema: &schema.Table{Fields: []*schema.Field{{Name: "a", Type: "STRING"}}}})
	if err != nil {
		t.Fatal(err)
	}
	next := tb.Clone()
	next.Schema.Fields = append(next.Schema.Fields, &schema.Field{Name: "b", Type: "INTEGER"})
	if tb, err = first.UpdateTable(ctx, next, ""); err != nil {
		t.Fatal(err)
	}

	second := mustOpen(t, path)
	got, err := second.GetTable(ctx, "p", "d", "t")
	if err != nil {
		t.Fatalf("GetTable in second catalog: %v", err)
	}
	if got.UID != tb.UID || got.SchemaVersion != 2 || got.ETag != tb.ETag || len(got.Schema.Fields) != 2 {
		t.Errorf("second catalog sees %+v, want %+v", got, tb)
	}
}

func TestOpen_Errors(t *testing.T) {
	dir := t.TempDir()
	t.Run("QuestionMark", func(t *testing.T) {
		if _, err := catalog.Open(filepath.Join(dir, "a?b.db"), catalog.Options{}); err == nil {
			t.Errorf("Open accepted a path with '?'")
		}
	})
	t.Run("NotACatalog", func(t *testing.T) {
		path := filepath.Join(dir, "other.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE TABLE x (y INTEGER)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := catalog.Open(path, catalog.Options{}); err == nil || !strings.Contains(err.Error(), "not a Penstock catalog") {
			t.Errorf("Open(foreign database): got %v", err)
		}
	})
	t.Run("FutureVersion", func(t *testing.T) {
		path := filepath.Join(dir, "future.db")
		mustOpen(t, path).Close()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := catalog.Open(path, catalog.Options{}); err == nil || !strings.Contains(err.Error(), "version 99") {
			t.Errorf("Open(version 99): got %v", err)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		path := filepath.Join(dir, "garbage.db")
		if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := catalog.Open(path, catalog.Options{}); err == nil {
			t.Errorf("Open(garbage) succeeded")
		}
	})
	t.Run("MissingDir", func(t *testing.T) {
		if _, err := catalog.Open(filepath.Join(dir, "no", "such", "dir", "c.db"), catalog.Options{}); err == nil {
			t.Errorf("Open in a missing directory succeeded")
		}
	})
	t.Run("CorruptRow", func(t *testing.T) {
		path := filepath.Join(dir, "corrupt.db")
		c := mustOpen(t, path)
		if _, err := c.CreateDataset(context.Background(), &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
			t.Fatal(err)
		}
		c.Close()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("UPDATE datasets SET extra = '{broken'"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := catalog.Open(path, catalog.Options{}); err == nil || !strings.Contains(err.Error(), "dataset p:d") {
			t.Errorf("Open(corrupt extra): got %v", err)
		}
	})
}

func TestMessage(t *testing.T) {
	c := mustOpen(t, filepath.Join(t.TempDir(), "c.db"))
	_, err := c.CreateDataset(context.Background(), &catalog.Dataset{Project: "p", ID: "x-y"})
	want := `Invalid dataset ID "x-y". Dataset IDs must be alphanumeric (plus underscores) and must be at most 1024 characters long.`
	if got := catalog.Message(err); got != want {
		t.Errorf("Message: got %q, want %q", got, want)
	}
	if got := catalog.Message(fmt.Errorf("restapi: insert: %w", err)); got != want {
		t.Errorf("Message(wrapped): got %q, want %q", got, want)
	}
	if got, want := catalog.Message(catalog.ErrTableNotFound), catalog.ErrTableNotFound.Error(); got != want {
		t.Errorf("Message(not found): got %q, want %q", got, want)
	}
	if got := catalog.Message(nil); got != "" {
		t.Errorf("Message(nil): got %q", got)
	}
	if !strings.HasPrefix(err.Error(), "catalog: invalid: ") {
		t.Errorf("Error(): got %q, want the catalog: invalid: prefix", err.Error())
	}
}

func TestValidateTableID(t *testing.T) {
	for _, id := range []string{"t", "T_1", "with-dash", "日本語", "café", "x" + strings.Repeat("y", 1023), "123"} {
		if err := catalog.ValidateTableID(id); err != nil {
			t.Errorf("ValidateTableID(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", "a b", "a.b", "a$1", "a/b", "a:b", strings.Repeat("y", 1025), "\xff"} {
		if err := catalog.ValidateTableID(id); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("ValidateTableID(%q): got %v, want ErrInvalid", id, err)
		}
	}
}

func TestTableClone(t *testing.T) {
	c := mustOpen(t, filepath.Join(t.TempDir(), "c.db"))
	ctx := context.Background()
	if _, err := c.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t",
		Schema: &schema.Table{Fields: []*schema.Field{{Name: "a", Type: "STRING"}}},
		Extra:  map[string]json.RawMessage{"description": json.RawMessage(`"x"`)}}); err != nil {
		t.Fatal(err)
	}
	got, _ := c.GetTable(ctx, "p", "d", "t")
	cl := got.Clone()
	cl.Schema.Fields[0].Name = "changed"
	if again, _ := c.GetTable(ctx, "p", "d", "t"); again.Schema.Fields[0].Name != "a" {
		t.Errorf("editing a Clone's schema changed the stored schema")
	}
}

// BenchmarkSQLite_GetTable measures the Storage Write hot-path lookup.
func BenchmarkSQLite_GetTable(b *testing.B) {
	for _, cols := range []int{5, 100} {
		b.Run(fmt.Sprintf("cols=%d", cols), func(b *testing.B) {
			c := mustOpen(b, filepath.Join(b.TempDir(), "c.db"))
			ctx := context.Background()
			if _, err := c.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
				b.Fatal(err)
			}
			s := &schema.Table{}
			for i := range cols {
				s.Fields = append(s.Fields, &schema.Field{Name: fmt.Sprintf("c%d", i), Type: "STRING"})
			}
			tb, err := c.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: s,
				Extra: map[string]json.RawMessage{"description": json.RawMessage(`"x"`)}})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("by=name", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.GetTable(ctx, "p", "d", "t"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("by=uid", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.TableByUID(ctx, tb.UID); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkSQLite_UpdateTable measures one durable metadata write.
func BenchmarkSQLite_UpdateTable(b *testing.B) {
	c := mustOpen(b, filepath.Join(b.TempDir(), "c.db"))
	ctx := context.Background()
	if _, err := c.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
		b.Fatal(err)
	}
	tb, err := c.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t",
		Schema: &schema.Table{Fields: []*schema.Field{{Name: "a", Type: "STRING"}}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if tb, err = c.UpdateTable(ctx, tb, ""); err != nil {
			b.Fatal(err)
		}
	}
}
