package rowcodec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// This file resolves a writer schema: one DescriptorProto that the server
// wraps in a synthetic proto2 file "BqMessage.proto" without a package.
// Resolution follows protobuf's own scoping rules (innermost scope first,
// a leading '.' for fully-qualified names) and reports failures in the words
// of protobuf's descriptor builder, which is what the real service returns:
//
//	Invalid proto schema: BqMessage.proto: Song.composer: ".Composer" is not defined.
//
// Resolution is our own rather than protodesc.NewFile because protodesc is
// stricter than what clients send (it rejects groups and map entries that a
// normaliser moved to the root scope) and its error texts differ.

// protoFileName is the name of the synthetic file a writer schema is
// wrapped in; it prefixes every descriptor error.
const protoFileName = "BqMessage.proto"

// columnNameExtension is the FieldOptions extension number of
// google.cloud.bigquery.storage.v1.column_name (a string).
const columnNameExtension protowire.Number = 454943157

// wktKind marks messages the decoder treats specially.
type wktKind uint8

const (
	wktNone      wktKind = iota
	wktTimestamp         // seconds int64 = 1, nanos int32 = 2
	wktDuration          // same shape as Timestamp
)

// pMessage is a resolved message type.
type pMessage struct {
	full   string // full name without a leading dot ("Root.Nested")
	fields []*pField
	wkt    wktKind
}

// pField is a resolved field.
type pField struct {
	full     string // "Root.field"
	name     string // proto field name
	column   string // column it feeds: the column_name annotation, else name
	num      protowire.Number
	kind     protoreflect.Kind
	repeated bool
	msg      *pMessage // message and group kinds
	enum     *pEnum    // enum kind
	typeName string    // as written in the descriptor, for messages
	hasDef   bool
	def      protoDefault
}

// protoDefault is a parsed default_value, in wire terms.
type protoDefault struct {
	u uint64 // integers (two's complement), bools (0/1), enum numbers
	f float64
	s string // strings and bytes (unescaped)
}

// pEnum is a resolved enum type.
type pEnum struct {
	full   string
	names  map[int32]string // first name declared for each number
	byName map[string]int32
	first  int32
}

type symKind uint8

const (
	symPackage symKind = iota + 1
	symMessage
	symEnum
	symField
	symEnumValue
)

type symbol struct {
	kind symKind
	msg  *pMessage
	enum *pEnum
}

func (s symbol) isType() bool      { return s.kind == symMessage || s.kind == symEnum }
func (s symbol) isAggregate() bool { return s.isType() || s.kind == symPackage }

// descError is an invalid-descriptor failure at one element.
type descError struct{ element, msg string }

func (e *descError) schemaError() *SchemaError {
	return &SchemaError{
		Kind:    InvalidDescriptor,
		Message: "Invalid proto schema: " + protoFileName + ": " + e.element + ": " + e.msg,
	}
}

// resolver holds the symbol table of one writer schema.
type resolver struct {
	syms map[string]symbol
	// pending lists every field in declaration order, with its message's
	// descriptor, for the type-resolution pass.
	pending []pendingField
}

type pendingField struct {
	f  *pField
	fd *descriptorpb.FieldDescriptorProto
}

// wellKnown holds the google.protobuf types a writer schema may reference
// without declaring them. Only their shape matters to the decoder.
var wellKnown = func() map[string]symbol {
	m := map[string]symbol{
		"google":          {kind: symPackage},
		"google.protobuf": {kind: symPackage},
	}
	twoPart := func(name string, k wktKind) {
		full := "google.protobuf." + name
		msg := &pMessage{full: full, wkt: k}
		msg.fields = []*pField{
			{full: full + ".seconds", name: "seconds", column: "seconds", num: 1, kind: protoreflect.Int64Kind},
			{full: full + ".nanos", name: "nanos", column: "nanos", num: 2, kind: protoreflect.Int32Kind},
		}
		m[full] = symbol{kind: symMessage, msg: msg}
	}
	twoPart("Timestamp", wktTimestamp)
	twoPart("Duration", wktDuration)
	for name, k := range map[string]protoreflect.Kind{
		"DoubleValue": protoreflect.DoubleKind, "FloatValue": protoreflect.FloatKind,
		"Int64Value": protoreflect.Int64Kind, "UInt64Value": protoreflect.Uint64Kind,
		"Int32Value": protoreflect.Int32Kind, "UInt32Value": protoreflect.Uint32Kind,
		"BoolValue": protoreflect.BoolKind, "StringValue": protoreflect.StringKind,
		"BytesValue": protoreflect.BytesKind,
	} {
		full := "google.protobuf." + name
		msg := &pMessage{full: full}
		// The real wrappers are proto3: an absent value means zero.
		msg.fields = []*pField{{full: full + ".value", name: "value", column: "value", num: 1, kind: k, hasDef: true}}
		m[full] = symbol{kind: symMessage, msg: msg}
	}
	return m
}()

