package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// DefaultRecoveryBytes is how much Recover writes before the kill unless
// told otherwise.
const DefaultRecoveryBytes = 64 << 20

// RecoveryOptions configure Recover. Zero values take defaults.
type RecoveryOptions struct {
	// ServerCommand is the command line that runs a Penstock server in the
	// foreground, e.g. {"/usr/bin/penstock", "serve"}. Recover appends
	// --data-dir, --grpc-addr, --http-addr and --log-level, then
	// ServerArgs. Required.
	ServerCommand []string
	// ServerArgs are extra server flags (e.g. --sync=never).
	ServerArgs []string
	// ServerEnv is added to the server's environment.
	ServerEnv []string
	// ServerLog receives the server's output; nil discards it.
	ServerLog io.Writer
	// DataDir is the server's data directory; "" makes a temporary one,
	// removed at the end unless Keep.
	DataDir string
	// Keep leaves the data directory (and the server's data) in place.
	Keep bool
	// Bytes is the acknowledged payload to write before the kill.
	Bytes int64
	// Mode is ModeDefault (the default) or ModeCommitted: modes whose rows
	// are visible once acknowledged.
	Mode           Mode
	Shape          Shape
	Conns          int
	RowsPerRequest int
	Inflight       int
	// ReadyTimeout bounds each wait for the server to serve (default 2m).
	ReadyTimeout time.Duration
	// VerifyMaxRows is as in Options.
	VerifyMaxRows int64
	// DropCaches empties the operating system's page cache (Linux, needs
	// root) between the kill and the restart, so the restart reads the
	// log from disk rather than from memory.
	DropCaches bool
	// Progress, if not nil, gets progress lines.
	Progress io.Writer
}

// RecoveryReport is the outcome of Recover.
type RecoveryReport struct {
	DataDir string `json:"data_dir"`
	// StartSec is the first start: process start until it serves.
	StartSec float64 `json:"start_sec"`
	// Load is the load before the kill (its Verify is nil).
	Load *Report `json:"load"`
	// DataDirBytes is the size of the data directory after the kill.
	DataDirBytes int64 `json:"data_dir_bytes"`
	// ColdCache is true when the page cache was dropped before the
	// restart.
	ColdCache bool `json:"cold_cache"`
	// ListenSec is the restart: process start until both ports accept.
	ListenSec float64 `json:"listen_sec"`
	// ServeSec is the restart: process start until the table answers on
	// both APIs (tables.get and GetWriteStream of its _default stream).
	ServeSec float64 `json:"serve_sec"`
	// Verify compares the restarted server's rows with the acknowledged
	// ones.
	Verify   *Verify  `json:"verify"`
	Warnings []string `json:"warnings,omitempty"`
}

