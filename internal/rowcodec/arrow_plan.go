package rowcodec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/penstockdb/penstock/internal/schema"
)

// This file compiles an Arrow writer schema (spec §4.7) against a table
// schema into per-field plans that arrow.go walks.

// aconv says how one Arrow value becomes a column value.
type aconv uint8

const (
	aNull      aconv = iota + 1 // any column ← Null type: always NULL
	aBool                       // BOOLEAN ← Boolean
	aInt                        // INTEGER ← Int8..64, Uint8..32
	aFloat                      // FLOAT ← Float32/64
	aString                     // STRING ← Utf8 (UTF-8, max length)
	aBytes                      // BYTES ← Binary (max length)
	aDecimal                    // NUMERIC/BIGNUMERIC ← Decimal128/256
	aDate                       // DATE ← Date32, Int32
	aDate64                     // DATE ← Date64 (milliseconds)
	aTimestamp                  // TIMESTAMP ← Timestamp with a time zone
	aDateTime                   // DATETIME ← Timestamp without a time zone
	aTime                       // TIME ← Time32/Time64
	aInterval                   // INTERVAL ← Interval (any unit)
	aText                       // DATE, TIME, DATETIME, TIMESTAMP, INTERVAL, NUMERIC, BIGNUMERIC, JSON, GEOGRAPHY ← Utf8 literal
	aRecord                     // RECORD ← Struct
	aRange                      // RANGE ← Struct{start, end}
)

// arrowPlan maps the children of one Arrow struct (or the batch's
// columns) onto one list of columns.
type arrowPlan struct {
	cols   []*schema.Field
	top    bool
	fields []*arrowField // in Arrow child order; nil for none
	absent []absentCol   // columns no Arrow field feeds
}

// arrowField decodes one Arrow field (child index = position in
// arrowPlan.fields) into one column.
type arrowField struct {
	col      int
	name     string // column name, for error paths
	typ      schema.Type
	conv     aconv
	dt       arrow.DataType // of one value (the list's element for REPEATED)
	repeated bool
	required bool
	maxLen   int64
	dec      DecimalParams
	unitUS   int64 // microseconds per unit (time, timestamp); 0: nanoseconds
	sub      *arrowPlan
	colDef   DefaultFunc
}

// ArrowDecoder validates and decodes Storage Write API Arrow appends: one
// encapsulated IPC RecordBatch message per request, described by the
// writer's encapsulated IPC Schema message and mapped onto a table schema.
// It is compiled once per (Arrow schema, table schema) and is safe for
// concurrent use.
//
// Decisions where BigQuery's behaviour is not pinned down (spec §4.7):
//   - A NULL cell counts as a missing value: it takes the column's default
//     expression when the missing-value interpretation is DEFAULT_VALUE,
//     else NULL; NULL in a REQUIRED column is a row error.
//   - A NULL list is an empty list; a NULL element inside a list is a row
//     error, as in proto.
//   - Timestamps in seconds, milliseconds or nanoseconds are accepted and
//     converted to microseconds (finer precision is truncated toward
//     negative infinity).
//   - Decimals are rounded to the column's scale as proto decimal strings
//     are, and checked against its precision.
type ArrowDecoder struct {
	schema []byte // the encapsulated Schema message as sent
	as     *arrow.Schema
	root   *arrowPlan
	table  *schema.Table
}

// CompileArrow parses serializedSchema (an encapsulated Arrow IPC Schema
// message) and maps its fields onto the columns of t by name,
// case-insensitively, recursively for RECORD columns.
//
// Errors are *SchemaError:
//   - InvalidDescriptor: the bytes are not an Arrow schema message
//     ("Invalid arrow schema: ...").
//   - ExtraFields: fields without a column, as for proto.
//   - Incompatible: a field's Arrow type cannot feed its column, two
//     fields feed the same column, or a dictionary-encoded field.
//
// A column default expression that does not compile is reported as a
// plain error wrapping CompileDefault's.
func CompileArrow(serializedSchema []byte, t *schema.Table) (d *ArrowDecoder, err error) {
	if t == nil {
		return nil, errors.New("rowcodec: CompileArrow: nil table schema")
	}
	as, err := parseArrowSchema(serializedSchema)
	if err != nil {
		return nil, &SchemaError{Kind: InvalidDescriptor, Message: "Invalid arrow schema: " + err.Error()}
	}
	c := &compiler{defaults: map[*schema.Field]DefaultFunc{}}
	root := c.compileArrowStruct(as.Fields(), t.Fields, "", true)
	switch {
	case len(c.extra) > 0:
		return nil, extraFieldsError(c.extra)
	case c.incompat != "":
		return nil, &SchemaError{Kind: Incompatible, Fields: []string{c.incompatPath}, Message: c.incompat}
	case c.defaultErr != nil:
		return nil, c.defaultErr
	}
	return &ArrowDecoder{schema: append([]byte(nil), serializedSchema...), as: as, root: root, table: t}, nil
}

// Table returns the table schema the decoder was compiled against.
func (d *ArrowDecoder) Table() *schema.Table { return d.table }

func parseArrowSchema(b []byte) (as *arrow.Schema, err error) {
	defer func() {
		if p := recover(); p != nil {
			as, err = nil, fmt.Errorf("malformed schema message: %v", p)
		}
	}()
	if len(b) == 0 {
		return nil, errors.New("empty schema message")
	}
	r, err := openArrowStream(1<<20, b)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "arrow/ipc: "))
	}
	defer r.Release()
	return r.Schema(), nil
}

