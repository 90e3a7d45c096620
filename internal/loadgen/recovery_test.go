package loadgen_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/penstockdb/penstock/internal/loadgen"
)

// lockedBuffer is a bytes.Buffer safe for the server process's output
// goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRecover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	dir := t.TempDir()
	rep, err := loadgen.Recover(context.Background(), loadgen.RecoveryOptions{
		ServerCommand: []string{exe}, ServerEnv: []string{serverEnv + "=1"}, ServerLog: &log,
		DataDir: dir, Bytes: 1 << 20, Shape: loadgen.Typical, Conns: 2, RowsPerRequest: 200, Inflight: 4,
		Mode: loadgen.ModeCommitted,
	})
	if err != nil {
		t.Fatalf("Recover: %v\nserver log:\n%s", err, log.String())
	}
	if rep.Load == nil || rep.Load.Bytes < 1<<20 {
		t.Errorf("load: got %+v, want at least 1 MiB acknowledged", rep.Load)
	}
	if v := rep.Verify; v == nil || !v.OK || v.Method != loadgen.VerifyRows || v.Expected != rep.Load.Rows || v.Lost != 0 {
		t.Errorf("verify: got %+v, want every one of %d acknowledged rows present once", v, rep.Load.Rows)
	}
	if rep.ServeSec <= 0 || rep.ListenSec <= 0 || rep.ListenSec > rep.ServeSec || rep.StartSec <= 0 {
		t.Errorf("timings: start %.3fs, listen %.3fs, serve %.3fs", rep.StartSec, rep.ListenSec, rep.ServeSec)
	}
	if rep.DataDirBytes < 1<<20 {
		t.Errorf("data dir after the kill: %d bytes, want at least the 1 MiB written", rep.DataDirBytes)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())
	if !strings.Contains(text.String(), "serving after") || !strings.Contains(text.String(), "OK (rows)") {
		t.Errorf("text report:\n%s", text.String())
	}
}

func TestRecover_Options(t *testing.T) {
	for _, o := range []loadgen.RecoveryOptions{
		{},
		{ServerCommand: []string{"penstock", "serve"}, Mode: loadgen.ModePending},
	} {
		if _, err := loadgen.Recover(context.Background(), o); !errors.Is(err, loadgen.ErrInvalidOptions) {
			t.Errorf("Recover(%+v): got %v, want ErrInvalidOptions", o, err)
		}
	}
}
