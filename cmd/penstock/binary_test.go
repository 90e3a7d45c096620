//go:build unix

package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// goTool returns the go command that runs this test.
func goTool(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go command found: %v", err)
	}
	return p
}

// TestBinary_ServeInMemoryAndSIGTERM builds the real binary and runs it as
// a user would: it must log its addresses, serve the REST API, exit 0 on
// SIGTERM and leave no in-memory data behind.
func TestBinary_ServeInMemoryAndSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the penstock binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "penstock")
	args := []string{"build", "-o", bin}
	if raceEnabled { // same flags as this test binary: reuses its build cache
		args = append(args, "-race")
	}
	build := exec.Command(goTool(t), append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	tmp := t.TempDir() // the in-memory data dir goes here, so we can check it is removed
	cmd := exec.Command(bin, "serve", "--in-memory", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var log syncBuffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	exited := make(chan struct{})
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	early := make(chan error, 1)
	go func() { <-exited; early <- exitErr }()

	addrs := waitListening(t, log.String, early)
	m := regexp.MustCompile(`msg="data directory opened" dir=(\S+)`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no data directory line in log:\n%s", log.String())
	}
	dataDir := m[1]
	if !strings.HasPrefix(dataDir, tmp) {
		t.Errorf("in-memory data dir %s is not under TMPDIR %s", dataDir, tmp)
	}

	base := "http://" + addrs["http"] + "/bigquery/v2/projects/p/datasets"
	resp, err := http.Post(base, "application/json", strings.NewReader(`{"datasetReference":{"projectId":"p","datasetId":"d"}}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Errorf("datasets.insert: got HTTP %d, want %d", got, want)
	}
	resp, err = http.Get(base + "/d")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Errorf("datasets.get: got HTTP %d, want %d", got, want)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Fatalf("exit after SIGTERM: %v (want status 0)\nlog:\n%s", exitErr, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30s after SIGTERM; log:\n%s", log.String())
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("in-memory data dir %s still exists after exit (stat: %v)", dataDir, err)
	}
	if !strings.Contains(log.String(), "msg=stopped") {
		t.Errorf("no graceful shutdown in log:\n%s", log.String())
	}
}
