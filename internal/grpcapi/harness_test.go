package grpcapi_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	storage "cloud.google.com/go/bigquery/storage/apiv1"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/keepalive"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/grpcapi"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
	pstorage "github.com/penstockdb/penstock/internal/storage"
	"github.com/penstockdb/penstock/internal/write"
)

// server is a real BigQueryWrite service on 127.0.0.1 over a real log and
// catalog in a temp dir. It can be restarted on the same dir.
type server struct {
	t    *testing.T
	dir  string
	addr string
	cat  *catalog.SQLite
	eng  *write.Engine
	svc  *grpcapi.Service
	grpc *grpc.Server
	opts grpcapi.Options
}

func startServer(t *testing.T, opts grpcapi.Options) *server {
	t.Helper()
	s := &server{t: t, dir: t.TempDir(), opts: opts}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	t := s.t
	var err error
	s.cat, err = catalog.Open(filepath.Join(s.dir, "catalog.db"), catalog.Options{OnTableDeleted: func(uid int64) {
		if s.eng != nil {
			s.eng.DropTable(uid)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := pstorage.Open(s.dir, pstorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.eng, err = write.Open(context.Background(), st, s.cat, write.Options{StreamingBuffer: -1})
	if err != nil {
		t.Fatal(err)
	}
	o := s.opts
	o.Engine, o.Catalog = s.eng, s.cat
	s.svc = grpcapi.New(o)
	s.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(128<<20),
		grpc.ForceServerCodecV2(grpcapi.Codec()),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	s.svc.Register(s.grpc)
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = lis.Addr().String()
	go func() { _ = s.grpc.Serve(lis) }()
}

func (s *server) stop() {
	if s.grpc == nil {
		return
	}
	s.svc.Drain()
	s.grpc.GracefulStop()
	_ = s.eng.Close()
	_ = s.cat.Close()
	s.grpc = nil
}

func (s *server) restart() {
	s.stop()
	s.start()
}

func (s *server) clientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// writer returns a managedwriter client; extra options are appended.
func (s *server) writer(extra ...option.ClientOption) *managedwriter.Client {
	s.t.Helper()
	c, err := managedwriter.NewClient(context.Background(), "p", append(s.clientOptions(), extra...)...)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// raw returns the generated (unmanaged) client.
func (s *server) raw() *storage.BigQueryWriteClient {
	s.t.Helper()
	c, err := storage.NewBigQueryWriteClient(context.Background(), s.clientOptions()...)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// table creates dataset d (once) and table name with the given schema.
func (s *server) table(name string, fields ...*schema.Field) *catalog.Table {
	s.t.Helper()
	ctx := context.Background()
	if _, err := s.cat.GetDataset(ctx, "p", "d"); err != nil {
		if _, err := s.cat.CreateDataset(ctx, &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
			s.t.Fatal(err)
		}
	}
	tbl, err := s.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: name, Schema: &schema.Table{Fields: fields}})
	if err != nil {
		s.t.Fatal(err)
	}
	return tbl
}

// rows reads back every visible row of table name.
func (s *server) rows(name string) []rowcodec.Row {
	s.t.Helper()
	tbl, err := s.cat.GetTable(context.Background(), "p", "d", name)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []rowcodec.Row
	if _, err := s.eng.ReadRows(context.Background(), tbl, 0, -1, func(r rowcodec.Row) error {
		out = append(out, r)
		return nil
	}); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func tablePath(name string) string { return "projects/p/datasets/d/tables/" + name }
