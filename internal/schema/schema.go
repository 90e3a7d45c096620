// Package schema is Penstock's shared vocabulary for table schemas: field
// types, modes and nested records, in the shape BigQuery's REST API uses.
//
// It is a leaf package (stdlib only). The JSON tags match the REST
// TableFieldSchema resource, so the REST transport can encode a Field as is.
// Types are always held in BigQuery's legacy spelling (INTEGER, FLOAT,
// BOOLEAN, RECORD), which is what every schema the service returns uses;
// Normalize maps the standard-SQL aliases onto them.
package schema

import (
	"strings"
)

// Type is a BigQuery column type in its legacy spelling.
type Type string

// Column types, legacy spellings (what REST responses carry).
const (
	String     Type = "STRING"
	Bytes      Type = "BYTES"
	Integer    Type = "INTEGER"
	Float      Type = "FLOAT"
	Boolean    Type = "BOOLEAN"
	Timestamp  Type = "TIMESTAMP"
	Date       Type = "DATE"
	Time       Type = "TIME"
	DateTime   Type = "DATETIME"
	Geography  Type = "GEOGRAPHY"
	Numeric    Type = "NUMERIC"
	BigNumeric Type = "BIGNUMERIC"
	JSON       Type = "JSON"
	Record     Type = "RECORD"
	Range      Type = "RANGE"
	Interval   Type = "INTERVAL"
)

// Mode is a column mode.
type Mode string

// Column modes.
const (
	Nullable Mode = "NULLABLE"
	Required Mode = "REQUIRED"
	Repeated Mode = "REPEATED"
)

// typeAliases maps every accepted spelling (upper case) to the legacy name.
var typeAliases = map[string]Type{
	"STRING": String, "BYTES": Bytes,
	"INTEGER": Integer, "INT64": Integer,
	"FLOAT": Float, "FLOAT64": Float,
	"BOOLEAN": Boolean, "BOOL": Boolean,
	"TIMESTAMP": Timestamp, "DATE": Date, "TIME": Time, "DATETIME": DateTime,
	"GEOGRAPHY": Geography, "NUMERIC": Numeric, "DECIMAL": Numeric,
	"BIGNUMERIC": BigNumeric, "BIGDECIMAL": BigNumeric,
	"JSON": JSON, "RECORD": Record, "STRUCT": Record,
	"RANGE": Range, "INTERVAL": Interval,
}

// ParseType returns the legacy spelling of a type name given in any
// accepted spelling (case-insensitive), and false if it is not a type.
func ParseType(s string) (Type, bool) {
	t, ok := typeAliases[strings.ToUpper(strings.TrimSpace(s))]
	return t, ok
}

// RangeElementType is the element type of a RANGE column.
type RangeElementType struct {
	Type Type `json:"type"`
}

// Field is one column (or sub-column of a RECORD). Zero-valued optional
// attributes are omitted from JSON.
type Field struct {
	Name                   string            `json:"name"`
	Type                   Type              `json:"type"`
	Mode                   Mode              `json:"mode,omitempty"`
	Fields                 []*Field          `json:"fields,omitempty"`
	Description            string            `json:"description,omitempty"`
	MaxLength              int64             `json:"maxLength,omitempty,string"`
	Precision              int64             `json:"precision,omitempty,string"`
	Scale                  int64             `json:"scale,omitempty,string"`
	DefaultValueExpression string            `json:"defaultValueExpression,omitempty"`
	RangeElementType       *RangeElementType `json:"rangeElementType,omitempty"`
	TimestampPrecision     int64             `json:"timestampPrecision,omitempty,string"`
	RoundingMode           string            `json:"roundingMode,omitempty"`
	Collation              string            `json:"collation,omitempty"`
	// PolicyTags is carried through opaquely (raw JSON object).
	PolicyTags map[string]any `json:"policyTags,omitempty"`
}

// IsRepeated reports whether the field is REPEATED.
func (f *Field) IsRepeated() bool { return f.Mode == Repeated }

// IsRequired reports whether the field is REQUIRED.
func (f *Field) IsRequired() bool { return f.Mode == Required }

// Table is a table schema: its top-level columns in order.
type Table struct {
	Fields []*Field `json:"fields"`
}

// Lookup finds a top-level column by name, case-insensitively, and returns
// its index, or -1.
func (t *Table) Lookup(name string) int { return lookup(t.Fields, name) }

// Lookup finds a sub-field of a RECORD by name, case-insensitively, and
// returns its index, or -1.
func (f *Field) Lookup(name string) int { return lookup(f.Fields, name) }

func lookup(fs []*Field, name string) int {
	for i, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// Clone returns a deep copy of t.
func (t *Table) Clone() *Table {
	if t == nil {
		return nil
	}
	return &Table{Fields: cloneFields(t.Fields)}
}

// Clone returns a deep copy of f.
func (f *Field) Clone() *Field {
	c := *f
	c.Fields = cloneFields(f.Fields)
	if f.RangeElementType != nil {
		r := *f.RangeElementType
		c.RangeElementType = &r
	}
	if f.PolicyTags != nil {
		c.PolicyTags = make(map[string]any, len(f.PolicyTags))
		for k, v := range f.PolicyTags {
			c.PolicyTags[k] = v
		}
	}
	return &c
}

func cloneFields(fs []*Field) []*Field {
	if fs == nil {
		return nil
	}
	out := make([]*Field, len(fs))
	for i, f := range fs {
		out[i] = f.Clone()
	}
	return out
}
