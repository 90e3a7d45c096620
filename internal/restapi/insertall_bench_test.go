package restapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/penstockdb/penstock/internal/config"
	"github.com/penstockdb/penstock/internal/servertest"
)

// BenchmarkInsertAll measures insertAll throughput of one client against
// the real server (in-process, loopback HTTP, the write-ahead log in a temp
// dir): small rows (~110 bytes of JSON, 6 columns), `rows` rows per
// request, each with a fresh 32-hex insertId as the Go client sends, one
// request at a time. One op is one acknowledged request; rows/s is the
// figure of merit. client=http sends prepared JSON bodies; client=go
// is the official Go client's Inserter (which adds its own encoding cost).
// Run briefly, e.g.
//
//	go test ./internal/restapi -run '^$' -bench BenchmarkInsertAll -benchtime 2s
func BenchmarkInsertAll(b *testing.B) {
	for _, sync := range []config.SyncMode{config.SyncAlways, config.SyncNever} {
		for _, client := range []string{"http", "go"} {
			b.Run(fmt.Sprintf("client=%s/sync=%s/rows=500", client, sync), func(b *testing.B) {
				benchInsertAll(b, client, sync, 500)
			})
		}
	}
}

func benchInsertAll(b *testing.B, client string, sync config.SyncMode, rows int) {
	in := servertest.Start(b, servertest.WithConfig(func(c *config.Config) { c.Sync = sync }))
	ctx := context.Background()
	bq := in.BigQueryClient(b)
	if err := bq.Dataset("bench").Create(ctx, nil); err != nil {
		b.Fatal(err)
	}
	tbl := bq.Dataset("bench").Table("events")
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: benchSchema}); err != nil {
		b.Fatal(err)
	}
	url := in.HTTPURL + "/bigquery/v2/projects/" + in.Project + "/datasets/bench/tables/events/insertAll"
	hc := &http.Client{}
	var seq int64
	var bodyBytes int64
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		switch client {
		case "http":
			buf = benchBody(buf[:0], &seq, rows)
			bodyBytes += int64(len(buf))
			resp, err := hc.Post(url, "application/json", bytes.NewReader(buf))
			if err != nil {
				b.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || bytes.Contains(out, []byte("insertErrors")) {
				b.Fatalf("status %d: %s", resp.StatusCode, out)
			}
		case "go":
			batch := make([]*bigquery.ValuesSaver, rows)
			for j := range batch {
				seq++
				batch[j] = benchSaver(seq)
			}
			if err := tbl.Inserter().Put(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if bodyBytes > 0 {
		b.SetBytes(bodyBytes / int64(b.N))
	}
	b.ReportMetric(float64(int64(b.N)*int64(rows))/elapsed.Seconds(), "rows/s")
}

var benchSchema = bigquery.Schema{
	{Name: "seq", Type: bigquery.IntegerFieldType, Required: true},
	{Name: "ts", Type: bigquery.TimestampFieldType},
	{Name: "user_id", Type: bigquery.StringFieldType},
	{Name: "event", Type: bigquery.StringFieldType},
	{Name: "amount", Type: bigquery.FloatFieldType},
	{Name: "ok", Type: bigquery.BooleanFieldType},
}

var benchTS = time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)

func benchSaver(seq int64) *bigquery.ValuesSaver {
	return &bigquery.ValuesSaver{Schema: benchSchema, InsertID: fmt.Sprintf("%032x", seq),
		Row: []bigquery.Value{seq, benchTS, "user-" + strconv.FormatInt(seq%1000, 10), "click", 12.5, seq%2 == 0}}
}

// benchBody appends one request body of n rows with fresh insertIds.
func benchBody(dst []byte, seq *int64, n int) []byte {
	dst = append(dst, `{"rows":[`...)
	for j := 0; j < n; j++ {
		*seq++
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"insertId":"`...)
		id := strconv.AppendInt(nil, *seq, 16)
		for k := len(id); k < 32; k++ {
			dst = append(dst, '0')
		}
		dst = append(dst, id...)
		dst = append(dst, `","json":{"seq":`...)
		dst = strconv.AppendInt(dst, *seq, 10)
		dst = append(dst, `,"ts":"2026-05-01T12:00:00.123456Z","user_id":"user-`...)
		dst = strconv.AppendInt(dst, *seq%1000, 10)
		dst = append(dst, `","event":"click","amount":12.5,"ok":`...)
		dst = strconv.AppendBool(dst, *seq%2 == 0)
		dst = append(dst, "}}"...)
	}
	return append(dst, "]}"...)
}
