package rowcodec

import (
	"fmt"
	"strconv"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// This file is the hot path: one pass over a row's wire bytes, driven by
// the compiled msgPlan. Repeated fields are converted as they arrive;
// non-repeated fields only have their last position recorded during the
// pass (proto's last-one-wins) and are converted afterwards, which is also
// where absent fields get their default or NULL. A non-repeated message
// field that occurs more than once is merged, as proto does, by decoding
// the concatenation of its occurrences.

// slot is the per-field scratch of one message being parsed.
type slot struct {
	pos int // non-repeated: offset of the last value; repeated: unused
	cnt int // occurrences (non-repeated) or elements (repeated)
}

// state is the reusable scratch of one Validate or Decode call.
type state struct {
	o     *Options
	row   int
	mat   bool           // materialize values (Decode)
	miss  []MissingValue // effective interpretation per top-level column
	slots []slot         // stack: one frame per message being parsed
	lists [][]Value      // stack of repeated-field accumulators (Decode)
	zero  Options        // stands in for a nil *Options
}

var statePool = sync.Pool{New: func() any { return new(state) }}

func (d *ProtoDecoder) getState(o *Options, mat bool) *state {
	s := statePool.Get().(*state)
	if o == nil {
		s.zero = Options{}
		o = &s.zero
	}
	s.o, s.mat = o, mat
	s.miss = s.miss[:0]
	for _, col := range d.root.cols {
		m := o.DefaultMissing
		for k, v := range o.MissingValues {
			if equalFoldASCII(k, col.Name) {
				m = v
				break
			}
		}
		s.miss = append(s.miss, m)
	}
	return s
}

func putState(s *state) {
	for i := range s.lists {
		clear(s.lists[i][:cap(s.lists[i])])
		s.lists[i] = s.lists[i][:0]
	}
	s.lists = s.lists[:0]
	s.slots = s.slots[:0]
	s.o = nil
	statePool.Put(s)
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// malformed is the row error for bytes that are not a valid message.
func (p *msgPlan) malformed(what string) *rowErr {
	return &rowErr{whole: true, msg: "Could not parse the row as a " + p.name + " protocol buffer message: " + what + "."}
}

// parseMsg decodes one message of plan p from b. group is the field number
// of an enclosing group (the message then ends at its end-group tag) or 0
// (the message is all of b). dst receives the values when s.mat. miss is
// the missing-value interpretation inherited from the top-level column.
// It returns the bytes consumed.
func (s *state) parseMsg(p *msgPlan, b []byte, group protowire.Number, dst Row, miss MissingValue) (int, *rowErr) {
	base := len(s.slots)
	nsing := len(p.singular)
	nslots := nsing + len(p.repeated)
	for i := 0; i < nslots; i++ {
		s.slots = append(s.slots, slot{})
	}
	lbase := len(s.lists)
	if s.mat {
		for range p.repeated {
			if len(s.lists) < cap(s.lists) {
				s.lists = s.lists[:len(s.lists)+1]
				s.lists[len(s.lists)-1] = s.lists[len(s.lists)-1][:0]
			} else {
				s.lists = append(s.lists, nil)
			}
		}
	}
	n, err := s.parseFields(p, b, group, dst, miss, base, lbase)
	s.slots = s.slots[:base]
	s.lists = s.lists[:lbase]
	return n, err
}

func (s *state) parseFields(p *msgPlan, b []byte, group protowire.Number, dst Row, miss MissingValue, base, lbase int) (int, *rowErr) {
	pos, contentEnd, end := 0, -1, 0
	for pos < len(b) {
		tagStart := pos
		var tag uint64
		if c := b[pos]; c < 0x80 {
			tag = uint64(c)
			pos++
		} else {
			v, n := protowire.ConsumeVarint(b[pos:])
			if n < 0 {
				return 0, p.malformed("truncated tag")
			}
			tag = v
			pos += n
		}
		num, wt := protowire.Number(tag>>3), protowire.Type(tag&7)
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return 0, p.malformed("invalid field number")
		}
		if wt == protowire.EndGroupType {
			if num != group {
				return 0, p.malformed("unexpected end-group tag")
			}
			contentEnd, end = tagStart, pos
			break
		}
		if f := p.lookup(num); f != nil {
			if wt == f.wt {
				if !f.repeated {
					n := protowire.ConsumeFieldValue(num, wt, b[pos:])
					if n < 0 {
						return 0, p.malformed("truncated or invalid field " + strconv.Itoa(int(num)))
					}
					sl := &s.slots[base+f.slot]
					sl.pos = pos
					sl.cnt++
					pos += n
					continue
				}
				n, err := s.element(p, f, b[pos:], base+len(p.singular)+f.slot, lbase+f.slot, miss)
				if err != nil {
					return 0, err
				}
				pos += n
				continue
			}
			if wt == protowire.BytesType && f.packable {
				v, n := protowire.ConsumeBytes(b[pos:])
				if n < 0 {
					return 0, p.malformed("truncated or invalid field " + strconv.Itoa(int(num)))
				}
				if err := s.packed(p, f, v, base+len(p.singular)+f.slot, lbase+f.slot); err != nil {
					return 0, err
				}
				pos += n
				continue
			}
		}
		// Unknown field, or a known one with another wire type: proto
		// keeps it as an unknown field, which the table never sees.
		n := protowire.ConsumeFieldValue(num, wt, b[pos:])
		if n < 0 {
			return 0, p.malformed("truncated or invalid field " + strconv.Itoa(int(num)))
		}
		pos += n
	}
	if contentEnd < 0 {
		if group != 0 {
			return 0, p.malformed("missing end-group tag")
		}
		contentEnd, end = len(b), len(b)
	}
	content := b[:contentEnd]
	for i, f := range p.singular {
		m := miss
		if p.top {
			m = s.miss[f.col]
		}
		sl := s.slots[base+i]
		var v Value
		var null bool
		var err *rowErr
		if sl.cnt == 0 {
			v, null, err = s.missingValue(f, m)
		} else {
			v, null, err = s.present(p, f, content, sl, m)
		}
		if err != nil {
			return 0, err
		}
		if null && f.required {
			return 0, fieldErr(f.name, msgRequired)
		}
		if s.mat {
			dst[f.col] = v
		}
	}
	if s.mat {
		for j, f := range p.repeated {
			l := s.lists[lbase+j]
			if len(l) == 0 {
				m := miss
				if p.top {
					m = s.miss[f.col]
				}
				var v Value
				if m == MissingDefault && f.colDef != nil {
					v = f.colDef(s.o, s.row)
				}
				if v == nil {
					v = []Value{}
				}
				dst[f.col] = v
				continue
			}
			out := make([]Value, len(l))
			copy(out, l)
			dst[f.col] = out
		}
	}
	for i := range p.absent {
		a := &p.absent[i]
		if !s.mat && !a.required {
			continue
		}
		var v Value
		if a.def != nil {
			v = a.def(s.o, s.row)
		}
		if v == nil {
			if a.required {
				return 0, fieldErr(a.name, msgRequired)
			}
			if a.repeated {
				v = []Value{}
			}
		}
		if s.mat {
			dst[a.col] = v
		}
	}
	return end, nil
}

// missingValue is the value of a non-repeated field absent from the row:
// the proto default_value when declared, else the column default when the
// interpretation asks for it, else NULL.
func (s *state) missingValue(f *fieldPlan, m MissingValue) (Value, bool, *rowErr) {
	if f.hasDef {
		if f.defErr != nil {
			return nil, false, f.defErr.clone()
		}
		if b, ok := f.defVal.([]byte); ok && s.mat {
			return append([]byte{}, b...), false, nil // rows own their values
		}
		return f.defVal, false, nil
	}
	if m == MissingDefault && f.colDef != nil {
		if !s.mat && !f.required {
			return nil, false, nil
		}
		v := f.colDef(s.o, s.row)
		return v, v == nil, nil
	}
	return nil, true, nil
}

// present converts a non-repeated field found in content at sl.
func (s *state) present(p *msgPlan, f *fieldPlan, content []byte, sl slot, m MissingValue) (Value, bool, *rowErr) {
	if f.sub == nil && f.inner == nil && f.secNum == 0 {
		u, bs, _ := readRaw(f.kind, content[sl.pos:])
		v, err := convert(f, u, bs, s.mat)
		return v, false, err
	}
	var body []byte
	var group protowire.Number
	switch {
	case sl.cnt > 1:
		body = s.merge(f, content)
	case f.wt == protowire.BytesType:
		body, _ = protowire.ConsumeBytes(content[sl.pos:])
	default:
		body, group = content[sl.pos:], f.num
	}
	v, null, _, err := s.message(f, body, group, m)
	if err != nil && (f.conv == convRecord || f.conv == convRange) {
		err.under(f.name)
	}
	return v, null, err
}

// merge concatenates every occurrence of the message field f in content:
// proto's merge of repeated occurrences of a non-repeated message. The
// result lives in s.buf until the next merge.
func (s *state) merge(f *fieldPlan, content []byte) []byte {
	var out []byte
	for pos := 0; pos < len(content); {
		num, wt, n := protowire.ConsumeTag(content[pos:])
		if n < 0 {
			break
		}
		pos += n
		m := protowire.ConsumeFieldValue(num, wt, content[pos:])
		if m < 0 {
			break
		}
		if num == f.num && wt == f.wt {
			if wt == protowire.BytesType {
				v, _ := protowire.ConsumeBytes(content[pos:])
				out = append(out, v...)
			} else {
				v, _ := protowire.ConsumeGroup(num, content[pos:])
				out = append(out, v...)
			}
		}
		pos += m
	}
	// A fresh slice: a nested merge must not overwrite this one while it
	// is being decoded. Merges are rare.
	return out
}

// element decodes one element of a repeated field found at b (just after
// its tag) and returns the bytes consumed.
func (s *state) element(p *msgPlan, f *fieldPlan, b []byte, si, li int, m MissingValue) (int, *rowErr) {
	idx := s.slots[si].cnt
	s.slots[si].cnt++
	if p.top {
		m = s.miss[f.col]
	}
	var v Value
	var null bool
	var n int
	var err *rowErr
	if f.sub == nil && f.inner == nil && f.secNum == 0 {
		u, bs, k := readRaw(f.kind, b)
		if k < 0 {
			return 0, p.malformed("truncated or invalid field " + strconv.Itoa(int(f.num)))
		}
		n = k
		v, err = convert(f, u, bs, s.mat)
	} else {
		var body []byte
		var group protowire.Number
		if f.wt == protowire.BytesType {
			body, n = protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, p.malformed("truncated or invalid field " + strconv.Itoa(int(f.num)))
			}
		} else {
			body, group = b, f.num
		}
		var used int
		v, null, used, err = s.message(f, body, group, m)
		if group != 0 {
			n = used
		}
		if err != nil && (f.conv == convRecord || f.conv == convRange) {
			err.under(f.name + "[" + strconv.Itoa(idx) + "]")
		}
	}
	if err != nil {
		return 0, err
	}
	if null {
		return 0, fieldErr(f.name, msgNullElement)
	}
	if s.mat {
		s.lists[li] = append(s.lists[li], v)
	}
	return n, nil
}

