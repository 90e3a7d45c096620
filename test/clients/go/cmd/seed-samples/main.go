// Command seed-samples runs the seed documents' Go samples against a
// Penstock server: the pending-stream batch load into -pending-table (which
// must have samples.SampleDataSchema) and the legacy streaming insert into
// -insert-table (columns full_name STRING, age INTEGER). Either table may
// be left empty to skip that sample. The server's addresses come from
// PENSTOCK_GRPC_ADDR (host:port) and PENSTOCK_HTTP_URL (http://host:port).
//
//	PENSTOCK_GRPC_ADDR=127.0.0.1:9060 PENSTOCK_HTTP_URL=http://127.0.0.1:9050 \
//	  go run ./test/clients/go/cmd/seed-samples -project p -dataset d -pending-table t1 -insert-table t2
package main

import (
	"flag"
	"fmt"
	"os"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/penstockdb/penstock/test/clients/go/samples"
)

func main() {
	project := flag.String("project", "my-project", "project id")
	dataset := flag.String("dataset", "", "dataset id")
	pending := flag.String("pending-table", "", "table for the pending-stream sample")
	insert := flag.String("insert-table", "", "table for the insertAll sample")
	flag.Parse()
	if err := run(*project, *dataset, *pending, *insert); err != nil {
		fmt.Fprintln(os.Stderr, "seed-samples:", err)
		os.Exit(1)
	}
}

func run(project, dataset, pending, insert string) error {
	if pending != "" {
		err := samples.AppendToPendingStream(os.Stdout, project, dataset, pending,
			option.WithEndpoint(env("PENSTOCK_GRPC_ADDR", "127.0.0.1:9060")),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		if err != nil {
			return fmt.Errorf("pending sample: %w", err)
		}
	}
	if insert != "" {
		err := samples.InsertRows(project, dataset, insert,
			option.WithEndpoint(env("PENSTOCK_HTTP_URL", "http://127.0.0.1:9050")),
			option.WithoutAuthentication())
		if err != nil {
			return fmt.Errorf("insert sample: %w", err)
		}
		fmt.Println("insert sample: 2 rows inserted")
	}
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
