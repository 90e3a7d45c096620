package rowcodec

import (
	"github.com/penstockdb/penstock/internal/schema"
)

// Project maps r, a row decoded against schema version from, onto schema
// version to: columns are matched by name (case-insensitively, recursively
// into RECORDs and repeated RECORDs); columns of to that from lacks become
// NULL, or an empty array when REPEATED; columns to dropped are discarded.
// Widened column types are converted (INTEGER → NUMERIC, BIGNUMERIC or
// FLOAT; NUMERIC → BIGNUMERIC or FLOAT; BIGNUMERIC → FLOAT); any other
// type change yields NULL. r is not modified; when from == to it is
// returned as is.
func Project(r Row, from, to *schema.Table) Row {
	if from == to {
		return r
	}
	return projectFields(r, from.Fields, to.Fields)
}

func projectFields(r Row, from, to []*schema.Field) Row {
	out := make(Row, len(to))
	for i, tf := range to {
		j := lookupFold(from, tf.Name)
		if j < 0 || j >= len(r) {
			if tf.IsRepeated() {
				out[i] = []Value{}
			}
			continue
		}
		out[i] = projectValue(r[j], from[j], tf)
	}
	return out
}

func projectValue(v Value, ff, tf *schema.Field) Value {
	if tf.IsRepeated() {
		out := []Value{}
		if arr, ok := v.([]Value); ok && ff.IsRepeated() {
			out = make([]Value, 0, len(arr))
			for _, e := range arr {
				if pe := projectScalar(e, ff, tf); pe != nil {
					out = append(out, pe)
				}
			}
		} else if v != nil && !ff.IsRepeated() {
			if pe := projectScalar(v, ff, tf); pe != nil {
				out = append(out, pe)
			}
		}
		return out
	}
	if ff.IsRepeated() {
		return nil // REPEATED cannot narrow to a single value
	}
	return projectScalar(v, ff, tf)
}

func projectScalar(v Value, ff, tf *schema.Field) Value {
	if v == nil {
		return nil
	}
	if tf.Type == schema.Record {
		row, ok := v.(Row)
		if !ok || ff.Type != schema.Record {
			return nil
		}
		return projectFields(row, ff.Fields, tf.Fields)
	}
	if ff.Type == tf.Type {
		if tf.Type == schema.Range && (ff.RangeElementType == nil || tf.RangeElementType == nil ||
			ff.RangeElementType.Type != tf.RangeElementType.Type) {
			return nil
		}
		return v
	}
	switch x := v.(type) {
	case int64:
		switch tf.Type {
		case schema.Numeric:
			return DecimalFromInt64(x, false)
		case schema.BigNumeric:
			return DecimalFromInt64(x, true)
		case schema.Float:
			return float64(x)
		}
	case Decimal:
		switch tf.Type {
		case schema.BigNumeric:
			return x.ToBig()
		case schema.Float:
			return x.Float64()
		}
	}
	return nil
}
