package rowcodec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/penstockdb/penstock/internal/schema"
)

// This file decodes Arrow record batches (spec §4.7) with a compiled
// ArrowDecoder, for both Validate and Decode.

// ErrArrowBatch is returned (wrapped) when the batch bytes are not a
// record batch of the writer schema.
var ErrArrowBatch = errors.New("rowcodec: malformed Arrow record batch")

// maxArrowAlloc bounds the memory one batch may decode into (decompressed
// buffers included), so a small request cannot claim gigabytes.
const maxArrowAlloc = 1 << 28

// RowCount returns the number of rows in batch without validating them.
// Errors wrap ErrArrowBatch.
func (d *ArrowDecoder) RowCount(batch []byte) (int, error) {
	var n int
	err := d.withBatch(batch, func(rec arrow.RecordBatch) error { n = int(rec.NumRows()); return nil })
	return n, err
}

// Validate checks every row of batch as BigQuery would before accepting
// an append. It returns the row count and one RowError per invalid row
// (Index = row position in the batch), or an error wrapping ErrArrowBatch
// when the bytes are not a record batch of the writer schema. o may be
// nil.
func (d *ArrowDecoder) Validate(batch []byte, o *Options) (rows int, errs RowErrors, err error) {
	err = d.withBatch(batch, func(rec arrow.RecordBatch) error {
		rows = int(rec.NumRows())
		s := d.newArrowState(o)
		for i := 0; i < rows; i++ {
			s.row = i
			if _, rerr := s.record(d.root, rec.Columns(), i); rerr != nil {
				errs = append(errs, rerr.rowError(i))
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return rows, errs, nil
}

// Decode decodes the rows of batch in order and calls emit with each row's
// values (one Value per top-level column, see the package comment); every
// Row is freshly allocated and may be kept. Values are those the proto
// path produces for the same data. Once a row is invalid, later rows are
// still checked but no longer emitted, and Decode returns the RowErrors;
// bytes that are not a record batch give an error wrapping ErrArrowBatch;
// an error from emit stops decoding and is returned as is. o may be nil.
func (d *ArrowDecoder) Decode(batch []byte, o *Options, emit func(i int, r Row) error) error {
	var errs RowErrors
	var emitErr error
	err := d.withBatch(batch, func(rec arrow.RecordBatch) error {
		s := d.newArrowState(o)
		for i := 0; i < int(rec.NumRows()); i++ {
			s.row = i
			row, rerr := s.record(d.root, rec.Columns(), i)
			if rerr != nil {
				errs = append(errs, rerr.rowError(i))
				continue
			}
			if len(errs) == 0 {
				if e := emit(i, row); e != nil {
					emitErr = e
					return nil
				}
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case emitErr != nil:
		return emitErr
	case len(errs) > 0:
		return errs
	}
	return nil
}

// withBatch reads batch as the one record batch following the writer
// schema and calls fn with it. Malformed input, including input that
// makes the Arrow library panic, is an error wrapping ErrArrowBatch.
func (d *ArrowDecoder) withBatch(batch []byte, fn func(arrow.RecordBatch) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrArrowBatch, p)
		}
	}()
	if len(batch) == 0 {
		return fmt.Errorf("%w: empty serialized_record_batch", ErrArrowBatch)
	}
	r, err := openArrowStream(maxArrowAlloc, d.schema, batch)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrArrowBatch, err)
	}
	defer r.Release()
	if !r.Next() {
		if r.Err() != nil {
			return fmt.Errorf("%w: %v", ErrArrowBatch, r.Err())
		}
		return fmt.Errorf("%w: no record batch message", ErrArrowBatch)
	}
	rec := r.RecordBatch()
	if err := d.checkBatch(rec, len(batch)); err != nil {
		return err
	}
	if err := fn(rec); err != nil {
		return err
	}
	if r.Next() {
		return fmt.Errorf("%w: more than one record batch in serialized_record_batch", ErrArrowBatch)
	}
	if r.Err() != nil {
		return fmt.Errorf("%w: %v", ErrArrowBatch, r.Err())
	}
	return nil
}

// openArrowStream opens an IPC stream reader over the concatenation of
// parts, whose messages may not claim more metadata or body bytes than
// the parts hold, and whose allocations are capped at alloc bytes.
func openArrowStream(alloc int, parts ...[]byte) (*ipc.Reader, error) {
	size := 0
	readers := make([]io.Reader, len(parts))
	for i, p := range parts {
		size += len(p)
		readers[i] = bytes.NewReader(p)
	}
	opts := []ipc.Option{
		ipc.WithAllocator(newCappedAllocator(alloc)),
		ipc.WithMetadataSizeLimit(int64(size)),
		ipc.WithBodySizeLimit(int64(size)),
	}
	return ipc.NewReaderFromMessageReader(ipc.NewMessageReader(io.MultiReader(readers...), opts...), opts...)
}

// checkBatch verifies what the Arrow reader does not: that every array is
// internally consistent (offsets, lengths) and has the planned type, and
// that the row count is plausible for the message size.
func (d *ArrowDecoder) checkBatch(rec arrow.RecordBatch, size int) error {
	n := rec.NumRows()
	if n < 0 || n > int64(size)*8+1024 {
		return fmt.Errorf("%w: the batch claims %d rows in %d bytes", ErrArrowBatch, n, size)
	}
	if int(rec.NumCols()) != len(d.as.Fields()) {
		return fmt.Errorf("%w: %d columns, the schema has %d", ErrArrowBatch, rec.NumCols(), len(d.as.Fields()))
	}
	for i, c := range rec.Columns() {
		if !arrow.TypeEqual(c.DataType(), d.as.Field(i).Type) {
			return fmt.Errorf("%w: column %d has type %s, the schema says %s", ErrArrowBatch, i, c.DataType(), d.as.Field(i).Type)
		}
		if int64(c.Len()) != n {
			return fmt.Errorf("%w: column %d has %d rows, the batch %d", ErrArrowBatch, i, c.Len(), n)
		}
		if err := validateArray(c); err != nil {
			return fmt.Errorf("%w: column %d: %v", ErrArrowBatch, i, err)
		}
	}
	return nil
}

// validateArray checks buffers and offsets of a, recursively.
func validateArray(a arrow.Array) error {
	data := a.Data()
	if nb := data.Buffers(); len(nb) > 0 && nb[0] != nil && a.NullN() > 0 {
		if need := (data.Offset() + data.Len() + 7) / 8; nb[0].Len() < need {
			return errors.New("validity bitmap too short")
		}
	}
	if w, ok := a.DataType().(arrow.FixedWidthDataType); ok && a.DataType().ID() != arrow.NULL {
		bits := w.BitWidth()
		bufs := data.Buffers()
		if len(bufs) < 2 || bufs[1] == nil {
			if data.Len() > 0 {
				return errors.New("missing value buffer")
			}
			return nil
		}
		if need := ((data.Offset()+data.Len())*bits + 7) / 8; bufs[1].Len() < need {
			return errors.New("value buffer too short")
		}
		return nil
	}
	switch x := a.(type) {
	case *array.String:
		return x.ValidateFull()
	case *array.LargeString:
		return x.ValidateFull()
	case *array.Binary:
		return x.ValidateFull()
	case *array.LargeBinary:
		return x.ValidateFull()
	case *array.List:
		if err := x.ValidateFull(); err != nil {
			return err
		}
		return validateArray(x.ListValues())
	case *array.LargeList:
		if err := x.ValidateFull(); err != nil {
			return err
		}
		return validateArray(x.ListValues())
	case *array.Struct:
		for i := 0; i < x.NumField(); i++ {
			f := x.Field(i)
			if f.Len() < x.Len() {
				return errors.New("struct child shorter than the struct")
			}
			if err := validateArray(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// arrowState is the scratch of one Validate or Decode call.
type arrowState struct {
	o    *Options
	row  int
	miss []MissingValue
}

func (d *ArrowDecoder) newArrowState(o *Options) *arrowState {
	if o == nil {
		o = &Options{}
	}
	s := &arrowState{o: o, miss: make([]MissingValue, len(d.root.cols))}
	for i, col := range d.root.cols {
		m := o.DefaultMissing
		for k, v := range o.MissingValues {
			if equalFoldASCII(k, col.Name) {
				m = v
				break
			}
		}
		s.miss[i] = m
	}
	return s
}

// record decodes row i of the arrays (one per plan field) into a Row.
func (s *arrowState) record(p *arrowPlan, arrs []arrow.Array, i int) (Row, *rowErr) {
	return s.recordMiss(p, arrs, i, MissingNull)
}

func (s *arrowState) recordMiss(p *arrowPlan, arrs []arrow.Array, i int, miss MissingValue) (Row, *rowErr) {
	row := make(Row, len(p.cols))
	for j, f := range p.fields {
		if f == nil {
			continue
		}
		m := miss
		if p.top {
			m = s.miss[f.col]
		}
		v, err := s.column(f, arrs[j], i, m)
		if err != nil {
			return nil, err
		}
		row[f.col] = v
	}
	for k := range p.absent {
		a := &p.absent[k]
		var v Value
		if a.def != nil {
			v = a.def(s.o, s.row)
		}
		if v == nil {
			if a.required {
				return nil, fieldErr(a.name, msgRequired)
			}
			if a.repeated {
				v = []Value{}
			}
		}
		row[a.col] = v
	}
	return row, nil
}

// column converts the cell at i of arr for f, applying the missing-value
// rules to NULL cells.
func (s *arrowState) column(f *arrowField, arr arrow.Array, i int, m MissingValue) (Value, *rowErr) {
	if f.repeated {
		return s.list(f, arr, i, m)
	}
	if arr.IsNull(i) || f.conv == aNull {
		var v Value
		if m == MissingDefault && f.colDef != nil {
			v = f.colDef(s.o, s.row)
		}
		if v == nil && f.required {
			return nil, fieldErr(f.name, msgRequired)
		}
		return v, nil
	}
	v, err := s.value(f, arr, i, m)
	if err != nil && f.sub != nil {
		err.under(f.name)
	}
	return v, err
}

// list converts a REPEATED cell: a NULL or empty list is an empty array
// (or the column default under DEFAULT_VALUE, as an absent proto field).
func (s *arrowState) list(f *arrowField, arr arrow.Array, i int, m MissingValue) (Value, *rowErr) {
	var start, end int64
	var values arrow.Array
	switch l := arr.(type) {
	case *array.List:
		start, end = l.ValueOffsets(i)
		values = l.ListValues()
	case *array.LargeList:
		start, end = l.ValueOffsets(i)
		values = l.ListValues()
	default:
		return nil, &rowErr{whole: true, msg: "Malformed Arrow list column."}
	}
	if arr.IsNull(i) || start == end {
		var v Value
		if m == MissingDefault && f.colDef != nil {
			v = f.colDef(s.o, s.row)
		}
		if v == nil {
			v = []Value{}
		}
		return v, nil
	}
	if start < 0 || end < start || end > int64(values.Len()) {
		return nil, &rowErr{whole: true, msg: "Malformed Arrow list offsets."}
	}
	out := make([]Value, 0, end-start)
	for k := start; k < end; k++ {
		if f.conv == aNull || values.IsNull(int(k)) {
			return nil, fieldErr(f.name, msgNullElement)
		}
		v, err := s.value(f, values, int(k), m)
		if err != nil {
			if f.sub != nil {
				err.under(f.name + "[" + strconv.FormatInt(k-start, 10) + "]")
			}
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// value converts the non-NULL cell at i of arr (f.dt typed).
func (s *arrowState) value(f *arrowField, arr arrow.Array, i int, m MissingValue) (Value, *rowErr) {
	switch f.conv {
	case aBool:
		return arr.(*array.Boolean).Value(i), nil
	case aInt:
		return intOf(arr, i), nil
	case aFloat:
		switch a := arr.(type) {
		case *array.Float32:
			return float64(a.Value(i)), nil
		case *array.Float64:
			return a.Value(i), nil
		}
	case aString:
		bs := textOf(arr, i)
		if !utf8.ValidString(bs) {
			return nil, fieldErr(f.name, msgInvalidUTF8)
		}
		if f.maxLen > 0 && int64(len(bs)) > f.maxLen {
			if n := int64(utf8.RuneCountInString(bs)); n > f.maxLen {
				return nil, fieldErr(f.name, fmt.Sprintf("Field %s: STRING(%d) has maximum length %d but got a value with length %d on field %s.",
					pathMark, f.maxLen, f.maxLen, n, pathMark))
			}
		}
		return bs, nil
	case aBytes:
		var bs []byte
		switch a := arr.(type) {
		case *array.Binary:
			bs = a.Value(i)
		case *array.LargeBinary:
			bs = a.Value(i)
		}
		if f.maxLen > 0 && int64(len(bs)) > f.maxLen {
			return nil, fieldErr(f.name, fmt.Sprintf("Field %s: BYTES(%d) has maximum length %d but got a value with length %d on field %s.",
				pathMark, f.maxLen, f.maxLen, len(bs), pathMark))
		}
		return append([]byte{}, bs...), nil
	case aDecimal:
		var unscaled *big.Int
		var scale int32
		switch a := arr.(type) {
		case *array.Decimal128:
			unscaled, scale = a.Value(i).BigInt(), a.DataType().(*arrow.Decimal128Type).Scale
		case *array.Decimal256:
			unscaled, scale = a.Value(i).BigInt(), a.DataType().(*arrow.Decimal256Type).Scale
		}
		d, err := ParseDecimal(unscaled.String()+"e"+strconv.Itoa(-int(scale)), f.dec)
		if err != nil {
			return nil, fieldErr(f.name, Describe(err)+" on field "+pathMark+".")
		}
		return d, nil
	case aDate:
		v := intOf(arr, i)
		if v < int64(MinDate) || v > int64(MaxDate) {
			return nil, fieldErr(f.name, fmt.Sprintf("Date field value is out of range: %d on field %s.", v, pathMark))
		}
		return Date(v), nil
	case aDate64:
		ms := int64(arr.(*array.Date64).Value(i))
		v := floorDiv(ms, 86400000)
		if v < int64(MinDate) || v > int64(MaxDate) {
			return nil, fieldErr(f.name, fmt.Sprintf("Date field value is out of range: %d on field %s.", v, pathMark))
		}
		return Date(v), nil
	case aTimestamp, aDateTime:
		raw := int64(arr.(*array.Timestamp).Value(i))
		us, ok := toMicros(raw, f.unitUS)
		if f.conv == aTimestamp {
			if !ok || !ValidTimestamp(Timestamp(us)) {
				return nil, fieldErr(f.name, fmt.Sprintf("Timestamp field value is out of range: %d on field %s.", raw, pathMark))
			}
			return Timestamp(us), nil
		}
		if !ok || !ValidDateTime(DateTime(us)) {
			return nil, fieldErr(f.name, fmt.Sprintf("Datetime field value is out of range: %d on field %s.", raw, pathMark))
		}
		return DateTime(us), nil
	case aTime:
		var raw int64
		switch a := arr.(type) {
		case *array.Time32:
			raw = int64(a.Value(i))
		case *array.Time64:
			raw = int64(a.Value(i))
		}
		us, ok := toMicros(raw, f.unitUS)
		if !ok || !ValidTime(TimeOfDay(us)) {
			return nil, fieldErr(f.name, fmt.Sprintf("Time field value is out of range: %d on field %s.", raw, pathMark))
		}
		return TimeOfDay(us), nil
	case aInterval:
		var iv Interval
		var ok = true
		switch a := arr.(type) {
		case *array.MonthInterval:
			iv.Months = int32(a.Value(i))
		case *array.DayTimeInterval:
			v := a.Value(i)
			iv.Days, iv.Micros = v.Days, int64(v.Milliseconds)*1000
		case *array.MonthDayNanoInterval:
			v := a.Value(i)
			iv.Months, iv.Days = v.Months, v.Days
			iv.Micros, ok = toMicros(v.Nanoseconds, 0)
		}
		if !ok || !iv.Valid() {
			return nil, fieldErr(f.name, "Interval field value is out of range on field "+pathMark+".")
		}
		return iv, nil
	case aText:
		return textValue(f, textOf(arr, i))
	case aRecord:
		st := arr.(*array.Struct)
		return s.recordMiss(f.sub, structFields(st), i, m)
	case aRange:
		st := arr.(*array.Struct)
		row, err := s.recordMiss(f.sub, structFields(st), i, MissingNull)
		if err != nil {
			return nil, err
		}
		if row[0] != nil && row[1] != nil && !boundLess(row[0], row[1]) {
			return nil, &rowErr{msg: "Invalid RANGE value: the start must be before the end on field " + pathMark + "."}
		}
		return RangeValue{Start: row[0], End: row[1]}, nil
	}
	return nil, &rowErr{whole: true, msg: "Malformed Arrow column of type " + arr.DataType().String() + "."}
}

func structFields(st *array.Struct) []arrow.Array {
	out := make([]arrow.Array, st.NumField())
	for k := range out {
		out[k] = st.Field(k)
	}
	return out
}

// textValue parses a Utf8 literal for the column types that accept one.
func textValue(f *arrowField, s string) (Value, *rowErr) {
	if !utf8.ValidString(s) {
		return nil, fieldErr(f.name, msgInvalidUTF8)
	}
	var v Value
	var err error
	switch f.typ {
	case schema.Numeric, schema.BigNumeric:
		v, err = ParseDecimal(s, f.dec)
	case schema.Date:
		v, err = ParseDate(s)
	case schema.DateTime:
		v, err = ParseDateTime(s)
	case schema.Time:
		v, err = ParseTime(s)
	case schema.Timestamp:
		v, err = ParseTimestamp(s)
	case schema.Interval:
		v, err = ParseInterval(s)
	case schema.Geography:
		v, err = s, CheckGeography(s)
	case schema.JSON:
		v, err = CheckJSON(s)
	default:
		return nil, fieldErr(f.name, "Unsupported conversion on field "+pathMark+".")
	}
	if err != nil {
		return nil, fieldErr(f.name, Describe(err)+" on field "+pathMark+".")
	}
	return v, nil
}

// textOf returns a copy of a Utf8 cell: Arrow's strings alias the batch
// buffers, which rows must not keep alive.
func textOf(arr arrow.Array, i int) string {
	switch a := arr.(type) {
	case *array.String:
		return strings.Clone(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	}
	return ""
}

func intOf(arr arrow.Array, i int) int64 {
	switch a := arr.(type) {
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return int64(a.Value(i))
	case *array.Uint16:
		return int64(a.Value(i))
	case *array.Uint32:
		return int64(a.Value(i))
	case *array.Date32:
		return int64(a.Value(i))
	}
	return 0
}

// toMicros converts v in units of unitUS microseconds (0: nanoseconds),
// flooring sub-microsecond precision; ok is false on overflow.
func toMicros(v, unitUS int64) (int64, bool) {
	switch unitUS {
	case 0:
		return floorDiv(v, 1000), true
	case 1:
		return v, true
	}
	if v > math.MaxInt64/unitUS || v < math.MinInt64/unitUS {
		return 0, false
	}
	return v * unitUS, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
