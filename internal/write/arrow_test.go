package write_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/penstockdb/penstock/internal/rowcodec/arrowtest"
	"github.com/penstockdb/penstock/internal/write"
)

// arrowSchema is the Arrow writer schema of the test table (name, n).
var arrowSchema = arrow.NewSchema([]arrow.Field{
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "N", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

func (e *env) arrowWriter(s *write.Stream) *write.Writer {
	e.t.Helper()
	sm, err := arrowtest.SchemaMessage(arrowSchema)
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := e.eng.CompileArrowWriter(context.Background(), s, sm)
	if err != nil {
		e.t.Fatal(err)
	}
	if !w.IsArrow() {
		e.t.Fatal("IsArrow false for an Arrow writer")
	}
	return w
}

// arrowRows returns a batch of rows n = from..from+count-1 named "a<n>".
func arrowRows(t *testing.T, from, count int) []byte {
	t.Helper()
	parts := make([]string, count)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"name": "a%d", "N": %d}`, from+i, from+i)
	}
	_, b, err := arrowtest.FromJSON(arrowSchema, "["+strings.Join(parts, ",")+"]")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) appendArrow(s *write.Stream, batch []byte, offset int64) (int64, error) {
	ack := e.eng.Append(s, e.arrowWriter(s), [][]byte{batch}, write.AppendOptions{Offset: offset})
	<-ack.Done()
	return ack.Result()
}

func TestEngine_ArrowAppend(t *testing.T) {
	e := newEnv(t)
	s := e.create(write.Committed)
	if off, err := e.appendArrow(s, arrowRows(t, 0, 3), 0); err != nil || off != 0 {
		t.Fatalf("append at 0: %d, %v", off, err)
	}
	// Offsets count rows: proto and Arrow appends share the stream.
	if off, err := e.append(s, rowsN(3, 2), 3); err != nil || off != 3 {
		t.Fatalf("proto append at 3: %d, %v", off, err)
	}
	_, err := e.appendArrow(s, arrowRows(t, 5, 1), 4)
	wantKind(t, err, write.ErrOffsetExists)
	if off, err := e.appendArrow(s, arrowRows(t, 5, 2), 5); err != nil || off != 5 {
		t.Fatalf("append at 5: %d, %v", off, err)
	}
	want := []int64{0, 1, 2, 3, 4, 5, 6}
	if got := e.visible(); !reflect.DeepEqual(got, want) {
		t.Fatalf("visible %v, want %v", got, want)
	}
	e.restart()
	if got := e.visible(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart: visible %v, want %v", got, want)
	}
	s, err = e.eng.Resolve(context.Background(), s.Name)
	if err != nil {
		t.Fatal(err)
	}
	if off, err := e.appendArrow(s, arrowRows(t, 7, 1), 7); err != nil || off != 7 {
		t.Fatalf("append at 7 after restart: %d, %v", off, err)
	}
}

func TestEngine_ArrowErrors(t *testing.T) {
	e := newEnv(t)
	s := e.create(write.Committed)
	_, b, err := arrowtest.FromJSON(arrowSchema, `[{"name": "x", "N": 1}, {"name": "y", "N": null}]`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.appendArrow(s, b, -1)
	var we *write.Error
	if !errors.As(err, &we) || we.Kind != write.ErrInvalidRows || len(we.RowErrors) != 1 || we.RowErrors[0].Index != 1 {
		t.Fatalf("got %v, want one row error at index 1", err)
	}
	for name, batch := range map[string][]byte{"garbage": []byte("garbage!"), "empty": arrowRows(t, 0, 0)} {
		_, err = e.appendArrow(s, batch, -1)
		wantKind(t, err, write.ErrInvalidArgument)
		if name == "empty" && !strings.Contains(err.Error(), "no rows") {
			t.Errorf("empty batch: %v", err)
		}
	}
	// State and offset checks come first.
	_, err = e.appendArrow(s, []byte("garbage!"), 5)
	wantKind(t, err, write.ErrOffsetOutOfRange)
	sm, err := arrowtest.SchemaMessage(arrow.NewSchema([]arrow.Field{{Name: "Other", Type: arrow.PrimitiveTypes.Int64}}, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.eng.CompileArrowWriter(context.Background(), s, sm)
	wantKind(t, err, write.ErrSchemaExtraFields)
	if !strings.Contains(err.Error(), "extra fields: 'other'") {
		t.Errorf("extra fields message: %v", err)
	}
	_, err = e.eng.CompileArrowWriter(context.Background(), s, []byte("not arrow"))
	wantKind(t, err, write.ErrInvalidDescriptor)
	if got := e.visible(); len(got) != 0 {
		t.Fatalf("visible %v after failed appends", got)
	}
}
