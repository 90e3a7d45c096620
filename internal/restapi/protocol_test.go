package restapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/restapi"
)

// TestURLPrefixes checks that the three service prefixes reach the same
// methods (Go with a bare endpoint uses /projects/..., Python/Node/bq use
// /bigquery/v2/projects/..., Go with ".../bigquery/v2" and no trailing
// slash uses /bigquery/projects/...).
func TestURLPrefixes(t *testing.T) {
	e := newEnv(t)
	prefixes := []string{"/bigquery/v2", "", "/bigquery"}
	for i, p := range prefixes {
		e.mustDo(200, "POST", p+"/projects/p/datasets", fmt.Sprintf(`{"datasetReference":{"datasetId":"d%d"}}`, i))
	}
	var first []byte
	for _, p := range prefixes {
		for _, suffix := range []string{"/projects/p/datasets/d1", "/projects/p/datasets/d1/"} {
			body := e.mustDo(200, "GET", p+suffix, "").Body
			if first == nil {
				first = body
			} else if !bytes.Equal(body, first) {
				t.Errorf("GET %s%s = %s, want %s", p, suffix, body, first)
			}
		}
		list := e.mustDo(200, "GET", p+"/projects/p/datasets", "").decode(t)
		if n := len(list["datasets"].([]any)); n != 3 {
			t.Errorf("GET %s/projects/p/datasets lists %d datasets, want 3", p, n)
		}
	}
	// selfLink always uses the canonical prefix.
	var ds map[string]any
	if err := json.Unmarshal(first, &ds); err != nil {
		t.Fatal(err)
	}
	if got, want := ds["selfLink"], "http://penstock.test:9050/bigquery/v2/projects/p/datasets/d1"; got != want {
		t.Errorf("selfLink = %v, want %s", got, want)
	}
}

// TestProjectIDs checks project ids with dashes, dots and a domain prefix,
// literal or percent-encoded.
func TestProjectIDs(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ path, id string }{
		{"/projects/my-proj-1", "my-proj-1"},
		{"/bigquery/v2/projects/google.com:proj", "google.com:proj"},
		{"/bigquery/v2/projects/example.org%3Aother-proj", "example.org:other-proj"},
	} {
		got := e.mustDo(200, "POST", tc.path+"/datasets", `{"datasetReference":{"datasetId":"d"}}`).decode(t)
		if want := tc.id + ":d"; got["id"] != want {
			t.Errorf("POST %s: id %v, want %s", tc.path, got["id"], want)
		}
		e.mustDo(200, "POST", tc.path+"/datasets/d/tables", `{"tableReference":{"tableId":"t"}}`)
		tbl := e.mustDo(200, "GET", tc.path+"/datasets/d/tables/t", "").decode(t)
		if want := tc.id + ":d.t"; tbl["id"] != want {
			t.Errorf("table id %v, want %s", tbl["id"], want)
		}
	}
}

func TestMethodOverride(t *testing.T) {
	e := newEnvWithDataset(t)
	r := e.mustDo(200, "POST", "/projects/p/datasets/ds", `{"description":"via override"}`, "X-HTTP-Method-Override", "PATCH")
	if d := r.decode(t)["description"]; d != "via override" {
		t.Errorf("description = %v after POST+override PATCH", d)
	}
	// The header only tunnels POST: a GET stays a GET.
	e.mustDo(200, "GET", "/projects/p/datasets/ds", "", "X-HTTP-Method-Override", "DELETE")
	e.mustDo(200, "GET", "/projects/p/datasets/ds", "")
	// Override to a method the path lacks is a 405.
	r = e.do("POST", "/projects/p/datasets/ds", `{}`, "X-HTTP-Method-Override", "POST")
	if r.Status != 405 {
		t.Errorf("POST override POST on a dataset: %d, want 405", r.Status)
	}
}

// TestIgnoredParameters checks the standard parameters clients add.
func TestIgnoredParameters(t *testing.T) {
	e := newEnvWithDataset(t)
	plain := e.mustDo(200, "GET", "/projects/p/datasets/ds", "").Body
	q := "?alt=json&prettyPrint=false&quotaUser=u&key=k&%24.xgafv=2&fields=id%2Cetag&access_token=x&datasetView=FULL&accessPolicyVersion=3"
	if got := e.mustDo(200, "GET", "/projects/p/datasets/ds"+q, "").Body; !bytes.Equal(got, plain) {
		t.Errorf("with standard parameters: %s, want %s", got, plain)
	}
}