func (c *compiler) compileArrowStruct(fields []arrow.Field, cols []*schema.Field, path string, top bool) *arrowPlan {
	p := &arrowPlan{cols: cols, top: top, fields: make([]*arrowField, len(fields))}
	used := make([]bool, len(cols))
	for i, f := range fields {
		idx := lookupField(cols, f.Name)
		if idx < 0 {
			c.extra = append(c.extra, strings.ToLower(path+f.Name))
			continue
		}
		col := cols[idx]
		if used[idx] {
			c.fail(path+col.Name, "Two Arrow fields map to column %s.", path+col.Name)
			continue
		}
		used[idx] = true
		p.fields[i] = c.compileArrowField(f, col, idx, path)
	}
	for i, col := range cols {
		if !used[i] {
			p.absent = append(p.absent, absentCol{
				col: i, name: col.Name, def: c.columnDefault(col),
				required: col.IsRequired(), repeated: col.IsRepeated(),
			})
		}
	}
	return p
}

func (c *compiler) compileArrowField(f arrow.Field, col *schema.Field, idx int, path string) *arrowField {
	colPath := path + col.Name
	af := &arrowField{
		col: idx, name: col.Name, typ: col.Type, repeated: col.IsRepeated(), required: col.IsRequired(),
		maxLen: col.MaxLength, colDef: c.columnDefault(col),
	}
	dt := f.Type
	if af.repeated {
		switch lt := dt.(type) {
		case *arrow.ListType:
			dt = lt.Elem()
		case *arrow.LargeListType:
			dt = lt.Elem()
		default:
			c.fail(colPath, "Arrow field %s of type %s cannot be written to REPEATED column %s: a list is required.", f.Name, dt, colPath)
			return nil
		}
	}
	af.dt = dt
	if col.Type == schema.Numeric || col.Type == schema.BigNumeric {
		af.dec = DecimalParamsOf(col)
	}
	af.conv = c.arrowConv(af, dt, col, colPath)
	if af.conv == 0 {
		if c.incompat == "" {
			c.fail(colPath, "Arrow field %s of type %s cannot be written to column %s of type %s.", f.Name, f.Type, colPath, col.Type)
		}
		return nil
	}
	return af
}

// arrowConv picks the conversion of one Arrow value type into col, or 0.
func (c *compiler) arrowConv(af *arrowField, dt arrow.DataType, col *schema.Field, colPath string) aconv {
	id := dt.ID()
	if id == arrow.NULL {
		return aNull
	}
	text := id == arrow.STRING || id == arrow.LARGE_STRING
	switch col.Type {
	case schema.Boolean:
		if id == arrow.BOOL {
			return aBool
		}
	case schema.Integer:
		switch id {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32:
			return aInt
		}
	case schema.Float:
		if id == arrow.FLOAT32 || id == arrow.FLOAT64 {
			return aFloat
		}
	case schema.String:
		if text {
			return aString
		}
	case schema.Bytes:
		if id == arrow.BINARY || id == arrow.LARGE_BINARY {
			return aBytes
		}
	case schema.Numeric, schema.BigNumeric:
		switch {
		case id == arrow.DECIMAL128 || id == arrow.DECIMAL256:
			return aDecimal
		case text:
			return aText
		}
	case schema.Date:
		switch {
		case id == arrow.DATE32 || id == arrow.INT32:
			return aDate
		case id == arrow.DATE64:
			return aDate64
		case text:
			return aText
		}
	case schema.Timestamp, schema.DateTime:
		if ts, ok := dt.(*arrow.TimestampType); ok {
			af.unitUS = unitMicros(ts.Unit)
			if col.Type == schema.DateTime {
				if ts.TimeZone != "" {
					return 0
				}
				return aDateTime
			}
			if ts.TimeZone == "" {
				return 0
			}
			return aTimestamp
		}
		if text {
			return aText
		}
	case schema.Time:
		switch t := dt.(type) {
		case *arrow.Time32Type:
			af.unitUS = unitMicros(t.Unit)
			return aTime
		case *arrow.Time64Type:
			af.unitUS = unitMicros(t.Unit)
			return aTime
		}
		if text {
			return aText
		}
	case schema.Interval:
		switch {
		case id == arrow.INTERVAL_MONTHS || id == arrow.INTERVAL_DAY_TIME || id == arrow.INTERVAL_MONTH_DAY_NANO:
			return aInterval
		case text:
			return aText
		}
	case schema.JSON, schema.Geography:
		if text {
			return aText
		}
	case schema.Record:
		st, ok := dt.(*arrow.StructType)
		if !ok {
			return 0
		}
		af.sub = c.compileArrowStruct(st.Fields(), col.Fields, colPath+".", false)
		return aRecord
	case schema.Range:
		st, ok := dt.(*arrow.StructType)
		if !ok || col.RangeElementType == nil {
			return 0
		}
		af.sub = c.compileArrowStruct(st.Fields(), compileRangeCols(col), colPath+".", false)
		return aRange
	}
	return 0
}

// unitMicros returns the microseconds per unit, or 0 for nanoseconds.
func unitMicros(u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return 1000000
	case arrow.Millisecond:
		return 1000
	case arrow.Microsecond:
		return 1
	}
	return 0
}
