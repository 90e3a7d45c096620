package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/server"
	"github.com/penstockdb/penstock/internal/servertest"
)

// testConfig is a valid config on free ports and a fresh directory.
func testConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	return cfg
}

func TestServer_InMemoryServeAndShutdown(t *testing.T) {
	cfg := testConfig(t)
	cfg.InMemory = true
	cfg.DataDir = ""
	var logs server.SyncBuffer
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	dir := srv.DataDir()
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
		t.Fatalf("in-memory data dir not set up: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"msg=listening api=grpc addr=" + srv.GRPCAddr(),
		"msg=listening api=http addr=" + srv.HTTPAddr(),
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.HasSuffix(srv.GRPCAddr(), ":0") || srv.GRPCAddr() == srv.HTTPAddr() {
		t.Errorf("addresses not bound: grpc %s, http %s", srv.GRPCAddr(), srv.HTTPAddr())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	resp, err := http.Get("http://" + srv.HTTPAddr() + "/bigquery/v2/projects/p/datasets")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Errorf("datasets.list: got HTTP %d, want %d", got, want)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("in-memory data dir %s still there after shutdown (stat: %v)", dir, err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := srv.Listen(); !errors.Is(err, server.ErrClosed) {
		t.Errorf("Listen after Close: got %v, want ErrClosed", err)
	}
}

func TestServer_SecondServerOnSameDirRefused(t *testing.T) {
	in := servertest.Start(t)
	cfg := in.Config
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"

	_, err := server.New(cfg, nil)
	if !errors.Is(err, server.ErrDataDirLocked) {
		t.Fatalf("got %v, want ErrDataDirLocked", err)
	}
	for _, want := range []string{cfg.DataDir, "in use by another Penstock server", "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	// Once the first server is gone the directory is free again.
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, nil)
	if err != nil {
		t.Fatalf("after the first server closed: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestServer_NewFailsCleanly(t *testing.T) {
	t.Run("invalid config", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Sync = "sometimes"
		if _, err := server.New(cfg, nil); !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
	t.Run("data dir is a file", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.DataDir = filepath.Join(cfg.DataDir, "file")
		if err := os.WriteFile(cfg.DataDir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := server.New(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), "data directory") {
			t.Fatalf("got %v, want an error about the data directory", err)
		}
	})
	t.Run("listen conflict", func(t *testing.T) {
		in := servertest.Start(t)
		cfg := testConfig(t)
		cfg.HTTPAddr = strings.TrimPrefix(in.HTTPURL, "http://")
		srv, err := server.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = srv.Serve(t.Context())
		if err == nil || !strings.Contains(err.Error(), "HTTP listener") {
			t.Fatalf("got %v, want an HTTP listener error", err)
		}
		// Serve closed the server: the directory is unlocked.
		srv2, err := server.New(cfg, nil)
		if err != nil {
			t.Fatalf("directory still locked after failed Serve: %v", err)
		}
		_ = srv2.Close()
	})
	t.Run("bad schema in config file", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Projects = loadProjects(t, `
projects:
  - id: p
    datasets:
      - id: d
        tables:
          - id: t
            schema: [{name: "bad-name", type: STRING}]
`)
		_, err := server.New(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), "config file: table p:d.t") || !strings.Contains(err.Error(), "bad-name") {
			t.Fatalf("got %v, want an error naming the table and the field", err)
		}
		// The failed start released the lock.
		srv, err := server.New(testConfigDir(t, cfg.DataDir), nil)
		if err != nil {
			t.Fatalf("directory still locked after failed New: %v", err)
		}
		_ = srv.Close()
	})
}

func testConfigDir(t *testing.T, dir string) config.Config {
	cfg := testConfig(t)
	cfg.DataDir = dir
	return cfg
}

// loadProjects parses a YAML config file body the way penstock serve
// --config does and returns its resources.
func loadProjects(t *testing.T, body string) []config.Project {
	t.Helper()
	path := filepath.Join(t.TempDir(), "penstock.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load([]string{"--config", path}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Projects
}

// schemaText renders a schema compactly for comparisons.
func schemaText(s bigquery.Schema) string {
	var parts []string
	for _, f := range s {
		p := f.Name + " " + string(f.Type)
		if f.Required {
			p += " REQUIRED"
		}
		if f.Repeated {
			p += " REPEATED"
		}
		if f.Description != "" {
			p += " '" + f.Description + "'"
		}
		if len(f.Schema) > 0 {
			p += " <" + schemaText(f.Schema) + ">"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func tableIDs(t *testing.T, ds *bigquery.Dataset) []string {
	t.Helper()
	var ids []string
	it := ds.Tables(t.Context())
	for {
		tb, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return ids
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tb.TableID)
	}
}

func TestServer_RestartKeepsCatalog(t *testing.T) {
	in := servertest.Start(t)
	ctx := t.Context()
	c := in.BigQueryClient(t)
	ds := c.Dataset("sales")
	if err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: "EU", Description: "sales data"}); err != nil {
		t.Fatal(err)
	}
	sch := bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType, Required: true},
		{Name: "item", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{
			{Name: "sku", Type: bigquery.StringFieldType, Description: "stock unit"},
			{Name: "tags", Type: bigquery.StringFieldType, Repeated: true},
		}},
		{Name: "day", Type: bigquery.DateFieldType},
	}
	for _, id := range []string{"orders", "returns"} {
		if err := ds.Table(id).Create(ctx, &bigquery.TableMetadata{
			Schema: sch, Description: id + " table",
			TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: "day"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Table("returns").Delete(ctx); err != nil {
		t.Fatal(err)
	}

	in.Restart(t)

	dmd, err := ds.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dmd.Location != "EU" || dmd.Description != "sales data" {
		t.Errorf("dataset after restart: location %q, description %q", dmd.Location, dmd.Description)
	}
	tmd, err := ds.Table("orders").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaText(tmd.Schema), schemaText(sch); got != want {
		t.Errorf("schema after restart:\n got %s\nwant %s", got, want)
	}
	if tmd.Description != "orders table" || tmd.TimePartitioning == nil || tmd.TimePartitioning.Field != "day" {
		t.Errorf("table after restart: %+v", tmd)
	}
	if got, want := tableIDs(t, ds), []string{"orders"}; !slices.Equal(got, want) {
		t.Errorf("tables after restart: got %v, want %v", got, want)
	}
	// Still writable.
	if err := ds.Table("orders").Delete(ctx); err != nil {
		t.Fatal(err)
	}
}

const resourcesYAML = `
projects:
  - id: penstock-test
    datasets:
      - id: shop
        description: from the file
        tables:
          - id: orders
            description: from the file
            schema:
              - {name: id, type: INTEGER, mode: REQUIRED}
              - name: item
                type: RECORD
                fields:
                  - {name: sku, type: STRING}
                  - {name: qty, type: INT64}
          - id: events
            schema: {fields: [{name: at, type: TIMESTAMP}]}
            timePartitioning: {type: HOUR, field: at}
`

func TestServer_ConfigFileResourcesIdempotent(t *testing.T) {
	projects := loadProjects(t, resourcesYAML)
	in := servertest.Start(t, servertest.WithConfig(func(c *config.Config) { c.Projects = projects }))
	ctx := t.Context()
	c := in.BigQueryClient(t)
	ds := c.Dataset("shop")
	if got, want := tableIDs(t, ds), []string{"events", "orders"}; !slices.Equal(got, want) {
		t.Fatalf("tables: got %v, want %v", got, want)
	}
	orders, err := ds.Table("orders").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaText(orders.Schema), "id INTEGER REQUIRED, item RECORD <sku STRING, qty INTEGER>"; got != want {
		t.Errorf("schema: got %s, want %s", got, want)
	}
	events, err := ds.Table("events").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tp := events.TimePartitioning; tp == nil || tp.Type != bigquery.HourPartitioningType || tp.Field != "at" {
		t.Errorf("events partitioning: %+v", tp)
	}

	// Changes made through the API survive a restart with the same file.
	if _, err := ds.Update(ctx, bigquery.DatasetMetadataToUpdate{Description: "changed"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Table("orders").Update(ctx, bigquery.TableMetadataToUpdate{Description: "changed"}, ""); err != nil {
		t.Fatal(err)
	}
	in.Restart(t)
	in.Restart(t)

	dmd, err := ds.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dmd.Description, "changed"; got != want {
		t.Errorf("dataset description after restart: got %q, want %q", got, want)
	}
	orders2, err := ds.Table("orders").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := orders2.Description, "changed"; got != want {
		t.Errorf("table description after restart: got %q, want %q", got, want)
	}
	if !orders2.CreationTime.Equal(orders.CreationTime) {
		t.Errorf("table recreated: creation time %v, was %v", orders2.CreationTime, orders.CreationTime)
	}
	if got, want := tableIDs(t, ds), []string{"events", "orders"}; !slices.Equal(got, want) {
		t.Errorf("tables after restart: got %v, want %v", got, want)
	}
}

func TestServer_ConfigFileSeedRowsOnce(t *testing.T) {
	projects := loadProjects(t, `
projects:
  - id: penstock-test
    datasets:
      - id: shop
        tables:
          - id: orders
            schema:
              - {name: id, type: INTEGER}
              - {name: note, type: STRING}
            rows:
              - {id: 1, note: first}
              - {id: 2, note: second}
              - {id: 3}
`)
	dir := t.TempDir()
	cfg := testConfigDir(t, dir)
	cfg.Projects = projects
	srv, err := server.New(cfg, nil)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("seed rows need the write engine (internal/server/engine.go insertRows): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	in := servertest.Start(t, servertest.WithDataDir(dir), servertest.WithConfig(func(c *config.Config) { c.Projects = projects }))
	c := in.BigQueryClient(t)
	count := func() int {
		t.Helper()
		it := c.Dataset("shop").Table("orders").Read(t.Context())
		n := 0
		for {
			var row []bigquery.Value
			err := it.Next(&row)
			if errors.Is(err, iterator.Done) {
				return n
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if got, want := count(), 3; got != want {
		t.Fatalf("rows after second start: got %d, want %d", got, want)
	}
	in.Restart(t)
	if got, want := count(), 3; got != want {
		t.Errorf("rows after third start: got %d, want %d", got, want)
	}
}
