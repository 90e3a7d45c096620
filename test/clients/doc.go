// Package clients is Penstock's client conformance suite: the official
// BigQuery client libraries in Go, Java, Python and Node.js, and the seed
// documents' sample programs in those languages, run against a Penstock
// server on loopback. clients_test.go starts the server, installs each
// language's clients (cached between runs) and runs each suite as its own
// subtest:
//
//	go/      goclients.Run: managedwriter and cloud.google.com/go/bigquery
//	java/    Maven, one JVM: StreamWriter, JsonStreamWriter, insertAll
//	python/  a virtualenv, unittest: AppendRowsStream, insert_rows_json
//	node/    npm ci, node --test: managedwriter, @google-cloud/bigquery
//
// Suites get the server's addresses from PENSTOCK_GRPC_ADDR (host:port)
// and PENSTOCK_HTTP_URL (http://host:port). A missing toolchain skips its
// suite locally and fails it in CI (CI=true). docs/clients.md describes how
// each client connects.
//
// Each language's connection code sits between "--- README snippet" and
// "--- end of README snippet ---" comments (go/suite.go,
// java/.../Connect.java, python/penstock_connect.py,
// node/penstock-connect.js). A README code block preceded by
// "<!-- snippet: test/clients/FILE -->" must equal FILE's marked code;
// readme_test.go checks it, so the README shows what the suite runs.
package clients
