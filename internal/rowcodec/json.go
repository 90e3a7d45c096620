package rowcodec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/penstockdb/penstock/internal/schema"
)

// JSONOptions carry per-request settings of an insertAll call.
type JSONOptions struct {
	Options
	// IgnoreUnknownValues drops keys that name no column instead of
	// rejecting the row.
	IgnoreUnknownValues bool
}

// JSONDecoder validates and decodes insertAll rows (the `json` object of
// each element of `rows`) against one table schema. Compile it once per
// schema version with CompileJSON; it is safe for concurrent use.
//
// Rules (spec rest-api.md §2.4, §2.9): keys match columns case-insensitively;
// a missing key takes the column's default, else NULL; JSON null is NULL
// (for a REQUIRED column it takes the default, else the row is invalid);
// null for a REPEATED column is an empty array, null elements are invalid;
// unknown keys are invalid unless IgnoreUnknownValues. Each scalar accepts
// the encodings listed in docs/types.md.
type JSONDecoder struct {
	table *schema.Table
	root  *jrec
}

type jrec struct {
	fields []*jfield
	byName map[string]int // lower-cased name → index
}

type jfield struct {
	name     string
	typ      schema.Type
	repeated bool
	required bool
	rec      *jrec       // RECORD
	elem     schema.Type // RANGE element type
	dec      DecimalParams
	maxLen   int64
	def      DefaultFunc
}

// CompileJSON prepares a decoder for t. It fails when a column's default
// expression does not compile (wrapping ErrDefaultExpression) or a RANGE
// column lacks a supported element type.
func CompileJSON(t *schema.Table) (*JSONDecoder, error) {
	root, err := compileJRec(t.Fields, "")
	if err != nil {
		return nil, err
	}
	return &JSONDecoder{table: t, root: root}, nil
}

func compileJRec(fields []*schema.Field, prefix string) (*jrec, error) {
	r := &jrec{byName: make(map[string]int, len(fields))}
	for i, f := range fields {
		jf := &jfield{
			name:     f.Name,
			typ:      f.Type,
			repeated: f.IsRepeated(),
			required: f.IsRequired(),
			maxLen:   f.MaxLength,
		}
		switch f.Type {
		case schema.Record:
			sub, err := compileJRec(f.Fields, prefix+f.Name+".")
			if err != nil {
				return nil, err
			}
			jf.rec = sub
		case schema.Range:
			if f.RangeElementType == nil {
				return nil, fmt.Errorf("rowcodec: RANGE column %s%s has no element type", prefix, f.Name)
			}
			switch jf.elem = f.RangeElementType.Type; jf.elem {
			case schema.Date, schema.DateTime, schema.Timestamp:
			default:
				return nil, fmt.Errorf("rowcodec: RANGE column %s%s has unsupported element type %s", prefix, f.Name, jf.elem)
			}
		case schema.Numeric, schema.BigNumeric:
			jf.dec = DecimalParamsOf(f)
		}
		def, err := CompileDefault(f)
		if err != nil {
			return nil, fmt.Errorf("rowcodec: column %s%s: %w", prefix, f.Name, err)
		}
		jf.def = def
		r.fields = append(r.fields, jf)
		r.byName[strings.ToLower(f.Name)] = i
	}
	return r, nil
}

// Validate checks every row and returns the errors of all invalid rows, in
// row order (nil when all rows are valid). It materializes nothing. o may
// be nil.
func (d *JSONDecoder) Validate(rows [][]byte, o *JSONOptions) RowErrors {
	st := jstate{o: o}
	for i, b := range rows {
		st.row = i
		st.decodeRow(d.root, b)
	}
	return st.errs
}

// Decode decodes every row and calls emit with its index and values, in
// order. It stops at the first invalid row and returns its RowErrors (call
// Validate first to learn about every bad row), or the first error emit
// returns. Column defaults are evaluated with o.Options and the row index.
func (d *JSONDecoder) Decode(rows [][]byte, o *JSONOptions, emit func(i int, r Row) error) error {
	st := jstate{o: o, materialize: true}
	for i, b := range rows {
		st.row = i
		r := st.decodeRow(d.root, b)
		if len(st.errs) > 0 {
			return st.errs
		}
		if err := emit(i, r); err != nil {
			return err
		}
	}
	return nil
}

// maxErrorsPerRow caps how many problems one row reports.
const maxErrorsPerRow = 50

// jstate is the per-call decoding state.
type jstate struct {
	o           *JSONOptions
	materialize bool
	row         int
	sc          jsonScanner
	errs        RowErrors
	rowErrs     int
	path        []pathSeg
	scratch     []byte // unescaped string contents
	b64         []byte // decoded BYTES
	keyBuf      [64]byte
}

type pathSeg struct {
	name string
	idx  int // -1 for a record member
}

func (st *jstate) options() *Options {
	if st.o == nil {
		return nil
	}
	return &st.o.Options
}

