// Package servertest runs a real Penstock server inside a test: both APIs
// on 127.0.0.1 with free ports, on a temporary data directory, stopped by
// the test's cleanup. Tests then talk to it with the official client
// libraries over loopback, exactly as users do.
package servertest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/server"
)

// DefaultProject is the project id the client helpers use unless
// WithProject says otherwise. Any project id works: projects exist
// implicitly.
const DefaultProject = "penstock-test"

// Option changes how Start configures the server.
type Option func(*options)

type options struct {
	dataDir string
	project string
	modify  []func(*config.Config)
	logger  *slog.Logger
}

// WithDataDir runs the server on dir instead of a fresh t.TempDir(), so a
// test can start a second server on the data an earlier one left.
func WithDataDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// WithConfig lets the test change the configuration before the server
// starts. It runs after Start's own settings (127.0.0.1:0 for both APIs,
// the data directory, a 2 s shutdown timeout), so it may override them.
func WithConfig(fn func(*config.Config)) Option {
	return func(o *options) { o.modify = append(o.modify, fn) }
}

// WithProject sets the project id of the client helpers.
func WithProject(id string) Option { return func(o *options) { o.project = id } }

// WithLogger sends the server's log to l instead of the test log (which
// gets warnings and errors only).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Instance is a running in-process server.
type Instance struct {
	// GRPCAddr is the Storage Write API address, host:port.
	GRPCAddr string
	// HTTPURL is the REST API root, "http://host:port" (what
	// option.WithEndpoint takes for the Go bigquery client).
	HTTPURL string
	// Project is the project id the client helpers use.
	Project string
	// Config is the configuration the server runs with, with the bound
	// addresses filled in.
	Config config.Config

	tb     testing.TB
	logger *slog.Logger
	logw   *tbWriter

	mu     sync.Mutex
	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
}

// Start starts a server for the test and registers its Close with
// tb.Cleanup. It fails the test if the server cannot start.
func Start(tb testing.TB, opts ...Option) *Instance {
	tb.Helper()
	o := options{project: DefaultProject}
	for _, fn := range opts {
		fn(&o)
	}
	cfg := config.Default()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.DataDir = o.dataDir
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	for _, fn := range o.modify {
		fn(&cfg)
	}
	in := &Instance{Project: o.project, Config: cfg, tb: tb, logger: o.logger}
	if in.logger == nil {
		in.logw = &tbWriter{tb: tb}
		in.logger = slog.New(slog.NewTextHandler(in.logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	tb.Cleanup(func() {
		if err := in.Close(); err != nil {
			tb.Errorf("servertest: closing server: %v", err)
		}
		if in.logw != nil {
			in.logw.stop()
		}
	})
	if err := in.start(); err != nil {
		tb.Fatalf("servertest: %v", err)
	}
	return in
}

// start opens and serves the server on in.Config. After the first start
// the config holds the bound addresses, so a restart reuses the ports and
// existing clients reconnect to the new server.
func (in *Instance) start() error {
	srv, err := server.New(in.Config, in.logger)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		_ = srv.Close()
		return err
	}
	in.Config.GRPCAddr = srv.GRPCAddr()
	in.Config.HTTPAddr = srv.HTTPAddr()
	in.GRPCAddr = srv.GRPCAddr()
	in.HTTPURL = "http://" + srv.HTTPAddr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	in.mu.Lock()
	in.srv, in.cancel, in.done = srv, cancel, done
	in.mu.Unlock()
	return nil
}

// Server returns the running server (nil after Close).
func (in *Instance) Server() *server.Server {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.srv
}

// Close stops the server gracefully and waits for it. It returns the
// server's shutdown error. Later calls return nil.
func (in *Instance) Close() error {
	in.mu.Lock()
	srv, cancel, done := in.srv, in.cancel, in.done
	in.srv, in.cancel, in.done = nil, nil, nil
	in.mu.Unlock()
	if srv == nil {
		return nil
	}
	cancel()
	return <-done
}

// Restart closes the server and starts a new one on the same data
// directory and addresses, as a process restart would. Clients made
// before keep working. In-memory servers lose everything. It fails the
// test on error.
func (in *Instance) Restart(tb testing.TB) {
	tb.Helper()
	if err := in.Close(); err != nil {
		tb.Fatalf("servertest: restart: closing: %v", err)
	}
	if err := in.start(); err != nil {
		tb.Fatalf("servertest: restart: %v", err)
	}
}

// BigQueryClient returns a cloud.google.com/go/bigquery client for the REST
// API, without authentication, closed at the end of the test.
func (in *Instance) BigQueryClient(tb testing.TB) *bigquery.Client {
	tb.Helper()
	c, err := bigquery.NewClient(context.Background(), in.Project,
		option.WithEndpoint(in.HTTPURL), option.WithoutAuthentication())
	if err != nil {
		tb.Fatalf("servertest: bigquery.NewClient: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// WriteClientOptions returns the client options that point a Storage Write
// API client (managedwriter.NewClient, storage.NewBigQueryWriteClient) at
// the server: its address, plaintext, no authentication.
func (in *Instance) WriteClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(in.GRPCAddr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// GRPCConn returns a plaintext client connection to the gRPC API, closed at
// the end of the test.
func (in *Instance) GRPCConn(tb testing.TB) *grpc.ClientConn {
	tb.Helper()
	conn, err := grpc.NewClient(in.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatalf("servertest: grpc.NewClient: %v", err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

// tbWriter sends log lines to the test log until stopped; testing panics
// on Log after the test has finished, and a server can log late.
type tbWriter struct {
	mu      sync.Mutex
	tb      testing.TB
	stopped bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// String describes the instance for failure messages.
func (in *Instance) String() string {
	return fmt.Sprintf("penstock(grpc=%s http=%s dir=%s)", in.GRPCAddr, in.HTTPURL, in.Config.DataDir)
}
