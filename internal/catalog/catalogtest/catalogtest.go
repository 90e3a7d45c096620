// Package catalogtest is the conformance suite every catalog.Catalog
// implementation must pass:
//
//	func TestSQLite(t *testing.T) {
//		catalogtest.Run(t, func(t *testing.T) catalogtest.Opener {
//			path := filepath.Join(t.TempDir(), "catalog.db")
//			return func(o catalog.Options) (catalog.Catalog, error) { return catalog.Open(path, o) }
//		})
//	}
//
// The suite checks behaviour visible through the interface only: results,
// sentinel errors, the messages of ErrInvalid errors, durability across a
// close and reopen, and safety under concurrent use (run it with -race).
package catalogtest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/schema"
)

// Opener opens the store under test with the given options. Calling it
// again after the previous catalog was closed must reopen the same store,
// with everything it held.
type Opener func(opts catalog.Options) (catalog.Catalog, error)

// Run runs the whole suite. newStore is called once per subtest and must
// return an Opener for a fresh, empty store that the subtest owns.
func Run(t *testing.T, newStore func(t *testing.T) Opener) {
	t.Run("Dataset", func(t *testing.T) { testDatasets(t, newStore) })
	t.Run("Table", func(t *testing.T) { testTables(t, newStore) })
	t.Run("UpdateTable", func(t *testing.T) { testUpdateTable(t, newStore) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, newStore) })
}

// env is one subtest's store, clock and deletion log.
type env struct {
	t     *testing.T
	open  Opener
	cat   catalog.Catalog
	clock *Clock

	mu      sync.Mutex
	deleted []int64 // UIDs passed to OnTableDeleted, in call order
}

func newEnv(t *testing.T, newStore func(t *testing.T) Opener) *env {
	t.Helper()
	e := &env{t: t, open: newStore(t), clock: NewClock(time.Date(2025, 3, 14, 15, 9, 26, 535e6, time.UTC))}
	e.reopen()
	t.Cleanup(func() {
		if e.cat != nil {
			e.cat.Close()
		}
	})
	return e
}

func (e *env) options() catalog.Options {
	return catalog.Options{
		Now: e.clock.Now,
		OnTableDeleted: func(uid int64) {
			e.mu.Lock()
			e.deleted = append(e.deleted, uid)
			e.mu.Unlock()
		},
	}
}

// reopen closes the current catalog (if any) and opens the store again.
func (e *env) reopen() {
	e.t.Helper()
	if e.cat != nil {
		if err := e.cat.Close(); err != nil {
			e.t.Fatalf("Close: %v", err)
		}
		e.cat = nil
	}
	c, err := e.open(e.options())
	if err != nil {
		e.t.Fatalf("open: %v", err)
	}
	e.cat = c
}

func (e *env) deletedUIDs() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.deleted...)
}

func (e *env) mustCreateDataset(project, id string) *catalog.Dataset {
	e.t.Helper()
	ds, err := e.cat.CreateDataset(context.Background(), &catalog.Dataset{Project: project, ID: id})
	if err != nil {
		e.t.Fatalf("CreateDataset(%s:%s): %v", project, id, err)
	}
	return ds
}

func (e *env) mustCreateTable(tb *catalog.Table) *catalog.Table {
	e.t.Helper()
	got, err := e.cat.CreateTable(context.Background(), tb)
	if err != nil {
		e.t.Fatalf("CreateTable(%s:%s.%s): %v", tb.Project, tb.Dataset, tb.ID, err)
	}
	return got
}

func (e *env) mustGetTable(project, dataset, id string) *catalog.Table {
	e.t.Helper()
	got, err := e.cat.GetTable(context.Background(), project, dataset, id)
	if err != nil {
		e.t.Fatalf("GetTable(%s:%s.%s): %v", project, dataset, id, err)
	}
	return got
}

// Clock is a settable clock for Options.Now, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// wantErr fails the test unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// wantInvalid fails the test unless err wraps catalog.ErrInvalid and its
// message contains want.
func wantInvalid(t *testing.T, what string, err error, want string) {
	t.Helper()
	if !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("%s: got error %v, want ErrInvalid", what, err)
		return
	}
	if got := catalog.Message(err); !strings.Contains(got, want) {
		t.Errorf("%s: message %q does not contain %q", what, got, want)
	}
}

func field(name string, typ schema.Type, mode schema.Mode, sub ...*schema.Field) *schema.Field {
	return &schema.Field{Name: name, Type: typ, Mode: mode, Fields: sub}
}

func sch(fs ...*schema.Field) *schema.Table { return &schema.Table{Fields: fs} }

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// schemaJSON renders a schema for comparison in failure messages and
// equality checks.
func schemaJSON(s *schema.Table) string {
	if s == nil {
		return "<nil>"
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func extraJSON(m map[string]json.RawMessage) string {
	if len(m) == 0 {
		return "{}"
	}
	// Compact each value so that equal JSON compares equal regardless of
	// spacing an implementation may normalize away.
	c := make(map[string]any, len(m))
	for k, v := range m {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return "<" + err.Error() + ">"
		}
		c[k] = x
	}
	b, _ := json.Marshal(c)
	return string(b)
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
