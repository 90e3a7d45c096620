package loadgen_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/server"
)

// serverEnv makes the test binary run a Penstock server instead of the
// tests, so Recover can start, kill and restart a real server process
// without building the penstock binary.
const serverEnv = "LOADGEN_TEST_RUN_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) == "1" {
		if err := serve(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "test server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serve runs the server as `penstock serve args...` would.
func serve(args []string) error {
	cfg, err := config.Load(args, func(string) string { return "" })
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.Level()}))
	srv, err := server.New(cfg, logger)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return srv.Serve(ctx)
}
