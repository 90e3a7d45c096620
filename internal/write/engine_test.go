package write_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
	"github.com/penstockdb/penstock/internal/storage"
	"github.com/penstockdb/penstock/internal/write"
)

// env is an engine over a real log and a real catalog in a temp dir.
type env struct {
	t     *testing.T
	dir   string
	cat   *catalog.SQLite
	st    *storage.Engine
	eng   *write.Engine
	clock *clock
	tbl   *catalog.Table
	// opts are the engine options; open replaces Now with the clock.
	opts write.Options
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const tablePath = "projects/p/datasets/d/tables/t"

// newEnv opens an engine (no streaming buffer) with dataset p:d and table
// p:d.t (name STRING, n INTEGER REQUIRED).
func newEnv(t *testing.T) *env {
	t.Helper()
	e := newEngineEnv(t, write.Options{StreamingBuffer: -1}, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	tbl, err := e.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: &schema.Table{Fields: []*schema.Field{
		{Name: "name", Type: schema.String, Mode: schema.Nullable},
		{Name: "n", Type: schema.Integer, Mode: schema.Required},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	e.tbl = tbl
	return e
}

// newEngineEnv opens an engine with o at the given clock time and creates
// dataset p:d.
func newEngineEnv(t *testing.T, o write.Options, now time.Time) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &clock{now: now}, opts: o}
	e.open()
	if _, err := e.cat.CreateDataset(context.Background(), &catalog.Dataset{Project: "p", ID: "d"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) open() {
	e.t.Helper()
	var err error
	e.cat, err = catalog.Open(filepath.Join(e.dir, "catalog.db"), catalog.Options{OnTableDeleted: func(uid int64) {
		if e.eng != nil {
			e.eng.DropTable(uid)
		}
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.st, err = storage.Open(e.dir, storage.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	o := e.opts
	o.Now = e.clock.Now
	e.eng, err = write.Open(context.Background(), e.st, e.cat, o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(e.close)
}

func (e *env) close() {
	if e.eng != nil {
		_ = e.eng.Close()
		e.eng = nil
	}
	if e.cat != nil {
		_ = e.cat.Close()
		e.cat = nil
	}
}

// restart closes everything and reopens from the same directory.
func (e *env) restart() {
	e.t.Helper()
	e.close()
	e.open()
}

func descriptor() *descriptorpb.DescriptorProto {
	return &descriptorpb.DescriptorProto{
		Name: proto.String("Row"),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("name"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()},
			{Name: proto.String("n"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()},
		},
	}
}

func row(name string, n int64) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(n))
}

func rowsN(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = row("r", int64(from+i))
	}
	return out
}

func (e *env) writer(s *write.Stream) *write.Writer {
	e.t.Helper()
	w, err := e.eng.CompileWriter(context.Background(), s, descriptor())
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *env) create(typ write.StreamType) *write.Stream {
	e.t.Helper()
	info, err := e.eng.CreateStream(context.Background(), tablePath, typ)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := e.eng.Resolve(context.Background(), info.Name)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) append(s *write.Stream, rows [][]byte, offset int64) (int64, error) {
	w := e.writer(s)
	ack := e.eng.Append(s, w, rows, write.AppendOptions{Offset: offset})
	<-ack.Done()
	return ack.Result()
}

// visible returns the n column of every visible row.
func (e *env) visible() []int64 {
	e.t.Helper()
	tbl, err := e.cat.TableByUID(context.Background(), e.tbl.UID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []int64
	total, err := e.eng.ReadRows(context.Background(), tbl, 0, -1, func(r rowcodec.Row) error {
		out = append(out, r[1].(int64))
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if total != int64(len(out)) {
		e.t.Fatalf("total %d, read %d rows", total, len(out))
	}
	return out
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want %v", err, kind)
	}
}

func TestEngine_Offsets(t *testing.T) {
	e := newEnv(t)
	s := e.create(write.Committed)
	if off, err := e.append(s, rowsN(0, 2), 0); err != nil || off != 0 {
		t.Fatalf("append at 0: %d, %v", off, err)
	}
	if off, err := e.append(s, rowsN(2, 1), -1); err != nil || off != 2 {
		t.Fatalf("append without offset: %d, %v", off, err)
	}
	_, err := e.append(s, rowsN(0, 1), 1)
	wantKind(t, err, write.ErrOffsetExists)
	var we *write.Error
	if !errors.As(err, &we) || we.Expected != 3 || we.Received != 1 {
		t.Fatalf("offset error %+v", we)
	}
	if got, want := we.Error(), "The offset is within stream, expected offset 3, received 1 Entity: "+s.Name; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	_, err = e.append(s, rowsN(0, 1), 9)
	wantKind(t, err, write.ErrOffsetOutOfRange)
	if off, err := e.append(s, rowsN(3, 1), 3); err != nil || off != 3 {
		t.Fatalf("append after errors: %d, %v", off, err)
	}
	if got := e.visible(); len(got) != 4 {
		t.Fatalf("visible %v, want 4 rows", got)
	}
}

func TestEngine_DefaultStream(t *testing.T) {
	e := newEnv(t)
	s, err := e.eng.Resolve(context.Background(), tablePath+"/streams/_default")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.append(s, rowsN(0, 1), 0)
	wantKind(t, err, write.ErrOffsetOnDefault)
	const writers, per = 32, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if off, err := e.append(s, rowsN(w*per+i, 1), -1); err != nil || off != -1 {
					t.Errorf("default append: %d, %v", off, err)
				}
			}
		}()
	}
	wg.Wait()
	assertExactly(t, e.visible(), writers*per)
	e.restart()
	assertExactly(t, e.visible(), writers*per)
}

// assertExactly checks rows 0..n-1 are each present exactly once.
func assertExactly(t *testing.T, got []int64, n int) {
	t.Helper()
	seen := make(map[int64]int, n)
	for _, v := range got {
		seen[v]++
	}
	if len(got) != n || len(seen) != n {
		t.Fatalf("got %d rows (%d distinct), want %d", len(got), len(seen), n)
	}
	for i := 0; i < n; i++ {
		if seen[int64(i)] != 1 {
			t.Fatalf("row %d seen %d times", i, seen[int64(i)])
		}
	}
}

func TestEngine_Finalize(t *testing.T) {
	e := newEnv(t)
	s := e.create(write.Committed)
	if _, err := e.append(s, rowsN(0, 3), -1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if n, err := e.eng.Finalize(context.Background(), s.Name); err != nil || n != 3 {
			t.Fatalf("finalize #%d: %d, %v", i, n, err)
		}
	}
	_, err := e.append(s, rowsN(3, 1), -1)
	wantKind(t, err, write.ErrStreamFinalized)
	_, err = e.eng.Finalize(context.Background(), tablePath+"/streams/_default")
	wantKind(t, err, write.ErrNotOnDefault)
	_, err = e.eng.Finalize(context.Background(), tablePath+"/streams/nope")
	wantKind(t, err, write.ErrStreamNotFound)
	e.restart()
	s2, err := e.eng.Resolve(context.Background(), s.Name)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.append(s2, rowsN(3, 1), -1)
	wantKind(t, err, write.ErrStreamFinalized)
}

func TestEngine_PendingCommit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.create(write.Pending), e.create(write.Pending)
	if _, err := e.append(a, rowsN(0, 2), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.append(b, rowsN(2, 3), 0); err != nil {
		t.Fatal(err)
	}
	if got := e.visible(); len(got) != 0 {
		t.Fatalf("pending rows visible before commit: %v", got)
	}
	if _, err := e.eng.Finalize(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	// b is not finalized: nothing commits.
	_, serrs, err := e.eng.BatchCommit(ctx, tablePath, []string{a.Name, b.Name})
	if err != nil || len(serrs) != 1 || !errors.Is(serrs[0].Kind, write.ErrInvalidStreamState) || serrs[0].Entity != b.Name {
		t.Fatalf("commit with unfinalized stream: %+v, %v", serrs, err)
	}
	if got := e.visible(); len(got) != 0 {
		t.Fatalf("failed commit made rows visible: %v", got)
	}
	// Survives a restart before commit.
	e.restart()
	if _, err := e.eng.Finalize(ctx, b.Name); err != nil {
		t.Fatal(err)
	}
	at, serrs, err := e.eng.BatchCommit(ctx, tablePath, []string{a.Name, b.Name})
	if err != nil || len(serrs) != 0 || at.IsZero() {
		t.Fatalf("commit: %v, %+v, %v", at, serrs, err)
	}
	assertExactly(t, e.visible(), 5)
	_, serrs, _ = e.eng.BatchCommit(ctx, tablePath, []string{a.Name})
	if len(serrs) != 1 || !errors.Is(serrs[0].Kind, write.ErrAlreadyCommitted) {
		t.Fatalf("re-commit: %+v", serrs)
	}
	info, err := e.eng.GetStream(ctx, a.Name)
	if err != nil || !info.CommitTime.Equal(at) {
		t.Fatalf("commit time %v, want %v (%v)", info.CommitTime, at, err)
	}
	e.restart()
	assertExactly(t, e.visible(), 5)
	c := e.create(write.Committed)
	_, serrs, _ = e.eng.BatchCommit(ctx, tablePath, []string{c.Name, tablePath + "/streams/missing"})
	if len(serrs) != 2 || !errors.Is(serrs[0].Kind, write.ErrStreamNotFound) && !errors.Is(serrs[1].Kind, write.ErrStreamNotFound) {
		t.Fatalf("commit of committed+missing: %+v", serrs)
	}
}

func TestEngine_PendingExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.create(write.Pending)
	if _, err := e.append(s, rowsN(0, 1), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Finalize(ctx, s.Name); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(5 * time.Hour)
	_, serrs, err := e.eng.BatchCommit(ctx, tablePath, []string{s.Name})
	if err != nil || len(serrs) != 1 || !errors.Is(serrs[0].Kind, write.ErrInvalidStreamState) {
		t.Fatalf("commit after finalized window: %+v, %v", serrs, err)
	}
}

func TestEngine_Buffered(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.create(write.Buffered)
	if _, err := e.append(s, rowsN(0, 5), -1); err != nil {
		t.Fatal(err)
	}
	if got := e.visible(); len(got) != 0 {
		t.Fatalf("unflushed rows visible: %v", got)
	}
	if off, err := e.eng.Flush(ctx, s.Name, 1); err != nil || off != 1 {
		t.Fatalf("flush 1: %d, %v", off, err)
	}
	assertExactly(t, e.visible(), 2)
	_, err := e.eng.Flush(ctx, s.Name, 1)
	wantKind(t, err, write.ErrFlushedAlready)
	_, err = e.eng.Flush(ctx, s.Name, 5)
	wantKind(t, err, write.ErrFlushBeyondEnd)
	if _, err := e.eng.Flush(ctx, s.Name, 3); err != nil {
		t.Fatal(err)
	}
	e.restart()
	assertExactly(t, e.visible(), 4)
	c := e.create(write.Committed)
	_, err = e.eng.Flush(ctx, c.Name, 0)
	wantKind(t, err, write.ErrInvalidStreamType)
	if _, err := e.eng.Finalize(ctx, s.Name); err != nil {
		t.Fatal(err)
	}
	_, err = e.eng.Flush(ctx, s.Name, 4)
	wantKind(t, err, write.ErrStreamFinalized)
	assertExactly(t, e.visible(), 4)
}

func TestEngine_RowErrors(t *testing.T) {
	e := newEnv(t)
	s := e.create(write.Committed)
	bad := protowire.AppendTag(nil, 1, protowire.BytesType) // n (REQUIRED) missing
	bad = protowire.AppendString(bad, "x")
	_, err := e.append(s, [][]byte{row("ok", 0), bad}, 0)
	wantKind(t, err, write.ErrInvalidRows)
	var we *write.Error
	if !errors.As(err, &we) || len(we.RowErrors) != 1 || we.RowErrors[0].Index != 1 {
		t.Fatalf("row errors: %+v", we)
	}
	// Nothing written, no offset consumed.
	if off, err := e.append(s, rowsN(0, 1), 0); err != nil || off != 0 {
		t.Fatalf("append after row error: %d, %v", off, err)
	}
	// Offset checks come before row checks.
	_, err = e.append(s, [][]byte{bad}, 7)
	wantKind(t, err, write.ErrOffsetOutOfRange)
}

func TestEngine_DropTable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.create(write.Committed)
	if _, err := e.append(s, rowsN(0, 2), -1); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.DeleteTable(ctx, "p", "d", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, s.Name); !errors.Is(err, write.ErrTableNotFound) {
		t.Fatalf("resolve after drop: %v", err)
	}
	tbl, err := e.cat.CreateTable(ctx, &catalog.Table{Project: "p", Dataset: "d", ID: "t", Schema: e.tbl.Schema})
	if err != nil {
		t.Fatal(err)
	}
	e.tbl = tbl
	if got := e.visible(); len(got) != 0 {
		t.Fatalf("recreated table shows old rows: %v", got)
	}
	e.restart()
	if got := e.visible(); len(got) != 0 {
		t.Fatalf("after restart, recreated table shows old rows: %v", got)
	}
}

func TestEngine_StreamLifetimes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	committed, buffered, pending := e.create(write.Committed), e.create(write.Buffered), e.create(write.Pending)
	for _, s := range []*write.Stream{committed, buffered, pending} {
		if _, err := e.append(s, rowsN(0, 1), -1); err != nil {
			t.Fatal(err)
		}
	}
	// Within every window: all usable.
	e.clock.Add(23 * time.Hour)
	if _, err := e.append(pending, rowsN(1, 1), -1); err != nil {
		t.Fatalf("pending stream at 23h: %v", err)
	}
	// Past 24h since creation the PENDING stream is gone for good.
	e.clock.Add(2 * time.Hour)
	_, err := e.append(pending, rowsN(2, 1), -1)
	wantKind(t, err, write.ErrStreamExpired)
	if _, err := e.append(committed, rowsN(1, 1), -1); err != nil {
		t.Fatalf("committed stream after 25h idle: %v", err)
	}
	// COMMITTED expires after 3 days without traffic, BUFFERED after 7.
	e.clock.Add(73 * time.Hour)
	_, err = e.append(committed, rowsN(2, 1), -1)
	wantKind(t, err, write.ErrStreamExpired)
	if _, err := e.eng.Flush(ctx, buffered.Name, 0); err != nil {
		t.Fatalf("buffered stream after 98h: %v", err)
	}
	e.clock.Add(169 * time.Hour)
	_, err = e.append(buffered, rowsN(1, 1), -1)
	wantKind(t, err, write.ErrStreamExpired)
	// Expired streams keep what became visible before they expired.
	if got := e.visible(); len(got) != 3 {
		t.Fatalf("visible rows %v, want the committed stream's 2 and the flushed buffered row", got)
	}
}

func TestEngine_Sweep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	committed := e.create(write.Committed)
	committedPending, abandoned := e.create(write.Pending), e.create(write.Pending)
	for i, s := range []*write.Stream{committed, committedPending, abandoned} {
		if _, err := e.append(s, rowsN(i*10, 2), -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.eng.Finalize(ctx, committedPending.Name); err != nil {
		t.Fatal(err)
	}
	if _, serrs, err := e.eng.BatchCommit(ctx, tablePath, []string{committedPending.Name}); err != nil || serrs != nil {
		t.Fatal(serrs, err)
	}
	if n := e.eng.Sweep(e.clock.Now()); n != 0 {
		t.Fatalf("swept %d live streams", n)
	}
	e.clock.Add(23 * time.Hour)
	fresh := e.create(write.Pending)
	e.clock.Add(2 * time.Hour) // the first two PENDING streams are past 24h; COMMITTED is idle 25h of 72h
	if n := e.eng.Sweep(e.clock.Now()); n != 2 {
		t.Fatalf("swept %d streams, want the committed and the abandoned PENDING streams", n)
	}
	for _, s := range []*write.Stream{committedPending, abandoned} {
		if _, err := e.eng.GetStream(ctx, s.Name); !errors.Is(err, write.ErrStreamNotFound) {
			t.Fatalf("purged stream %s: %v", s.Name, err)
		}
	}
	for _, s := range []*write.Stream{committed, fresh} {
		if _, err := e.eng.GetStream(ctx, s.Name); err != nil {
			t.Fatalf("live stream %s: %v", s.Name, err)
		}
	}
	// Committed rows stay visible; the abandoned stream's rows are gone for good.
	got := e.visible()
	if len(got) != 4 {
		t.Fatalf("visible %v, want the COMMITTED stream's and the committed PENDING stream's rows", got)
	}
}

// TestEngine_Paging reads every window of a table whose chunks mix
// visible, invisible (unflushed, uncommitted) and partly visible rows, and
// compares it with the full read.
func TestEngine_Paging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	def, err := e.eng.Resolve(ctx, tablePath+"/streams/_default")
	if err != nil {
		t.Fatal(err)
	}
	buf, pend := e.create(write.Buffered), e.create(write.Pending)
	n := 0
	for i := 0; i < 20; i++ {
		k := 1 + i%4
		if _, err := e.append(def, rowsN(n, k), -1); err != nil {
			t.Fatal(err)
		}
		n += k
		if _, err := e.append(buf, rowsN(1000+i*3, 3), -1); err != nil {
			t.Fatal(err)
		}
		if _, err := e.append(pend, rowsN(2000+i, 1), -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.eng.Flush(ctx, buf.Name, 28); err != nil { // 29 of 60 rows: a chunk is cut in two
		t.Fatal(err)
	}
	all := e.visible()
	if len(all) != n+29 {
		t.Fatalf("full read has %d rows, want %d", len(all), n+29)
	}
	tbl, _ := e.cat.TableByUID(ctx, e.tbl.UID)
	for start := int64(0); start <= int64(len(all))+1; start++ {
		for _, max := range []int64{0, 1, 2, 3, 7, 100, -1} {
			var got []int64
			total, err := e.eng.ReadRows(ctx, tbl, start, max, func(r rowcodec.Row) error {
				got = append(got, r[1].(int64))
				return nil
			})
			if err != nil || total != int64(len(all)) {
				t.Fatalf("start %d max %d: total %d, %v", start, max, total, err)
			}
			lo := min(start, int64(len(all)))
			hi := int64(len(all))
			if max >= 0 {
				hi = min(lo+max, hi)
			}
			want := all[lo:hi]
			if len(got) != len(want) {
				t.Fatalf("start %d max %d: got %d rows, want %d", start, max, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("start %d max %d: row %d = %d, want %d", start, max, i, got[i], want[i])
				}
			}
		}
	}
}
