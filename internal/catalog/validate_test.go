package catalog_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/schema"
)

func TestValidateConstraints(t *testing.T) {
	s := &schema.Table{Fields: []*schema.Field{
		{Name: "id", Type: schema.Integer, Mode: schema.Required},
		{Name: "region", Type: schema.String, Mode: schema.Nullable},
		{Name: "tags", Type: schema.String, Mode: schema.Repeated},
	}}
	tests := []struct {
		name, raw, wantErr string
	}{
		{name: "none", raw: ``},
		{name: "null", raw: `null`},
		{name: "no primary key", raw: `{"foreignKeys":[]}`},
		{name: "ok", raw: `{"primaryKey":{"columns":["ID","region"]}}`},
		{name: "empty", raw: `{"primaryKey":{"columns":[]}}`, wantErr: "at least one column"},
		{name: "missing column", raw: `{"primaryKey":{"columns":["nope"]}}`, wantErr: "column nope is not a top-level column"},
		{name: "repeated", raw: `{"primaryKey":{"columns":["tags"]}}`, wantErr: "column tags is REPEATED"},
		{name: "twice", raw: `{"primaryKey":{"columns":["id","Id"]}}`, wantErr: "listed twice"},
		{name: "not JSON object", raw: `[1]`, wantErr: "Invalid tableConstraints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := catalog.ValidateConstraints(s, json.RawMessage(tt.raw))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, catalog.ErrInvalid) || !strings.Contains(catalog.Message(err), tt.wantErr) {
				t.Fatalf("got %v, want ErrInvalid containing %q", err, tt.wantErr)
			}
		})
	}
}
