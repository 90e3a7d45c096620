package rowcodec

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/penstockdb/penstock/internal/schema"
)

// This file compiles a resolved writer schema against a table schema into
// the flat plans the wire decoder (proto_wire.go) walks: for every message a
// table of field handlers indexed by field number, each knowing its wire
// type, its column and how to convert the value (spec §4.3, §4.4).

// conv says how one proto value becomes a column value.
type conv uint8

const (
	convInt             conv = iota + 1 // INTEGER ← integer kinds, enum number
	convBool                            // BOOLEAN ← bool, integers (non-zero = true)
	convFloat                           // FLOAT ← double, float
	convString                          // STRING ← string (UTF-8, max length)
	convEnumName                        // STRING ← enum name
	convBytes                           // BYTES ← bytes, string (max length)
	convDecimalInt                      // NUMERIC/BIGNUMERIC ← signed integers
	convDecimalUint                     // NUMERIC/BIGNUMERIC ← uint64, fixed64
	convDecimalFloat                    // NUMERIC/BIGNUMERIC ← double, float
	convDecimalString                   // NUMERIC/BIGNUMERIC ← decimal literal
	convDecimalBytes                    // NUMERIC/BIGNUMERIC ← scaled little-endian bytes
	convDateInt                         // DATE ← days since the epoch
	convDateString                      // DATE ← literal
	convDateTimePacked                  // DATETIME ← CivilTimeEncoder int64
	convDateTimeString                  // DATETIME ← literal
	convTimePacked                      // TIME ← CivilTimeEncoder int64
	convTimeString                      // TIME ← literal
	convTimestampInt                    // TIMESTAMP ← microseconds since the epoch
	convTimestampString                 // TIMESTAMP ← literal
	convGeography                       // GEOGRAPHY ← WKT or GeoJSON
	convJSON                            // JSON ← JSON text
	convIntervalString                  // INTERVAL ← literal
	convRecord                          // RECORD ← message
	convRange                           // RANGE ← message {start, end}
	convWrapper                         // scalar ← message with one `value` field
	convTimestampMsg                    // TIMESTAMP ← google.protobuf.Timestamp
	convDurationMsg                     // INTERVAL ← google.protobuf.Duration
)

// msgPlan decodes one message type into one list of columns (the table's
// top-level columns, a RECORD's sub-fields or a RANGE's bounds).
type msgPlan struct {
	cols     []*schema.Field
	top      bool                            // the table's top level
	dense    []*fieldPlan                    // by field number, when numbers are small
	sparse   map[protowire.Number]*fieldPlan // otherwise
	singular []*fieldPlan                    // non-repeated fields; slot = index
	repeated []*fieldPlan                    // repeated fields; slot = index
	absent   []absentCol                     // columns no writer field feeds
	name     string                          // message full name, for parse errors
}

// absentCol is a column the writer schema does not mention: it always gets
// its default expression, else NULL (spec §4.6).
type absentCol struct {
	col      int
	name     string
	def      DefaultFunc
	required bool
	repeated bool
}

// fieldPlan decodes one proto field into one column.
type fieldPlan struct {
	num      protowire.Number
	kind     protoreflect.Kind
	wt       protowire.Type // wire type of one element
	packable bool           // repeated scalar: may arrive packed
	repeated bool
	slot     int
	col      int
	name     string // column name, for error paths
	conv     conv
	required bool
	maxLen   int64
	dec      DecimalParams
	decFit   bool // column has precision/scale or a rounding mode to apply
	big      bool // BIGNUMERIC
	enum     *enumPlan
	sub      *msgPlan   // convRecord, convRange
	inner    *fieldPlan // convWrapper: the `value` field
	secNum   protowire.Number
	nanoNum  protowire.Number

	hasDef bool    // the proto field declares default_value
	defVal Value   // its converted value
	defErr *rowErr // or why it cannot be stored
	colDef DefaultFunc
	topCol int // index of the enclosing top-level column
}

// enumPlan maps enum numbers to names.
type enumPlan struct {
	dense  []string // index = number, for small non-negative numbers
	sparse map[int32]string
}