// resolveDescriptor builds the resolved root message of desc. Errors are
// *descError.
func resolveDescriptor(desc *descriptorpb.DescriptorProto) (*pMessage, *descError) {
	if desc == nil {
		return nil, &descError{element: "", msg: "Missing message descriptor."}
	}
	r := &resolver{syms: make(map[string]symbol)}
	root, err := r.declareMessage(desc, "")
	if err != nil {
		return nil, err
	}
	for _, p := range r.pending {
		if err := r.resolveField(p.f, p.fd); err != nil {
			return nil, err
		}
	}
	if err := checkRecursion(root, map[*pMessage]int{}); err != nil {
		return nil, err
	}
	return root, nil
}

// find looks a fully-qualified name (no leading dot) up, falling back to the
// well-known types.
func (r *resolver) find(full string) (symbol, bool) {
	if s, ok := r.syms[full]; ok {
		return s, true
	}
	s, ok := wellKnown[full]
	return s, ok
}

func (r *resolver) define(full, scope, name string, s symbol) *descError {
	if !validIdentifier(name) {
		if name == "" {
			return &descError{element: full, msg: "Missing name."}
		}
		return &descError{element: full, msg: fmt.Sprintf("%q is not a valid identifier.", name)}
	}
	if _, dup := r.syms[full]; dup {
		if scope == "" {
			return &descError{element: full, msg: fmt.Sprintf("%q is already defined.", name)}
		}
		return &descError{element: full, msg: fmt.Sprintf("%q is already defined in %q.", name, scope)}
	}
	r.syms[full] = s
	return nil
}

func validIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func join(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "." + name
}

// declareMessage registers d (declared in scope) and everything inside it.
func (r *resolver) declareMessage(d *descriptorpb.DescriptorProto, scope string) (*pMessage, *descError) {
	full := join(scope, d.GetName())
	m := &pMessage{full: full}
	if err := r.define(full, scope, d.GetName(), symbol{kind: symMessage, msg: m}); err != nil {
		return nil, err
	}
	for _, ed := range d.GetEnumType() {
		if err := r.declareEnum(ed, full); err != nil {
			return nil, err
		}
	}
	for _, nd := range d.GetNestedType() {
		if nd == nil {
			continue
		}
		if _, err := r.declareMessage(nd, full); err != nil {
			return nil, err
		}
	}
	byNum := make(map[protowire.Number]*pField, len(d.GetField()))
	for _, fd := range d.GetField() {
		if fd == nil {
			continue
		}
		f := &pField{full: join(full, fd.GetName()), name: fd.GetName(), num: protowire.Number(fd.GetNumber())}
		if err := r.define(f.full, full, f.name, symbol{kind: symField}); err != nil {
			return nil, err
		}
		switch n := fd.GetNumber(); {
		case n <= 0:
			return nil, &descError{element: f.full, msg: "Field numbers must be positive integers."}
		case n > int32(protowire.MaxValidNumber):
			return nil, &descError{element: f.full, msg: fmt.Sprintf("Field numbers cannot be greater than %d.", protowire.MaxValidNumber)}
		case n >= int32(protowire.FirstReservedNumber) && n <= int32(protowire.LastReservedNumber):
			return nil, &descError{element: f.full, msg: fmt.Sprintf("Field numbers %d through %d are reserved for the protocol buffer library implementation.",
				protowire.FirstReservedNumber, protowire.LastReservedNumber)}
		}
		if prev, dup := byNum[f.num]; dup {
			return nil, &descError{element: f.full, msg: fmt.Sprintf("Field number %d has already been used in %q by field %q.", f.num, full, prev.name)}
		}
		byNum[f.num] = f
		col, err := columnAnnotation(fd.GetOptions())
		if err != nil {
			return nil, &descError{element: f.full, msg: err.Error()}
		}
		f.column = f.name
		if col != "" {
			f.column = col
		}
		m.fields = append(m.fields, f)
		r.pending = append(r.pending, pendingField{f: f, fd: fd})
	}
	return m, nil
}

