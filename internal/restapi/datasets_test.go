package restapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestDatasetLifecycle(t *testing.T) {
	e := newEnv(t)
	tr := newTranscript(t)
	step := func(title, method, path, body string, want int, hdr ...string) resp {
		t.Helper()
		r := e.do(method, path, body, hdr...)
		if r.Status != want {
			t.Fatalf("%s: status %d, want %d: %s", title, r.Status, want, r.Body)
		}
		tr.add(title, method, path, body, r)
		return r
	}
	const base = "/bigquery/v2/projects/p/datasets"

	step("list datasets of an empty project: no datasets member", "GET", base, "", 200)
	step("insert", "POST", base,
		`{"datasetReference":{"projectId":"p","datasetId":"ds1"},"description":"first","labels":{"env":"test"},"kind":"ignored","creationTime":"1"}`, 200)
	step("insert again: duplicate", "POST", base, `{"datasetReference":{"datasetId":"ds1"}}`, 409)
	step("insert with a location", "POST", base, `{"datasetReference":{"datasetId":"ds2"},"location":"EU"}`, 200)
	step("insert a hidden dataset", "POST", base, `{"datasetReference":{"datasetId":"_hidden"}}`, 200)
	got := step("get", "GET", base+"/ds1", "", 200)

	page1 := step("list page 1", "GET", base+"?maxResults=1", "", 200).decode(t)
	tok, _ := page1["nextPageToken"].(string)
	if tok == "" {
		t.Fatalf("page 1 has no nextPageToken: %v", page1)
	}
	page2 := step("list page 2", "GET", base+"?maxResults=1&pageToken="+url.QueryEscape(tok), "", 200).decode(t)
	if _, ok := page2["nextPageToken"]; ok {
		t.Errorf("last page carries nextPageToken: %v", page2)
	}
	step("list all=true includes hidden datasets", "GET", base+"?all=true", "", 200)
	step("list filtered by label", "GET", base+"?filter="+url.QueryEscape("labels.env:test"), "", 200)

	step("patch merges present members, null clears", "PATCH", base+"/ds1",
		`{"description":"changed","labels":null,"friendlyName":"One"}`, 200)
	step("update replaces descriptive members", "PUT", base+"/ds1", `{"description":"only"}`, 200)
	step("patch cannot move the dataset", "PATCH", base+"/ds1", `{"location":"EU"}`, 400)
	step("patch with a stale If-Match", "PATCH", base+"/ds1", `{"description":"x"}`, 412, "If-Match", "stale-etag")

	// A matching If-Match succeeds.
	etag, _ := e.mustDo(200, "GET", base+"/ds1", "").decode(t)["etag"].(string)
	if etag == "" {
		t.Fatalf("dataset has no etag: %s", got.Body)
	}
	e.mustDo(200, "PATCH", base+"/ds1", `{"description":"conditional"}`, "If-Match", etag)
	if d, _ := e.mustDo(200, "GET", base+"/ds1", "").decode(t)["description"].(string); d != "conditional" {
		t.Errorf("description after conditional patch = %q, want conditional", d)
	}

	e.mustDo(200, "POST", base+"/ds1/tables", `{"tableReference":{"tableId":"t"}}`)
	step("delete a dataset holding tables", "DELETE", base+"/ds1", "", 400)
	step("delete with deleteContents", "DELETE", base+"/ds1?deleteContents=true", "", 204)
	step("get deleted", "GET", base+"/ds1", "", 404)
	step("delete missing", "DELETE", base+"/ds1", "", 404)
	tr.check("dataset_lifecycle")
}

// TestDatasetPatchConcurrent checks that blind patches of different
// members racing each other all land (the read-modify-write is atomic).
func TestDatasetPatchConcurrent(t *testing.T) {
	e := newEnv(t)
	e.mustDo(200, "POST", "/projects/p/datasets", `{"datasetReference":{"datasetId":"d"}}`)
	const n = 6
	done := make(chan resp, n)
	for i := range n {
		go func() {
			done <- e.do("PATCH", "/projects/p/datasets/d", `{"m`+string(rune('a'+i))+`":"v"}`)
		}()
	}
	for range n {
		if r := <-done; r.Status != http.StatusOK {
			t.Errorf("patch: %d %s", r.Status, r.Body)
		}
	}
	ds := e.mustDo(200, "GET", "/projects/p/datasets/d", "").decode(t)
	for i := range n {
		if k := "m" + string(rune('a'+i)); ds[k] != "v" {
			t.Errorf("member %s = %v after concurrent patches, want v", k, ds[k])
		}
	}
}

func TestDatasetInsertValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, body string
		status     int
		reason     string
	}{
		{"no reference", `{}`, 400, "invalid"},
		{"empty body", ``, 400, "invalid"},
		{"other project", `{"datasetReference":{"projectId":"q","datasetId":"d"}}`, 400, "invalid"},
		{"bad id", `{"datasetReference":{"datasetId":"a-b"}}`, 400, "invalid"},
		{"malformed JSON", `{"datasetReference":`, 400, "badRequest"},
		{"not an object", `[1]`, 400, "badRequest"},
		{"trailing data", `{} {}`, 400, "badRequest"},
		{"wrong member type", `{"datasetReference":"d"}`, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/projects/p/datasets", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if _, reason, _, _ := r.errorOf(t); reason != tc.reason {
				t.Errorf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
}
