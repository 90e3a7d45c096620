package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/servertest"
)

// nodeDir holds the Node suite, relative to this package.
const nodeDir = "node"

// requireTool finds a command. Locally a missing tool skips the test; in
// CI (CI=true) it fails it, so CI cannot pass by running nothing.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI: %v", name, err)
	}
	t.Skipf("%s not found (%v); install Node.js 18+ to run the Node client tests", name, err)
	return ""
}

// nodeMajor returns the major version of the node binary.
func nodeMajor(t *testing.T, node string) int {
	t.Helper()
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil {
		t.Fatalf("node --version printed %q", out)
	}
	return major
}

// ensureNodeModules runs `npm ci` unless node_modules was installed from
// the current package-lock.json (recorded by a stamp file after a
// successful install).
func ensureNodeModules(t *testing.T, npm string) {
	t.Helper()
	lock, err := os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(nodeDir, "node_modules", ".penstock-lock-sha256")
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeDir
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	t.Logf("npm ci took %v", time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNodeBigQueryClient runs test/e2e/node (node:test, the official
// @google-cloud/bigquery client) against a fresh server.
func TestNodeBigQueryClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs npm and node; skipped with -short")
	}
	node := requireTool(t, "node")
	npm := requireTool(t, "npm")
	if major := nodeMajor(t, node); major < 18 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node %d is too old; the suite needs 18+", major)
		}
		t.Skipf("node %d is too old; the suite needs 18+", major)
	}
	ensureNodeModules(t, npm)

	in := servertest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"PENSTOCK_HTTP_URL="+in.HTTPURL,
		// No Google credentials exist here; don't let google-auth-library
		// probe for a GCE metadata server.
		"METADATA_SERVER_DETECTION=none",
		"NO_COLOR=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed (%v):\n%s", err, out)
	}
	t.Logf("node --test:\n%s", out)
}