func (r *resolver) declareEnum(ed *descriptorpb.EnumDescriptorProto, scope string) *descError {
	if ed == nil {
		return nil
	}
	full := join(scope, ed.GetName())
	e := &pEnum{full: full, names: map[int32]string{}, byName: map[string]int32{}}
	if err := r.define(full, scope, ed.GetName(), symbol{kind: symEnum, enum: e}); err != nil {
		return err
	}
	if len(ed.GetValue()) == 0 {
		return &descError{element: full, msg: "Enums must contain at least one value."}
	}
	for i, v := range ed.GetValue() {
		// Enum values are siblings of their enum, as in C++.
		vfull := join(scope, v.GetName())
		if err := r.define(vfull, scope, v.GetName(), symbol{kind: symEnumValue, enum: e}); err != nil {
			return err
		}
		if i == 0 {
			e.first = v.GetNumber()
		}
		if _, ok := e.names[v.GetNumber()]; !ok {
			e.names[v.GetNumber()] = v.GetName()
		}
		e.byName[v.GetName()] = v.GetNumber()
	}
	return nil
}

// lookupType resolves name as written in field f (full name f.full), with
// protobuf's scoping rules. It returns the symbol or a descError.
func (r *resolver) lookupType(name, fieldFull string) (symbol, *descError) {
	notDefined := &descError{element: fieldFull, msg: fmt.Sprintf("%q is not defined.", name)}
	if name == "" {
		return symbol{}, notDefined
	}
	if name[0] == '.' {
		s, ok := r.find(name[1:])
		if !ok {
			return symbol{}, notDefined
		}
		return s, nil
	}
	first, rest := name, ""
	if i := strings.IndexByte(name, '.'); i >= 0 {
		first, rest = name[:i], name[i:]
	}
	scope := fieldFull
	for {
		i := strings.LastIndexByte(scope, '.')
		if i < 0 {
			s, ok := r.find(name)
			if !ok {
				return symbol{}, notDefined
			}
			return s, nil
		}
		scope = scope[:i]
		cand := scope + "." + first
		s, ok := r.find(cand)
		if !ok {
			continue
		}
		if rest == "" {
			if s.isType() {
				return s, nil
			}
			continue // a field or value of that name: keep looking outward
		}
		if !s.isAggregate() {
			continue
		}
		s, ok = r.find(cand + rest)
		if !ok {
			return symbol{}, &descError{element: fieldFull, msg: fmt.Sprintf(
				"%q is resolved to %q, which is not defined. The innermost scope is searched first in name resolution. "+
					"Consider using a leading '.'(i.e., \".%s\") to start from the outermost scope.", name, cand+rest, name)}
		}
		return s, nil
	}
}

func (r *resolver) resolveField(f *pField, fd *descriptorpb.FieldDescriptorProto) *descError {
	switch fd.GetLabel() {
	case descriptorpb.FieldDescriptorProto_LABEL_REPEATED:
		f.repeated = true
	case descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL, descriptorpb.FieldDescriptorProto_LABEL_REQUIRED:
	default:
		return &descError{element: f.full, msg: "Invalid field label."}
	}
	typ := fd.GetType()
	if fd.Type != nil && (typ < descriptorpb.FieldDescriptorProto_TYPE_DOUBLE || typ > descriptorpb.FieldDescriptorProto_TYPE_SINT64) {
		return &descError{element: f.full, msg: "Invalid field type."}
	}
	needsName := fd.Type == nil || typ == descriptorpb.FieldDescriptorProto_TYPE_MESSAGE ||
		typ == descriptorpb.FieldDescriptorProto_TYPE_GROUP || typ == descriptorpb.FieldDescriptorProto_TYPE_ENUM
	if !needsName {
		if fd.TypeName != nil {
			return &descError{element: f.full, msg: "Messages can't have type_name unless they are messages, groups or enums."}
		}
		f.kind = protoreflect.Kind(typ)
	} else {
		if fd.Type == nil && fd.TypeName == nil {
			return &descError{element: f.full, msg: "Missing field type."}
		}
		f.typeName = fd.GetTypeName()
		s, err := r.lookupType(f.typeName, f.full)
		if err != nil {
			return err
		}
		switch {
		case s.kind == symMessage && (fd.Type == nil || typ != descriptorpb.FieldDescriptorProto_TYPE_ENUM):
			f.msg = s.msg
			f.kind = protoreflect.MessageKind
			if typ == descriptorpb.FieldDescriptorProto_TYPE_GROUP {
				f.kind = protoreflect.GroupKind
			}
		case s.kind == symEnum && (fd.Type == nil || typ == descriptorpb.FieldDescriptorProto_TYPE_ENUM):
			f.enum = s.enum
			f.kind = protoreflect.EnumKind
		case s.kind == symMessage:
			return &descError{element: f.full, msg: fmt.Sprintf("%q is not an enum type.", f.typeName)}
		case s.kind == symEnum:
			return &descError{element: f.full, msg: fmt.Sprintf("%q is not a message type.", f.typeName)}
		default:
			return &descError{element: f.full, msg: fmt.Sprintf("%q is not a type.", f.typeName)}
		}
	}
	if fd.DefaultValue != nil {
		if err := parseDefault(f, fd.GetDefaultValue()); err != nil {
			return err
		}
	}
	return nil
}

