package server_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/penstockdb/penstock/internal/servertest"
)

func TestHealthz(t *testing.T) {
	srv := servertest.Start(t)
	resp, err := http.Get(srv.HTTPURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "{\"status\":\"ok\"}\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	// Everything else still reaches the REST API.
	resp, err = http.Get(srv.HTTPURL + "/bigquery/v2/projects/p/datasets/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("REST behind healthz: %d", resp.StatusCode)
	}
}
