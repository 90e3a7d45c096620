// Package rowcodec turns rows as clients send them (serialized proto2
// messages described by a DescriptorProto, or insertAll JSON objects) into
// BigQuery values, and validates them exactly as BigQuery does.
//
// It is pure: no I/O, no clocks (the caller passes Now), no globals.
//
// Two paths share one value model:
//   - Validate checks a request's rows on the append hot path and
//     allocates little; it reports RowErrors and never materializes rows.
//   - Decode materializes rows into Row values for the read path.
//
// A decoder is compiled once per (writer schema, table schema) and is safe
// for concurrent use.
//
// Value model (a Row has one Value per top-level column of the table schema
// the decoder was compiled against, in schema order):
//
//	NULL                     nil
//	BOOLEAN                  bool
//	INTEGER                  int64
//	FLOAT                    float64
//	STRING, GEOGRAPHY        string
//	JSON                     string (compact, valid JSON text)
//	BYTES                    []byte
//	NUMERIC, BIGNUMERIC      Decimal (exact)
//	DATE                     Date (days since 1970-01-01)
//	TIME                     TimeOfDay (microseconds since midnight)
//	DATETIME                 DateTime (microseconds since 1970-01-01T00:00:00, civil)
//	TIMESTAMP                Timestamp (microseconds since the Unix epoch, UTC)
//	INTERVAL                 Interval
//	RANGE<T>                 RangeValue (Start/End nil = unbounded)
//	RECORD                   Row (one Value per sub-field)
//	any REPEATED             []Value (never nil for a present row: empty slice)
package rowcodec

import (
	"fmt"
	"strings"
	"time"
)

// Row is one row: a Value per column, in schema order.
type Row []Value

// Value is one cell; see the package comment for the Go type of each
// BigQuery type.
type Value = any

// Date is a civil date as days since 1970-01-01 (may be negative).
type Date int32

// TimeOfDay is a civil time of day in microseconds since midnight.
type TimeOfDay int64

// DateTime is a civil date-time in microseconds since 1970-01-01T00:00:00.
type DateTime int64

// Timestamp is an instant in microseconds since the Unix epoch, UTC.
type Timestamp int64

// RowError is one invalid row: its 0-based index in the request, the
// column path it concerns ("" when it is about the whole row, "a.b" for a
// nested field, "arr[2].x" inside repeated records) and a message in
// BigQuery's words that names the field.
type RowError struct {
	Index    int
	Location string
	Message  string
}

// RowErrors is every invalid row of a request, in row order. A request with
// any RowErrors is rejected whole.
type RowErrors []RowError

func (e RowErrors) Error() string {
	if len(e) == 0 {
		return "rowcodec: no row errors"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rowcodec: %d invalid row(s): row %d: %s", len(e), e[0].Index, e[0].Message)
	return b.String()
}

// MissingValue says what to store for a field that is present in the
// writer schema but absent from a row.
type MissingValue int8

// Missing-value interpretations (numbering matches the API enum).
const (
	MissingUnspecified MissingValue = 0 // treated as MissingNull
	MissingNull        MissingValue = 1
	MissingDefault     MissingValue = 2 // the column's default expression, else NULL
)

// Options carry per-request decoding context. The zero value is valid.
type Options struct {
	// MissingValues maps a top-level column name (any case) to the
	// interpretation for this request only; it overrides DefaultMissing.
	MissingValues map[string]MissingValue
	// DefaultMissing applies to fields absent from a row when
	// MissingValues has no entry for the column.
	DefaultMissing MissingValue
	// Now is the time default expressions such as CURRENT_TIMESTAMP() see.
	// Use the append time recorded with the rows so reads are repeatable.
	Now time.Time
	// Seed makes GENERATE_UUID() repeatable: row i of a request gets a
	// version-4 UUID derived from (Seed, i), so re-decoding the same stored
	// rows yields the same values.
	Seed uint64
}

// SchemaErrorKind classifies writer-schema problems.
type SchemaErrorKind int

// Kinds of writer-schema problems.
const (
	// InvalidDescriptor: the descriptor does not resolve (connection-level
	// INVALID_ARGUMENT "Invalid proto schema: ...").
	InvalidDescriptor SchemaErrorKind = iota + 1
	// ExtraFields: a writer field has no column (SCHEMA_MISMATCH_EXTRA_FIELDS).
	ExtraFields
	// Incompatible: a field's proto type or label cannot feed its column.
	Incompatible
)

// SchemaError reports a writer schema that cannot be used with the table.
// Message is the full text for the client; for ExtraFields it is
// "Input schema has more fields than BigQuery schema, extra fields: 'a,b'"
// with the lower-cased field paths (the caller appends " Entity: <stream>").
type SchemaError struct {
	Kind    SchemaErrorKind
	Fields  []string
	Message string
}

func (e *SchemaError) Error() string { return "rowcodec: " + e.Message }
