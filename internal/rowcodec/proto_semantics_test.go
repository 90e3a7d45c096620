package rowcodec_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// pbSemDesc covers scalars, a record, a repeated field and a group.
const pbSemDesc = `name: "Root"
	nested_type { name: "S" field { name: "x" number: 1 type: TYPE_INT64 } field { name: "y" number: 2 type: TYPE_STRING }
		field { name: "z" number: 3 label: LABEL_REPEATED type: TYPE_INT64 } }
	field { name: "a" number: 1 type: TYPE_INT64 }
	field { name: "b" number: 2 type: TYPE_STRING }
	field { name: "s" number: 3 type: TYPE_MESSAGE type_name: "S" }
	field { name: "r" number: 4 label: LABEL_REPEATED type: TYPE_STRING }
	field { name: "g" number: 5 type: TYPE_GROUP type_name: "S" }`

func pbSemTable() *schema.Table {
	sub := func() []*schema.Field {
		return []*schema.Field{pbCol("x", schema.Integer, ""), pbCol("y", schema.String, ""), pbCol("z", schema.Integer, schema.Repeated)}
	}
	return pbTable(pbCol("a", schema.Integer, ""), pbCol("b", schema.String, ""), pbCol("s", schema.Record, "", sub()...),
		pbCol("r", schema.String, schema.Repeated), pbCol("g", schema.Record, "", sub()...))
}

