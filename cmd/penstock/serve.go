package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/server"
)

// serve runs the server until ctx is cancelled, then shuts it down
// gracefully and returns nil.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, "Usage: penstock serve [flags]")
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "Flags (each also settable by the environment variable shown):")
		config.Usage(stdout)
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.Level()}))
	logger.Info("starting penstock", "version", versionString())
	srv, err := server.New(cfg, logger)
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}
