package rowcodec_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// benchShape is a table and a generator of realistic insertAll rows.
type benchShape struct {
	name  string
	table *schema.Table
	row   func(i int) string
}

func benchShapes() []benchShape {
	return []benchShape{
		{
			name: "narrow",
			table: &schema.Table{Fields: []*schema.Field{
				{Name: "id", Type: schema.Integer, Mode: schema.Required},
				{Name: "name", Type: schema.String},
				{Name: "ts", Type: schema.Timestamp},
			}},
			row: func(i int) string {
				return fmt.Sprintf(`{"id":%d,"name":"user-%d","ts":"2024-01-02T03:04:05.%06dZ"}`, i, i, i%1000000)
			},
		},
		{
			name: "typical",
			table: &schema.Table{Fields: []*schema.Field{
				{Name: "event_id", Type: schema.String, Mode: schema.Required},
				{Name: "user_id", Type: schema.Integer},
				{Name: "event_time", Type: schema.Timestamp},
				{Name: "event_date", Type: schema.Date},
				{Name: "kind", Type: schema.String},
				{Name: "amount", Type: schema.Numeric},
				{Name: "score", Type: schema.Float},
				{Name: "active", Type: schema.Boolean},
				{Name: "tags", Type: schema.String, Mode: schema.Repeated},
				{Name: "attrs", Type: schema.JSON},
				{Name: "device", Type: schema.Record, Fields: []*schema.Field{
					{Name: "os", Type: schema.String},
					{Name: "version", Type: schema.String},
					{Name: "ip", Type: schema.String},
				}},
				{Name: "payload", Type: schema.Bytes},
				{Name: "ingested", Type: schema.Timestamp, DefaultValueExpression: "CURRENT_TIMESTAMP()"},
			}},
			row: func(i int) string {
				return fmt.Sprintf(`{"event_id":"ev-%08d","user_id":"%d","event_time":"2024-01-02 03:04:%02d.123456 UTC",`+
					`"event_date":"2024-01-02","kind":"click","amount":"%d.250000000","score":%d.5,"active":true,`+
					`"tags":["a","b","c"],"attrs":"{\"k\":1,\"v\":[1,2]}","device":{"os":"linux","version":"6.1","ip":"10.0.0.%d"},`+
					`"payload":"aGVsbG8gd29ybGQ="}`, i, i*7, i%60, i, i%100, i%256)
			},
		},
	}
}

func BenchmarkJSONValidate(b *testing.B) {
	for _, sh := range benchShapes() {
		for _, n := range []int{500} {
			b.Run(fmt.Sprintf("rows=%d/shape=%s", n, sh.name), func(b *testing.B) {
				d, err := rowcodec.CompileJSON(sh.table)
				if err != nil {
					b.Fatal(err)
				}
				rows := make([][]byte, n)
				size := 0
				for i := range rows {
					rows[i] = []byte(sh.row(i))
					size += len(rows[i])
				}
				o := &rowcodec.JSONOptions{Options: rowcodec.Options{Now: time.Unix(1700000000, 0)}}
				if errs := d.Validate(rows, o); errs != nil {
					b.Fatal(errs)
				}
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					if errs := d.Validate(rows, o); errs != nil {
						b.Fatal(errs)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

func BenchmarkJSONDecode(b *testing.B) {
	for _, sh := range benchShapes() {
		n := 500
		b.Run(fmt.Sprintf("rows=%d/shape=%s", n, sh.name), func(b *testing.B) {
			d, err := rowcodec.CompileJSON(sh.table)
			if err != nil {
				b.Fatal(err)
			}
			rows := make([][]byte, n)
			size := 0
			for i := range rows {
				rows[i] = []byte(sh.row(i))
				size += len(rows[i])
			}
			o := &rowcodec.JSONOptions{Options: rowcodec.Options{Now: time.Unix(1700000000, 0)}}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := d.Decode(rows, o, func(int, rowcodec.Row) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
