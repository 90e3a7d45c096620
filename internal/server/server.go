// Package server is Penstock's composition root: it opens the data
// directory, the catalog and the data engine, builds the gRPC and REST
// transports on top of them, and runs and stops the listeners. It is the
// only package that knows every other one; cmd/penstock only turns flags
// into a config.Config and calls it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/restapi"
)

// Server is one Penstock node: a data directory served over gRPC and HTTP.
// Create it with New, start it with Serve (or Listen then Serve), stop it
// with Close or by cancelling Serve's context.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	dir     string
	tempDir bool // dir is removed at Close (--in-memory)
	lock    *dirLock
	cat     catalog.Catalog
	eng     engine
	grpc    *grpc.Server
	http    *http.Server

	mu      sync.Mutex // guards the listeners and serving
	grpcLn  net.Listener
	httpLn  net.Listener
	serving bool

	closing   chan struct{} // closed when Close starts
	closeOnce sync.Once
	closeErr  error
}

// New opens the data directory named by cfg (or a fresh temporary one for
// cfg.InMemory), locks it against a second server, opens the catalog and
// the data engine, creates the resources listed in cfg.Projects that do
// not exist yet, and builds both transports. Nothing listens until Listen
// or Serve.
//
// It returns an error wrapping config.ErrInvalid for a bad cfg,
// ErrDataDirLocked if another server holds the directory, and otherwise
// an error naming the step that failed. On error everything opened so far
// is closed again. A nil logger discards logs.
func New(cfg config.Config, logger *slog.Logger) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: logger, closing: make(chan struct{})}
	logger.Debug("configuration", "grpc_addr", cfg.GRPCAddr, "http_addr", cfg.HTTPAddr, "data_dir", cfg.DataDir,
		"in_memory", cfg.InMemory, "config_file", cfg.File, "sync", string(cfg.Sync),
		"shutdown_timeout", cfg.ShutdownTimeout.String(), "projects", len(cfg.Projects))
	defer func() {
		if err != nil {
			s.release()
		}
	}()

	if cfg.InMemory {
		if s.dir, err = os.MkdirTemp("", "penstock-mem-"); err != nil {
			return nil, fmt.Errorf("server: creating temporary data directory: %w", err)
		}
		s.tempDir = true
	} else {
		s.dir = cfg.DataDir
		if err = os.MkdirAll(s.dir, 0o750); err != nil {
			return nil, fmt.Errorf("server: creating data directory: %w", err)
		}
	}
	if s.lock, err = lockDir(s.dir); err != nil {
		return nil, err
	}
	s.cat, err = catalog.Open(filepath.Join(s.dir, "catalog.db"), catalog.Options{OnTableDeleted: s.tableDeleted})
	if err != nil {
		return nil, fmt.Errorf("server: opening catalog: %w", err)
	}
	if s.eng, err = openEngine(s.dir, cfg, s.cat, logger); err != nil {
		return nil, fmt.Errorf("server: opening data engine: %w", err)
	}
	if err = s.createResources(context.Background(), cfg.Projects); err != nil {
		return nil, err
	}

	s.grpc = newGRPCServer(logger)
	registerGRPC(s.grpc, s.eng)
	s.http = &http.Server{
		Handler: s.withHealth(restapi.New(restapi.Options{Catalog: s.cat, Data: s.eng, Logger: logger})),
		// No read or write timeout: insertAll bodies and tabledata pages can
		// be large on slow links. Headers must arrive promptly.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("data directory opened", "dir", s.dir, "in_memory", cfg.InMemory, "sync", string(cfg.Sync))
	return s, nil
}

// tableDeleted forwards the catalog's deletions to the engine. The catalog
// calls it only from mutating calls, which start after New has set s.eng.
func (s *Server) tableDeleted(uid int64) {
	if s.eng != nil {
		dropTable(s.eng, uid)
	}
}

// DataDir returns the data directory in use (the temporary one for
// in-memory servers).
func (s *Server) DataDir() string { return s.dir }

// Listen binds the gRPC and HTTP listeners and logs their addresses. It is
// called by Serve if needed; call it first to learn the addresses of ":0"
// ports. Calling it again is a no-op.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		return ErrClosed
	default:
	}
	if s.grpcLn != nil {
		return nil
	}
	gl, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("server: gRPC listener: %w", err)
	}
	hl, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		_ = gl.Close()
		return fmt.Errorf("server: HTTP listener: %w", err)
	}
	s.grpcLn, s.httpLn = gl, hl
	s.log.Info("listening", "api", "grpc", "addr", gl.Addr().String())
	s.log.Info("listening", "api", "http", "addr", hl.Addr().String())
	return nil
}

