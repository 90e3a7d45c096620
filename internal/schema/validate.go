package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
)

// Limits BigQuery applies to table schemas.
const (
	// MaxFieldNameLength is the longest column name accepted, in bytes.
	MaxFieldNameLength = 300
	// MaxNestingDepth is the deepest a column may sit: top-level columns
	// are at depth 1, the sub-fields of a top-level RECORD at depth 2.
	MaxNestingDepth = 15
	// MaxLeafFields is the most non-RECORD columns (counting those inside
	// RECORDs) a table may have.
	MaxLeafFields = 10000
)

// reservedPrefixes are the top-level column-name prefixes BigQuery keeps
// for its pseudo-columns; compared case-insensitively.
var reservedPrefixes = []string{
	"_PARTITION", "_TABLE_", "_FILE_", "_ROW_TIMESTAMP", "__ROOT__", "_COLIDENTIFIER",
}

// Error is a schema that BigQuery would refuse. Its message is worded like
// BigQuery's own, without any package prefix, so transports can show it to
// users verbatim.
type Error struct {
	Msg string
}

// Error returns the user-facing message.
func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// Normalize returns a deep copy of t in the canonical form the service
// stores and returns: every type name in its legacy spelling (INT64 →
// INTEGER, STRUCT → RECORD, case-insensitive), every mode upper-cased and
// NULLABLE when unset, RANGE element types likewise spelled. Names it does
// not recognise are upper-cased and left for Validate to refuse. A nil t
// gives nil. t itself is not modified.
func Normalize(t *Table) *Table {
	if t == nil {
		return nil
	}
	return &Table{Fields: normalizeFields(t.Fields)}
}

// normalizeFields returns normalized deep copies of fs; nil entries (which
// Validate refuses) stay nil rather than panicking.
func normalizeFields(fs []*Field) []*Field {
	if fs == nil {
		return nil
	}
	out := make([]*Field, len(fs))
	for i, f := range fs {
		if f == nil {
			continue
		}
		c := *f // not f.Clone: its recursion would trip over nil sub-fields
		if f.RangeElementType != nil {
			r := *f.RangeElementType
			c.RangeElementType = &r
		}
		c.PolicyTags = maps.Clone(f.PolicyTags)
		c.Type = normalizeType(c.Type)
		if c.Mode == "" {
			c.Mode = Nullable
		} else {
			c.Mode = Mode(strings.ToUpper(strings.TrimSpace(string(c.Mode))))
		}
		if c.RangeElementType != nil {
			c.RangeElementType.Type = normalizeType(c.RangeElementType.Type)
		}
		c.Fields = normalizeFields(f.Fields)
		out[i] = &c
	}
	return out
}

func normalizeType(t Type) Type {
	if lt, ok := ParseType(string(t)); ok {
		return lt
	}
	return Type(strings.ToUpper(strings.TrimSpace(string(t))))
}

// Validate reports whether t is a schema BigQuery accepts for a new table,
// returning the first problem found as an *Error, or nil. A nil or empty
// schema is valid (a table may have no columns yet). Type and mode names
// may be in any accepted spelling; Normalize is not required first.
//
// Checked: field names (letters, digits, underscores, starting with a
// letter or underscore, at most 300 characters), names unique
// case-insensitively among siblings, reserved pseudo-column prefixes on
// top-level names, known types and modes, RECORD fields have sub-fields
// and no other type does, RANGE element types, maxLength, precision and
// scale bounds, timestampPrecision, nesting depth and the leaf-column
// limit.
func Validate(t *Table) error {
	if t == nil {
		return nil
	}
	leaves := 0
	if err := validateFields(t.Fields, 1, "", &leaves); err != nil {
		return err
	}
	if leaves > MaxLeafFields {
		return errorf("Too many total leaf fields: %d, max allowed field count: %d", leaves, MaxLeafFields)
	}
	return nil
}

func validateFields(fs []*Field, depth int, prefix string, leaves *int) error {
	seen := make(map[string]bool, len(fs))
	for _, f := range fs {
		if f == nil {
			return errorf("Empty field in schema")
		}
		if !validFieldName(f.Name) {
			return errorf("Invalid field name %q. Fields must contain only letters, numbers, and underscores, start with a letter or underscore, and be at most %d characters long.", f.Name, MaxFieldNameLength)
		}
		path := prefix + f.Name
		if depth == 1 {
			if p, ok := reservedPrefix(f.Name); ok {
				return errorf("Invalid field name %q. Field names are not allowed to start with the (case-insensitive) prefix %s", f.Name, p)
			}
		}
		key := strings.ToLower(f.Name)
		if seen[key] {
			return errorf("Field %s already exists in schema", path)
		}
		seen[key] = true
		if err := validateField(f, depth, path, leaves); err != nil {
			return err
		}
	}
	return nil
}