func (e *enumPlan) name(n int32) (string, bool) {
	if n >= 0 && int(n) < len(e.dense) {
		s := e.dense[n]
		return s, s != ""
	}
	s, ok := e.sparse[n]
	return s, ok
}

func newEnumPlan(e *pEnum) *enumPlan {
	p := &enumPlan{sparse: map[int32]string{}}
	for n, name := range e.names {
		if n >= 0 && n < 256 {
			for int(n) >= len(p.dense) {
				p.dense = append(p.dense, "")
			}
			p.dense[n] = name
		} else {
			p.sparse[n] = name
		}
	}
	return p
}

// denseLimit bounds the field-number table; messages with larger numbers
// use a map.
const denseLimit = 512

func (p *msgPlan) lookup(num protowire.Number) *fieldPlan {
	if int(num) < len(p.dense) {
		return p.dense[num]
	}
	if p.sparse != nil {
		return p.sparse[num]
	}
	return nil
}

// compiler carries what compiling one writer schema collects.
type compiler struct {
	extra        []string
	incompat     string
	incompatPath string
	defaults     map[*schema.Field]DefaultFunc
	defaultErr   error
}

func (c *compiler) fail(path, format string, args ...any) {
	if c.incompat == "" {
		c.incompat, c.incompatPath = fmt.Sprintf(format, args...), path
	}
}

func (c *compiler) columnDefault(f *schema.Field) DefaultFunc {
	if f.DefaultValueExpression == "" {
		return nil
	}
	if fn, ok := c.defaults[f]; ok {
		return fn
	}
	fn, err := CompileDefault(f)
	if err != nil && c.defaultErr == nil {
		c.defaultErr = fmt.Errorf("rowcodec: default value of column %s: %w", f.Name, err)
	}
	c.defaults[f] = fn
	return fn
}

// compileMsg maps the fields of m onto cols. path is the column path of
// the enclosing record ("" or "a.b."), as the table spells it.
func (c *compiler) compileMsg(m *pMessage, cols []*schema.Field, path string, top bool, topCol int) *msgPlan {
	p := &msgPlan{cols: cols, top: top, name: m.full}
	used := make([]*pField, len(cols))
	var plans []*fieldPlan
	for _, f := range m.fields {
		idx := lookupField(cols, f.column)
		if idx < 0 {
			c.extra = append(c.extra, strings.ToLower(path+f.column))
			continue
		}
		col := cols[idx]
		if prev := used[idx]; prev != nil {
			c.fail(path+col.Name, "Proto fields %s and %s both map to column %s.", prev.full, f.full, path+col.Name)
			continue
		}
		used[idx] = f
		tc := topCol
		if top {
			tc = idx
		}
		fp := c.compileField(f, col, idx, path, tc)
		if fp != nil {
			plans = append(plans, fp)
		}
	}
	maxNum := protowire.Number(0)
	for _, fp := range plans {
		maxNum = max(maxNum, fp.num)
		if fp.repeated {
			fp.slot = len(p.repeated)
			p.repeated = append(p.repeated, fp)
		} else {
			fp.slot = len(p.singular)
			p.singular = append(p.singular, fp)
		}
	}
	if maxNum < denseLimit {
		p.dense = make([]*fieldPlan, maxNum+1)
		for _, fp := range plans {
			p.dense[fp.num] = fp
		}
	} else {
		p.sparse = make(map[protowire.Number]*fieldPlan, len(plans))
		for _, fp := range plans {
			p.sparse[fp.num] = fp
		}
	}
	for i, col := range cols {
		if used[i] == nil {
			p.absent = append(p.absent, absentCol{
				col: i, name: col.Name, def: c.columnDefault(col),
				required: col.IsRequired(), repeated: col.IsRepeated(),
			})
		}
	}
	return p
}

func lookupField(cols []*schema.Field, name string) int {
	for i, f := range cols {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// kindName names a proto field's type for error messages.
func kindName(f *pField) string {
	switch f.kind {
	case protoreflect.MessageKind, protoreflect.GroupKind, protoreflect.EnumKind:
		return f.kind.String() + " " + f.typeName
	}
	return f.kind.String()
}

func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
		protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		return protowire.VarintType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.BytesType
}

// signedKind reports integer kinds whose values fit an int64 as is.
func signedKind(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Sint32Kind,
		protoreflect.Sint64Kind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return true
	}
	return false
}

