// Package config holds everything `penstock serve` can be told: listen
// addresses, the data directory, logging, durability mode, and the projects,
// datasets and tables to create at start.
//
// Only this package and cmd/penstock look at flags, environment variables
// and files; every other package takes its settings from a Config or from
// its own Options struct.
//
// Sources, strongest first:
//
//	flags            --grpc-addr 127.0.0.1:9060
//	environment      PENSTOCK_GRPC_ADDR=127.0.0.1:9060 (the flag name in upper case, '-' → '_')
//	config file      grpcAddr: 127.0.0.1:9060 (YAML, named by --config or PENSTOCK_CONFIG)
//	defaults         Default()
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Default settings.
const (
	DefaultGRPCAddr        = "127.0.0.1:9060"
	DefaultHTTPAddr        = "127.0.0.1:9050"
	DefaultDataDir         = "./penstock-data"
	DefaultLogLevel        = "info"
	DefaultSync            = SyncAlways
	DefaultShutdownTimeout = 10 * time.Second
)

// EnvPrefix starts the name of every environment variable Load reads.
const EnvPrefix = "PENSTOCK_"

// ErrInvalid is wrapped by every error Validate returns; the message lists
// each problem with the setting it concerns.
var ErrInvalid = errors.New("config: invalid configuration")

// SyncMode says when the write-ahead log is forced to stable storage.
type SyncMode string

// Sync modes.
const (
	// SyncAlways fdatasyncs the log before any write is acknowledged:
	// acknowledged data survives kill -9 and power loss.
	SyncAlways SyncMode = "always"
	// SyncNever leaves flushing to the operating system: acknowledged data
	// survives kill -9 but not power loss. For tests and benchmarks.
	SyncNever SyncMode = "never"
)

// Config is the complete configuration of a Penstock server. The zero
// value is not usable; start from Default() or Load.
type Config struct {
	// GRPCAddr is the host:port the BigQueryWrite gRPC service listens on.
	// Port 0 picks a free port.
	GRPCAddr string
	// HTTPAddr is the host:port the BigQuery REST API listens on. Port 0
	// picks a free port.
	HTTPAddr string
	// DataDir holds the write-ahead log, the catalog and the data files.
	// It is created if missing. Ignored when InMemory is set.
	DataDir string
	// InMemory runs on a fresh temporary data directory that is removed
	// when the server closes. Everything else works exactly as on disk.
	InMemory bool
	// File is the YAML config file that was read ("" for none).
	File string
	// LogLevel is one of debug, info, warn, error.
	LogLevel string
	// Sync is the write-ahead log's sync mode.
	Sync SyncMode
	// WALPrealloc zero-fills log segments ahead of use, which makes each
	// fdatasync cheaper (no file-size metadata to commit) at the cost of
	// writing every log byte twice. Only used with SyncAlways.
	WALPrealloc bool
	// ShutdownTimeout bounds how long Close waits for in-flight requests
	// (open AppendRows streams included) before cutting them off. Zero or
	// negative means do not wait.
	ShutdownTimeout time.Duration
	// StreamingBuffer and DedupWindow are the insertAll settings (see
	// insertall.go): how long streamed rows count as buffered in
	// tables.get (0: never), and how long insertIds are remembered (0:
	// no de-duplication).
	StreamingBuffer time.Duration
	DedupWindow     time.Duration
	// Projects are created at start, if missing, from File. Existing
	// datasets and tables are left exactly as they are.
	Projects []Project
}

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		GRPCAddr:        DefaultGRPCAddr,
		HTTPAddr:        DefaultHTTPAddr,
		DataDir:         DefaultDataDir,
		LogLevel:        DefaultLogLevel,
		Sync:            DefaultSync,
		WALPrealloc:     true,
		ShutdownTimeout: DefaultShutdownTimeout,
		StreamingBuffer: DefaultStreamingBuffer,
		DedupWindow:     DefaultDedupWindow,
	}
}

