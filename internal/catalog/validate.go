package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/penstockdb/penstock/internal/schema"
)

// MaxIDLength is the longest dataset or table id accepted, in bytes.
const MaxIDLength = 1024

// MaxClusteringFields is the most clustering columns a table may have.
const MaxClusteringFields = 4

// ValidateDatasetID returns an error wrapping ErrInvalid unless id is a
// valid dataset id: 1 to 1024 ASCII letters, digits and underscores.
func ValidateDatasetID(id string) error {
	ok := id != "" && len(id) <= MaxIDLength
	for i := 0; ok && i < len(id); i++ {
		ok = isASCIIWord(id[i])
	}
	if !ok {
		return invalidf("Invalid dataset ID %q. Dataset IDs must be alphanumeric (plus underscores) and must be at most %d characters long.", id, MaxIDLength)
	}
	return nil
}

// ValidateTableID returns an error wrapping ErrInvalid unless id is a
// valid table id: 1 to 1024 bytes of letters (any script), digits,
// underscores and dashes. Decorators such as "t$20240101" are not table
// ids; transports strip them before calling the catalog.
func ValidateTableID(id string) error {
	ok := id != "" && len(id) <= MaxIDLength && utf8.ValidString(id)
	for _, r := range id {
		if !ok {
			break
		}
		ok = r < utf8.RuneSelf && (isASCIIWord(byte(r)) || r == '-') ||
			r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
	}
	if !ok {
		return invalidf("Invalid table ID %q. Table IDs must be alphanumeric (plus underscores) and must be at most %d characters long. Also, Table decorators cannot be used.", id, MaxIDLength)
	}
	return nil
}