func TestProtoDecode_Proto2Semantics(t *testing.T) {
	d := pbCompile(t, pbSemDesc, pbSemTable())
	empty := []rowcodec.Value{}
	tag := func(num int, wt protowire.Type) []byte { return protowire.AppendTag(nil, protowire.Number(num), wt) }
	tests := []struct {
		name string
		row  []byte
		want rowcodec.Row
	}{
		{"absent fields are NULL, arrays empty", nil, rowcodec.Row{nil, nil, nil, empty, nil}},
		{"present empty message is a record of NULLs", pbRow(pbMsg(3), pbGroup(5)),
			rowcodec.Row{nil, nil, rowcodec.Row{nil, nil, empty}, empty, rowcodec.Row{nil, nil, empty}}},
		{"last occurrence wins", pbRow(pbInt(1, 1), pbStr(2, "x"), pbInt(1, 2), pbStr(2, "y")),
			rowcodec.Row{int64(2), "y", nil, empty, nil}},
		{"an overwritten invalid value does not count", pbRow(pbBytes(2, []byte{0xff}), pbStr(2, "ok")),
			rowcodec.Row{nil, "ok", nil, empty, nil}},
		{"message occurrences merge", pbRow(pbMsg(3, pbInt(1, 1), pbInt(3, 7)), pbInt(1, 5), pbMsg(3, pbStr(2, "m"), pbInt(3, 8))),
			rowcodec.Row{int64(5), nil, rowcodec.Row{int64(1), "m", []rowcodec.Value{int64(7), int64(8)}}, empty, nil}},
		{"merged fields: last scalar wins", pbRow(pbMsg(3, pbInt(1, 1)), pbMsg(3, pbInt(1, 2))),
			rowcodec.Row{nil, nil, rowcodec.Row{int64(2), nil, empty}, empty, nil}},
		{"group occurrences merge", pbRow(pbGroup(5, pbInt(1, 1)), pbGroup(5, pbStr(2, "g"))),
			rowcodec.Row{nil, nil, nil, empty, rowcodec.Row{int64(1), "g", empty}}},
		{"repeated keeps order across interleaving", pbRow(pbStr(4, "p"), pbInt(1, 1), pbStr(4, "q")),
			rowcodec.Row{int64(1), nil, nil, []rowcodec.Value{"p", "q"}, nil}},
		{"unknown fields of every wire type are skipped", pbRow(pbInt(99, 1), pbFixed32(100, 1), pbFixed64(101, 1), pbStr(102, "x"),
			pbGroup(103, pbInt(1, 1), pbGroup(104)), pbInt(536870911, 3), pbInt(1, 9)),
			rowcodec.Row{int64(9), nil, nil, empty, nil}},
		{"known number with another wire type is skipped", pbRow(pbFixed64(1, 5), pbInt(2, 1), pbInt(3, 1)),
			rowcodec.Row{nil, nil, nil, empty, nil}},
		{"non-canonical varint", pbRow(tag(1, protowire.VarintType), []byte{0x81, 0x80, 0x80, 0x00}),
			rowcodec.Row{int64(1), nil, nil, empty, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pbDecodeOne(t, d, nil, tt.row); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestProtoDecode_ProtoDefaultValue(t *testing.T) {
	// A declared default_value is stored for an absent field, even when the
	// request asks for column defaults (the field is never "missing").
	d := pbCompile(t, `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 default_value: "0" }
		field { name: "b" number: 2 type: TYPE_STRING default_value: "" } field { name: "c" number: 3 type: TYPE_BOOL default_value: "false" }`,
		pbTable(&schema.Field{Name: "a", Type: schema.Integer, DefaultValueExpression: "5"}, pbCol("b", schema.String, schema.Required), pbCol("c", schema.Boolean, "")))
	got := pbDecodeOne(t, d, &rowcodec.Options{DefaultMissing: rowcodec.MissingDefault}, nil)
	if want := (rowcodec.Row{int64(0), "", false}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	// A default the column rejects fails every row that omits the field.
	d = pbCompile(t, `name: "Root" field { name: "a" number: 1 type: TYPE_STRING default_value: "toolong" }`,
		pbTable(&schema.Field{Name: "a", Type: schema.String, MaxLength: 3}))
	if re := pbRowError(t, d, nil, nil); re.Message != "Field a: STRING(3) has maximum length 3 but got a value with length 7 on field a." {
		t.Errorf("row error = %q", re.Message)
	}
	pbDecodeOne(t, d, nil, pbStr(1, "ok"))
}

func TestProtoDecode_MissingValues(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 10000, time.UTC)
	table := pbTable(
		pbCol("id", schema.Integer, ""),
		&schema.Field{Name: "a", Type: schema.String, DefaultValueExpression: "'dflt'"},
		&schema.Field{Name: "b", Type: schema.Integer, Mode: schema.Required, DefaultValueExpression: "7"},
		&schema.Field{Name: "rec", Type: schema.Record, Fields: []*schema.Field{
			{Name: "x", Type: schema.Integer, DefaultValueExpression: "42"},
			{Name: "gone", Type: schema.String, DefaultValueExpression: "'sub'"},
		}},
		&schema.Field{Name: "arr", Type: schema.Integer, Mode: schema.Repeated, DefaultValueExpression: "[1, 2]"},
		// Columns the writer schema does not mention.
		&schema.Field{Name: "created", Type: schema.Timestamp, DefaultValueExpression: "CURRENT_TIMESTAMP()"},
		pbCol("plain", schema.String, ""),
		pbCol("list", schema.String, schema.Repeated),
	)
	desc := `name: "Root" nested_type { name: "R" field { name: "x" number: 1 type: TYPE_INT64 } }
		field { name: "id" number: 1 type: TYPE_INT64 } field { name: "a" number: 2 type: TYPE_STRING }
		field { name: "b" number: 3 type: TYPE_INT64 } field { name: "rec" number: 4 type: TYPE_MESSAGE type_name: "R" }
		field { name: "arr" number: 5 label: LABEL_REPEATED type: TYPE_INT64 }`
	d := pbCompile(t, desc, table)
	ts := rowcodec.Timestamp(now.UnixMicro())
	empty := []rowcodec.Value{}
	full := pbRow(pbInt(1, 1), pbStr(2, "given"), pbInt(3, 3), pbMsg(4), pbInt(5, 9))
	tests := []struct {
		name string
		o    rowcodec.Options
		row  []byte
		want rowcodec.Row
		err  string
	}{
		{"values given; absent columns get defaults", rowcodec.Options{}, full,
			rowcodec.Row{int64(1), "given", int64(3), rowcodec.Row{nil, "sub"}, []rowcodec.Value{int64(9)}, ts, nil, empty}, ""},
		{"missing values are NULL by default", rowcodec.Options{}, pbRow(pbInt(1, 1), pbInt(3, 3), pbMsg(4)),
			rowcodec.Row{int64(1), nil, int64(3), rowcodec.Row{nil, "sub"}, empty, ts, nil, empty}, ""},
		{"missing REQUIRED is a row error", rowcodec.Options{}, pbInt(1, 1), nil, "Missing required field: b."},
		{"DefaultMissing fills column defaults", rowcodec.Options{DefaultMissing: rowcodec.MissingDefault}, pbRow(pbInt(1, 1), pbMsg(4)),
			rowcodec.Row{int64(1), "dflt", int64(7), rowcodec.Row{int64(42), "sub"}, []rowcodec.Value{int64(1), int64(2)}, ts, nil, empty}, ""},
		{"per-column map in any case", rowcodec.Options{MissingValues: map[string]rowcodec.MissingValue{"A": rowcodec.MissingDefault, "B": rowcodec.MissingDefault}},
			pbInt(1, 1), rowcodec.Row{int64(1), "dflt", int64(7), nil, empty, ts, nil, empty}, ""},
		{"map overrides DefaultMissing", rowcodec.Options{DefaultMissing: rowcodec.MissingDefault,
			MissingValues: map[string]rowcodec.MissingValue{"a": rowcodec.MissingNull, "REC": rowcodec.MissingNull}},
			pbRow(pbMsg(4)), rowcodec.Row{nil, nil, int64(7), rowcodec.Row{nil, "sub"}, []rowcodec.Value{int64(1), int64(2)}, ts, nil, empty}, ""},
		{"map NULL on a REQUIRED column", rowcodec.Options{DefaultMissing: rowcodec.MissingDefault,
			MissingValues: map[string]rowcodec.MissingValue{"b": rowcodec.MissingNull}}, nil, nil, "Missing required field: b."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Now = now
			if tt.err != "" {
				if re := pbRowError(t, d, &o, tt.row); re.Message != tt.err {
					t.Errorf("row error = %q, want %q", re.Message, tt.err)
				}
				return
			}
			if got := pbDecodeOne(t, d, &o, tt.row); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
	t.Run("REQUIRED column absent from the writer schema", func(t *testing.T) {
		d := pbCompile(t, `name: "Root" field { name: "id" number: 1 type: TYPE_INT64 }`,
			pbTable(pbCol("id", schema.Integer, ""), pbCol("must", schema.String, schema.Required),
				&schema.Field{Name: "ok", Type: schema.String, Mode: schema.Required, DefaultValueExpression: "'d'"}))
		errs := d.Validate([][]byte{pbInt(1, 1), nil}, nil)
		if len(errs) != 2 || errs[0].Message != "Missing required field: must." || errs[1].Index != 1 {
			t.Errorf("Validate = %+v, want both rows rejected for column must", errs)
		}
	})
}

func TestProtoDecode_RowIndexesAndEmit(t *testing.T) {
	d := pbCompile(t, `name: "Root" field { name: "a" number: 1 type: TYPE_INT64 }`, pbTable(pbCol("a", schema.Date, "")))
	rows := [][]byte{pbInt(1, 1), pbInt(1, 2), pbInt(1, 1<<40), pbInt(1, 3), pbInt(1, -1<<40)}
	errs := d.Validate(rows, nil)
	if len(errs) != 2 || errs[0].Index != 2 || errs[1].Index != 4 {
		t.Fatalf("Validate = %+v, want rows 2 and 4", errs)
	}
	var emitted []int
	err := d.Decode(rows, nil, func(i int, r rowcodec.Row) error {
		emitted = append(emitted, i)
		return nil
	})
	if !reflect.DeepEqual(err, errs) {
		t.Errorf("Decode error = %v, want %v", err, errs)
	}
	if want := []int{0, 1}; !reflect.DeepEqual(emitted, want) {
		t.Errorf("emitted %v, want %v", emitted, want)
	}
	if errs := d.Validate(rows[:2], nil); errs != nil {
		t.Errorf("Validate(valid rows) = %v, want nil", errs)
	}
	stop := errors.New("stop")
	if err := d.Decode(rows[:2], nil, func(int, rowcodec.Row) error { return stop }); err != stop {
		t.Errorf("Decode with failing emit = %v, want %v", err, stop)
	}
}

func TestProtoDecoder_Concurrent(t *testing.T) {
	d := pbCompile(t, pbSemDesc, pbSemTable())
	rows := [][]byte{
		pbRow(pbInt(1, 1), pbMsg(3, pbInt(1, 2), pbInt(3, 3)), pbStr(4, "r")),
		pbRow(pbGroup(5, pbStr(2, "g")), pbMsg(3), pbMsg(3, pbInt(3, 4))),
	}
	want, err := pbDecode(d, nil, rows...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				if errs := d.Validate(rows, nil); errs != nil {
					done <- errs
					return
				}
				got, err := pbDecode(d, nil, rows...)
				if err != nil || !reflect.DeepEqual(got, want) {
					done <- errors.New("concurrent Decode differs")
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