// WriteText writes the report for people.
func (r *RecoveryReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "data dir      %s (%.1f MB after the kill)\n", r.DataDir, float64(r.DataDirBytes)/1e6)
	fmt.Fprintf(w, "first start   serving after %.2f s\n", r.StartSec)
	if l := r.Load; l != nil {
		fmt.Fprintf(w, "load          %d rows (%.1f MB) acknowledged in %.1f s, %.1f MB/s, mode %s, shape %s, %d conns\n",
			l.Rows, float64(l.Bytes)/1e6, l.ElapsedSec, l.MBPerSec, l.Mode, l.Shape, l.Conns)
		if len(l.Errors) > 0 {
			fmt.Fprintf(w, "errors        %v (expected: the kill breaks the open calls)\n", l.Errors)
		}
	}
	cache := "page cache warm"
	if r.ColdCache {
		cache = "page cache dropped"
	}
	fmt.Fprintf(w, "restart       listening after %.2f s, serving after %.2f s (%s)\n", r.ListenSec, r.ServeSec, cache)
	if r.Verify != nil {
		fmt.Fprintf(w, "verify        %s\n", r.Verify)
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning       %s\n", s)
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *RecoveryReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Recover starts a server with o.ServerCommand on a data directory, writes
// o.Bytes of rows through it, kills it with SIGKILL while appends are in
// flight, restarts it on the same directory, times how long until it
// serves again, and checks that every acknowledged row is there exactly
// once. Errors are for runs that could not complete (the server did not
// start, the setup failed); lost rows are reported in Verify.
func Recover(ctx context.Context, o RecoveryOptions) (rep *RecoveryReport, err error) {
	if len(o.ServerCommand) == 0 {
		return nil, fmt.Errorf("%w: no server command", ErrInvalidOptions)
	}
	if o.Mode == "" {
		o.Mode = ModeDefault
	}
	if o.Mode != ModeDefault && o.Mode != ModeCommitted {
		return nil, fmt.Errorf("%w: recovery writes in mode default or committed, not %s", ErrInvalidOptions, o.Mode)
	}
	if o.Bytes <= 0 {
		o.Bytes = DefaultRecoveryBytes
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	rep = &RecoveryReport{DataDir: o.DataDir}
	if rep.DataDir == "" {
		if rep.DataDir, err = os.MkdirTemp("", "penstock-recovery-"); err != nil {
			return nil, err
		}
		if !o.Keep {
			defer os.RemoveAll(rep.DataDir)
		}
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	srv := &serverProc{o: &o, dir: rep.DataDir, grpcAddr: grpcAddr, httpAddr: httpAddr}

	t0 := time.Now()
	if err := srv.start(); err != nil {
		return nil, err
	}
	defer srv.stop()
	if _, err := srv.waitListening(ctx, t0); err != nil {
		return nil, err
	}
	rep.StartSec = time.Since(t0).Seconds()

	r, err := newRunner(Options{
		GRPC: grpcAddr, HTTP: "http://" + httpAddr, Mode: o.Mode, Shape: o.Shape, Conns: o.Conns,
		RowsPerRequest: o.RowsPerRequest, Inflight: o.Inflight, Duration: 24 * time.Hour,
		VerifyMaxRows: o.VerifyMaxRows, Progress: o.Progress, MaxReconnects: -1,
	})
	if err != nil {
		return nil, err
	}
	setup, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := r.prepare(setup); err != nil {
		return nil, err
	}
	if err := r.connect(setup); err != nil {
		return nil, err
	}
	defer r.disconnect()

	// Load until o.Bytes are acknowledged, then kill the server while
	// requests are still in flight.
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	progDone := make(chan struct{})
	if o.Progress != nil {
		go r.progress(o.Progress, nil, progDone)
	}
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		r.load(loadCtx)
	}()
	killed := false
	tick := time.NewTicker(time.Millisecond)
wait:
	for {
		select {
		case <-loadDone:
			break wait // every connection gave up: report what we have
		case <-ctx.Done():
			break wait
		case <-tick.C:
			if r.ackedBytes.Load() >= o.Bytes {
				srv.kill()
				killed = true
				break wait
			}
		}
	}
	tick.Stop()
	stopLoad()
	<-loadDone
	close(progDone)
	rep.Load = &Report{}
	r.fill(rep.Load, time.Now())
	if !killed {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		return rep, fmt.Errorf("loadgen: the load ended before %d bytes were acknowledged (errors: %v)", o.Bytes, rep.Load.Errors)
	}
	rep.DataDirBytes = dirSize(rep.DataDir)
	if o.DropCaches {
		syscall.Sync()
		if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("dropping the page cache: %v", err))
		} else {
			rep.ColdCache = true
		}
	}

	t1 := time.Now()
	if err := srv.start(); err != nil {
		return rep, err
	}
	listen, err := srv.waitListening(ctx, t1)
	if err != nil {
		return rep, err
	}
	rep.ListenSec = listen.Seconds()
	if err := srv.waitServing(ctx, t1, r); err != nil {
		return rep, err
	}
	rep.ServeSec = time.Since(t1).Seconds()

	ledgers := make([]*ledger, len(r.workers))
	for i, w := range r.workers {
		ledgers[i] = &w.led
	}
	rep.Verify = verify(ctx, r.rest, r.dataset, r.table, ledgers, r.o.VerifyMaxRows)
	return rep, nil
}

// serverProc is the server process Recover runs.
type serverProc struct {
	o                  *RecoveryOptions
	dir                string
	grpcAddr, httpAddr string
	cmd                *exec.Cmd
	exited             chan struct{}
	exitErr            error
}

func (s *serverProc) start() error {
	args := append([]string{}, s.o.ServerCommand[1:]...)
	args = append(args, "--data-dir", s.dir, "--grpc-addr", s.grpcAddr, "--http-addr", s.httpAddr, "--log-level", "warn")
	args = append(args, s.o.ServerArgs...)
	cmd := exec.Command(s.o.ServerCommand[0], args...)
	cmd.Env = append(os.Environ(), s.o.ServerEnv...)
	out := s.o.ServerLog
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("loadgen: starting the server: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.exitErr = cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *serverProc) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// stop asks the server to shut down (SIGTERM) and kills it after 30 s.
func (s *serverProc) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		s.cmd = nil
	case <-time.After(30 * time.Second):
		s.kill()
	}
}

// poll calls ready every 2 ms until it returns true, the server exits,
// ctx ends or the ready timeout passes.
func (s *serverProc) poll(ctx context.Context, since time.Time, what string, ready func(context.Context) bool) error {
	deadline := since.Add(s.o.ReadyTimeout)
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		ok := ready(actx)
		cancel()
		if ok {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("loadgen: the server exited before %s: %v", what, s.exitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadgen: the server was not %s after %v", what, s.o.ReadyTimeout)
		}
	}
}

// waitListening waits until both ports accept connections and returns
// the time since since.
func (s *serverProc) waitListening(ctx context.Context, since time.Time) (time.Duration, error) {
	err := s.poll(ctx, since, "listening", func(context.Context) bool {
		for _, a := range []string{s.grpcAddr, s.httpAddr} {
			c, err := net.DialTimeout("tcp", a, 100*time.Millisecond)
			if err != nil {
				return false
			}
			_ = c.Close()
		}
		return true
	})
	return time.Since(since), err
}

// waitServing waits until the runner's table answers tables.get over REST
// and its _default stream answers GetWriteStream over gRPC.
func (s *serverProc) waitServing(ctx context.Context, since time.Time, r *runner) error {
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := storagepb.NewBigQueryWriteClient(conn)
	return s.poll(ctx, since, "serving", func(ctx context.Context) bool {
		if _, err := r.rest.getTable(ctx, r.dataset, r.table); err != nil {
			return false
		}
		_, err := client.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{Name: r.tablePath + "/streams/_default"})
		return err == nil
	})
}

// freeAddr returns a 127.0.0.1 address with a port that was free.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// dirSize returns the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