func isASCIIWord(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func validateProject(p string) error {
	if p == "" || strings.ContainsAny(p, "/?#") {
		return invalidf("Invalid project ID %q.", p)
	}
	return nil
}

// schemaError turns a *schema.Error into an ErrInvalid error with the same
// message; other errors pass through.
func schemaError(err error, prefix string) error {
	var se *schema.Error
	if errors.As(err, &se) {
		return invalidf("%s%s", prefix, se.Msg)
	}
	return err
}

// ValidateLayout returns an error wrapping ErrInvalid unless the
// partitioning and clustering fit schema s, as BigQuery requires:
//   - at most one of time and range partitioning;
//   - time partitioning of type DAY, HOUR, MONTH or YEAR (HOUR not on a
//     DATE column), on no column (ingestion time) or on a top-level
//     DATE, TIMESTAMP or DATETIME column that is not REPEATED, and a
//     non-negative expirationMs;
//   - range partitioning on a top-level INTEGER column that is not
//     REPEATED, with interval > 0 and start < end;
//   - at most 4 distinct clustering columns, each top-level, not REPEATED
//     and of a clusterable type.
//
// Column names match case-insensitively. tp.Type must already be
// upper-case (CreateTable and UpdateTable upper-case it and fill in DAY).
func ValidateLayout(s *schema.Table, tp *TimePartitioning, rp *RangePartitioning, cl *Clustering) error {
	if s == nil {
		s = &schema.Table{}
	}
	if tp != nil && rp != nil {
		return invalidf("Cannot specify both time partitioning and range partitioning.")
	}
	if tp != nil {
		if err := validateTimePartitioning(s, tp); err != nil {
			return err
		}
	}
	if rp != nil {
		if err := validateRangePartitioning(s, rp); err != nil {
			return err
		}
	}
	if cl != nil {
		if err := validateClustering(s, cl); err != nil {
			return err
		}
	}
	return nil
}

func validateTimePartitioning(s *schema.Table, tp *TimePartitioning) error {
	switch tp.Type {
	case "DAY", "HOUR", "MONTH", "YEAR":
	default:
		return invalidf("Invalid value for timePartitioning.type: %s is not a valid value", tp.Type)
	}
	if tp.ExpirationMs < 0 {
		return invalidf("Invalid value for timePartitioning.expirationMs: %d; it must not be negative", tp.ExpirationMs)
	}
	if tp.Field == "" {
		return nil
	}
	i := s.Lookup(tp.Field)
	if i < 0 {
		return invalidf("The field specified for partitioning cannot be found in the schema")
	}
	f := s.Fields[i]
	switch f.Type {
	case schema.Date, schema.Timestamp, schema.DateTime:
	default:
		return invalidf("The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME. The type found is: %s.", f.Type)
	}
	if f.IsRepeated() {
		return invalidf("The field specified for time partitioning cannot be REPEATED: %s", f.Name)
	}
	if tp.Type == "HOUR" && f.Type == schema.Date {
		return invalidf("HOUR partitioning is not supported on DATE field %s; use DAY, MONTH or YEAR.", f.Name)
	}
	return nil
}

func validateRangePartitioning(s *schema.Table, rp *RangePartitioning) error {
	if rp.Field == "" {
		return invalidf("Range partitioning requires a field.")
	}
	i := s.Lookup(rp.Field)
	if i < 0 {
		return invalidf("The field specified for partitioning cannot be found in the schema")
	}
	f := s.Fields[i]
	if f.Type != schema.Integer || f.IsRepeated() {
		return invalidf("The field specified for range partitioning can only be of type INTEGER and must not be REPEATED. The type found is: %s %s.", f.Mode, f.Type)
	}
	r := rp.Range
	if r.Interval <= 0 {
		return invalidf("Invalid range partitioning interval %d; it must be positive.", r.Interval)
	}
	if r.Start >= r.End {
		return invalidf("Invalid range partitioning range: start %d must be less than end %d.", r.Start, r.End)
	}
	return nil
}

// clusterable lists the column types a table may be clustered on.
var clusterable = map[schema.Type]bool{
	schema.String: true, schema.Bytes: true, schema.Integer: true, schema.Boolean: true,
	schema.Timestamp: true, schema.Date: true, schema.DateTime: true, schema.Geography: true,
	schema.Numeric: true, schema.BigNumeric: true, schema.Range: true,
}

func validateClustering(s *schema.Table, cl *Clustering) error {
	if len(cl.Fields) > MaxClusteringFields {
		return invalidf("Too many clustering fields: %d. At most %d clustering fields are allowed.", len(cl.Fields), MaxClusteringFields)
	}
	seen := make(map[string]bool, len(cl.Fields))
	for _, name := range cl.Fields {
		i := s.Lookup(name)
		if i < 0 {
			return invalidf("The field specified for clustering cannot be found in the schema. Invalid field: %s", name)
		}
		f := s.Fields[i]
		if seen[strings.ToLower(f.Name)] {
			return invalidf("Duplicate clustering field: %s", name)
		}
		seen[strings.ToLower(f.Name)] = true
		if f.IsRepeated() || !clusterable[f.Type] {
			return invalidf("Field %s of type %s is not supported for clustering.", f.Name, fieldKind(f))
		}
	}
	return nil
}

func fieldKind(f *schema.Field) string {
	if f.IsRepeated() {
		return fmt.Sprintf("ARRAY<%s>", f.Type)
	}
	return string(f.Type)
}

// checkLayoutChange refuses partitioning changes BigQuery does not allow
// on an existing table: adding, removing or changing the column or unit
// of time partitioning, and any change to range partitioning. A time
// partitioning's expirationMs and requirePartitionFilter may change, and
// clustering may change freely.
func checkLayoutChange(old, new *Table, name string) error {
	ot, nt := old.TimePartitioning, new.TimePartitioning
	switch {
	case ot == nil && nt != nil:
		return invalidf("Cannot convert non-partitioned table %s to a partitioned table.", name)
	case ot != nil && nt == nil:
		return invalidf("Cannot remove time partitioning from table %s.", name)
	case ot != nil && (ot.Type != nt.Type || !strings.EqualFold(ot.Field, nt.Field)):
		return invalidf("Cannot change the time partitioning of table %s from %s on %s to %s on %s.",
			name, ot.Type, partField(ot.Field), nt.Type, partField(nt.Field))
	}
	or, nr := old.RangePartitioning, new.RangePartitioning
	switch {
	case or == nil && nr == nil:
	case or == nil || nr == nil || !strings.EqualFold(or.Field, nr.Field) || or.Range != nr.Range:
		return invalidf("Cannot change the range partitioning of table %s.", name)
	}
	return nil
}

func partField(f string) string {
	if f == "" {
		return "_PARTITIONTIME"
	}
	return f
}

// MaxPrimaryKeyColumns is BigQuery's limit on primary-key columns.
const MaxPrimaryKeyColumns = 16

// ValidateConstraints checks a table's tableConstraints (raw REST JSON, as
// kept in Extra; nil or JSON null means none): every primary-key column
// must be a distinct top-level, non-repeated column, at most
// MaxPrimaryKeyColumns of them. Change data capture keys rows by it.
// Foreign keys are kept as given.
func ValidateConstraints(s *schema.Table, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var tc struct {
		PrimaryKey *struct {
			Columns []string `json:"columns"`
		} `json:"primaryKey"`
	}
	if err := json.Unmarshal(raw, &tc); err != nil {
		return invalidf("Invalid tableConstraints: %v", err)
	}
	if tc.PrimaryKey == nil {
		return nil
	}
	cols := tc.PrimaryKey.Columns
	if len(cols) == 0 {
		return invalidf("Invalid primary key: it must name at least one column.")
	}
	if len(cols) > MaxPrimaryKeyColumns {
		return invalidf("Invalid primary key: %d columns, at most %d are allowed.", len(cols), MaxPrimaryKeyColumns)
	}
	seen := make(map[string]bool, len(cols))
	for _, c := range cols {
		i := s.Lookup(c)
		if i < 0 {
			return invalidf("Invalid primary key: column %s is not a top-level column of the table.", c)
		}
		f := s.Fields[i]
		if seen[strings.ToLower(f.Name)] {
			return invalidf("Invalid primary key: column %s is listed twice.", c)
		}
		seen[strings.ToLower(f.Name)] = true
		if f.IsRepeated() {
			return invalidf("Invalid primary key: column %s is REPEATED.", c)
		}
	}
	return nil
}
