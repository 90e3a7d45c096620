package write

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// Change data capture (spec §4.8): on a table with a primary key, a writer
// schema may carry the pseudo-columns _CHANGE_TYPE (UPSERT or DELETE) and
// _CHANGE_SEQUENCE_NUMBER. They are never stored as columns: rows are
// stored as sent, and reads apply the changes per key, in sequence-number
// order (log order for ties and for rows without one).

// Pseudo-column names (matched case-insensitively).
const (
	changeTypeColumn = "_CHANGE_TYPE"
	changeSeqColumn  = "_CHANGE_SEQUENCE_NUMBER"
)

// changeKind is a row's change type.
type changeKind uint8

const (
	changeInsert changeKind = iota // plain append (INSERT or unset)
	changeUpsert
	changeDelete
)

// cdcInfo is a decoded row's change type and sequence number.
type cdcInfo struct {
	kind changeKind
	seq  []uint64 // nil when absent
}

// primaryKey returns the table's primary-key columns (top-level names), or
// nil when the table has none. The key is declared in the REST resource's
// tableConstraints member, which the catalog keeps in Extra.
func primaryKey(t *catalog.Table) []string {
	raw, ok := t.Extra["tableConstraints"]
	if !ok {
		return nil
	}
	var tc struct {
		PrimaryKey *struct {
			Columns []string `json:"columns"`
		} `json:"primaryKey"`
	}
	if json.Unmarshal(raw, &tc) != nil || tc.PrimaryKey == nil {
		return nil
	}
	return tc.PrimaryKey.Columns
}

// hasChangeType reports whether a writer schema carries _CHANGE_TYPE.
func hasChangeType(desc *descriptorpb.DescriptorProto) bool {
	for _, f := range desc.GetField() {
		if strings.EqualFold(f.GetName(), changeTypeColumn) {
			return true
		}
	}
	return false
}

// cdcSchema is the table schema plus the two pseudo-columns, which writer
// schemas of CDC writers are compiled against. They come last, so row
// values for real columns keep their indices.
func cdcSchema(s *schema.Table) *schema.Table {
	out := &schema.Table{Fields: append(append([]*schema.Field{}, s.Fields...),
		&schema.Field{Name: changeTypeColumn, Type: schema.String, Mode: schema.Nullable},
		&schema.Field{Name: changeSeqColumn, Type: schema.String, Mode: schema.Nullable},
	)}
	return out
}

// changeOf reads the pseudo-columns of a row decoded against cdcSchema of
// a table with n real columns.
func changeOf(r rowcodec.Row, n int) (cdcInfo, string) {
	var ci cdcInfo
	if v, ok := r[n].(string); ok {
		switch strings.ToUpper(v) {
		case "UPSERT":
			ci.kind = changeUpsert
		case "DELETE":
			ci.kind = changeDelete
		case "INSERT", "":
		default:
			return ci, fmt.Sprintf("The given value is not a valid CHANGE_TYPE: %q.", v)
		}
	}
	if v, ok := r[n+1].(string); ok {
		seq, err := parseChangeSequence(v)
		if err != nil {
			return ci, err.Error()
		}
		ci.seq = seq
	}
	return ci, ""
}

// parseChangeSequence parses 1-4 '/'-separated sections of 1-16 hex digits.
func parseChangeSequence(s string) ([]uint64, error) {
	parts := strings.Split(s, "/")
	if len(parts) > 4 {
		return nil, fmt.Errorf("_CHANGE_SEQUENCE_NUMBER %q has more than 4 sections", s)
	}
	out := make([]uint64, len(parts))
	for i, p := range parts {
		if len(p) == 0 || len(p) > 16 {
			return nil, fmt.Errorf("_CHANGE_SEQUENCE_NUMBER %q: each section needs 1 to 16 hexadecimal digits", s)
		}
		v, err := strconv.ParseUint(p, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("_CHANGE_SEQUENCE_NUMBER %q is not hexadecimal", s)
		}
		out[i] = v
	}
	return out, nil
}

// seqLess reports whether a orders before b: section by section as
// unsigned integers; an absent number orders before any present one, and
// a shorter equal prefix before a longer one.
func seqLess(a, b []uint64) bool {
	if a == nil || b == nil {
		return a == nil && b != nil
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// checkChanges validates the change types of a CDC writer's rows: UPSERT
// and DELETE only on the _default stream, never mixed on one connection
// with plain rows. w.cdcMode remembers what the connection has sent.
func (w *Writer) checkChanges(s *Stream, rows [][]byte, o *rowcodec.Options) error {
	n := len(w.table.Schema.Fields)
	var bad error
	err := w.dec.Decode(rows, o, func(i int, r rowcodec.Row) error {
		ci, msg := changeOf(r, n)
		if msg == "" && ci.kind != changeInsert && !s.IsDefault() {
			msg = "The given value is not a valid CHANGE_TYPE: UPSERT and DELETE are only supported on the _default stream."
		}
		mode := int8(1)
		if ci.kind != changeInsert {
			mode = 2
		}
		if msg == "" && w.cdcMode != 0 && w.cdcMode != mode {
			msg = "The given value is not a valid CHANGE_TYPE: a connection cannot mix UPSERT/DELETE rows with INSERT or unset rows."
		}
		if msg != "" {
			bad = &Error{Kind: ErrInvalidArgument, Entity: s.Name, Message: msg}
			return bad
		}
		w.cdcMode = mode
		return nil
	})
	if bad != nil {
		return bad
	}
	return err // row errors are reported by Validate, which ran first
}

// mergeChanges applies UPSERT/DELETE rows by primary key, in log order,
// keeping the change with the highest sequence number (the later one on
// ties). Plain rows pass through. It returns the indices of the rows that
// remain, in log order: plain rows where they were appended, keyed rows
// where their winning change was.
func mergeChanges(t *catalog.Table, rows []rowcodec.Row, infos []cdcInfo) []int {
	var idx []int
	for _, c := range primaryKey(t) {
		if i := t.Schema.Lookup(c); i >= 0 {
			idx = append(idx, i)
		}
	}
	type state struct {
		seq     []uint64
		at      int // index of the winning change
		deleted bool
	}
	keyed := map[string]*state{}
	keys := make([]string, len(rows))
	for i, r := range rows {
		ci := infos[i]
		if ci.kind == changeInsert {
			continue
		}
		var kb strings.Builder
		for _, j := range idx {
			fmt.Fprintf(&kb, "%T:%v\x00", r[j], r[j])
		}
		k := kb.String()
		keys[i] = k
		if cur := keyed[k]; cur != nil && seqLess(ci.seq, cur.seq) {
			continue
		}
		keyed[k] = &state{seq: ci.seq, at: i, deleted: ci.kind == changeDelete}
	}
	keep := make([]int, 0, len(rows))
	for i := range rows {
		if infos[i].kind != changeInsert {
			st := keyed[keys[i]]
			if st.at != i || st.deleted {
				continue
			}
		}
		keep = append(keep, i)
	}
	return keep
}
