package clients_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/servertest"
	goclients "github.com/penstockdb/penstock/test/clients/go"
)

// inCI reports whether the suite runs in CI, where a missing toolchain or
// a failed install fails the test instead of skipping it.
func inCI() bool { return os.Getenv("CI") == "true" }

// unavailable skips the test locally and fails it in CI.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		t.Fatalf("%s (required when CI=true)", msg)
	}
	t.Skip(msg)
}

// tool finds a command on PATH or gives up on the test (see unavailable).
func tool(t *testing.T, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, "%s not found: %s", name, why)
	}
	return p
}

// startServer starts an in-process Penstock for one language and returns
// the environment its suite runs with.
func startServer(t *testing.T) (*servertest.Instance, []string) {
	t.Helper()
	in := servertest.Start(t)
	var env []string
	for _, kv := range os.Environ() {
		// No Google credentials: a user's key file must not leak into the
		// suites (they pass anonymous credentials explicitly).
		if !strings.HasPrefix(kv, "GOOGLE_APPLICATION_CREDENTIALS=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PENSTOCK_GRPC_ADDR="+in.GRPCAddr,
		"PENSTOCK_HTTP_URL="+in.HTTPURL,
		"PENSTOCK_PROJECT="+in.Project,
		// Keep the auth libraries from probing a GCE metadata server.
		"METADATA_SERVER_DETECTION=none",
		"NO_COLOR=1",
	)
	return in, env
}

// stamp is a content hash of files, used to tell whether a cached install
// still matches what the repository asks for.
func stamp(t *testing.T, extra string, files ...string) string {
	t.Helper()
	h := sha256.New()
	h.Write([]byte(extra))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cached reports whether the stamp file holds want.
func cached(path, want string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) == want
}

// run runs a command with a deadline and returns its combined output.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v (%v)", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond), errOrOK(err))
	return out.Bytes(), err
}

func errOrOK(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// install runs an install step; a failure skips locally and fails in CI.
func install(t *testing.T, timeout time.Duration, dir string, name string, args ...string) {
	t.Helper()
	if out, err := run(t, timeout, dir, os.Environ(), name, args...); err != nil {
		unavailable(t, "installing clients: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestClients runs every language's suite against its own fresh server.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs client libraries in four languages; skipped with -short")
	}
	t.Run("go", testGo)
	t.Run("python", testPython)
	t.Run("node", testNode)
	t.Run("java", testJava)
}

func testGo(t *testing.T) {
	in, _ := startServer(t)
	goclients.Run(t, goclients.Env{GRPCAddr: in.GRPCAddr, HTTPURL: in.HTTPURL, Project: in.Project})
}

// testPython installs python/requirements.txt into python/.venv (rebuilt
// when the requirements or the interpreter change), generates the seed
// sample's customer_record_pb2 with grpcio-tools, and runs unittest.
func testPython(t *testing.T) {
	py := tool(t, "python3", "install Python 3.9+ to run the Python client suite")
	dir := "python"
	venv := filepath.Join(dir, ".venv")
	ver, _ := exec.Command(py, "--version").CombinedOutput()
	want := stamp(t, string(ver), filepath.Join(dir, "requirements.txt"))
	stampFile := filepath.Join(venv, ".penstock-stamp")
	if !cached(stampFile, want) {
		if err := os.RemoveAll(venv); err != nil {
			t.Fatal(err)
		}
		install(t, 2*time.Minute, dir, py, "-m", "venv", ".venv")
		install(t, 8*time.Minute, dir, filepath.Join(".venv", "bin", "pip"), "install",
			"--disable-pip-version-check", "--no-input", "-q", "-r", "requirements.txt")
		if err := os.WriteFile(stampFile, []byte(want+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, env := startServer(t)
	out, err := run(t, 5*time.Minute, dir, env, filepath.Join(".venv", "bin", "python"), "-m", "unittest", "-v")
	if err != nil {
		t.Fatalf("python suite failed: %v\n%s", err, out)
	}
	t.Logf("python suite:\n%s", out)
}

// testNode runs `npm ci` into node/node_modules when package-lock.json
// changed since the last install, then `node --test`.
func testNode(t *testing.T) {
	node := tool(t, "node", "install Node.js 18+ to run the Node client suite")
	npm := tool(t, "npm", "install npm to run the Node client suite")
	if out, err := exec.Command(node, "--version").Output(); err == nil {
		v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
		if major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); major < 18 {
			unavailable(t, "node %s is too old; the Node suite needs 18+", v)
		}
	}
	dir := "node"
	want := stamp(t, "", filepath.Join(dir, "package-lock.json"))
	stampFile := filepath.Join(dir, "node_modules", ".penstock-stamp")
	if !cached(stampFile, want) {
		install(t, 8*time.Minute, dir, npm, "ci", "--no-audit", "--no-fund")
		if err := os.WriteFile(stampFile, []byte(want+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, env := startServer(t)
	out, err := run(t, 5*time.Minute, dir, env, node, "--test", "--test-reporter=spec", "--test-concurrency=1")
	if err != nil {
		t.Fatalf("node suite failed: %v\n%s", err, out)
	}
	t.Logf("node suite:\n%s", out)
}

// testJava compiles and runs java/ with Maven in one JVM. The first run
// for a pom.xml resolves dependencies online into the local repository
// (~/.m2 by default); later runs are offline (-o).
func testJava(t *testing.T) {
	tool(t, "java", "install a JDK 17+ to run the Java client suite")
	mvn := tool(t, "mvn", "install Maven 3.8+ to run the Java client suite")
	dir := "java"
	want := stamp(t, "", filepath.Join(dir, "pom.xml"))
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	stampDir := filepath.Join(home, ".m2", "penstock-clients")
	stampFile := filepath.Join(stampDir, want)
	args := []string{"-B", "-q", "compile", "exec:java"}
	if !cached(stampFile, want) {
		// Resolve everything the run needs (compile, plugins, exec:java's
		// runtime classpath) without starting the suite.
		install(t, 10*time.Minute, dir, mvn, "-B", "-q", "compile", "exec:java", "-Dexec.args=--resolve-only")
		if err := os.MkdirAll(stampDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stampFile, []byte(want+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, env := startServer(t)
	out, err := run(t, 5*time.Minute, dir, env, mvn, append([]string{"-o"}, args...)...)
	if err != nil && bytes.Contains(out, []byte("offline mode")) {
		// The local repository lost something since the stamp was
		// written: resolve online once more.
		_ = os.Remove(stampFile)
		out, err = run(t, 10*time.Minute, dir, env, mvn, args...)
		if err == nil {
			_ = os.WriteFile(stampFile, []byte(want+"\n"), 0o644)
		}
	}
	if err != nil {
		t.Fatalf("java suite failed: %v\n%s", err, out)
	}
	t.Logf("java suite:\n%s", out)
}
