package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Shape names a row shape the load generator writes.
type Shape string

// The row shapes. Every shape starts with the REQUIRED INTEGER column
// "seq", which carries the sequence number verification reads back.
const (
	// Narrow rows have two columns: seq and a 24-character string
	// (about 31 bytes in proto form).
	Narrow Shape = "narrow"
	// Typical rows have six flat columns of about 100 bytes in proto
	// form: seq, a timestamp, two strings, a float and a boolean.
	Typical Shape = "typical"
	// Wide rows are about 1 KB in proto form, with a long string, a
	// repeated string, a repeated record and a nested record.
	Wide Shape = "wide"
)

// Shapes lists the shapes in size order.
var Shapes = []Shape{Narrow, Typical, Wide}

// column is one column of a shape's table schema, in REST spelling.
type column struct {
	name   string
	typ    string // INTEGER, STRING, FLOAT, BOOLEAN, TIMESTAMP, RECORD
	mode   string // NULLABLE, REQUIRED, REPEATED
	fields []column
}

// shape is a compiled row shape: its schema in both API forms, the
// writer descriptor, and row encoders for proto and insertAll JSON.
type shape struct {
	name    Shape
	columns []column
	desc    *descriptorpb.DescriptorProto
	// appendProto appends the proto encoding of row seq to b.
	appendProto func(b []byte, seq int64, tsMicros int64) []byte
	// appendJSON appends the insertAll "json" object of row seq to b;
	// ts is the RFC 3339 text of the row's timestamp.
	appendJSON func(b []byte, seq int64, ts string) []byte
}

// pools of pseudo-random strings, picked by sequence number so rows differ
// without costing a random generator call per value.
type pool []string

func newPool(seed uint64, n, length int) pool {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	r := rand.New(rand.NewPCG(seed, uint64(length)))
	p := make(pool, n)
	for i := range p {
		b := make([]byte, length)
		for j := range b {
			b[j] = letters[r.IntN(len(letters))]
		}
		p[i] = string(b)
	}
	return p
}

// pick returns a string chosen by seq and salt (n must be a power of two).
func (p pool) pick(seq int64, salt uint64) string {
	h := (uint64(seq) + salt) * 0x9E3779B97F4A7C15
	return p[(h>>40)&uint64(len(p)-1)]
}

// compileShape builds the named shape. It returns ErrInvalidOptions for an
// unknown name.
func compileShape(name Shape) (*shape, error) {
	var s *shape
	switch name {
	case Narrow:
		s = narrowShape()
	case Typical:
		s = typicalShape()
	case Wide:
		s = wideShape()
	default:
		return nil, fmt.Errorf("%w: unknown shape %q (want narrow, typical or wide)", ErrInvalidOptions, name)
	}
	return s, nil
}

// message derives the writer descriptor of cols the way client code does
// (adapt), and returns it with a lookup of field numbers by dotted path.
func message(cols []column) (*descriptorpb.DescriptorProto, func(path ...string) protowire.Number) {
	ts := &storagepb.TableSchema{}
	for _, c := range cols {
		ts.Fields = append(ts.Fields, storageField(c))
	}
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "root")
	if err != nil {
		panic(fmt.Sprintf("loadgen: deriving descriptor: %v", err)) // static schemas: a bug, not input
	}
	md := d.(protoreflect.MessageDescriptor)
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		panic(fmt.Sprintf("loadgen: normalizing descriptor: %v", err))
	}
	num := func(path ...string) protowire.Number {
		m := md
		var fd protoreflect.FieldDescriptor
		for _, p := range path {
			fd = m.Fields().ByName(protoreflect.Name(p))
			if fd == nil {
				panic("loadgen: no field " + p)
			}
			m = fd.Message()
		}
		return fd.Number()
	}
	return dp, num
}

func storageField(c column) *storagepb.TableFieldSchema {
	types := map[string]storagepb.TableFieldSchema_Type{
		"INTEGER": storagepb.TableFieldSchema_INT64, "STRING": storagepb.TableFieldSchema_STRING,
		"FLOAT": storagepb.TableFieldSchema_DOUBLE, "BOOLEAN": storagepb.TableFieldSchema_BOOL,
		"TIMESTAMP": storagepb.TableFieldSchema_TIMESTAMP, "RECORD": storagepb.TableFieldSchema_STRUCT,
	}
	modes := map[string]storagepb.TableFieldSchema_Mode{
		"NULLABLE": storagepb.TableFieldSchema_NULLABLE, "REQUIRED": storagepb.TableFieldSchema_REQUIRED,
		"REPEATED": storagepb.TableFieldSchema_REPEATED,
	}
	f := &storagepb.TableFieldSchema{Name: c.name, Type: types[c.typ], Mode: modes[c.mode]}
	for _, sub := range c.fields {
		f.Fields = append(f.Fields, storageField(sub))
	}
	return f
}

