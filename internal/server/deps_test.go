package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestDependencyRules runs scripts/check-deps.sh, so the one test command
// also enforces the layering of docs/DESIGN.md.
func TestDependencyRules(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("scripts/check-deps.sh needs bash")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	cmd := exec.Command(bash, filepath.Join("..", "..", "scripts", "check-deps.sh"))
	// Make sure the script finds the go command that runs this test.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dependency rules violated (%v):\n%s", err, out)
	}
	t.Logf("%s", out)
}
