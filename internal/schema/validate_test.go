package schema_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/schema"
)

func f(name string, typ schema.Type, mode schema.Mode, sub ...*schema.Field) *schema.Field {
	return &schema.Field{Name: name, Type: typ, Mode: mode, Fields: sub}
}

func tbl(fs ...*schema.Field) *schema.Table { return &schema.Table{Fields: fs} }

// nested returns a chain of RECORDs depth levels deep ending in a STRING leaf
// (depth counts the leaf: depth 1 is a lone top-level STRING).
func nested(depth int) *schema.Field {
	leaf := f("leaf", "STRING", "")
	for i := depth - 1; i > 0; i-- {
		leaf = f(fmt.Sprintf("r%d", i), "RECORD", "", leaf)
	}
	return leaf
}

func TestNormalize(t *testing.T) {
	in := tbl(
		f("a", "int64", ""),
		f("b", "Float64", "required"),
		f("c", "BOOL", " repeated "),
		f("d", "struct", "", f("x", "decimal", ""), f("y", "bigdecimal", "Nullable")),
		&schema.Field{Name: "e", Type: "range", RangeElementType: &schema.RangeElementType{Type: "timestamp"}},
		f("g", "nosuchtype", "weird"),
	)
	got := schema.Normalize(in)
	want := tbl(
		f("a", "INTEGER", "NULLABLE"),
		f("b", "FLOAT", "REQUIRED"),
		f("c", "BOOLEAN", "REPEATED"),
		f("d", "RECORD", "NULLABLE", f("x", "NUMERIC", "NULLABLE"), f("y", "BIGNUMERIC", "NULLABLE")),
		&schema.Field{Name: "e", Type: "RANGE", Mode: "NULLABLE", RangeElementType: &schema.RangeElementType{Type: "TIMESTAMP"}},
		f("g", "NOSUCHTYPE", "WEIRD"),
	)
	if !schema.Equal(got, want) {
		t.Errorf("Normalize:\n got %s\nwant %s", dump(got), dump(want))
	}
	// The input is untouched.
	if in.Fields[0].Type != "int64" || in.Fields[0].Mode != "" || in.Fields[3].Fields[0].Type != "decimal" ||
		in.Fields[4].RangeElementType.Type != "timestamp" {
		t.Errorf("Normalize modified its input: %s", dump(in))
	}
	if schema.Normalize(nil) != nil {
		t.Errorf("Normalize(nil) != nil")
	}
	// A nil entry (which Validate refuses) must not panic.
	if got := schema.Normalize(tbl(nil, f("r", "RECORD", "", nil))); got.Fields[0] != nil || got.Fields[1].Fields[0] != nil {
		t.Errorf("Normalize with nil entries: %s", dump(got))
	}
}

