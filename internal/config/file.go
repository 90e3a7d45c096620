package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/penstockdb/penstock/internal/schema"
)

// Project lists datasets to create in one project.
type Project struct {
	ID       string    `json:"id"`
	Datasets []Dataset `json:"datasets"`
}

// Dataset is a dataset to create at start if it does not exist.
type Dataset struct {
	ID          string            `json:"id"`
	Location    string            `json:"location,omitempty"` // default "US"
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Tables      []Table           `json:"tables,omitempty"`
}

// Table is a table to create at start if it does not exist. Its fields use
// the names and shapes of the REST Table resource. Rows are inserted only
// when the table is created, so restarting never duplicates them.
type Table struct {
	ID          string            `json:"id"`
	Schema      Schema            `json:"schema"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// TimePartitioning, RangePartitioning and Clustering are the REST
	// objects as JSON text (nil when absent); the catalog checks them.
	TimePartitioning  json.RawMessage `json:"timePartitioning,omitempty"`
	RangePartitioning json.RawMessage `json:"rangePartitioning,omitempty"`
	Clustering        json.RawMessage `json:"clustering,omitempty"`
	// Rows are JSON objects, column name → value, as in insertAll's
	// rows[].json.
	Rows []json.RawMessage `json:"rows,omitempty"`
}

// Schema is a table schema in the REST shape. In a file it may be written
// either as the list of fields (as `bq mk` takes it) or as an object with
// a "fields" list (as tables.insert takes it).
type Schema struct {
	schema.Table
}

// UnmarshalJSON accepts both a list of fields and {"fields": [...]}.
func (s *Schema) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return strictUnmarshal(b, &s.Fields)
	}
	var obj struct {
		Fields []*schema.Field `json:"fields"`
	}
	if err := strictUnmarshal(b, &obj); err != nil {
		return err
	}
	s.Fields = obj.Fields
	return nil
}

// fileConfig is the YAML file's shape; pointers tell "absent" from "zero".
type fileConfig struct {
	GRPCAddr        *string   `json:"grpcAddr"`
	HTTPAddr        *string   `json:"httpAddr"`
	DataDir         *string   `json:"dataDir"`
	InMemory        *bool     `json:"inMemory"`
	LogLevel        *string   `json:"logLevel"`
	Sync            *string   `json:"sync"`
	WALPrealloc     *bool     `json:"walPrealloc"`
	ShutdownTimeout *string   `json:"shutdownTimeout"`
	StreamingBuffer *string   `json:"streamingBuffer"`
	DedupWindow     *string   `json:"dedupWindow"`
	Projects        []Project `json:"projects"`
}

// applyFile reads the YAML file at path and sets the fields it names on c.
func applyFile(c *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: reading config file: %w", err)
	}
	var f fileConfig
	if err := parseYAML(data, &f); err != nil {
		return fmt.Errorf("config: config file %s: %w", path, err)
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.GRPCAddr, f.GRPCAddr)
	set(&c.HTTPAddr, f.HTTPAddr)
	set(&c.DataDir, f.DataDir)
	set(&c.LogLevel, f.LogLevel)
	if f.LogLevel != nil {
		c.LogLevel = strings.ToLower(c.LogLevel)
	}
	if f.Sync != nil {
		c.Sync = SyncMode(strings.ToLower(*f.Sync))
	}
	if f.InMemory != nil {
		c.InMemory = *f.InMemory
	}
	if f.WALPrealloc != nil {
		c.WALPrealloc = *f.WALPrealloc
	}
	if f.ShutdownTimeout != nil {
		d, err := time.ParseDuration(*f.ShutdownTimeout)
		if err != nil {
			return fmt.Errorf("config: config file %s: shutdownTimeout %q: want a duration such as 10s", path, *f.ShutdownTimeout)
		}
		c.ShutdownTimeout = d
	}
	if err := applyInsertAllFile(c, &f); err != nil {
		return fmt.Errorf("config: config file %s: %w", path, err)
	}
	c.Projects = f.Projects
	return nil
}

// parseYAML decodes YAML into v through JSON, so the file uses exactly the
// field names and shapes of the REST resources (camelCase, "fields",
// "timePartitioning", ...) and unknown keys are reported.
func parseYAML(data []byte, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 { // empty file
		return nil
	}
	var buf bytes.Buffer
	if err := yamlToJSON(&buf, doc.Content[0], false); err != nil {
		return err
	}
	return strictUnmarshal(buf.Bytes(), v)
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cleanJSONError(err)
	}
	return nil
}

// kindText names a Go type the way the YAML file's author thinks of it.
func kindText(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "a mapping"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return "a number"
}

var goTypeNoise = regexp.MustCompile(`Go (struct field|value of type) `)

// cleanJSONError rewords encoding/json errors for a reader of the YAML file.
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := te.Field
		if where == "" {
			where = "value"
		}
		return fmt.Errorf("%s: a %s is not allowed here (want %s)", where, te.Value, kindText(te.Type))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return errors.New(goTypeNoise.ReplaceAllString(msg, ""))
}

// stringIntKeys are the REST objects whose int64 fields travel as JSON
// strings; inside them YAML integers are written out as strings.
var stringIntKeys = map[string]bool{
	"schema": true, "timePartitioning": true, "rangePartitioning": true,
}

// yamlToJSON writes node as JSON. Integers become JSON numbers with their
// exact digits (or strings inside stringIntKeys objects), timestamps and
// other tagged scalars stay as their source text, and non-finite floats
// become the strings BigQuery accepts ("NaN", "Infinity", "-Infinity").
func yamlToJSON(buf *bytes.Buffer, n *yaml.Node, intsAsStrings bool) error {
	switch n.Kind {
	case yaml.AliasNode:
		return yamlToJSON(buf, n.Alias, intsAsStrings)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			buf.WriteString("null")
			return nil
		}
		return yamlToJSON(buf, n.Content[0], intsAsStrings)
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := yamlToJSON(buf, c, intsAsStrings); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: map keys must be plain names", k.Line)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, k.Value)
			buf.WriteByte(':')
			if err := yamlToJSON(buf, v, intsAsStrings || stringIntKeys[k.Value]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case yaml.ScalarNode:
		return scalarToJSON(buf, n, intsAsStrings)
	}
	return fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func scalarToJSON(buf *bytes.Buffer, n *yaml.Node, intsAsStrings bool) error {
	switch n.ShortTag() {
	case "!!null":
		buf.WriteString("null")
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return fmt.Errorf("line %d: %v", n.Line, err)
		}
		buf.WriteString(strconv.FormatBool(b))
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			// Out of int64 range: keep the digits; the consumer reports it.
			writeJSONString(buf, n.Value)
			return nil
		}
		if intsAsStrings {
			writeJSONString(buf, strconv.FormatInt(i, 10))
		} else {
			buf.WriteString(strconv.FormatInt(i, 10))
		}
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return fmt.Errorf("line %d: %v", n.Line, err)
		}
		switch {
		case math.IsNaN(f):
			writeJSONString(buf, "NaN")
		case math.IsInf(f, 1):
			writeJSONString(buf, "Infinity")
		case math.IsInf(f, -1):
			writeJSONString(buf, "-Infinity")
		default:
			buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	default: // !!str, !!timestamp, !!binary, custom tags: the text as written
		writeJSONString(buf, n.Value)
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // cannot fail for a string
	buf.Write(b)
}

// validateProjects checks the resources of the config file for what can be
// judged without the catalog: ids present and unique, rows are objects.
// Schemas and ids are checked again, fully, by the catalog at start.
func validateProjects(ps []Project) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// named checks one listed resource's id and returns where it is, for
	// messages: "<parent>: <kind> <id>", or "<parent>: <list>[i]" without one.
	named := func(parent, kind, list string, i int, id string, seen map[string]bool) string {
		where := fmt.Sprintf("%s: %s[%d]", parent, list, i)
		if id == "" {
			add("%s: id is required", where)
			return where
		}
		where = fmt.Sprintf("%s: %s %s", parent, kind, id)
		if seen[id] {
			add("%s: listed twice", where)
		}
		seen[id] = true
		return where
	}
	seenP := map[string]bool{}
	for i, p := range ps {
		where := named("config file", "project", "projects", i, p.ID, seenP)
		seenD := map[string]bool{}
		for j, d := range p.Datasets {
			dwhere := named(where, "dataset", "datasets", j, d.ID, seenD)
			seenT := map[string]bool{}
			for k, t := range d.Tables {
				twhere := named(dwhere, "table", "tables", k, t.ID, seenT)
				if len(t.Schema.Fields) == 0 && len(t.Rows) > 0 {
					add("%s: rows need a schema", twhere)
				}
				for r, row := range t.Rows {
					if b := bytes.TrimSpace(row); len(b) == 0 || b[0] != '{' {
						add("%s: rows[%d]: want an object of column: value", twhere, r)
					}
				}
			}
		}
	}
	return problems
}
