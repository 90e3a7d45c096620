package servertest_test

import (
	"testing"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/servertest"
)

func TestStart_RestartKeepsAddressesAndData(t *testing.T) {
	in := servertest.Start(t, servertest.WithProject("p1"), servertest.WithConfig(func(c *config.Config) {
		c.Sync = config.SyncNever
	}))
	if in.GRPCAddr == "" || in.HTTPURL == "" || in.Project != "p1" || in.Config.Sync != config.SyncNever {
		t.Fatalf("instance not set up: %s project=%s sync=%s", in, in.Project, in.Config.Sync)
	}
	c := in.BigQueryClient(t)
	if err := c.Dataset("d").Create(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	grpcAddr, httpURL := in.GRPCAddr, in.HTTPURL
	in.Restart(t)
	if in.GRPCAddr != grpcAddr || in.HTTPURL != httpURL {
		t.Errorf("addresses changed on restart: %s %s → %s %s", grpcAddr, httpURL, in.GRPCAddr, in.HTTPURL)
	}
	// The client made before the restart still works.
	md, err := c.Dataset("d").Metadata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := md.FullID, "p1:d"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStart_WithDataDirReusesData(t *testing.T) {
	dir := t.TempDir()
	first := servertest.Start(t, servertest.WithDataDir(dir))
	if err := first.BigQueryClient(t).Dataset("kept").Create(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := servertest.Start(t, servertest.WithDataDir(dir))
	if _, err := second.BigQueryClient(t).Dataset("kept").Metadata(t.Context()); err != nil {
		t.Fatalf("dataset from the first server: %v", err)
	}
	missing := second.BigQueryClient(t).Dataset("never")
	if _, err := missing.Metadata(t.Context()); err == nil {
		t.Errorf("missing dataset: got %v, want an error", err)
	}
}