// restSchema returns the columns as REST TableFieldSchema objects.
func restSchema(cols []column) []map[string]any {
	out := make([]map[string]any, 0, len(cols))
	for _, c := range cols {
		f := map[string]any{"name": c.name, "type": c.typ, "mode": c.mode}
		if len(c.fields) > 0 {
			f["fields"] = restSchema(c.fields)
		}
		out = append(out, f)
	}
	return out
}

// Proto building blocks.

func pbVarint(b []byte, n protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func pbString(b []byte, n protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func pbDouble(b []byte, n protowire.Number, f float64) []byte {
	b = protowire.AppendTag(b, n, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(f))
}

// pbMessage appends field n holding the message fill appends. The length
// prefix is reserved at its final width for messages under 16 KiB.
func pbMessage(b []byte, n protowire.Number, fill func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	at := len(b)
	b = append(b, 0, 0) // two-byte varint placeholder
	b = fill(b)
	size := len(b) - at - 2
	if size >= 1<<14 {
		panic("loadgen: nested message too large") // shapes are static and small
	}
	b[at] = byte(size&0x7f) | 0x80
	b[at+1] = byte(size >> 7)
	return b
}

// JSON building blocks (values are plain ASCII: no escaping needed).

func jsKey(b []byte, first bool, k string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func jsString(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func jsFloat(b []byte, f float64) []byte { return strconv.AppendFloat(b, f, 'g', -1, 64) }

func fraction(seq int64, salt uint64) float64 {
	h := (uint64(seq) + salt) * 0x9E3779B97F4A7C15
	return float64(h>>11) / (1 << 53)
}

func narrowShape() *shape {
	cols := []column{
		{name: "seq", typ: "INTEGER", mode: "REQUIRED"},
		{name: "name", typ: "STRING", mode: "NULLABLE"},
	}
	desc, num := message(cols)
	fSeq, fName := num("seq"), num("name")
	names := newPool(1, 1024, 24)
	return &shape{
		name: Narrow, columns: cols, desc: desc,
		appendProto: func(b []byte, seq, _ int64) []byte {
			b = pbVarint(b, fSeq, uint64(seq))
			return pbString(b, fName, names.pick(seq, 0))
		},
		appendJSON: func(b []byte, seq int64, _ string) []byte {
			b = append(b, `{"seq":`...)
			b = strconv.AppendInt(b, seq, 10)
			b = jsKey(b, false, "name")
			b = jsString(b, names.pick(seq, 0))
			return append(b, '}')
		},
	}
}

func typicalShape() *shape {
	cols := []column{
		{name: "seq", typ: "INTEGER", mode: "REQUIRED"},
		{name: "ts", typ: "TIMESTAMP", mode: "NULLABLE"},
		{name: "user_id", typ: "STRING", mode: "NULLABLE"},
		{name: "event", typ: "STRING", mode: "NULLABLE"},
		{name: "amount", typ: "FLOAT", mode: "NULLABLE"},
		{name: "ok", typ: "BOOLEAN", mode: "NULLABLE"},
	}
	desc, num := message(cols)
	fSeq, fTS, fUser, fEvent, fAmount, fOK := num("seq"), num("ts"), num("user_id"), num("event"), num("amount"), num("ok")
	users := newPool(2, 1024, 24)
	events := newPool(3, 1024, 44)
	return &shape{
		name: Typical, columns: cols, desc: desc,
		appendProto: func(b []byte, seq, ts int64) []byte {
			b = pbVarint(b, fSeq, uint64(seq))
			b = pbVarint(b, fTS, uint64(ts))
			b = pbString(b, fUser, users.pick(seq, 1))
			b = pbString(b, fEvent, events.pick(seq, 2))
			b = pbDouble(b, fAmount, fraction(seq, 3)*1000)
			return pbVarint(b, fOK, uint64(seq&1))
		},
		appendJSON: func(b []byte, seq int64, ts string) []byte {
			b = append(b, `{"seq":`...)
			b = strconv.AppendInt(b, seq, 10)
			b = jsKey(b, false, "ts")
			b = jsString(b, ts)
			b = jsKey(b, false, "user_id")
			b = jsString(b, users.pick(seq, 1))
			b = jsKey(b, false, "event")
			b = jsString(b, events.pick(seq, 2))
			b = jsKey(b, false, "amount")
			b = jsFloat(b, fraction(seq, 3)*1000)
			b = jsKey(b, false, "ok")
			b = strconv.AppendBool(b, seq&1 == 1)
			return append(b, '}')
		},
	}
}

// Wide-row layout.
const (
	wideTags  = 8
	wideAttrs = 8
)

func wideShape() *shape {
	cols := []column{
		{name: "seq", typ: "INTEGER", mode: "REQUIRED"},
		{name: "ts", typ: "TIMESTAMP", mode: "NULLABLE"},
		{name: "name", typ: "STRING", mode: "NULLABLE"},
		{name: "payload", typ: "STRING", mode: "NULLABLE"},
		{name: "tags", typ: "STRING", mode: "REPEATED"},
		{name: "attrs", typ: "RECORD", mode: "REPEATED", fields: []column{
			{name: "key", typ: "STRING", mode: "NULLABLE"},
			{name: "value", typ: "FLOAT", mode: "NULLABLE"},
			{name: "n", typ: "INTEGER", mode: "NULLABLE"},
		}},
		{name: "device", typ: "RECORD", mode: "NULLABLE", fields: []column{
			{name: "os", typ: "STRING", mode: "NULLABLE"},
			{name: "version", typ: "STRING", mode: "NULLABLE"},
			{name: "lat", typ: "FLOAT", mode: "NULLABLE"},
			{name: "lon", typ: "FLOAT", mode: "NULLABLE"},
		}},
	}
	desc, num := message(cols)
	fSeq, fTS, fName, fPayload, fTags := num("seq"), num("ts"), num("name"), num("payload"), num("tags")
	fAttrs, fKey, fValue, fN := num("attrs"), num("attrs", "key"), num("attrs", "value"), num("attrs", "n")
	fDevice, fOS, fVersion, fLat, fLon := num("device"), num("device", "os"), num("device", "version"), num("device", "lat"), num("device", "lon")
	names := newPool(4, 1024, 32)
	payloads := newPool(5, 256, 560)
	tags := newPool(6, 1024, 12)
	keys := newPool(7, 64, 10)
	oses := newPool(8, 16, 10)
	versions := newPool(9, 64, 12)
	return &shape{
		name: Wide, columns: cols, desc: desc,
		appendProto: func(b []byte, seq, ts int64) []byte {
			b = pbVarint(b, fSeq, uint64(seq))
			b = pbVarint(b, fTS, uint64(ts))
			b = pbString(b, fName, names.pick(seq, 1))
			b = pbString(b, fPayload, payloads.pick(seq, 2))
			for i := range wideTags {
				b = pbString(b, fTags, tags.pick(seq, uint64(10+i)))
			}
			for i := range wideAttrs {
				b = pbMessage(b, fAttrs, func(b []byte) []byte {
					b = pbString(b, fKey, keys.pick(seq, uint64(20+i)))
					b = pbDouble(b, fValue, fraction(seq, uint64(30+i)))
					return pbVarint(b, fN, uint64(seq%1000)+uint64(i))
				})
			}
			return pbMessage(b, fDevice, func(b []byte) []byte {
				b = pbString(b, fOS, oses.pick(seq, 40))
				b = pbString(b, fVersion, versions.pick(seq, 41))
				b = pbDouble(b, fLat, fraction(seq, 42)*180-90)
				return pbDouble(b, fLon, fraction(seq, 43)*360-180)
			})
		},
		appendJSON: func(b []byte, seq int64, ts string) []byte {
			b = append(b, `{"seq":`...)
			b = strconv.AppendInt(b, seq, 10)
			b = jsKey(b, false, "ts")
			b = jsString(b, ts)
			b = jsKey(b, false, "name")
			b = jsString(b, names.pick(seq, 1))
			b = jsKey(b, false, "payload")
			b = jsString(b, payloads.pick(seq, 2))
			b = jsKey(b, false, "tags")
			b = append(b, '[')
			for i := range wideTags {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsString(b, tags.pick(seq, uint64(10+i)))
			}
			b = append(b, ']')
			b = jsKey(b, false, "attrs")
			b = append(b, '[')
			for i := range wideAttrs {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsKey(append(b, '{'), true, "key")
				b = jsString(b, keys.pick(seq, uint64(20+i)))
				b = jsKey(b, false, "value")
				b = jsFloat(b, fraction(seq, uint64(30+i)))
				b = jsKey(b, false, "n")
				b = strconv.AppendUint(b, uint64(seq%1000)+uint64(i), 10)
				b = append(b, '}')
			}
			b = append(b, ']')
			b = jsKey(b, false, "device")
			b = jsKey(append(b, '{'), true, "os")
			b = jsString(b, oses.pick(seq, 40))
			b = jsKey(b, false, "version")
			b = jsString(b, versions.pick(seq, 41))
			b = jsKey(b, false, "lat")
			b = jsFloat(b, fraction(seq, 42)*180-90)
			b = jsKey(b, false, "lon")
			b = jsFloat(b, fraction(seq, 43)*360-180)
			return append(b, '}', '}')
		},
	}
}

// rfc3339Micros formats t as insertAll clients send timestamps.
func rfc3339Micros(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