// packed decodes a packed run of scalar elements.
func (s *state) packed(p *msgPlan, f *fieldPlan, b []byte, si, li int) *rowErr {
	for len(b) > 0 {
		u, bs, n := readRaw(f.kind, b)
		if n < 0 {
			return p.malformed("truncated packed field " + strconv.Itoa(int(f.num)))
		}
		v, err := convert(f, u, bs, s.mat)
		if err != nil {
			return err
		}
		s.slots[si].cnt++
		if s.mat {
			s.lists[li] = append(s.lists[li], v)
		}
		b = b[n:]
	}
	return nil
}

// message decodes a message-typed value (record, range, wrapper,
// timestamp, duration). It returns the value, whether it is NULL, and the
// bytes consumed (meaningful for groups).
func (s *state) message(f *fieldPlan, body []byte, group protowire.Number, m MissingValue) (Value, bool, int, *rowErr) {
	switch f.conv {
	case convRecord:
		var row Row
		if s.mat {
			row = make(Row, len(f.sub.cols))
		}
		n, err := s.parseMsg(f.sub, body, group, row, m)
		if err != nil || !s.mat {
			return nil, false, n, err
		}
		return row, false, n, nil
	case convRange:
		return s.rangeValue(f, body, group, m)
	case convWrapper:
		pos, _, n, err := scanFields(body, group, f.inner.num, f.inner.wt, 0, 0)
		if err != nil {
			return nil, false, 0, err
		}
		if pos < 0 {
			v, null, err := s.missingValue(f.inner, MissingNull)
			return v, null, n, err
		}
		u, bs, _ := readRaw(f.inner.kind, body[pos:])
		v, err := convert(f.inner, u, bs, s.mat)
		return v, false, n, err
	}
	// google.protobuf.Timestamp or Duration.
	sp, np, n, err := scanFields(body, group, f.secNum, protowire.VarintType, f.nanoNum, protowire.VarintType)
	if err != nil {
		return nil, false, 0, err
	}
	var sec, nanos int64
	if sp >= 0 {
		u, _, _ := readRaw(protoreflect.Int64Kind, body[sp:])
		sec = int64(u)
	}
	if np >= 0 {
		u, _, _ := readRaw(protoreflect.Int64Kind, body[np:])
		nanos = int64(int32(u))
	}
	v, err := secondsNanos(f, sec, nanos, s.mat)
	return v, false, n, err
}