func (st *jstate) location() string {
	var b strings.Builder
	for i, s := range st.path {
		if i > 0 && s.idx < 0 {
			b.WriteByte('.')
		}
		if s.idx < 0 {
			b.WriteString(s.name)
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// fail records an error at the current path. msg may use %[1]s for the
// path.
func (st *jstate) fail(format string) {
	st.failAt(st.location(), format)
}

func (st *jstate) failAt(loc, format string) {
	if st.rowErrs >= maxErrorsPerRow {
		return
	}
	st.rowErrs++
	msg := format
	if strings.Contains(format, "%[1]s") {
		msg = fmt.Sprintf(format, strings.ToValidUTF8(loc, "\uFFFD"))
	}
	st.errs = append(st.errs, RowError{Index: st.row, Location: strings.ToValidUTF8(loc, "\uFFFD"), Message: msg})
}

// failValue records a conversion error: "<msg> on field <path>.".
func (st *jstate) failValue(msg string) {
	st.fail(strings.ReplaceAll(msg, "%", "%%") + " on field %[1]s.")
}

func (st *jstate) push(name string, idx int) { st.path = append(st.path, pathSeg{name, idx}) }
func (st *jstate) pop()                      { st.path = st.path[:len(st.path)-1] }

// syntax records malformed JSON and reports whether the row must stop.
func (st *jstate) syntax(err error) {
	st.failAt("", "Row is not valid JSON: "+err.Error())
}

func (st *jstate) decodeRow(root *jrec, b []byte) Row {
	st.sc = jsonScanner{b: b}
	st.rowErrs = 0
	st.path = st.path[:0]
	if c := st.sc.peek(); c != '{' {
		if c == 0 || (c == 'n' && st.sc.readLiteral("null") == nil && st.sc.end() == nil) {
			st.failAt("", "Row has no json object.")
		} else {
			st.failAt("", "Row must be a JSON object.")
		}
		return nil
	}
	r, err := st.record(root, 0)
	if err == nil {
		err = st.sc.end()
	}
	if err != nil {
		st.syntax(err)
		return nil
	}
	return r
}

// maxRecordDepth bounds RECORD nesting (BigQuery allows 15 levels).
const maxRecordDepth = 64

// bstr views b as a string without copying. Only for parsers that do not
// retain their input (they clone what they keep, see quoteValue).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// lookupKey finds a member name (unescaped) case-insensitively.
func (st *jstate) lookupKey(rec *jrec, key []byte) (int, bool) {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii && len(key) <= len(st.keyBuf) {
		lk := st.keyBuf[:len(key)]
		for i, c := range key {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			lk[i] = c
		}
		i, ok := rec.byName[string(lk)]
		return i, ok
	}
	i, ok := rec.byName[strings.ToLower(string(key))]
	return i, ok
}

// record decodes an object at the cursor into a Row for rec. Returned
// errors are JSON syntax errors (the row cannot be scanned further);
// value problems are recorded in st.errs.
func (st *jstate) record(rec *jrec, depth int) (Row, error) {
	if depth > maxRecordDepth {
		return nil, st.sc.fail("records nested too deeply")
	}
	st.sc.i++ // '{'
	var row Row
	if st.materialize {
		row = make(Row, len(rec.fields))
	}
	var seenSmall [4]uint64
	var seen []uint64
	if n := (len(rec.fields) + 63) / 64; n <= len(seenSmall) {
		seen = seenSmall[:n]
	} else {
		seen = make([]uint64, n)
	}
	if !st.sc.consume('}') {
		for {
			raw, esc, err := st.sc.readString()
			if err != nil {
				return nil, err
			}
			key := raw
			if esc {
				key = unescapeJSON(nil, raw)
			}
			if !st.sc.consume(':') {
				return nil, st.sc.fail("expected ':'")
			}
			idx, ok := st.lookupKey(rec, key)
			if !ok {
				if st.o == nil || !st.o.IgnoreUnknownValues {
					st.push(string(key), -1)
					st.fail("no such field: %[1]s.")
					st.pop()
				}
				if err := st.sc.skipValue(depth + 1); err != nil {
					return nil, err
				}
			} else {
				seen[idx/64] |= 1 << (idx % 64)
				fd := rec.fields[idx]
				st.push(fd.name, -1)
				v, err := st.field(fd, depth)
				st.pop()
				if err != nil {
					return nil, err
				}
				if row != nil {
					row[idx] = v
				}
			}
			if st.sc.consume(',') {
				continue
			}
			if st.sc.consume('}') {
				break
			}
			return nil, st.sc.fail("expected ',' or '}'")
		}
	}
	for i, fd := range rec.fields {
		if seen[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		switch {
		case fd.def != nil:
			if row != nil {
				row[i] = fd.def(st.options(), st.row)
			}
		case fd.required:
			st.push(fd.name, -1)
			st.fail("Missing required field: %[1]s.")
			st.pop()
		case fd.repeated && row != nil:
			row[i] = []Value{}
		}
	}
	return row, nil
}

// field decodes the value of one member.
func (st *jstate) field(fd *jfield, depth int) (Value, error) {
	switch st.sc.peek() {
	case 'n':
		if err := st.sc.readLiteral("null"); err != nil {
			return nil, err
		}
		switch {
		case fd.repeated:
			if st.materialize {
				return []Value{}, nil
			}
			return nil, nil
		case fd.required && fd.def != nil:
			if st.materialize {
				return fd.def(st.options(), st.row), nil
			}
			return nil, nil
		case fd.required:
			st.fail("Missing required field: %[1]s.")
		}
		return nil, nil
	case '[':
		if !fd.repeated {
			if fd.typ == schema.JSON {
				break // a JSON column takes any JSON value
			}
			st.fail("Array specified for non-repeated field: %[1]s.")
			return nil, st.sc.skipValue(depth + 1)
		}
		st.sc.i++
		var out []Value
		if st.materialize {
			out = []Value{}
		}
		if st.sc.consume(']') {
			return out, nil
		}
		for n := 0; ; n++ {
			st.push("", n)
			if st.sc.peek() == 'n' {
				if err := st.sc.readLiteral("null"); err != nil {
					return nil, err
				}
				st.fail("Null value in repeated field: %[1]s.")
			} else {
				v, err := st.value(fd, depth)
				if err != nil {
					return nil, err
				}
				if st.materialize {
					out = append(out, v)
				}
			}
			st.pop()
			if st.sc.consume(',') {
				continue
			}
			if st.sc.consume(']') {
				return out, nil
			}
			return nil, st.sc.fail("expected ',' or ']'")
		}
	}
	if fd.repeated {
		st.fail("Field %[1]s is repeated; its value must be a JSON array.")
		err := st.sc.skipValue(depth + 1)
		if st.materialize {
			return []Value{}, err
		}
		return nil, err
	}
	return st.value(fd, depth)
}

// value decodes one non-null element of fd's type.
func (st *jstate) value(fd *jfield, depth int) (Value, error) {
	c := st.sc.peek()
	switch fd.typ {
	case schema.Record:
		if c != '{' {
			st.fail("Field %[1]s is a record; its value must be a JSON object.")
			return nil, st.sc.skipValue(depth + 1)
		}
		r, err := st.record(fd.rec, depth+1)
		if r == nil || err != nil {
			return nil, err
		}
		return r, nil
	case schema.JSON:
		start := st.sc.i
		if c == '"' {
			raw, esc, err := st.sc.readString()
			if err != nil {
				return nil, err
			}
			text := raw
			if esc {
				st.scratch = unescapeJSON(st.scratch[:0], raw)
				text = st.scratch
			}
			if !st.materialize {
				if err := checkJSONText(text); err != nil {
					st.failValue(Describe(err))
				}
				return nil, nil
			}
			canon, err := appendCanonicalJSON(nil, text)
			if err != nil {
				st.failValue(Describe(err))
				return nil, nil
			}
			return string(canon), nil
		}
		if err := st.sc.skipValue(depth + 1); err != nil {
			return nil, err
		}
		if !st.materialize {
			return nil, nil
		}
		canon, err := appendCanonicalJSON(nil, st.sc.b[start:st.sc.i])
		if err != nil {
			return nil, err
		}
		return string(canon), nil
	case schema.Range:
		if c == '{' {
			return st.rangeObject(fd, depth)
		}
	case schema.Geography:
		if c == '{' {
			start := st.sc.i
			if err := st.sc.skipValue(depth + 1); err != nil {
				return nil, err
			}
			text, _ := appendCanonicalJSON(nil, st.sc.b[start:st.sc.i])
			if err := CheckGeography(string(text)); err != nil {
				st.failValue(Describe(err))
				return nil, nil
			}
			return string(text), nil
		}
	}
	switch c {
	case '"':
		raw, esc, err := st.sc.readString()
		if err != nil {
			return nil, err
		}
		if esc {
			st.scratch = unescapeJSON(st.scratch[:0], raw)
			raw = st.scratch
		}
		return st.fromString(fd, fd.typ, raw), nil
	case 't', 'f':
		lit := "true"
		if c == 'f' {
			lit = "false"
		}
		if err := st.sc.readLiteral(lit); err != nil {
			return nil, err
		}
		if fd.typ == schema.Boolean {
			return c == 't', nil
		}
		st.failValue("Conversion from bool to " + sqlName(fd.typ) + " is unsupported")
		return nil, nil
	case '{':
		st.fail("This field: %[1]s is not a record.")
		return nil, st.sc.skipValue(depth + 1)
	case '[':
		st.fail("Array specified for non-repeated field: %[1]s.")
		return nil, st.sc.skipValue(depth + 1)
	}
	num, err := st.sc.readNumber()
	if err != nil {
		return nil, err
	}
	return st.fromNumber(fd, num), nil
}

// sqlName is the GoogleSQL name of a column type, for messages.
func sqlName(t schema.Type) string {
	switch t {
	case schema.Integer:
		return "int64"
	case schema.Float:
		return "double"
	case schema.Boolean:
		return "bool"
	case schema.Record:
		return "struct"
	}
	return strings.ToLower(string(t))
}