// GRPCAddr returns the bound gRPC address (host:port), or "" before Listen.
func (s *Server) GRPCAddr() string { return s.addr(func() net.Listener { return s.grpcLn }) }

// HTTPAddr returns the bound HTTP address (host:port), or "" before Listen.
func (s *Server) HTTPAddr() string { return s.addr(func() net.Listener { return s.httpLn }) }

func (s *Server) addr(ln func() net.Listener) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := ln(); l != nil {
		return l.Addr().String()
	}
	return ""
}

// ErrClosed is returned by Listen and Serve after Close.
var ErrClosed = errors.New("server: closed")

// Serve listens (if Listen was not called) and serves both APIs until ctx
// is cancelled, Close is called, or a listener fails. It then shuts down
// gracefully (see Close) and returns: nil after a cancel or Close, else the
// listener's error joined with any shutdown error. Serve may be called
// once; later calls return an error at once.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return errors.Join(err, s.Close())
	}
	s.mu.Lock()
	gl, hl, again := s.grpcLn, s.httpLn, s.serving
	s.serving = true
	s.mu.Unlock()
	if again {
		return errors.New("server: Serve called twice")
	}

	errc := make(chan error, 2)
	go func() {
		err := s.grpc.Serve(gl)
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil
		}
		errc <- err
	}()
	go func() {
		err := s.http.Serve(hl)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()

	var serveErr error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "reason", context.Cause(ctx).Error())
	case <-s.closing:
	case serveErr = <-errc:
		if serveErr == nil { // a listener stopped without Close: treat as failure
			serveErr = errors.New("server: listener stopped unexpectedly")
		}
		s.log.Error("listener failed; shutting down", "err", serveErr)
	}
	closeErr := s.Close()
	return errors.Join(serveErr, closeErr)
}

// Close shuts the server down gracefully: it stops accepting connections,
// lets in-flight requests finish for up to the configured ShutdownTimeout
// (then cuts the rest off), closes the engine and the catalog, unlocks the
// data directory and, for an in-memory server, removes it. It is safe to
// call more than once and concurrently; every call returns the first
// call's result after shutdown completed.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		start := time.Now()
		s.drain()
		s.closeErr = s.release()
		s.log.Info("stopped", "took", time.Since(start).Round(time.Millisecond).String())
	})
	return s.closeErr
}

// drain stops both transports, waiting at most ShutdownTimeout for
// in-flight requests.
func (s *Server) drain() {
	timeout := max(s.cfg.ShutdownTimeout, 0)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var wg sync.WaitGroup
	if s.http != nil {
		wg.Go(func() {
			if err := s.http.Shutdown(ctx); err != nil {
				s.log.Warn("HTTP requests still running at shutdown deadline; closing them", "err", err)
				_ = s.http.Close()
			}
		})
	}
	if s.grpc != nil {
		// AppendRows calls never end on their own: ask them to answer what
		// they have and close with UNAVAILABLE, so GracefulStop can finish.
		drainGRPC(s.eng)
		wg.Go(func() {
			done := make(chan struct{})
			go func() {
				s.grpc.GracefulStop()
				close(done)
			}()
			select {
			case <-done:
			case <-ctx.Done():
				s.log.Warn("gRPC calls still running at shutdown deadline; cancelling them")
				s.grpc.Stop()
				<-done
			}
		})
	}
	wg.Wait()

	// Listeners bound by Listen but never handed to Serve are not closed by
	// the transports.
	s.mu.Lock()
	for _, l := range []net.Listener{s.grpcLn, s.httpLn} {
		if l != nil {
			_ = l.Close()
		}
	}
	s.mu.Unlock()
}

// release closes what New opened, in reverse order, and returns the
// joined errors. Each step tolerates the previous steps having failed.
func (s *Server) release() error {
	var errs []error
	if s.eng != nil {
		if err := s.eng.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: closing data engine: %w", err))
		}
	}
	if s.cat != nil {
		if err := s.cat.Close(); err != nil {
			errs = append(errs, fmt.Errorf("server: closing catalog: %w", err))
		}
	}
	if s.lock != nil {
		if err := s.lock.unlock(); err != nil {
			errs = append(errs, fmt.Errorf("server: unlocking data directory: %w", err))
		}
	}
	if s.tempDir && s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("server: removing temporary data directory: %w", err))
		}
	}
	return errors.Join(errs...)
}