func TestGzipRequestBody(t *testing.T) {
	e := newEnv(t, func(o *restapi.Options) { o.MaxRequestBytes = 4096 })
	body := gzipped(t, `{"datasetReference":{"datasetId":"zipped"}}`)
	r := e.doReader("POST", "/projects/p/datasets", bytes.NewReader(body), "Content-Encoding", "gzip")
	if r.Status != 200 {
		t.Fatalf("gzip body: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		enc    string
		reason string
		msg    string
	}{
		{"decoded size over the limit", gzipped(t, `{"description":"`+strings.Repeat(" ", 5000)+`"}`), "gzip", "badRequest",
			"Request payload size exceeds the limit: 4096 bytes."},
		{"corrupt gzip", []byte("not gzip at all"), "gzip", "badRequest", ""},
		{"truncated gzip", body[:len(body)-6], "gzip", "badRequest", ""},
		{"unknown encoding", body, "br", "badRequest", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doReader("POST", "/projects/p/datasets", bytes.NewReader(tc.body), "Content-Encoding", tc.enc)
			code, reason, _, msg := r.errorOf(t)
			if code != 400 || reason != tc.reason || (tc.msg != "" && msg != tc.msg) {
				t.Errorf("got %d %s %q, want 400 %s %q", code, reason, msg, tc.reason, tc.msg)
			}
		})
	}
}

// hideLen hides a reader's length so the request goes out chunked.
type hideLen struct{ io.Reader }

func TestRequestBodyLimit(t *testing.T) {
	prefix := `{"datasetReference":{"datasetId":"big"},"description":"`
	fill := func(total int) string {
		return prefix + strings.Repeat("x", total-len(prefix)-2) + `"}`
	}
	t.Run("default", func(t *testing.T) {
		e := newEnv(t)
		const limitMsg = "Request payload size exceeds the limit: 10485760 bytes."
		over := fill(restapi.DefaultMaxRequestBytes + 1)
		for _, tc := range []struct {
			name string
			body io.Reader
		}{
			{"with Content-Length", strings.NewReader(over)},
			{"chunked", hideLen{strings.NewReader(over)}},
		} {
			r := e.doReader("POST", "/bigquery/v2/projects/p/datasets", tc.body)
			code, reason, status, msg := r.errorOf(t)
			if code != 400 || reason != "badRequest" || status != "INVALID_ARGUMENT" || msg != limitMsg {
				t.Errorf("%s: got %d %s %s %q, want 400 badRequest INVALID_ARGUMENT %q", tc.name, code, reason, status, msg, limitMsg)
			}
		}
	})
	t.Run("exactly at the limit", func(t *testing.T) {
		e := newEnv(t, func(o *restapi.Options) { o.MaxRequestBytes = 1000 })
		e.mustDo(200, "POST", "/bigquery/v2/projects/p/datasets", fill(1000))
		for _, body := range []io.Reader{strings.NewReader(fill(1001)), hideLen{strings.NewReader(fill(1001))}} {
			if r := e.doReader("POST", "/bigquery/v2/projects/p/datasets", body); r.Status != 400 {
				t.Errorf("1001 bytes: status %d, want 400", r.Status)
			}
		}
	})
}