func validateField(f *Field, depth int, path string, leaves *int) error {
	typ, ok := ParseType(string(f.Type))
	if !ok {
		return errorf("Invalid value for type: %s is not a valid value", f.Type)
	}
	switch Mode(strings.ToUpper(strings.TrimSpace(string(f.Mode)))) {
	case "", Nullable, Required, Repeated:
	default:
		return errorf("Invalid value for mode: %s is not a valid value", f.Mode)
	}
	if typ == Record {
		if len(f.Fields) == 0 {
			return errorf("Field %s is type RECORD but has no schema", path)
		}
		if depth >= MaxNestingDepth {
			return errorf("Field %s: schema nesting depth exceeds the maximum of %d levels", path, MaxNestingDepth)
		}
		if err := validateFields(f.Fields, depth+1, path+".", leaves); err != nil {
			return err
		}
	} else {
		if len(f.Fields) != 0 {
			return errorf("Field %s is type %s but has sub-fields; only RECORD fields may have sub-fields", path, typ)
		}
		*leaves++
	}
	return validateTypeParams(f, typ, path)
}

// validateTypeParams checks the attributes that only some types accept.
func validateTypeParams(f *Field, typ Type, path string) error {
	if typ == Range {
		if f.RangeElementType == nil || f.RangeElementType.Type == "" {
			return errorf("Field %s is type RANGE but has no range element type", path)
		}
		et, _ := ParseType(string(f.RangeElementType.Type))
		switch et {
		case Date, DateTime, Timestamp:
		default:
			return errorf("Field %s has unsupported range element type %s. Supported element types are DATE, DATETIME and TIMESTAMP", path, f.RangeElementType.Type)
		}
	} else if f.RangeElementType != nil {
		return errorf("Field %s is type %s; rangeElementType is only allowed for RANGE fields", path, typ)
	}

	if f.MaxLength != 0 {
		if typ != String && typ != Bytes {
			return errorf("Field %s is type %s; maxLength is only allowed for STRING and BYTES fields", path, typ)
		}
		if f.MaxLength < 0 {
			return errorf("Field %s has invalid maxLength %d; maxLength must be positive", path, f.MaxLength)
		}
	}

	if f.Precision != 0 || f.Scale != 0 {
		if err := validateDecimal(f, typ, path); err != nil {
			return err
		}
	}

	if f.TimestampPrecision != 0 {
		if typ != Timestamp {
			return errorf("Field %s is type %s; timestampPrecision is only allowed for TIMESTAMP fields", path, typ)
		}
		if f.TimestampPrecision != 6 && f.TimestampPrecision != 12 {
			return errorf("Field %s has invalid timestampPrecision %d; supported values are 6 and 12", path, f.TimestampPrecision)
		}
	}

	if f.RoundingMode != "" {
		if typ != Numeric && typ != BigNumeric {
			return errorf("Field %s is type %s; roundingMode is only allowed for NUMERIC and BIGNUMERIC fields", path, typ)
		}
		switch f.RoundingMode {
		case "ROUNDING_MODE_UNSPECIFIED", "ROUND_HALF_AWAY_FROM_ZERO", "ROUND_HALF_EVEN":
		default:
			return errorf("Invalid value for roundingMode: %s is not a valid value", f.RoundingMode)
		}
	}

	if f.Collation != "" && typ != String {
		return errorf("Field %s is type %s; collation is only allowed for STRING fields", path, typ)
	}
	return nil
}

// validateDecimal checks a parameterised NUMERIC(P[, S]) or
// BIGNUMERIC(P[, S]) column: at least one and at most 29 (38) integer
// digits, P−S, and a scale of 0..9 (0..38).
func validateDecimal(f *Field, typ Type, path string) error {
	var maxInt, maxScale int64
	switch typ {
	case Numeric:
		maxInt, maxScale = 29, 9
	case BigNumeric:
		maxInt, maxScale = 38, 38
	default:
		return errorf("Field %s is type %s; precision and scale are only allowed for NUMERIC and BIGNUMERIC fields", path, typ)
	}
	if f.Precision == 0 {
		return errorf("Field %s has scale %d but no precision; scale requires precision", path, f.Scale)
	}
	p, s := f.Precision, f.Scale
	if s < 0 || s > maxScale || p-s < 1 || p-s > maxInt {
		return errorf("Invalid %s precision %d and scale %d for field %s. Scale must be between 0 and %d, and precision minus scale between 1 and %d", typ, p, s, path, maxScale, maxInt)
	}
	return nil
}