func int64Kind(k protoreflect.Kind) bool {
	return k == protoreflect.Int64Kind || k == protoreflect.Sint64Kind || k == protoreflect.Sfixed64Kind
}

func compileRangeCols(col *schema.Field) []*schema.Field {
	t := col.RangeElementType.Type
	return []*schema.Field{{Name: "start", Type: t, Mode: schema.Nullable}, {Name: "end", Type: t, Mode: schema.Nullable}}
}

// compileField builds the plan of f feeding column col (index idx).
func (c *compiler) compileField(f *pField, col *schema.Field, idx int, path string, topCol int) *fieldPlan {
	colPath := path + col.Name
	if f.repeated != col.IsRepeated() {
		if f.repeated {
			c.fail(colPath, "Proto field %s is repeated but column %s has mode %s.", f.full, colPath, modeName(col))
		} else {
			c.fail(colPath, "Proto field %s is not repeated but column %s is REPEATED.", f.full, colPath)
		}
		return nil
	}
	fp := &fieldPlan{
		num: f.num, kind: f.kind, wt: wireType(f.kind), repeated: f.repeated, col: idx,
		name: col.Name, required: col.IsRequired(), maxLen: col.MaxLength,
		colDef: c.columnDefault(col), topCol: topCol,
	}
	fp.packable = f.repeated && fp.wt != protowire.BytesType && fp.wt != protowire.StartGroupType
	if f.msg != nil {
		c.compileMessageField(fp, f, col, colPath)
	} else {
		fp.conv = scalarConv(f.kind, col.Type)
		if f.kind == protoreflect.EnumKind {
			fp.enum = newEnumPlan(f.enum)
		}
	}
	if fp.conv == 0 {
		if fp.sub == nil && fp.inner == nil {
			c.fail(colPath, "Proto field %s of type %s cannot be written to column %s of type %s.", f.full, kindName(f), colPath, col.Type)
		}
		return nil
	}
	if col.Type == schema.Numeric || col.Type == schema.BigNumeric {
		fp.big = col.Type == schema.BigNumeric
		fp.dec = DecimalParamsOf(col)
		fp.decFit = col.Precision > 0 || fp.dec.HalfEven
	}
	if f.hasDef {
		fp.hasDef = true
		fp.defVal, fp.defErr = convertDefault(fp, f.def)
	}
	return fp
}

func modeName(col *schema.Field) string {
	if col.Mode == "" {
		return string(schema.Nullable)
	}
	return string(col.Mode)
}

// compileMessageField handles message and group fields.
func (c *compiler) compileMessageField(fp *fieldPlan, f *pField, col *schema.Field, colPath string) {
	m := f.msg
	switch col.Type {
	case schema.Record:
		fp.conv = convRecord
		fp.sub = c.compileMsg(m, col.Fields, colPath+".", false, fp.topCol)
		return
	case schema.Range:
		if col.RangeElementType == nil {
			c.fail(colPath, "Column %s is a RANGE without an element type.", colPath)
			return
		}
		fp.conv = convRange
		fp.sub = c.compileMsg(m, compileRangeCols(col), colPath+".", false, fp.topCol)
		return
	}
	if sec, nano, ok := secondsNanosShape(m); ok && (col.Type == schema.Timestamp || col.Type == schema.Interval) {
		fp.conv = convTimestampMsg
		if col.Type == schema.Interval {
			fp.conv = convDurationMsg
		}
		fp.secNum, fp.nanoNum = sec, nano
		return
	}
	if v := wrapperShape(m); v != nil {
		inner := &fieldPlan{
			num: v.num, kind: v.kind, wt: wireType(v.kind), name: fp.name, col: fp.col,
			required: fp.required, maxLen: fp.maxLen, topCol: fp.topCol,
		}
		inner.conv = scalarConv(v.kind, col.Type)
		if v.kind == protoreflect.EnumKind {
			inner.enum = newEnumPlan(v.enum)
		}
		if inner.conv == 0 {
			c.fail(colPath, "Proto field %s of type %s (wrapping %s) cannot be written to column %s of type %s.",
				f.full, kindName(f), kindName(v), colPath, col.Type)
			fp.inner = inner
			return
		}
		if col.Type == schema.Numeric || col.Type == schema.BigNumeric {
			inner.big = col.Type == schema.BigNumeric
			inner.dec = DecimalParamsOf(col)
			inner.decFit = col.Precision > 0 || inner.dec.HalfEven
		}
		if v.hasDef {
			inner.hasDef = true
			inner.defVal, inner.defErr = convertDefault(inner, v.def)
		}
		fp.conv, fp.inner = convWrapper, inner
	}
}

