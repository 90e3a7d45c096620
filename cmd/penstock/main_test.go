package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

var listenRE = regexp.MustCompile(`msg=listening api=(grpc|http) addr=(\S+)`)

// waitListening polls the log until both listeners are reported and
// returns api → address.
func waitListening(t *testing.T, log func() string, failed <-chan error) map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		addrs := map[string]string{}
		for _, m := range listenRE.FindAllStringSubmatch(log(), -1) {
			addrs[m[1]] = m[2]
		}
		if len(addrs) == 2 {
			return addrs
		}
		select {
		case err := <-failed:
			t.Fatalf("server stopped before listening: %v\nlog:\n%s", err, log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no listening lines after 30s; log:\n%s", log())
	return nil
}

func TestRun_ServeUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	env := map[string]string{"PENSTOCK_HTTP_ADDR": "127.0.0.1:0"} // from the environment
	args := []string{"serve", "--in-memory", "--grpc-addr", "127.0.0.1:0", "--log-level", "debug"}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr) }()

	addrs := waitListening(t, stderr.String, done)
	resp, err := http.Get("http://" + addrs["http"] + "/bigquery/v2/projects/p/datasets")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Errorf("GET datasets: got HTTP %d, want %d", got, want)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: got %v, want nil\nlog:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not return after cancel; log:\n%s", stderr.String())
	}
	for _, want := range []string{"level=DEBUG", "msg=stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestRun_SecondServeOnSameDirFails(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr1 syncBuffer
	args := []string{"serve", "--data-dir", dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, noEnv, &syncBuffer{}, &stderr1) }()
	waitListening(t, stderr1.String, done)

	err := run(context.Background(), args, noEnv, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "in use by another Penstock server") {
		t.Errorf("second serve: got %v, want a data-dir-in-use error", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
		t.Errorf("on-disk data dir: %v", err)
	}
}

func TestRun_Commands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantErr    string // "" = success
		wantStdout string
		wantStderr string
	}{
		{name: "no command", args: nil, wantErr: "no command", wantStderr: "serve"},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`, wantStderr: "version"},
		{name: "help", args: []string{"help"}, wantStdout: "Commands:"},
		{name: "--help", args: []string{"--help"}, wantStdout: "serve"},
		{name: "version", args: []string{"version"}, wantStdout: "penstock "},
		{name: "version with args", args: []string{"version", "x"}, wantErr: "no arguments"},
		{name: "serve help", args: []string{"serve", "--help"}, wantStdout: "PENSTOCK_GRPC_ADDR"},
		{name: "serve bad flag", args: []string{"serve", "--nope"}, wantErr: "-nope"},
		{name: "serve invalid env", args: []string{"serve"}, env: map[string]string{"PENSTOCK_LOG_LEVEL": "loud"}, wantErr: `--log-level "loud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			err := run(t.Context(), tt.args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