func dump(t *schema.Table) string {
	var b strings.Builder
	for _, f := range t.Fields {
		fmt.Fprintf(&b, "%+v ", *f)
	}
	return b.String()
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name   string
		schema *schema.Table
		want   string // substring of the message; "" for valid
	}{
		{"nil", nil, ""},
		{"empty", tbl(), ""},
		{"all types", tbl(
			f("s", "STRING", ""), f("by", "BYTES", ""), f("i", "INT64", ""), f("fl", "FLOAT64", ""),
			f("bo", "BOOL", ""), f("ts", "TIMESTAMP", ""), f("d", "DATE", ""), f("t", "TIME", ""),
			f("dt", "DATETIME", ""), f("g", "GEOGRAPHY", ""), f("n", "NUMERIC", ""), f("bn", "BIGNUMERIC", ""),
			f("j", "JSON", ""), f("iv", "INTERVAL", ""), f("r", "STRUCT", "REPEATED", f("x", "STRING", "REQUIRED")),
			&schema.Field{Name: "rg", Type: "RANGE", RangeElementType: &schema.RangeElementType{Type: "DATE"}},
		), ""},
		{"lower-case spellings", tbl(f("a", "integer", "nullable")), ""},
		{"name 300 chars", tbl(f(long, "STRING", "")), ""},
		{"underscore start", tbl(f("_a1", "STRING", "")), ""},

		{"name with dash", tbl(f("x-y", "STRING", "")),
			`Invalid field name "x-y". Fields must contain only letters, numbers, and underscores, start with a letter or underscore, and be at most 300 characters long.`},
		{"name 301 chars", tbl(f(long+"a", "STRING", "")), "Invalid field name"},
		{"empty name", tbl(f("", "STRING", "")), `Invalid field name ""`},
		{"digit start", tbl(f("1a", "STRING", "")), `Invalid field name "1a"`},
		{"non-ascii", tbl(f("café", "STRING", "")), `Invalid field name "café"`},
		{"nested bad name", tbl(f("r", "RECORD", "", f("a b", "STRING", ""))), `Invalid field name "a b"`},
		{"duplicate", tbl(f("a", "STRING", ""), f("A", "INTEGER", "")), "Field A already exists in schema"},
		{"nested duplicate", tbl(f("r", "RECORD", "", f("x", "STRING", ""), f("X", "STRING", ""))),
			"Field r.X already exists in schema"},
		{"same name different levels", tbl(f("x", "STRING", ""), f("r", "RECORD", "", f("x", "STRING", ""))), ""},
		{"nil field", tbl(nil), "Empty field"},

		{"reserved _PARTITIONTIME", tbl(f("_PARTITIONTIME", "TIMESTAMP", "")), "prefix _PARTITION"},
		{"reserved lower case", tbl(f("_partition_x", "STRING", "")), "prefix _PARTITION"},
		{"reserved _TABLE_", tbl(f("_table_suffix", "STRING", "")), "prefix _TABLE_"},
		{"reserved _FILE_", tbl(f("_FILE_NAME", "STRING", "")), "prefix _FILE_"},
		{"reserved _ROW_TIMESTAMP", tbl(f("_row_timestamp", "STRING", "")), "prefix _ROW_TIMESTAMP"},
		{"reserved __ROOT__", tbl(f("__root__x", "STRING", "")), "prefix __ROOT__"},
		{"reserved _COLIDENTIFIER", tbl(f("_colidentifier1", "STRING", "")), "prefix _COLIDENTIFIER"},
		{"reserved prefix allowed nested", tbl(f("r", "RECORD", "", f("_PARTITIONTIME", "STRING", ""))), ""},
		{"_TABLE without underscore is fine", tbl(f("_TABLEX", "STRING", "")), ""},

		{"unknown type", tbl(f("a", "INT", "")), "Invalid value for type: INT is not a valid value"},
		{"empty type", tbl(f("a", "", "")), "Invalid value for type"},
		{"unknown mode", tbl(f("a", "STRING", "OPTIONAL")), "Invalid value for mode: OPTIONAL is not a valid value"},
		{"record without fields", tbl(f("r", "RECORD", "")), "Field r is type RECORD but has no schema"},
		{"struct without fields", tbl(f("r", "STRUCT", "REPEATED")), "Field r is type RECORD but has no schema"},
		{"scalar with fields", tbl(f("s", "STRING", "", f("x", "STRING", ""))), "Field s is type STRING but has sub-fields"},

		{"range without element", tbl(f("r", "RANGE", "")), "Field r is type RANGE but has no range element type"},
		{"range bad element", tbl(&schema.Field{Name: "r", Type: "RANGE", RangeElementType: &schema.RangeElementType{Type: "INTEGER"}}),
			"unsupported range element type INTEGER"},
		{"range datetime", tbl(&schema.Field{Name: "r", Type: "RANGE", RangeElementType: &schema.RangeElementType{Type: "datetime"}}), ""},
		{"range element on string", tbl(&schema.Field{Name: "s", Type: "STRING", RangeElementType: &schema.RangeElementType{Type: "DATE"}}),
			"rangeElementType is only allowed for RANGE"},

		{"maxLength string", tbl(&schema.Field{Name: "s", Type: "STRING", MaxLength: 10}), ""},
		{"maxLength bytes", tbl(&schema.Field{Name: "s", Type: "BYTES", MaxLength: 10}), ""},
		{"maxLength integer", tbl(&schema.Field{Name: "s", Type: "INTEGER", MaxLength: 10}), "maxLength is only allowed for STRING and BYTES"},
		{"maxLength negative", tbl(&schema.Field{Name: "s", Type: "STRING", MaxLength: -1}), "invalid maxLength -1"},

		{"numeric 29,0", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 29}), ""},
		{"numeric 38,9", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 38, Scale: 9}), ""},
		{"numeric 1,0", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 1}), ""},
		{"numeric 30,0", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 30}), "Invalid NUMERIC precision 30 and scale 0"},
		{"numeric 39,9", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 39, Scale: 9}), "Invalid NUMERIC precision 39 and scale 9"},
		{"numeric scale 10", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 20, Scale: 10}), "Invalid NUMERIC precision 20 and scale 10"},
		{"numeric p==s", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 5, Scale: 5}), "Invalid NUMERIC precision 5 and scale 5"},
		{"numeric negative scale", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Precision: 5, Scale: -1}), "Invalid NUMERIC precision 5 and scale -1"},
		{"numeric scale without precision", tbl(&schema.Field{Name: "n", Type: "NUMERIC", Scale: 2}), "has scale 2 but no precision"},
		{"decimal alias bounds", tbl(&schema.Field{Name: "n", Type: "DECIMAL", Precision: 30}), "Invalid NUMERIC precision 30"},
		{"bignumeric 76,38", tbl(&schema.Field{Name: "n", Type: "BIGNUMERIC", Precision: 76, Scale: 38}), ""},
		{"bignumeric 38,0", tbl(&schema.Field{Name: "n", Type: "BIGNUMERIC", Precision: 38}), ""},
		{"bignumeric 39,0", tbl(&schema.Field{Name: "n", Type: "BIGNUMERIC", Precision: 39}), "Invalid BIGNUMERIC precision 39 and scale 0"},
		{"bignumeric scale 39", tbl(&schema.Field{Name: "n", Type: "BIGNUMERIC", Precision: 77, Scale: 39}), "Invalid BIGNUMERIC precision 77 and scale 39"},
		{"precision on float", tbl(&schema.Field{Name: "n", Type: "FLOAT", Precision: 5}), "precision and scale are only allowed for NUMERIC and BIGNUMERIC"},
		{"scale on string", tbl(&schema.Field{Name: "n", Type: "STRING", Scale: 1}), "precision and scale are only allowed"},

		{"timestampPrecision 6", tbl(&schema.Field{Name: "t", Type: "TIMESTAMP", TimestampPrecision: 6}), ""},
		{"timestampPrecision 12", tbl(&schema.Field{Name: "t", Type: "TIMESTAMP", TimestampPrecision: 12}), ""},
		{"timestampPrecision 9", tbl(&schema.Field{Name: "t", Type: "TIMESTAMP", TimestampPrecision: 9}), "invalid timestampPrecision 9"},
		{"timestampPrecision on date", tbl(&schema.Field{Name: "t", Type: "DATE", TimestampPrecision: 6}), "only allowed for TIMESTAMP"},

		{"roundingMode ok", tbl(&schema.Field{Name: "n", Type: "NUMERIC", RoundingMode: "ROUND_HALF_EVEN"}), ""},
		{"roundingMode bad", tbl(&schema.Field{Name: "n", Type: "NUMERIC", RoundingMode: "UP"}), "Invalid value for roundingMode"},
		{"roundingMode on string", tbl(&schema.Field{Name: "n", Type: "STRING", RoundingMode: "ROUND_HALF_EVEN"}), "roundingMode is only allowed"},
		{"collation on string", tbl(&schema.Field{Name: "s", Type: "STRING", Collation: "und:ci"}), ""},
		{"collation on integer", tbl(&schema.Field{Name: "s", Type: "INTEGER", Collation: "und:ci"}), "collation is only allowed"},

		{"depth 15", tbl(nested(15)), ""},
		{"depth 16", tbl(nested(16)), "nesting depth exceeds the maximum of 15"},
		{"10000 leaves", tbl(leaves(10000)...), ""},
		{"10001 leaves", tbl(leaves(10001)...), "Too many total leaf fields: 10001, max allowed field count: 10000"},
		{"10001 leaves nested", tbl(append(leaves(9999), f("r", "RECORD", "", f("x", "STRING", ""), f("y", "STRING", "")))...),
			"Too many total leaf fields: 10001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schema.Validate(tt.schema)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: unexpected error %v", err)
				}
				// Whatever validates also validates once normalized.
				if err := schema.Validate(schema.Normalize(tt.schema)); err != nil {
					t.Fatalf("Validate(Normalize): unexpected error %v", err)
				}
				return
			}
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("Validate: got %v, want a *schema.Error containing %q", err, tt.want)
			}
			if !strings.Contains(se.Msg, tt.want) {
				t.Errorf("Validate: got %q, want it to contain %q", se.Msg, tt.want)
			}
		})
	}
}

