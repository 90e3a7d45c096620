package rowcodec_test

import (
	"testing"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

func TestProject(t *testing.T) {
	from := &schema.Table{Fields: []*schema.Field{
		{Name: "id", Type: schema.Integer},
		{Name: "gone", Type: schema.String},
		{Name: "n", Type: schema.Integer},
		{Name: "dec", Type: schema.Numeric},
		{Name: "rec", Type: schema.Record, Fields: []*schema.Field{{Name: "a", Type: schema.String}}},
		{Name: "recs", Type: schema.Record, Mode: schema.Repeated, Fields: []*schema.Field{{Name: "a", Type: schema.String}}},
		{Name: "s", Type: schema.String},
	}}
	to := &schema.Table{Fields: []*schema.Field{
		{Name: "ID", Type: schema.Integer},
		{Name: "n", Type: schema.Numeric},
		{Name: "dec", Type: schema.BigNumeric},
		{Name: "rec", Type: schema.Record, Fields: []*schema.Field{
			{Name: "A", Type: schema.String}, {Name: "b", Type: schema.Integer}, {Name: "c", Type: schema.Integer, Mode: schema.Repeated},
		}},
		{Name: "recs", Type: schema.Record, Mode: schema.Repeated, Fields: []*schema.Field{
			{Name: "b", Type: schema.Date}, {Name: "a", Type: schema.String},
		}},
		{Name: "added", Type: schema.String},
		{Name: "added_arr", Type: schema.Integer, Mode: schema.Repeated},
		{Name: "s", Type: schema.Integer}, // incompatible change → NULL
	}}
	dec, _ := rowcodec.ParseNumeric("1.25", false)
	in := rowcodec.Row{int64(1), "x", int64(5), dec, rowcodec.Row{"ra"},
		[]rowcodec.Value{rowcodec.Row{"e0"}, rowcodec.Row{"e1"}}, "str"}
	got := rowcodec.Project(in, from, to)
	bigDec, _ := rowcodec.ParseNumeric("1.25", true)
	want := rowcodec.Row{
		int64(1), rowcodec.DecimalFromInt64(5, false), bigDec,
		rowcodec.Row{"ra", nil, []rowcodec.Value{}},
		[]rowcodec.Value{rowcodec.Row{nil, "e0"}, rowcodec.Row{nil, "e1"}},
		nil, []rowcodec.Value{}, nil,
	}
	if !valueEqual(got, want) {
		t.Errorf("Project\n got %#v\nwant %#v", got, want)
	}
	if in[1] != "x" || len(in) != 7 {
		t.Errorf("input modified: %#v", in)
	}
	if same := rowcodec.Project(in, from, from); &same[0] != &in[0] {
		t.Error("Project with identical schemas should return the row as is")
	}
	// NULL record stays NULL.
	in[4] = nil
	if got := rowcodec.Project(in, from, to); got[3] != nil {
		t.Errorf("NULL record projected to %#v", got[3])
	}
}
