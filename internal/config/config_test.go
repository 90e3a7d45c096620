package config_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/schema"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "penstock.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad_Defaults(t *testing.T) {
	got, err := config.Load(nil, envFunc(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	if got.GRPCAddr != want.GRPCAddr || got.HTTPAddr != want.HTTPAddr || got.DataDir != want.DataDir ||
		got.InMemory || got.LogLevel != "info" || got.Sync != config.SyncAlways ||
		got.ShutdownTimeout != want.ShutdownTimeout || got.File != "" || got.Projects != nil {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got.GRPCAddr != "127.0.0.1:9060" || got.HTTPAddr != "127.0.0.1:9050" || got.DataDir != "./penstock-data" {
		t.Errorf("defaults changed: %+v", got)
	}
}

func TestLoad_Precedence(t *testing.T) {
	file := writeFile(t, `
grpcAddr: 127.0.0.1:1001
httpAddr: 127.0.0.1:1002
dataDir: /from/file
logLevel: warn
sync: never
shutdownTimeout: 3s
`)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		// field under test and its expected value
		get  func(config.Config) string
		want string
	}{
		{"default", nil, nil, func(c config.Config) string { return c.GRPCAddr }, "127.0.0.1:9060"},
		{"file over default", []string{"--config", file}, nil,
			func(c config.Config) string { return c.GRPCAddr }, "127.0.0.1:1001"},
		{"env over file", []string{"--config", file}, map[string]string{"PENSTOCK_GRPC_ADDR": "127.0.0.1:2001"},
			func(c config.Config) string { return c.GRPCAddr }, "127.0.0.1:2001"},
		{"flag over env", []string{"--config", file, "--grpc-addr", "127.0.0.1:3001"},
			map[string]string{"PENSTOCK_GRPC_ADDR": "127.0.0.1:2001"},
			func(c config.Config) string { return c.GRPCAddr }, "127.0.0.1:3001"},
		{"file via env", nil, map[string]string{"PENSTOCK_CONFIG": file},
			func(c config.Config) string { return c.DataDir }, "/from/file"},
		{"file keeps fields it does not name from other sources", []string{"--config", file},
			map[string]string{"PENSTOCK_DATA_DIR": "/from/env"},
			func(c config.Config) string { return c.DataDir + " " + c.HTTPAddr }, "/from/env 127.0.0.1:1002"},
		{"empty env is unset", []string{"--config", file}, map[string]string{"PENSTOCK_DATA_DIR": ""},
			func(c config.Config) string { return c.DataDir }, "/from/file"},
		{"log level file", []string{"--config", file}, nil,
			func(c config.Config) string { return c.LogLevel }, "warn"},
		{"log level env, any case", []string{"--config", file}, map[string]string{"PENSTOCK_LOG_LEVEL": "DEBUG"},
			func(c config.Config) string { return c.LogLevel }, "debug"},
		{"log level flag", []string{"-log-level=error"}, map[string]string{"PENSTOCK_LOG_LEVEL": "debug"},
			func(c config.Config) string { return c.LogLevel }, "error"},
		{"sync file", []string{"--config", file}, nil,
			func(c config.Config) string { return string(c.Sync) }, "never"},
		{"sync env over file", []string{"--config", file}, map[string]string{"PENSTOCK_SYNC": "always"},
			func(c config.Config) string { return string(c.Sync) }, "always"},
		{"in-memory env", nil, map[string]string{"PENSTOCK_IN_MEMORY": "true"},
			func(c config.Config) string { return boolText(c.InMemory) }, "true"},
		{"in-memory flag over env", []string{"--in-memory=false"}, map[string]string{"PENSTOCK_IN_MEMORY": "1"},
			func(c config.Config) string { return boolText(c.InMemory) }, "false"},
		{"shutdown timeout file", []string{"--config", file}, nil,
			func(c config.Config) string { return c.ShutdownTimeout.String() }, "3s"},
		{"shutdown timeout flag", []string{"--config", file, "--shutdown-timeout", "250ms"}, nil,
			func(c config.Config) string { return c.ShutdownTimeout.String() }, "250ms"},
		{"config path recorded", []string{"--config", file}, nil,
			func(c config.Config) string { return c.File }, file},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(tt.args, envFunc(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestLoad_Errors(t *testing.T) {
	badYAML := writeFile(t, "grpcAddr: [unclosed\n")
	unknownKey := writeFile(t, "grpcAdr: 127.0.0.1:1\n")
	wrongType := writeFile(t, "projects:\n  - id: p\n    datasets: nope\n")
	badDuration := writeFile(t, "shutdownTimeout: soon\n")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		invalid bool   // wraps config.ErrInvalid
		want    string // substring of the message
	}{
		{"unknown flag", []string{"--grpc-adr", "x"}, nil, false, "grpc-adr"},
		{"positional argument", []string{"extra"}, nil, false, `unexpected argument "extra"`},
		{"bad bool env", nil, map[string]string{"PENSTOCK_IN_MEMORY": "maybe"}, false, "PENSTOCK_IN_MEMORY"},
		{"bad duration env", nil, map[string]string{"PENSTOCK_SHUTDOWN_TIMEOUT": "soon"}, false, "PENSTOCK_SHUTDOWN_TIMEOUT"},
		{"missing file", []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, nil, false, "nope.yaml"},
		{"bad yaml", []string{"--config", badYAML}, nil, false, badYAML},
		{"unknown key in file", []string{"--config", unknownKey}, nil, false, `unknown field "grpcAdr"`},
		{"wrong type in file", []string{"--config", wrongType}, nil, false, "datasets"},
		{"bad duration in file", []string{"--config", badDuration}, nil, false, "shutdownTimeout"},
		{"invalid value from env", nil, map[string]string{"PENSTOCK_SYNC": "sometimes"}, true, `--sync "sometimes"`},
		{"invalid value from flag", []string{"--http-addr", "nohost"}, nil, true, `--http-addr "nohost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(tt.args, envFunc(tt.env))
			if err == nil {
				t.Fatal("got nil error")
			}
			if got := errors.Is(err, config.ErrInvalid); got != tt.invalid {
				t.Errorf("errors.Is(ErrInvalid) = %v, want %v (%v)", got, tt.invalid, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestLoad_Help(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		if _, err := config.Load([]string{arg}, envFunc(nil)); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Load(%s): got %v, want flag.ErrHelp", arg, err)
		}
	}
}

func TestUsage_NamesEveryEnvVar(t *testing.T) {
	var b strings.Builder
	config.Usage(&b)
	for _, v := range []string{"PENSTOCK_GRPC_ADDR", "PENSTOCK_HTTP_ADDR", "PENSTOCK_DATA_DIR", "PENSTOCK_IN_MEMORY",
		"PENSTOCK_CONFIG", "PENSTOCK_LOG_LEVEL", "PENSTOCK_SYNC", "--grpc-addr", "127.0.0.1:9060"} {
		if !strings.Contains(b.String(), v) {
			t.Errorf("usage does not mention %s:\n%s", v, b.String())
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*config.Config)
		want   string // "" = valid; else substring of the error
	}{
		{"default", func(*config.Config) {}, ""},
		{"port zero", func(c *config.Config) { c.GRPCAddr, c.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0" }, ""},
		{"any host", func(c *config.Config) { c.GRPCAddr = ":9999" }, ""},
		{"ipv6", func(c *config.Config) { c.GRPCAddr = "[::1]:9060" }, ""},
		{"empty grpc addr", func(c *config.Config) { c.GRPCAddr = "" }, "--grpc-addr"},
		{"no port", func(c *config.Config) { c.GRPCAddr = "localhost" }, "want host:port"},
		{"port not a number", func(c *config.Config) { c.HTTPAddr = "localhost:http" }, `port "http"`},
		{"port out of range", func(c *config.Config) { c.HTTPAddr = "localhost:70000" }, "0 to 65535"},
		{"same port", func(c *config.Config) { c.HTTPAddr = "127.0.0.1:9060" }, "both use port 9060"},
		{"same port, all interfaces", func(c *config.Config) { c.GRPCAddr, c.HTTPAddr = ":7000", "127.0.0.1:7000" }, "both use port 7000"},
		{"same port, other hosts", func(c *config.Config) { c.GRPCAddr, c.HTTPAddr = "127.0.0.1:7000", "127.0.0.2:7000" }, ""},
		{"empty data dir", func(c *config.Config) { c.DataDir = " " }, "--data-dir is empty"},
		{"empty data dir in memory", func(c *config.Config) { c.DataDir, c.InMemory = "", true }, ""},
		{"log level", func(c *config.Config) { c.LogLevel = "verbose" }, `--log-level "verbose"`},
		{"sync", func(c *config.Config) { c.Sync = "write" }, `--sync "write"`},
		{"two problems reported together", func(c *config.Config) { c.LogLevel, c.Sync = "x", "y" }, `--log-level "x": want debug, info, warn or error; --sync "y"`},
		{"project id", func(c *config.Config) { c.Projects = []config.Project{{}} }, "projects[0]: id is required"},
		{"duplicate dataset", func(c *config.Config) {
			c.Projects = []config.Project{{ID: "p", Datasets: []config.Dataset{{ID: "d"}, {ID: "d"}}}}
		}, "project p: dataset d: listed twice"},
		{"table id", func(c *config.Config) {
			c.Projects = []config.Project{{ID: "p", Datasets: []config.Dataset{{ID: "d", Tables: []config.Table{{}}}}}}
		}, "dataset d: tables[0]: id is required"},
		{"rows without schema", func(c *config.Config) {
			c.Projects = []config.Project{{ID: "p", Datasets: []config.Dataset{{ID: "d", Tables: []config.Table{{
				ID: "t", Rows: []json.RawMessage{json.RawMessage(`{"a":1}`)}}}}}}}
		}, "table t: rows need a schema"},
		{"row not an object", func(c *config.Config) {
			c.Projects = []config.Project{{ID: "p", Datasets: []config.Dataset{{ID: "d", Tables: []config.Table{{
				ID: "t", Schema: config.Schema{Table: schema.Table{Fields: []*schema.Field{{Name: "a", Type: schema.Integer}}}},
				Rows: []json.RawMessage{json.RawMessage(`[1]`)}}}}}}}
		}, "table t: rows[0]: want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("got %v, want an error wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestLoad_FileResources(t *testing.T) {
	file := writeFile(t, `
projects:
  - id: proj
    datasets:
      - id: sales
        location: EU
        description: from the file
        labels: {team: data}
        tables:
          - id: orders
            description: orders table
            schema:
              - {name: id, type: INT64, mode: REQUIRED}
              - {name: note, type: STRING, maxLength: 20}
              - name: item
                type: RECORD
                fields:
                  - {name: sku, type: STRING}
                  - {name: qty, type: INTEGER}
              - {name: day, type: DATE}
            timePartitioning: {type: DAY, field: day, expirationMs: 86400000}
            clustering: {fields: [id]}
            rows:
              - {id: 9007199254740993, note: "a", day: 2024-01-02, item: {sku: x, qty: 2}}
              - {id: 2, note: ~, ratio: .inf}
          - id: ranges
            schema:
              fields:
                - {name: n, type: INTEGER}
            rangePartitioning: {field: n, range: {start: 0, end: 100, interval: 10}}
`)
	c, err := config.Load([]string{"--config", file}, envFunc(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(c.Projects), 1; got != want {
		t.Fatalf("got %d projects, want %d", got, want)
	}
	ds := c.Projects[0].Datasets[0]
	if ds.ID != "sales" || ds.Location != "EU" || ds.Description != "from the file" || ds.Labels["team"] != "data" {
		t.Errorf("dataset = %+v", ds)
	}
	orders := ds.Tables[0]
	if got, want := len(orders.Schema.Fields), 4; got != want {
		t.Fatalf("got %d fields, want %d", got, want)
	}
	f := orders.Schema.Fields
	if f[0].Name != "id" || f[0].Type != "INT64" || f[0].Mode != schema.Required {
		t.Errorf("field 0 = %+v", f[0])
	}
	if f[1].MaxLength != 20 {
		t.Errorf("maxLength = %d, want 20 (YAML integer inside schema)", f[1].MaxLength)
	}
	if len(f[2].Fields) != 2 || f[2].Fields[1].Name != "qty" {
		t.Errorf("nested fields = %+v", f[2].Fields)
	}
	// Inside REST objects whose int64 fields are JSON strings, YAML
	// integers become strings.
	if got, want := string(orders.TimePartitioning), `{"type":"DAY","field":"day","expirationMs":"86400000"}`; got != want {
		t.Errorf("timePartitioning = %s, want %s", got, want)
	}
	if got, want := string(orders.Clustering), `{"fields":["id"]}`; got != want {
		t.Errorf("clustering = %s, want %s", got, want)
	}
	if got, want := len(orders.Rows), 2; got != want {
		t.Fatalf("got %d rows, want %d", got, want)
	}
	// Integers keep all their digits, dates stay text, nested objects stay
	// objects, NaN/Inf become the strings BigQuery accepts.
	var row0 map[string]json.RawMessage
	if err := json.Unmarshal(orders.Rows[0], &row0); err != nil {
		t.Fatal(err)
	}
	for col, want := range map[string]string{"id": "9007199254740993", "day": `"2024-01-02"`, "note": `"a"`, "item": `{"sku":"x","qty":2}`} {
		if got := string(row0[col]); got != want {
			t.Errorf("row 0 %s = %s, want %s", col, got, want)
		}
	}
	if got, want := string(orders.Rows[1]), `{"id":2,"note":null,"ratio":"Infinity"}`; got != want {
		t.Errorf("row 1 = %s, want %s", got, want)
	}
	if got, want := string(ds.Tables[1].RangePartitioning), `{"field":"n","range":{"start":"0","end":"100","interval":"10"}}`; got != want {
		t.Errorf("rangePartitioning = %s, want %s", got, want)
	}
	if got, want := len(ds.Tables[1].Schema.Fields), 1; got != want {
		t.Errorf("object-form schema: got %d fields, want %d", got, want)
	}
}

func TestLoad_EmptyFile(t *testing.T) {
	c, err := config.Load([]string{"--config", writeFile(t, "")}, envFunc(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.GRPCAddr, config.DefaultGRPCAddr; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConfig_Level(t *testing.T) {
	for _, lvl := range []string{"debug", "info", "warn", "error"} {
		c := config.Default()
		c.LogLevel = lvl
		if got := strings.ToLower(c.Level().String()); got != lvl {
			t.Errorf("Level(%q) = %s", lvl, got)
		}
	}
}

func TestLoad_WALPrealloc(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{name: "default on", want: true},
		{name: "flag off", args: []string{"--wal-prealloc=false"}, want: false},
		{name: "env off", env: map[string]string{"PENSTOCK_WAL_PREALLOC": "false"}, want: false},
		{name: "flag beats env", args: []string{"--wal-prealloc=true"}, env: map[string]string{"PENSTOCK_WAL_PREALLOC": "false"}, want: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(tt.args, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.WALPrealloc != tt.want {
				t.Errorf("WALPrealloc = %v, want %v", c.WALPrealloc, tt.want)
			}
		})
	}
}