// Level returns LogLevel as a slog.Level (info if LogLevel is not valid).
func (c Config) Level() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// flagSet declares every flag, bound to the fields of c. It is used twice
// by Load and once by Usage, so flags, environment variables and help text
// share one definition.
func flagSet(c *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("penstock serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.GRPCAddr, "grpc-addr", c.GRPCAddr, "`host:port` for the Storage Write API (gRPC); port 0 picks a free port")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "`host:port` for the BigQuery REST API; port 0 picks a free port")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "`directory` for the log, catalog and data files (created if missing)")
	fs.BoolVar(&c.InMemory, "in-memory", c.InMemory, "use a temporary data directory, removed at exit (ignores --data-dir)")
	fs.StringVar(&c.File, "config", c.File, "YAML `file` with settings and the projects, datasets and tables to create")
	fs.Var((*lowerString)(&c.LogLevel), "log-level", "log `level`: debug, info, warn or error")
	fs.Var((*lowerString)(&c.Sync), "sync", "write-ahead log sync `mode`: always (fdatasync before every ack) or never")
	fs.BoolVar(&c.WALPrealloc, "wal-prealloc", c.WALPrealloc, "zero-fill log segments ahead of use: cheaper fdatasync, twice the disk writes (--wal-prealloc=false on bandwidth-bound disks)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long shutdown waits for in-flight requests")
	insertAllFlags(fs, c)
	return fs
}

// lowerString is a flag.Value holding a lower-cased string; it accepts any
// text and leaves checking to Validate so flags, environment and file report
// problems the same way.
type lowerString string

func (s *lowerString) String() string { return string(*s) }

func (s *lowerString) Set(v string) error {
	*s = lowerString(strings.ToLower(strings.TrimSpace(v)))
	return nil
}

// EnvName returns the environment variable that sets the flag name, e.g.
// "grpc-addr" → "PENSTOCK_GRPC_ADDR".
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Usage writes the flag reference (with each flag's environment variable)
// to w.
func Usage(w io.Writer) {
	d := Default()
	fs := flagSet(&d)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n    \t%s (env %s", f.Name, name, usage, EnvName(f.Name))
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, ", default %s", f.DefValue)
		}
		fmt.Fprintln(w, ")")
	})
}

// Load builds the configuration from command-line flags (args, without the
// program and subcommand names), environment variables read through getenv
// (an empty value counts as unset) and the YAML file named by --config or
// PENSTOCK_CONFIG, over Default(). It validates the result.
//
// It returns an error wrapping flag.ErrHelp for -h/--help, an error naming
// the flag, variable or file for anything unparsable, and an error wrapping
// ErrInvalid if the merged configuration fails Validate.
func Load(args []string, getenv func(string) string) (Config, error) {
	// First pass: learn which file to read, without applying anything.
	var scratch Config
	if err := flagSet(&scratch).Parse(args); err != nil {
		return Config{}, flagError(err)
	}
	file := scratch.File
	if file == "" {
		file = getenv(EnvName("config"))
	}

	cfg := Default()
	if file != "" {
		if err := applyFile(&cfg, file); err != nil {
			return Config{}, err
		}
		cfg.File = file
	}

	fs := flagSet(&cfg)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := EnvName(f.Name)
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("config: %s=%q: %s", name, v, wantText(f))
			}
		}
	})
	if envErr != nil {
		return Config{}, envErr
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, flagError(err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q (flags take the form --name value)", fs.Arg(0))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("config: %v", err)
}

// wantText says what a flag accepts, for parse errors of environment
// variables (only bool and duration flags can fail to parse).
func wantText(f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "want true or false"
	}
	return "want a duration such as 10s or 500ms"
}

// Validate checks every setting and returns an error wrapping ErrInvalid
// that lists each problem, or nil.
func (c Config) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	grpcPort, err := checkAddr(c.GRPCAddr)
	if err != nil {
		add("--grpc-addr %q: %v", c.GRPCAddr, err)
	}
	httpPort, err2 := checkAddr(c.HTTPAddr)
	if err2 != nil {
		add("--http-addr %q: %v", c.HTTPAddr, err2)
	}
	if err == nil && err2 == nil && grpcPort != 0 && grpcPort == httpPort {
		gh, _, _ := net.SplitHostPort(c.GRPCAddr)
		hh, _, _ := net.SplitHostPort(c.HTTPAddr)
		if gh == hh || gh == "" || hh == "" {
			add("--grpc-addr and --http-addr both use port %d; give each its own port", grpcPort)
		}
	}
	if !c.InMemory && strings.TrimSpace(c.DataDir) == "" {
		add("--data-dir is empty; name a directory or use --in-memory")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.Sync {
	case SyncAlways, SyncNever:
	default:
		add("--sync %q: want always or never", c.Sync)
	}
	problems = append(problems, c.validateInsertAll()...)
	problems = append(problems, validateProjects(c.Projects)...)
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
}

// checkAddr checks a host:port listen address and returns its port.
func checkAddr(addr string) (int, error) {
	if addr == "" {
		return 0, errors.New("empty address; want host:port, e.g. 127.0.0.1:9060")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("want host:port, e.g. 127.0.0.1:9060 (%v)", strings.TrimPrefix(err.Error(), "address "+addr+": "))
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return p, nil
}