// parseDefault parses a default_value the way protobuf's descriptor
// builder does.
func parseDefault(f *pField, s string) *descError {
	if f.repeated {
		return &descError{element: f.full, msg: "Repeated fields can't have default values."}
	}
	bad := &descError{element: f.full, msg: fmt.Sprintf("Couldn't parse default value %q.", s)}
	var d protoDefault
	switch f.kind {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return &descError{element: f.full, msg: "Messages can't have default values."}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		size := 64
		if f.kind == protoreflect.Int32Kind || f.kind == protoreflect.Sint32Kind || f.kind == protoreflect.Sfixed32Kind {
			size = 32
		}
		if strings.ContainsRune(s, '_') {
			return bad
		}
		v, err := strconv.ParseInt(s, 0, size)
		if err != nil {
			return bad
		}
		d.u = uint64(v)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		size := 64
		if f.kind == protoreflect.Uint32Kind || f.kind == protoreflect.Fixed32Kind {
			size = 32
		}
		if strings.ContainsRune(s, '_') {
			return bad
		}
		v, err := strconv.ParseUint(s, 0, size)
		if err != nil {
			return bad
		}
		d.u = v
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		switch s {
		case "inf":
			d.f = math.Inf(1)
		case "-inf":
			d.f = math.Inf(-1)
		case "nan":
			d.f = math.NaN()
		default:
			v, err := strconv.ParseFloat(s, 64)
			if err != nil && !isRangeErr(err) || strings.ContainsAny(s, "_xXpP") {
				return bad
			}
			d.f = v
		}
		if f.kind == protoreflect.FloatKind {
			d.f = float64(float32(d.f))
		}
	case protoreflect.BoolKind:
		switch s {
		case "true":
			d.u = 1
		case "false":
		default:
			return bad
		}
	case protoreflect.StringKind:
		d.s = s
	case protoreflect.BytesKind:
		v, ok := unescapeC(s)
		if !ok {
			return bad
		}
		d.s = v
	case protoreflect.EnumKind:
		n, ok := f.enum.byName[s]
		if !ok {
			return &descError{element: f.full, msg: fmt.Sprintf("Enum type %q has no value named %q.", f.enum.full, s)}
		}
		d.u = uint64(int64(n))
	}
	f.hasDef, f.def = true, d
	return nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// unescapeC undoes the C-style escaping protobuf uses for bytes defaults.
func unescapeC(s string) (string, bool) {
	if !strings.ContainsRune(s, '\\') {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch c = s[i]; c {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"', '?':
			b.WriteByte(c)
		case 'x', 'X':
			v, n := 0, 0
			for n < 2 && i+1 < len(s) && isHex(s[i+1]) {
				i++
				v = v*16 + hexVal(s[i])
				n++
			}
			if n == 0 {
				return "", false
			}
			b.WriteByte(byte(v))
		default:
			if c < '0' || c > '7' {
				return "", false
			}
			v := int(c - '0')
			for n := 1; n < 3 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; n++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			b.WriteByte(byte(v))
		}
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// columnAnnotation returns the column_name annotation of a field, or "".
// The annotation may have been decoded as a registered extension (when the
// storage API's Go package is linked in) or kept as an unknown field;
// re-serializing the options yields the raw bytes in both cases.
func columnAnnotation(opts *descriptorpb.FieldOptions) (string, error) {
	if opts == nil {
		return "", nil
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(opts)
	if err != nil {
		return "", errors.New("Invalid field options: " + err.Error() + ".")
	}
	var name string
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return "", errors.New("Invalid field options.")
		}
		raw = raw[n:]
		if num == columnNameExtension && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return "", errors.New("Invalid field options.")
			}
			name = string(v)
			raw = raw[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return "", errors.New("Invalid field options.")
		}
		raw = raw[m:]
	}
	return name, nil
}

// checkRecursion rejects message types that contain themselves (directly or
// through other messages). state: 1 = on the current path, 2 = done.
func checkRecursion(m *pMessage, state map[*pMessage]int) *descError {
	state[m] = 1
	for _, f := range m.fields {
		if f.msg == nil {
			continue
		}
		switch state[f.msg] {
		case 1:
			return &descError{element: f.full, msg: fmt.Sprintf("Recursive type %q is not supported.", f.msg.full)}
		case 0:
			if err := checkRecursion(f.msg, state); err != nil {
				return err
			}
		}
	}
	state[m] = 2
	return nil
}