// validFieldName reports whether s is a strict BigQuery column name.
func validFieldName(s string) bool {
	if len(s) == 0 || len(s) > MaxFieldNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func reservedPrefix(name string) (string, bool) {
	for _, p := range reservedPrefixes {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return p, true
		}
	}
	return "", false
}

// CheckEvolution reports whether a table whose schema is old may have its
// schema replaced by new (a complete schema, as tables.patch and
// tables.update supply). Both should be normalized and new should already
// pass Validate. It returns nil if the change is permitted, else an *Error
// naming the first offending field by its dotted path, worded like the
// text BigQuery puts after "Provided Schema does not match Table p:d.t.".
//
// Permitted: every old column kept at its position with the same type
// (including type parameters such as maxLength, precision, scale, the
// RANGE element type and timestampPrecision) and the same mode, or a mode
// relaxed from REQUIRED to NULLABLE; new NULLABLE or REPEATED columns
// appended after the existing ones, at the top level or inside a RECORD;
// changes to description, policyTags, defaultValueExpression and
// roundingMode; a change in the letter case of a name. Everything else is
// refused.
func CheckEvolution(old, new *Table) error {
	var of, nf []*Field
	if old != nil {
		of = old.Fields
	}
	if new != nil {
		nf = new.Fields
	}
	return checkEvolution(of, nf, "")
}

func checkEvolution(old, new []*Field, prefix string) error {
	for _, f := range new {
		if f == nil {
			return errorf("Empty field in schema")
		}
	}
	for i, o := range old {
		if o == nil {
			continue // a stored schema never holds one; nothing to keep
		}
		path := prefix + o.Name
		j := lookup(new, o.Name)
		if j < 0 {
			return errorf("Field %s is missing in new schema", path)
		}
		if j != i {
			return errorf("Field %s has changed position from %d to %d; existing fields must keep their order and new fields must be appended", path, i, j)
		}
		n := new[j]
		if ot, nt := typeString(o), typeString(n); ot != nt {
			return errorf("Field %s has changed type from %s to %s", path, ot, nt)
		}
		om, nm := modeOf(o), modeOf(n)
		if om != nm && !(om == Required && nm == Nullable) {
			return errorf("Field %s has changed mode from %s to %s", path, om, nm)
		}
		if o.Collation != n.Collation {
			return errorf("Field %s has changed collation from %q to %q", path, o.Collation, n.Collation)
		}
		if err := checkEvolution(o.Fields, n.Fields, path+"."); err != nil {
			return err
		}
	}
	for _, n := range new[min(len(old), len(new)):] {
		if modeOf(n) == Required {
			return errorf("Cannot add required fields to an existing schema. (field: %s)", prefix+n.Name)
		}
	}
	return nil
}

func modeOf(f *Field) Mode {
	if f.Mode == "" {
		return Nullable
	}
	return Mode(strings.ToUpper(string(f.Mode)))
}

// typeString spells a field's type with its parameters, e.g. STRING(10),
// NUMERIC(10, 2), RANGE<DATE>, TIMESTAMP(12); RECORD for records (their
// sub-fields are compared one by one).
func typeString(f *Field) string {
	t := normalizeType(f.Type)
	switch {
	case (t == String || t == Bytes) && f.MaxLength != 0:
		return fmt.Sprintf("%s(%d)", t, f.MaxLength)
	case (t == Numeric || t == BigNumeric) && f.Precision != 0:
		if f.Scale != 0 {
			return fmt.Sprintf("%s(%d, %d)", t, f.Precision, f.Scale)
		}
		return fmt.Sprintf("%s(%d)", t, f.Precision)
	case t == Range && f.RangeElementType != nil:
		return fmt.Sprintf("RANGE<%s>", normalizeType(f.RangeElementType.Type))
	case t == Timestamp && f.TimestampPrecision != 0 && f.TimestampPrecision != 6:
		return fmt.Sprintf("TIMESTAMP(%d)", f.TimestampPrecision)
	}
	return string(t)
}

// Equal reports whether a and b describe the same schema, attribute for
// attribute (nil and empty are equal). Compare normalized schemas: it does
// not treat type aliases as equal.
func Equal(a, b *Table) bool {
	var af, bf []*Field
	if a != nil {
		af = a.Fields
	}
	if b != nil {
		bf = b.Fields
	}
	if len(af) == 0 && len(bf) == 0 {
		return true
	}
	// The JSON form covers every attribute, including the opaque
	// policyTags, and encodes maps with sorted keys, so equal schemas give
	// equal bytes.
	aj, aerr := json.Marshal(af)
	bj, berr := json.Marshal(bf)
	return aerr == nil && berr == nil && string(aj) == string(bj)
}