func leaves(n int) []*schema.Field {
	fs := make([]*schema.Field, n)
	for i := range fs {
		fs[i] = f(fmt.Sprintf("c%d", i), "STRING", "")
	}
	return fs
}

func TestCheckEvolution(t *testing.T) {
	base := func() *schema.Table {
		return schema.Normalize(tbl(
			f("a", "STRING", "REQUIRED"),
			f("b", "INTEGER", ""),
			f("r", "RECORD", "", f("x", "STRING", ""), f("y", "INTEGER", "REQUIRED")),
			&schema.Field{Name: "s10", Type: "STRING", MaxLength: 10},
			&schema.Field{Name: "n", Type: "NUMERIC", Precision: 10, Scale: 2},
		))
	}
	tests := []struct {
		name   string
		modify func(*schema.Table) *schema.Table
		want   string // "" = allowed
	}{
		{"identical", func(s *schema.Table) *schema.Table { return s }, ""},
		{"append nullable", func(s *schema.Table) *schema.Table {
			s.Fields = append(s.Fields, f("c", "STRING", "NULLABLE"))
			return s
		}, ""},
		{"append repeated", func(s *schema.Table) *schema.Table {
			s.Fields = append(s.Fields, f("c", "STRING", "REPEATED"))
			return s
		}, ""},
		{"append record with required child", func(s *schema.Table) *schema.Table {
			s.Fields = append(s.Fields, f("c", "RECORD", "NULLABLE", f("z", "STRING", "REQUIRED")))
			return s
		}, ""},
		{"append inside record", func(s *schema.Table) *schema.Table {
			s.Fields[2].Fields = append(s.Fields[2].Fields, f("z", "STRING", "NULLABLE"))
			return s
		}, ""},
		{"relax required", func(s *schema.Table) *schema.Table { s.Fields[0].Mode = "NULLABLE"; return s }, ""},
		{"relax nested required", func(s *schema.Table) *schema.Table { s.Fields[2].Fields[1].Mode = "NULLABLE"; return s }, ""},
		{"description", func(s *schema.Table) *schema.Table {
			s.Fields[0].Description = "new"
			s.Fields[2].Fields[0].Description = "nested"
			return s
		}, ""},
		{"policy tags", func(s *schema.Table) *schema.Table {
			s.Fields[1].PolicyTags = map[string]any{"names": []any{"projects/p/taxonomies/1/policyTags/2"}}
			return s
		}, ""},
		{"default value", func(s *schema.Table) *schema.Table { s.Fields[1].DefaultValueExpression = "0"; return s }, ""},
		{"name case", func(s *schema.Table) *schema.Table { s.Fields[1].Name = "B"; return s }, ""},

		{"missing top-level", func(s *schema.Table) *schema.Table { s.Fields = s.Fields[1:]; return s },
			"Field a is missing in new schema"},
		{"missing last", func(s *schema.Table) *schema.Table { s.Fields = s.Fields[:4]; return s },
			"Field n is missing in new schema"},
		{"missing nested", func(s *schema.Table) *schema.Table { s.Fields[2].Fields = s.Fields[2].Fields[:1]; return s },
			"Field r.y is missing in new schema"},
		{"renamed", func(s *schema.Table) *schema.Table { s.Fields[1].Name = "bb"; return s },
			"Field b is missing in new schema"},
		{"type change", func(s *schema.Table) *schema.Table { s.Fields[0].Type = "INTEGER"; return s },
			"Field a has changed type from STRING to INTEGER"},
		{"nested type change", func(s *schema.Table) *schema.Table { s.Fields[2].Fields[0].Type = "BYTES"; return s },
			"Field r.x has changed type from STRING to BYTES"},
		{"record to string", func(s *schema.Table) *schema.Table {
			s.Fields[2] = f("r", "STRING", "NULLABLE")
			return s
		}, "Field r has changed type from RECORD to STRING"},
		{"maxLength change", func(s *schema.Table) *schema.Table { s.Fields[3].MaxLength = 5; return s },
			"Field s10 has changed type from STRING(10) to STRING(5)"},
		{"precision change", func(s *schema.Table) *schema.Table { s.Fields[4].Precision = 12; return s },
			"Field n has changed type from NUMERIC(10, 2) to NUMERIC(12, 2)"},
		{"nullable to required", func(s *schema.Table) *schema.Table { s.Fields[1].Mode = "REQUIRED"; return s },
			"Field b has changed mode from NULLABLE to REQUIRED"},
		{"nullable to repeated", func(s *schema.Table) *schema.Table { s.Fields[1].Mode = "REPEATED"; return s },
			"Field b has changed mode from NULLABLE to REPEATED"},
		{"required to repeated", func(s *schema.Table) *schema.Table { s.Fields[0].Mode = "REPEATED"; return s },
			"Field a has changed mode from REQUIRED to REPEATED"},
		{"append required", func(s *schema.Table) *schema.Table {
			s.Fields = append(s.Fields, f("c", "STRING", "REQUIRED"))
			return s
		}, "Cannot add required fields to an existing schema. (field: c)"},
		{"append required nested", func(s *schema.Table) *schema.Table {
			s.Fields[2].Fields = append(s.Fields[2].Fields, f("z", "STRING", "REQUIRED"))
			return s
		}, "Cannot add required fields to an existing schema. (field: r.z)"},
		{"insert in the middle", func(s *schema.Table) *schema.Table {
			s.Fields = append([]*schema.Field{s.Fields[0], f("c", "STRING", "NULLABLE")}, s.Fields[1:]...)
			return s
		}, "Field b has changed position from 1 to 2"},
		{"swap", func(s *schema.Table) *schema.Table {
			s.Fields[0], s.Fields[1] = s.Fields[1], s.Fields[0]
			return s
		}, "Field a has changed position from 0 to 1"},
		{"collation", func(s *schema.Table) *schema.Table { s.Fields[0].Collation = "und:ci"; return s },
			"Field a has changed collation"},
		{"nil new", func(*schema.Table) *schema.Table { return nil }, "Field a is missing in new schema"},
		{"nil entry", func(s *schema.Table) *schema.Table { s.Fields = append(s.Fields, nil); return s }, "Empty field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schema.CheckEvolution(base(), tt.modify(base()))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckEvolution: unexpected error %v", err)
				}
				return
			}
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("CheckEvolution: got %v, want a *schema.Error containing %q", err, tt.want)
			}
			if !strings.Contains(se.Msg, tt.want) {
				t.Errorf("CheckEvolution: got %q, want it to contain %q", se.Msg, tt.want)
			}
		})
	}

	t.Run("from empty", func(t *testing.T) {
		if err := schema.CheckEvolution(nil, base()); err == nil || !strings.Contains(err.Error(), "Cannot add required fields") {
			t.Errorf("nil → schema with REQUIRED: got %v", err)
		}
		if err := schema.CheckEvolution(&schema.Table{}, tbl(f("a", "STRING", "NULLABLE"))); err != nil {
			t.Errorf("empty → nullable column: %v", err)
		}
	})
}

func TestEqual(t *testing.T) {
	a := schema.Normalize(tbl(f("a", "STRING", ""), f("r", "RECORD", "", f("x", "INTEGER", ""))))
	if !schema.Equal(a, a.Clone()) {
		t.Errorf("Equal(a, clone) = false")
	}
	if !schema.Equal(nil, &schema.Table{}) {
		t.Errorf("Equal(nil, empty) = false")
	}
	b := a.Clone()
	b.Fields[1].Fields[0].Description = "d"
	if schema.Equal(a, b) {
		t.Errorf("Equal ignores a nested description")
	}
	c := a.Clone()
	c.Fields[0].PolicyTags = map[string]any{"names": []any{"x"}}
	if schema.Equal(a, c) {
		t.Errorf("Equal ignores policyTags")
	}
}
