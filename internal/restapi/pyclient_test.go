package restapi_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/restapi"
)

// pyDiscoveryScript builds a service object from Penstock's discovery
// document with googleapiclient (what the bq CLI does on every call) and
// calls the served methods through it.
const pyDiscoveryScript = `
import json, sys, urllib.request
import httplib2
from googleapiclient import discovery, errors

root = sys.argv[1]
doc = urllib.request.urlopen(root + "/$discovery/rest?version=v2").read().decode()
svc = discovery.build_from_document(doc, http=httplib2.Http())
out = []
out.append(svc.datasets().insert(projectId="p", body={"datasetReference": {"projectId": "p", "datasetId": "py"}}).execute()["id"])
svc.tables().insert(projectId="p", datasetId="py", body={
    "tableReference": {"projectId": "p", "datasetId": "py", "tableId": "t"},
    "schema": {"fields": [{"name": "a", "type": "INT64"}]}}).execute()
out.append([d["id"] for d in svc.datasets().list(projectId="p", all=True, maxResults=10).execute()["datasets"]])
t = svc.tables().get(projectId="p", datasetId="py", tableId="t$20240101", selectedFields="a").execute()
out.append(t["schema"]["fields"][0]["type"])
t = svc.tables().patch(projectId="p", datasetId="py", tableId="t", body={"description": "via python"}).execute()
out.append(t["description"])
out.append(svc.tabledata().list(projectId="p", datasetId="py", tableId="t", maxResults=1, startIndex=0).execute()["totalRows"])
try:
    svc.datasets().delete(projectId="p", datasetId="py").execute()
except errors.HttpError as e:
    out.append([e.resp.status, json.loads(e.content)["error"]["errors"][0]["reason"]])
svc.datasets().delete(projectId="p", datasetId="py", deleteContents=True).execute()
try:
    svc.jobs().query(projectId="p", body={"query": "SELECT 1"}).execute()
except errors.HttpError as e:
    out.append(e.resp.status)
print(json.dumps(out))
`

// TestDiscoveryWithGoogleAPIClient runs only where Python has
// google-api-python-client (the library under the bq CLI); elsewhere it
// skips. PENSTOCK_PYTHON selects the interpreter.
func TestDiscoveryWithGoogleAPIClient(t *testing.T) {
	py := os.Getenv("PENSTOCK_PYTHON")
	if py == "" {
		py = "python3"
	}
	if err := exec.Command(py, "-c", "import googleapiclient.discovery, httplib2").Run(); err != nil {
		t.Skipf("%s has no googleapiclient: %v", py, err)
	}
	e := newEnv(t, func(o *restapi.Options) { o.BaseURL = nil })
	out, err := exec.Command(py, "-c", pyDiscoveryScript, e.srv.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	want := `["p:py", ["p:py"], "INTEGER", "via python", "0", [400, "resourceInUse"], 501]`
	if got != want {
		t.Errorf("python client run:\n got %s\nwant %s", got, want)
	}
}
