// Package goclients is the Go part of Penstock's client conformance suite:
// the official Go clients (cloud.google.com/go/bigquery and its
// storage/managedwriter package) and the seed documents' Go samples
// (package samples) run against a live server and check the rows that come
// back. test/clients/clients_test.go calls Run with a server it started.
package goclients

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Env says where the server is.
type Env struct {
	// GRPCAddr is the Storage Write API address, host:port.
	GRPCAddr string
	// HTTPURL is the REST root, http://host:port.
	HTTPURL string
	// Project is the project id to use; any id works.
	Project string
}

// RESTOptions are the options that point cloud.google.com/go/bigquery at
// the server: the REST endpoint with its http:// scheme, no credentials.
// The README shows exactly this.
func (e Env) RESTOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(e.HTTPURL),
		option.WithoutAuthentication(),
	}
}

// WriteOptions are the options that point managedwriter (and the raw
// storage client) at the server: plaintext gRPC, no credentials. The README
// shows exactly this.
func (e Env) WriteOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(e.GRPCAddr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// Connect makes the two Go clients the README shows, for project on the
// server at httpURL (http://host:port, REST) and grpcAddr (host:port,
// Storage Write API). The caller closes both.
func Connect(ctx context.Context, project, httpURL, grpcAddr string) (*bigquery.Client, *managedwriter.Client, error) {
	// --- README snippet: Go (REST) ---
	// REST: datasets, tables, insertAll, reads. The endpoint needs the http:// scheme.
	bq, err := bigquery.NewClient(ctx, project,
		option.WithEndpoint(httpURL),
		option.WithoutAuthentication())
	// --- end of README snippet ---
	if err != nil {
		return nil, nil, err
	}
	// --- README snippet: Go (Storage Write API) ---
	// Storage Write API: plaintext gRPC, no credentials, a concrete project id.
	mw, err := managedwriter.NewClient(ctx, project,
		option.WithEndpoint(grpcAddr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	// --- end of README snippet ---
	if err != nil {
		_ = bq.Close()
		return nil, nil, err
	}
	return bq, mw, nil
}

// Run runs the Go suite as subtests of t against the server in e. Each
// subtest uses its own tables in a dataset named after the run, so Run can
// share a server with other suites.
func Run(t *testing.T, e Env) {
	s := &suite{env: e, dataset: fmt.Sprintf("go_%d", time.Now().UnixNano())}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	bq, mw, err := Connect(ctx, e.Project, e.HTTPURL, e.GRPCAddr)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { _ = bq.Close(); _ = mw.Close() })
	s.bq, s.mw = bq, mw
	if err := s.bq.Dataset(s.dataset).Create(ctx, &bigquery.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatalf("creating dataset %s: %v", s.dataset, err)
	}
	t.Run("managedwriter/default", s.testDefaultStream)
	t.Run("managedwriter/multiplexing", s.testMultiplexing)
	t.Run("managedwriter/pending", s.testPending)
	t.Run("managedwriter/committed", s.testCommitted)
	t.Run("bigquery/inserter", s.testInserter)
	t.Run("seeds/pending", s.testSeedPending)
	t.Run("seeds/insertAll", s.testSeedInsertAll)
}

type suite struct {
	env     Env
	dataset string
	bq      *bigquery.Client      // from Connect
	mw      *managedwriter.Client // from Connect
}

// people is the schema most subtests use.
var people = bigquery.Schema{
	{Name: "name", Type: bigquery.StringFieldType},
	{Name: "n", Type: bigquery.IntegerFieldType, Required: true},
}

// writeClient makes a managedwriter client of its own with extra options.
func (s *suite) writeClient(t *testing.T, extra ...option.ClientOption) *managedwriter.Client {
	t.Helper()
	c, err := managedwriter.NewClient(context.Background(), s.env.Project, append(s.env.WriteOptions(), extra...)...)
	if err != nil {
		t.Fatalf("managedwriter.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// createTable creates a table in the suite's dataset and returns its
// Storage Write API path.
func (s *suite) createTable(t *testing.T, ctx context.Context, id string, schema bigquery.Schema) string {
	t.Helper()
	if err := s.bq.Dataset(s.dataset).Table(id).Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatalf("creating table %s: %v", id, err)
	}
	return managedwriter.TableParentFromParts(s.env.Project, s.dataset, id)
}

// rows reads a table back with tabledata.list, in stored order.
func (s *suite) rows(t *testing.T, ctx context.Context, id string) [][]bigquery.Value {
	t.Helper()
	it := s.bq.Dataset(s.dataset).Table(id).Read(ctx)
	var out [][]bigquery.Value
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			return out
		}
		if err != nil {
			t.Fatalf("reading %s: %v", id, err)
		}
		out = append(out, row)
	}
}

// descriptor derives the writer's proto message from a table schema with
// adapt, as client code without generated types does.
func descriptor(t *testing.T, schema bigquery.Schema) (protoreflect.MessageDescriptor, *descriptorpb.DescriptorProto) {
	t.Helper()
	ts, err := adapt.BQSchemaToStorageTableSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "root")
	if err != nil {
		t.Fatal(err)
	}
	md := d.(protoreflect.MessageDescriptor)
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		t.Fatal(err)
	}
	return md, dp
}

// format renders rows as one line each ("name=... n=...") for comparison.
func format(rows [][]bigquery.Value) string {
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%v", v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func checkRows(t *testing.T, what string, got [][]bigquery.Value, want string) {
	t.Helper()
	if g := format(got); g != want {
		t.Errorf("%s rows:\n got:\n%s\nwant:\n%s", what, g, want)
	}
}
