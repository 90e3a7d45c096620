// Package arrowtest builds Storage Write API Arrow payloads for tests: an
// encapsulated IPC Schema message and encapsulated RecordBatch messages,
// as pyarrow's schema.serialize() and batch.serialize() produce them.
package arrowtest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// eosLen is the size of the IPC stream end-of-stream marker.
const eosLen = 8

// SchemaMessage returns the encapsulated Schema message of s.
func SchemaMessage(s *arrow.Schema) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(s))
	if err := w.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) < eosLen {
		return nil, fmt.Errorf("arrowtest: short stream")
	}
	return b[:len(b)-eosLen], nil
}

// BatchMessage returns the encapsulated RecordBatch message of rec.
func BatchMessage(rec arrow.RecordBatch) ([]byte, error) {
	sm, err := SchemaMessage(rec.Schema())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) < len(sm)+eosLen || !bytes.Equal(b[:len(sm)], sm) {
		return nil, fmt.Errorf("arrowtest: unexpected stream layout")
	}
	return b[len(sm) : len(b)-eosLen], nil
}

// FromJSON builds a record batch of schema s from a JSON array of row
// objects (arrow-go's JSON reader conventions) and returns the schema and
// batch messages.
func FromJSON(s *arrow.Schema, rowsJSON string) (schemaMsg, batchMsg []byte, err error) {
	rec, _, err := array.RecordFromJSON(memory.NewGoAllocator(), s, strings.NewReader(rowsJSON))
	if err != nil {
		return nil, nil, err
	}
	defer rec.Release()
	if schemaMsg, err = SchemaMessage(s); err != nil {
		return nil, nil, err
	}
	batchMsg, err = BatchMessage(rec)
	return schemaMsg, batchMsg, err
}
