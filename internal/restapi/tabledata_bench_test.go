package restapi_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/restapi"
	"github.com/penstockdb/penstock/internal/rowcodec"
)

// BenchmarkTabledataList measures one tabledata.list page through the
// handler (no network): routing, catalog lookup, rendering, page assembly.
func BenchmarkTabledataList(b *testing.B) {
	for _, rows := range []int{100, 10000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			cat, err := catalog.Open(filepath.Join(b.TempDir(), "c.db"), catalog.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer cat.Close()
			data := newMemData()
			h := restapi.New(restapi.Options{Catalog: cat, Data: data, Logger: slog.New(slog.DiscardHandler)})
			serve := func(method, path, body string) *httptest.ResponseRecorder {
				var req *http.Request
				if body == "" {
					req = httptest.NewRequest(method, path, nil)
				} else {
					req = httptest.NewRequest(method, path, strings.NewReader(body))
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
				}
				return rec
			}
			serve("POST", "/projects/p/datasets", `{"datasetReference":{"datasetId":"ds"}}`)
			serve("POST", "/projects/p/datasets/ds/tables", `{"tableReference":{"tableId":"t"},"schema":{"fields":[
				{"name":"n","type":"INTEGER"},{"name":"s","type":"STRING"},{"name":"ts","type":"TIMESTAMP"},{"name":"f","type":"FLOAT"}]}}`)
			rs := make([]rowcodec.Row, rows)
			for i := range rs {
				rs[i] = rowcodec.Row{int64(i), fmt.Sprintf("value %d", i), rowcodec.Timestamp(1700000000000000 + int64(i)), float64(i) / 3}
			}
			data.set("p.ds.t", rs...)
			path := "/projects/p/datasets/ds/tables/t/data?formatOptions.useInt64Timestamp=true"
			size := serve("GET", path, "").Body.Len()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				serve("GET", path, "")
			}
			b.ReportMetric(float64(rows), "rows/op")
		})
	}
}
