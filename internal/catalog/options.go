package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// Options configure a Catalog implementation. The zero value is usable.
type Options struct {
	// OnTableDeleted, if set, is called with the UID of every table that
	// DeleteTable or DeleteDataset(deleteContents) removed, after the
	// removal is durable and after the catalog released its locks (so it
	// may call back into the catalog), in the goroutine of the deleting
	// call, before that call returns. It should not block for long.
	OnTableDeleted func(uid int64)
	// Now returns the current time; nil means time.Now. Stored times keep
	// millisecond precision, as BigQuery reports them.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// invalidf returns an error wrapping ErrInvalid whose user-facing text
// (see Message) is the formatted message.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Message returns the human-readable text of err for showing to API
// users. For an error wrapping ErrInvalid it is the text after the
// "catalog: invalid: " prefix, worded like BigQuery's own message (e.g.
// `Invalid field name "x-y". Fields must contain ...`); for any other
// error it is err.Error(). It returns "" for a nil error.
func Message(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if errors.Is(err, ErrInvalid) {
		prefix := ErrInvalid.Error() + ": "
		if i := strings.Index(s, prefix); i >= 0 {
			return s[i+len(prefix):]
		}
	}
	return s
}

// Clone returns a deep copy of d (nil for nil).
func (d *Dataset) Clone() *Dataset {
	if d == nil {
		return nil
	}
	c := *d
	c.Extra = cloneExtra(d.Extra)
	return &c
}

// Clone returns a deep copy of t, including its schema (nil for nil).
// Catalog methods return tables whose Schema is shared and read-only;
// clone before modifying the schema in place.
func (t *Table) Clone() *Table {
	if t == nil {
		return nil
	}
	c := t.shallowCopy()
	c.Schema = t.Schema.Clone()
	return c
}

// shallowCopy copies t and everything it points to except the schema,
// which the catalog shares read-only between callers.
func (t *Table) shallowCopy() *Table {
	c := *t
	if t.TimePartitioning != nil {
		tp := *t.TimePartitioning
		c.TimePartitioning = &tp
	}
	if t.RangePartitioning != nil {
		rp := *t.RangePartitioning
		c.RangePartitioning = &rp
	}
	if t.Clustering != nil {
		c.Clustering = &Clustering{Fields: append([]string(nil), t.Clustering.Fields...)}
	}
	if t.Extra != nil {
		// Values are shared: a json.RawMessage is replaced, never edited.
		c.Extra = maps.Clone(t.Extra)
	}
	return &c
}

func cloneExtra(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	c := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		c[k] = append(json.RawMessage(nil), v...)
	}
	return c
}