// secondsNanosShape recognizes google.protobuf.Timestamp and Duration,
// referenced or inlined by a normaliser: exactly the fields seconds (int64)
// and nanos (int32).
func secondsNanosShape(m *pMessage) (sec, nano protowire.Number, ok bool) {
	if len(m.fields) != 2 {
		return 0, 0, false
	}
	for _, f := range m.fields {
		switch {
		case f.repeated:
			return 0, 0, false
		case f.name == "seconds" && f.kind == protoreflect.Int64Kind:
			sec = f.num
		case f.name == "nanos" && f.kind == protoreflect.Int32Kind:
			nano = f.num
		default:
			return 0, 0, false
		}
	}
	return sec, nano, sec != 0 && nano != 0
}

// wrapperShape recognizes google.protobuf.*Value wrappers and look-alikes:
// a message whose only field is a non-repeated scalar named value.
func wrapperShape(m *pMessage) *pField {
	if len(m.fields) != 1 {
		return nil
	}
	f := m.fields[0]
	if f.repeated || f.msg != nil || !strings.EqualFold(f.name, "value") {
		return nil
	}
	return f
}

// scalarConv returns the conversion from a scalar proto kind to a column
// type, or 0 when the pair is not allowed (spec §4.4).
func scalarConv(k protoreflect.Kind, t schema.Type) conv {
	isStr := k == protoreflect.StringKind
	switch t {
	case schema.Boolean:
		if k == protoreflect.BoolKind || signedKind(k) || k == protoreflect.Uint64Kind || k == protoreflect.Fixed64Kind {
			return convBool
		}
	case schema.Bytes:
		if k == protoreflect.BytesKind || isStr {
			return convBytes
		}
	case schema.String:
		switch {
		case isStr:
			return convString
		case k == protoreflect.EnumKind:
			return convEnumName
		}
	case schema.Integer:
		if signedKind(k) || k == protoreflect.EnumKind {
			return convInt
		}
	case schema.Float:
		if k == protoreflect.DoubleKind || k == protoreflect.FloatKind {
			return convFloat
		}
	case schema.Numeric, schema.BigNumeric:
		switch {
		case signedKind(k):
			return convDecimalInt
		case k == protoreflect.Uint64Kind || k == protoreflect.Fixed64Kind:
			return convDecimalUint
		case k == protoreflect.DoubleKind || k == protoreflect.FloatKind:
			return convDecimalFloat
		case isStr:
			return convDecimalString
		case k == protoreflect.BytesKind:
			return convDecimalBytes
		}
	case schema.Date:
		switch {
		case signedKind(k):
			return convDateInt
		case isStr:
			return convDateString
		}
	case schema.DateTime:
		switch {
		case int64Kind(k):
			return convDateTimePacked
		case isStr:
			return convDateTimeString
		}
	case schema.Time:
		switch {
		case int64Kind(k):
			return convTimePacked
		case isStr:
			return convTimeString
		}
	case schema.Timestamp:
		switch {
		case signedKind(k):
			return convTimestampInt
		case isStr:
			return convTimestampString
		}
	case schema.Geography:
		if isStr {
			return convGeography
		}
	case schema.JSON:
		if isStr {
			return convJSON
		}
	case schema.Interval:
		if isStr {
			return convIntervalString
		}
	}
	return 0
}

// extraFieldsError builds the SCHEMA_MISMATCH_EXTRA_FIELDS error; fields
// are listed in declaration order, depth first.
func extraFieldsError(extra []string) *SchemaError {
	return &SchemaError{
		Kind:    ExtraFields,
		Fields:  extra,
		Message: "Input schema has more fields than BigQuery schema, extra fields: '" + strings.Join(extra, ",") + "'",
	}
}
