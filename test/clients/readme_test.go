package clients_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snippetSources are the suite files whose marked regions ("--- README
// snippet: ... ---" to "--- end of README snippet ---") are the connection
// code the README shows.
var snippetSources = []string{
	"go/suite.go",
	"java/src/main/java/penstock/clients/Connect.java",
	"python/penstock_connect.py",
	"node/penstock-connect.js",
}

// snippet returns the marked regions of a file, each dedented, joined by a
// blank line.
func snippet(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	var cur []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, "--- README snippet"):
			in, cur = true, nil
		case strings.Contains(line, "--- end of README snippet ---"):
			if !in {
				t.Fatalf("%s: end marker without a start", path)
			}
			regions = append(regions, dedent(cur))
			in = false
		case in:
			cur = append(cur, strings.TrimRight(line, " \t"))
		}
	}
	if in || len(regions) == 0 {
		t.Fatalf("%s: no complete README snippet region", path)
	}
	return strings.Join(regions, "\n\n")
}

// dedent removes the indentation common to the non-blank lines.
func dedent(lines []string) string {
	var prefix string
	seen := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if !seen {
			prefix, seen = ind, true
			continue
		}
		for !strings.HasPrefix(ind, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// readmeBlocks returns, for each "<!-- snippet: PATH -->" marker in the
// README, the fenced code block that follows it.
func readmeBlocks(readme string) map[string]string {
	blocks := map[string]string{}
	lines := strings.Split(readme, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "<!-- snippet:") || !strings.HasSuffix(l, "-->") {
			continue
		}
		path := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "<!-- snippet:"), "-->"))
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "```") {
			j++
		}
		var body []string
		for k := j + 1; k < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[k]), "```"); k++ {
			body = append(body, strings.TrimRight(lines[k], " \t"))
		}
		blocks[path] = strings.Trim(strings.Join(body, "\n"), "\n")
	}
	return blocks
}

// TestREADMESnippets checks that each client snippet in the README is the
// code the suite runs: a README code block preceded by
// "<!-- snippet: test/clients/FILE -->" must equal FILE's marked regions.
// Until the README carries such markers the test skips.
func TestREADMESnippets(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(string(b))
	if len(blocks) == 0 {
		t.Skip("README.md marks no client snippets (<!-- snippet: test/clients/... -->)")
	}
	for _, src := range snippetSources {
		want := snippet(t, src)
		got, ok := blocks["test/clients/"+src]
		if !ok {
			t.Errorf("README.md has no snippet block for test/clients/%s; it should show:\n%s", src, want)
			continue
		}
		if got != want {
			t.Errorf("README.md snippet for test/clients/%s differs from the suite's code.\nREADME:\n%s\n\nsuite:\n%s", src, got, want)
		}
	}
}

// TestSnippetRegions checks that every snippet source has well-formed
// regions (so the README check above has something to compare).
func TestSnippetRegions(t *testing.T) {
	for _, src := range snippetSources {
		if s := snippet(t, src); strings.Count(s, "\n") < 3 {
			t.Errorf("%s: snippet too short:\n%s", src, s)
		}
	}
}