// TestDiscovery checks the discovery document: both addresses, own root,
// golden content, and that it lists exactly the routes served.
func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	a := e.mustDo(200, "GET", "/$discovery/rest?version=v2", "")
	b := e.mustDo(200, "GET", "/discovery/v1/apis/bigquery/v2/rest", "")
	c := e.mustDo(200, "GET", "/%24discovery/rest?version=v2", "")
	if !bytes.Equal(a.Body, b.Body) || !bytes.Equal(a.Body, c.Body) {
		t.Errorf("discovery documents differ between addresses")
	}
	tr := newTranscript(t)
	tr.add("discovery", "GET", "/$discovery/rest?version=v2", "", a)
	tr.check("discovery")

	if r := e.do("GET", "/$discovery/rest?version=v1", ""); r.Status != 404 {
		t.Errorf("discovery for v1: %d, want 404", r.Status)
	}
	if r := e.do("POST", "/$discovery/rest?version=v2", ""); r.Status != 405 {
		t.Errorf("POST discovery: %d, want 405", r.Status)
	}

	var doc struct {
		RootURL     string `json:"rootUrl"`
		BaseURL     string `json:"baseUrl"`
		MTLSRootURL string `json:"mtlsRootUrl"`
		ServicePath string `json:"servicePath"`
		Resources   map[string]struct {
			Methods map[string]struct {
				ID             string   `json:"id"`
				HTTPMethod     string   `json:"httpMethod"`
				Path           string   `json:"path"`
				FlatPath       string   `json:"flatPath"`
				ParameterOrder []string `json:"parameterOrder"`
				Parameters     map[string]struct {
					Type     string `json:"type"`
					Location string `json:"location"`
					Required bool   `json:"required"`
				} `json:"parameters"`
				Request *struct {
					Ref string `json:"$ref"`
				} `json:"request"`
				Response *struct {
					Ref string `json:"$ref"`
				} `json:"response"`
			} `json:"methods"`
		} `json:"resources"`
		Schemas map[string]json.RawMessage `json:"schemas"`
	}
	if err := json.Unmarshal(a.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.RootURL != "http://penstock.test:9050/" || doc.MTLSRootURL != doc.RootURL ||
		doc.BaseURL != doc.RootURL+"bigquery/v2/" || doc.ServicePath != "bigquery/v2/" {
		t.Errorf("root %q mtls %q base %q servicePath %q", doc.RootURL, doc.MTLSRootURL, doc.BaseURL, doc.ServicePath)
	}

	// Every route served is documented, and every documented method is
	// routed: the served path answers the documented HTTP method (not
	// 404/405) when called with placeholder ids.
	routes := restapi.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Resource + "." + r.Method
		seen[key] = true
		m, ok := doc.Resources[r.Resource].Methods[r.Method]
		if !ok {
			t.Errorf("route %s (%s %s) missing from discovery", key, r.HTTPMethod, r.Path)
			continue
		}
		if m.HTTPMethod != r.HTTPMethod || m.FlatPath != r.Path || m.ID != "bigquery."+key {
			t.Errorf("%s: discovery says %s %s (%s), route is %s %s", key, m.HTTPMethod, m.FlatPath, m.ID, r.HTTPMethod, r.Path)
		}
		if strings.ReplaceAll(m.Path, "{+", "{") != r.Path {
			t.Errorf("%s: path %q does not expand to %q", key, m.Path, r.Path)
		}
		for _, name := range m.ParameterOrder {
			p := m.Parameters[name]
			if p.Location != "path" || !p.Required || p.Type != "string" || !strings.Contains(r.Path, "{"+name+"}") {
				t.Errorf("%s: path parameter %s = %+v", key, name, p)
			}
		}
		if n := strings.Count(r.Path, "{"); n != len(m.ParameterOrder) {
			t.Errorf("%s: %d path parameters, parameterOrder %v", key, n, m.ParameterOrder)
		}
		for _, ref := range []*struct {
			Ref string `json:"$ref"`
		}{m.Request, m.Response} {
			if ref != nil {
				if _, ok := doc.Schemas[ref.Ref]; !ok {
					t.Errorf("%s: $ref %s has no schema", key, ref.Ref)
				}
			}
		}
	}
	for res, rd := range doc.Resources {
		for name, m := range rd.Methods {
			key := res + "." + name
			if !seen[key] {
				t.Errorf("discovery documents %s, which is not routed", key)
				continue
			}
			path := "/bigquery/v2/" + strings.NewReplacer("{+projectId}", "p", "{+datasetId}", "d", "{+tableId}", "t", "{+jobId}", "j").Replace(m.Path)
			if r := e.do(m.HTTPMethod, path, ""); r.Status == 405 || strings.Contains(string(r.Body), "Not found: "+m.HTTPMethod+" /") {
				t.Errorf("%s %s (%s): %d %s", m.HTTPMethod, path, key, r.Status, r.Body)
			}
		}
	}
	if len(seen) != len(routes) {
		t.Errorf("%d distinct method names for %d routes", len(seen), len(routes))
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	t.Logf("routes: %s", strings.Join(names, " "))
}

// TestDiscoveryDefaultRoot checks that without Options.BaseURL the
// document points at the address the client used.
func TestDiscoveryDefaultRoot(t *testing.T) {
	cat, err := catalog.Open(filepath.Join(t.TempDir(), "c.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	srv := httptest.NewServer(restapi.New(restapi.Options{Catalog: cat, Now: time.Now}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/$discovery/rest?version=v2")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		RootURL string `json:"rootUrl"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if want := srv.URL + "/"; doc.RootURL != want {
		t.Errorf("rootUrl = %q, want %q", doc.RootURL, want)
	}
}
