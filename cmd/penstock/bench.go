package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/penstockdb/penstock/internal/loadgen"
)

// The bench subcommand registers itself here so the command table in
// run.go needs no edit; package variables are initialized before init.
func init() {
	commands = append(commands, command{"bench", "load a server and measure it (bench recovery: crash recovery)", bench})
}

// bench runs `penstock bench [flags]` or `penstock bench recovery [flags]`.
// It returns an error when the run could not start or when verification
// found lost, duplicated or unexpected rows (after printing the report).
func bench(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "recovery" {
		return benchRecovery(ctx, args[1:], stdout, stderr)
	}
	var o loadgen.Options
	fs := flag.NewFlagSet("penstock bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var mode, shape string
	var asJSON, quiet bool
	fs.StringVar(&o.GRPC, "grpc", loadgen.DefaultGRPC, "Storage Write API `host:port` (plaintext gRPC)")
	fs.StringVar(&o.HTTP, "http", loadgen.DefaultHTTP, "REST API `url`")
	fs.StringVar(&o.Project, "project", loadgen.DefaultProject, "`project` to create the bench dataset in")
	fs.StringVar(&mode, "mode", string(loadgen.ModeDefault), "`mode`: default, committed, pending, buffered, insertall, commit or mixed (stream types in turn)")
	fs.IntVar(&o.Conns, "conns", loadgen.DefaultConns, "concurrent `connections`")
	fs.IntVar(&o.RowsPerRequest, "rows-per-request", loadgen.DefaultRowsPerRequest, "`rows` in each request")
	fs.StringVar(&shape, "shape", string(loadgen.Typical), "row `shape`: narrow (2 columns), typical (~100 B, 6 columns), wide (~1 KB, nested and repeated)")
	fs.BoolVar(&o.Offsets, "offsets", false, "send an explicit offset with every append (explicit streams only)")
	fs.IntVar(&o.Inflight, "inflight", loadgen.DefaultInflight, "unanswered AppendRows `requests` per connection")
	fs.DurationVar(&o.Duration, "duration", loadgen.DefaultDuration, "how long to send (ignored with --rows)")
	fs.Int64Var(&o.Rows, "rows", 0, "total `rows` to send instead of a duration")
	fs.Float64Var(&o.Rate, "rate", 0, "cap the total send rate at `rows/s` (0: as fast as possible)")
	fs.DurationVar(&o.FlushInterval, "flush-interval", loadgen.DefaultFlushInterval, "BUFFERED mode: flush this often")
	fs.IntVar(&o.PID, "pid", 0, "`pid` of a local server process to sample memory and CPU of (/proc)")
	fs.Int64Var(&o.VerifyMaxRows, "verify-max-rows", loadgen.DefaultVerifyMaxRows, "read back and check every row up to this many `rows`, else compare counts; -1 skips verification")
	fs.BoolVar(&o.Keep, "keep", false, "keep the bench dataset instead of deleting it")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	if err := parseFlags(fs, args, "bench", stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	o.Mode, o.Shape = loadgen.Mode(strings.ToLower(mode)), loadgen.Shape(strings.ToLower(shape))
	if !quiet {
		o.Progress = stderr
	}
	rep, err := loadgen.Run(ctx, o)
	if err != nil {
		return err
	}
	if asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if v := rep.Verify; v != nil && !v.OK {
		return fmt.Errorf("verification failed: %s", v)
	}
	if rep.Rows == 0 {
		return fmt.Errorf("no rows were acknowledged (errors: %v)", rep.Errors)
	}
	return nil
}

func benchRecovery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o loadgen.RecoveryOptions
	fs := flag.NewFlagSet("penstock bench recovery", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var gb float64
	var mode, shape, serverLog, syncMode string
	var asJSON, quiet bool
	fs.Float64Var(&gb, "gb", 1, "`GB` (1e9 bytes) of row payload to write before the kill")
	fs.StringVar(&o.DataDir, "data-dir", "", "server data `directory` (default: a temporary one, removed at the end)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the data directory")
	fs.StringVar(&mode, "mode", string(loadgen.ModeDefault), "`mode`: default or committed")
	fs.StringVar(&shape, "shape", string(loadgen.Typical), "row `shape`: narrow, typical or wide")
	fs.IntVar(&o.Conns, "conns", 4, "concurrent `connections`")
	fs.IntVar(&o.RowsPerRequest, "rows-per-request", loadgen.DefaultRowsPerRequest, "`rows` in each request")
	fs.IntVar(&o.Inflight, "inflight", loadgen.DefaultInflight, "unanswered requests per connection")
	fs.StringVar(&syncMode, "sync", "", "server --sync `mode` (always or never; default: the server's)")
	fs.StringVar(&serverLog, "server-log", "", "append the server's log to this `file`")
	fs.Int64Var(&o.VerifyMaxRows, "verify-max-rows", loadgen.DefaultVerifyMaxRows, "read back and check every row up to this many `rows`, else compare counts")
	fs.BoolVar(&o.DropCaches, "drop-caches", false, "empty the page cache before the restart (Linux, root) so the log is read from disk")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	if err := parseFlags(fs, args, "bench recovery", stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the penstock binary: %w", err)
	}
	o.ServerCommand = []string{exe, "serve"}
	if syncMode != "" {
		o.ServerArgs = append(o.ServerArgs, "--sync", syncMode)
	}
	if serverLog != "" {
		f, err := os.OpenFile(serverLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		o.ServerLog = f
	}
	o.Bytes = int64(gb * 1e9)
	o.Mode, o.Shape = loadgen.Mode(strings.ToLower(mode)), loadgen.Shape(strings.ToLower(shape))
	if !quiet {
		o.Progress = stderr
	}
	rep, err := loadgen.Recover(ctx, o)
	if rep != nil {
		if asJSON {
			_ = rep.WriteJSON(stdout)
		} else {
			_ = rep.WriteText(stdout)
		}
	}
	if err != nil {
		return err
	}
	if v := rep.Verify; v != nil && !v.OK {
		return fmt.Errorf("verification failed: %s", v)
	}
	return nil
}

// parseFlags parses args, printing usage to stdout for -h. Extra
// arguments are an error.
func parseFlags(fs *flag.FlagSet, args []string, name string, stdout io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "Usage: penstock %s [flags]\n\nFlags:\n", name)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return err
	}
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	return nil
}