// rangeValue decodes a RANGE message and checks that start precedes end.
func (s *state) rangeValue(f *fieldPlan, body []byte, group protowire.Number, m MissingValue) (Value, bool, int, *rowErr) {
	saved := s.mat
	s.mat = true // the bounds must be compared
	row := make(Row, 2)
	n, err := s.parseMsg(f.sub, body, group, row, m)
	s.mat = saved
	if err != nil {
		return nil, false, 0, err
	}
	if row[0] != nil && row[1] != nil && !boundLess(row[0], row[1]) {
		return nil, false, 0, &rowErr{msg: "Invalid RANGE value: the start must be before the end on field " + pathMark + "."}
	}
	if !s.mat {
		return nil, false, n, nil
	}
	return RangeValue{Start: row[0], End: row[1]}, false, n, nil
}

func boundLess(a, b Value) bool {
	switch x := a.(type) {
	case Date:
		y, ok := b.(Date)
		return ok && x < y
	case DateTime:
		y, ok := b.(DateTime)
		return ok && x < y
	case Timestamp:
		y, ok := b.(Timestamp)
		return ok && x < y
	}
	return false
}

// scanFields finds the last occurrence of up to two scalar fields (number,
// wire type) in a small message and returns their value offsets (-1 when
// absent) and the bytes consumed. Other fields are skipped.
func scanFields(b []byte, group, n1 protowire.Number, t1 protowire.Type, n2 protowire.Number, t2 protowire.Type) (p1, p2, used int, err *rowErr) {
	p1, p2 = -1, -1
	pos := 0
	for pos < len(b) {
		num, wt, n := protowire.ConsumeTag(b[pos:])
		if n < 0 || num > protowire.MaxValidNumber {
			return 0, 0, 0, wrapperMalformed("invalid tag")
		}
		pos += n
		if wt == protowire.EndGroupType {
			if num != group {
				return 0, 0, 0, wrapperMalformed("unexpected end-group tag")
			}
			return p1, p2, pos, nil
		}
		m := protowire.ConsumeFieldValue(num, wt, b[pos:])
		if m < 0 {
			return 0, 0, 0, wrapperMalformed("truncated or invalid field " + strconv.Itoa(int(num)))
		}
		switch {
		case num == n1 && wt == t1:
			p1 = pos
		case num == n2 && wt == t2:
			p2 = pos
		}
		pos += m
	}
	if group != 0 {
		return 0, 0, 0, wrapperMalformed("missing end-group tag")
	}
	return p1, p2, pos, nil
}

