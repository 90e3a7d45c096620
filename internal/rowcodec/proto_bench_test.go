package rowcodec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// pbBenchShape is a writer schema, its table and a row generator.
type pbBenchShape struct {
	name  string
	desc  string
	table *schema.Table
	row   func(r *rand.Rand) []byte
}

func pbWord(r *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789 "
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

func pbBenchShapes() []pbBenchShape {
	// typical: ~100-byte rows of 6 columns, as a Go client sends them.
	typical := pbBenchShape{
		name: "typical",
		desc: `name: "Root"
			field { name: "id" number: 1 type: TYPE_INT64 } field { name: "name" number: 2 type: TYPE_STRING }
			field { name: "ts" number: 3 type: TYPE_INT64 } field { name: "score" number: 4 type: TYPE_DOUBLE }
			field { name: "ok" number: 5 type: TYPE_BOOL } field { name: "note" number: 6 type: TYPE_STRING }`,
		table: pbTable(pbCol("id", schema.Integer, schema.Required), pbCol("name", schema.String, ""), pbCol("ts", schema.Timestamp, ""),
			pbCol("score", schema.Float, ""), pbCol("ok", schema.Boolean, ""), pbCol("note", schema.String, "")),
		row: func(r *rand.Rand) []byte {
			return pbRow(pbInt(1, r.Int64N(1<<40)), pbStr(2, pbWord(r, 30+r.IntN(10))), pbInt(3, 1700000000000000+r.Int64N(1<<35)),
				pbDouble(4, r.Float64()), pbInt(5, int64(r.IntN(2))), pbStr(6, pbWord(r, 25+r.IntN(10))))
		},
	}
	narrow := pbBenchShape{
		name:  "narrow",
		desc:  `name: "Root" field { name: "k" number: 1 type: TYPE_INT64 } field { name: "v" number: 2 type: TYPE_STRING }`,
		table: pbTable(pbCol("k", schema.Integer, ""), pbCol("v", schema.String, "")),
		row: func(r *rand.Rand) []byte {
			return pbRow(pbInt(1, r.Int64N(1<<30)), pbStr(2, pbWord(r, 8)))
		},
	}
	// wide: 40 columns of mixed types, a nested record and a packed array.
	var desc strings.Builder
	desc.WriteString(`name: "Root" nested_type { name: "Sub" field { name: "a" number: 1 type: TYPE_INT64 } field { name: "b" number: 2 type: TYPE_STRING } }`)
	var cols []*schema.Field
	kinds := []struct {
		ptype string
		col   schema.Type
	}{
		{"TYPE_INT64", schema.Integer}, {"TYPE_STRING", schema.String}, {"TYPE_DOUBLE", schema.Float}, {"TYPE_BOOL", schema.Boolean},
		{"TYPE_INT32", schema.Date}, {"TYPE_INT64", schema.Timestamp}, {"TYPE_BYTES", schema.Bytes}, {"TYPE_BYTES", schema.Numeric},
	}
	for i := 0; i < 38; i++ {
		k := kinds[i%len(kinds)]
		fmt.Fprintf(&desc, ` field { name: "c%d" number: %d type: %s }`, i, i+1, k.ptype)
		cols = append(cols, pbCol(fmt.Sprintf("c%d", i), k.col, ""))
	}
	desc.WriteString(` field { name: "sub" number: 39 type: TYPE_MESSAGE type_name: "Sub" } field { name: "arr" number: 40 label: LABEL_REPEATED type: TYPE_INT64 }`)
	cols = append(cols, pbCol("sub", schema.Record, "", pbCol("a", schema.Integer, ""), pbCol("b", schema.String, "")), pbCol("arr", schema.Integer, schema.Repeated))
	wide := pbBenchShape{
		name: "wide", desc: desc.String(), table: pbTable(cols...),
		row: func(r *rand.Rand) []byte {
			var parts [][]byte
			for i := 0; i < 38; i++ {
				n := i + 1
				switch i % len(kinds) {
				case 0:
					parts = append(parts, pbInt(n, r.Int64N(1<<40)))
				case 1:
					parts = append(parts, pbStr(n, pbWord(r, 12)))
				case 2:
					parts = append(parts, pbDouble(n, r.Float64()))
				case 3:
					parts = append(parts, pbInt(n, 1))
				case 4:
					parts = append(parts, pbInt(n, r.Int64N(20000)))
				case 5:
					parts = append(parts, pbInt(n, 1700000000000000+r.Int64N(1<<35)))
				case 6:
					parts = append(parts, pbBytes(n, []byte(pbWord(r, 8))))
				case 7:
					parts = append(parts, pbBytes(n, pbScaledLE(pbBig(fmt.Sprint(r.Int64N(1<<50))))))
				}
			}
			parts = append(parts, pbMsg(39, pbInt(1, 7), pbStr(2, "sub")), pbPacked(40, 1, 2, 3, 4))
			return pbRow(parts...)
		},
	}
	return []pbBenchShape{narrow, typical, wide}
}

func pbBenchRows(s pbBenchShape, n int) ([][]byte, int) {
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][]byte, n)
	total := 0
	for i := range rows {
		rows[i] = s.row(r)
		total += len(rows[i])
	}
	return rows, total
}

func BenchmarkProtoValidate(b *testing.B) {
	for _, s := range pbBenchShapes() {
		const n = 1000
		b.Run(fmt.Sprintf("shape=%s/rows=%d", s.name, n), func(b *testing.B) {
			d := pbCompile(b, s.desc, s.table)
			rows, total := pbBenchRows(s, n)
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				if errs := d.Validate(rows, nil); errs != nil {
					b.Fatal(errs[0].Message)
				}
			}
			b.ReportMetric(n, "rows/op")
			b.ReportMetric(float64(total)/n, "B/row")
		})
	}
}

func BenchmarkProtoDecode(b *testing.B) {
	for _, s := range pbBenchShapes() {
		const n = 1000
		b.Run(fmt.Sprintf("shape=%s/rows=%d", s.name, n), func(b *testing.B) {
			d := pbCompile(b, s.desc, s.table)
			rows, total := pbBenchRows(s, n)
			b.SetBytes(int64(total))
			b.ReportAllocs()
			emit := func(int, rowcodec.Row) error { return nil }
			for b.Loop() {
				if err := d.Decode(rows, nil, emit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(n, "rows/op")
		})
	}
}
