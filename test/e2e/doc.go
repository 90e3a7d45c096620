// Package e2e drives Penstock with official client libraries in other
// languages, over loopback, from `go test ./...`. Each test starts an
// in-process server (internal/servertest) and runs the client suite with
// the server's address in its environment:
//
//	node/   @google-cloud/bigquery (REST), run with `node --test`
//
// A missing toolchain skips a suite locally and fails it in CI (CI=true).
package e2e