func wrapperMalformed(what string) *rowErr {
	return &rowErr{whole: true, msg: "Could not parse the row as a protocol buffer message: " + what + "."}
}

// Seconds limits of the valid TIMESTAMP range.
const (
	minTimestampSeconds = int64(MinTimestamp) / 1000000
	maxTimestampSeconds = int64(MaxTimestamp) / 1000000
)

// secondsNanos converts a google.protobuf.Timestamp (TIMESTAMP column) or
// Duration (INTERVAL column). Precision below the microsecond is dropped.
func secondsNanos(f *fieldPlan, sec, nanos int64, mat bool) (Value, *rowErr) {
	if f.conv == convTimestampMsg {
		if nanos < 0 || nanos > 999999999 {
			return nil, fieldErr(f.name, fmt.Sprintf("Invalid google.protobuf.Timestamp value: seconds %d, nanos %d on field %s.", sec, nanos, pathMark))
		}
		if sec < minTimestampSeconds || sec > maxTimestampSeconds {
			return nil, fieldErr(f.name, fmt.Sprintf("Timestamp field value is out of range: %d seconds on field %s.", sec, pathMark))
		}
		if !mat {
			return nil, nil
		}
		return Timestamp(sec*1000000 + nanos/1000), nil
	}
	if nanos <= -1000000000 || nanos >= 1000000000 || (sec > 0 && nanos < 0) || (sec < 0 && nanos > 0) {
		return nil, fieldErr(f.name, fmt.Sprintf("Invalid google.protobuf.Duration value: seconds %d, nanos %d on field %s.", sec, nanos, pathMark))
	}
	iv := Interval{}
	if sec >= -MaxIntervalMicros/1000000 && sec <= MaxIntervalMicros/1000000 {
		iv.Micros = sec*1000000 + nanos/1000
	}
	if iv.Micros == 0 && sec != 0 || !iv.Valid() {
		return nil, fieldErr(f.name, fmt.Sprintf("Interval field value is out of range: %d seconds on field %s.", sec, pathMark))
	}
	if !mat {
		return nil, nil
	}
	return iv, nil
}
