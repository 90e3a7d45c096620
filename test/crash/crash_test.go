// Package crash runs the real penstock binary, kills it with SIGKILL while
// clients append, flush, finalize and commit, restarts it on the same data
// directory, and checks the durability contract: every acknowledged row is
// present exactly once, every stream is in the state it was acknowledged
// in, and PENDING streams written before the crash can still be finalized
// and committed.
package crash

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	storage "cloud.google.com/go/bigquery/storage/apiv1"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// proc is one run of the binary.
type proc struct {
	cmd *exec.Cmd
}

type harness struct {
	t        *testing.T
	bin, dir string
	grpcAddr string
	httpAddr string
	p        *proc
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "penstock")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/penstockdb/penstock/cmd/penstock")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("building penstock: %v", err)
	}
	return bin
}

// start launches the server and waits until both listeners are up.
func (h *harness) start() {
	h.t.Helper()
	cmd := exec.Command(h.bin, "serve", "--data-dir", h.dir, "--grpc-addr", h.grpcAddr, "--http-addr", h.httpAddr, "--log-level", "warn")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "level=ERROR") || strings.Contains(sc.Text(), "panic") {
				h.t.Logf("server: %s", sc.Text())
			}
		}
	}()
	h.p = &proc{cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range []string{h.grpcAddr, h.httpAddr} {
		for {
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				h.t.Fatalf("server did not listen on %s", addr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (h *harness) kill() {
	_ = h.p.cmd.Process.Signal(syscall.SIGKILL)
	_ = h.p.cmd.Wait()
}

func (h *harness) stop() {
	_ = h.p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = h.p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		h.kill()
	}
}

func (h *harness) clients(ctx context.Context) (*storage.BigQueryWriteClient, *bigquery.Client) {
	h.t.Helper()
	w, err := storage.NewBigQueryWriteClient(ctx, option.WithEndpoint(h.grpcAddr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		h.t.Fatal(err)
	}
	bq, err := bigquery.NewClient(ctx, "p", option.WithEndpoint("http://"+h.httpAddr), option.WithoutAuthentication())
	if err != nil {
		h.t.Fatal(err)
	}
	return w, bq
}

var rowDesc = func() *descriptorpb.DescriptorProto {
	d, err := adapt.StorageSchemaToProto2Descriptor(&storagepb.TableSchema{Fields: []*storagepb.TableFieldSchema{
		{Name: "src", Type: storagepb.TableFieldSchema_STRING, Mode: storagepb.TableFieldSchema_REQUIRED},
		{Name: "n", Type: storagepb.TableFieldSchema_INT64, Mode: storagepb.TableFieldSchema_REQUIRED},
	}}, "root")
	if err != nil {
		panic(err)
	}
	dp, err := adapt.NormalizeDescriptor(d.(protoreflect.MessageDescriptor))
	if err != nil {
		panic(err)
	}
	return dp
}()

func encodeRow(src string, n int64) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendString(b, src)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(n))
}

// ledger records what the server acknowledged (and what was only sent).
type ledger struct {
	mu sync.Mutex
	// acked[src] lists the [from, to) row ranges the server acknowledged:
	// each must be present exactly once. sent[src] is one past the highest
	// row ever sent: rows beyond it must be absent, others at most once.
	acked map[string][][2]int64
	sent  map[string]int64
	// pending streams: name → state acknowledged
	finalized, committed map[string]int64 // row count at finalize / commit
	flushed              map[string]int64 // BUFFERED stream → acked flush offset
	streamRows           map[string]int64 // stream → acked rows
	streamSrc            map[string]string
}

func newLedger() *ledger {
	return &ledger{acked: map[string][][2]int64{}, sent: map[string]int64{}, finalized: map[string]int64{},
		committed: map[string]int64{}, flushed: map[string]int64{}, streamRows: map[string]int64{}, streamSrc: map[string]string{}}
}

// appendSeq appends rows src/n..n+k-1 on c and waits for the answer.
func appendSeq(c storagepb.BigQueryWrite_AppendRowsClient, stream, src string, n int64, k int, withOffset bool, first bool) error {
	rows := make([][]byte, k)
	for i := range rows {
		rows[i] = encodeRow(src, n+int64(i))
	}
	pd := &storagepb.AppendRowsRequest_ProtoData{Rows: &storagepb.ProtoRows{SerializedRows: rows}}
	if first {
		pd.WriterSchema = &storagepb.ProtoSchema{ProtoDescriptor: rowDesc}
	}
	req := &storagepb.AppendRowsRequest{WriteStream: stream, Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: pd}}
	if withOffset {
		req.Offset = wrapperspb.Int64(n)
	}
	if err := c.Send(req); err != nil {
		return err
	}
	resp, err := c.Recv()
	if err != nil {
		return err
	}
	if e := resp.GetError(); e != nil {
		return fmt.Errorf("append error: %v", e)
	}
	return nil
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs the binary; skipped in -short")
	}
	h := &harness{t: t, bin: buildBinary(t), dir: t.TempDir(), grpcAddr: freeAddr(t), httpAddr: freeAddr(t)}
	h.start()
	ctx := context.Background()
	w, bq := h.clients(ctx)
	if err := bq.Dataset("d").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := bq.Dataset("d").Table("t").Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{
		{Name: "src", Type: bigquery.StringFieldType, Required: true},
		{Name: "n", Type: bigquery.IntegerFieldType, Required: true},
	}}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	bq.Close()
	const parent = "projects/p/datasets/d/tables/t"
	led := newLedger()
	rounds := 4
	if v := os.Getenv("PENSTOCK_CRASH_ROUNDS"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	var leftover []string // pending streams written before a crash, not yet committed
	for round := 0; round < rounds; round++ {
		w, bq := h.clients(ctx)
		// Streams left from before the crash can be finalized and committed.
		for _, s := range leftover {
			n, err := w.FinalizeWriteStream(ctx, &storagepb.FinalizeWriteStreamRequest{Name: s})
			if err != nil {
				t.Fatalf("round %d: finalize pre-crash stream: %v", round, err)
			}
			led.mu.Lock()
			if n.GetRowCount() < led.streamRows[s] {
				t.Fatalf("pre-crash stream %s: row count %d < acknowledged %d", s, n.GetRowCount(), led.streamRows[s])
			}
			led.streamRows[s] = n.GetRowCount()
			led.mu.Unlock()
			resp, err := w.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: parent, WriteStreams: []string{s}})
			if err != nil {
				t.Fatalf("round %d: commit pre-crash stream: %v", round, err)
			}
			// A commit sent before the crash may have landed unacknowledged.
			if se := resp.GetStreamErrors(); len(se) > 0 && se[0].GetCode() != storagepb.StorageError_STREAM_ALREADY_COMMITTED {
				t.Fatalf("round %d: commit pre-crash stream: %v", round, se)
			}
			led.mu.Lock()
			led.committed[s] = n.GetRowCount()
			led.mu.Unlock()
		}
		leftover = nil
		// Worker calls use rctx, cancelled at the kill: the client retries
		// UNAVAILABLE unary calls until its context ends.
		rctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		worker := func(f func()) {
			wg.Add(1)
			go func() { defer wg.Done(); f() }()
		}
		// Default-stream writers.
		for i := 0; i < 4; i++ {
			src := fmt.Sprintf("def-%d", i)
			worker(func() {
				c, err := w.AppendRows(rctx)
				if err != nil {
					return
				}
				first := true
				for {
					select {
					case <-stop:
						return
					default:
					}
					led.mu.Lock()
					n := led.sent[src] // never resend a row that may have landed
					led.sent[src] = n + 5
					led.mu.Unlock()
					if err := appendSeq(c, parent+"/streams/_default", src, n, 5, false, first); err != nil {
						return
					}
					first = false
					led.mu.Lock()
					led.acked[src] = append(led.acked[src], [2]int64{n, n + 5})
					led.mu.Unlock()
				}
			})
		}
		// insertAll writers: an HTTP 200 means the rows survive SIGKILL.
		for i := 0; i < 2; i++ {
			src := fmt.Sprintf("insertall-%d", i)
			worker(func() {
				hc := &http.Client{Timeout: 5 * time.Second}
				url := "http://" + h.httpAddr + "/bigquery/v2/projects/p/datasets/d/tables/t/insertAll"
				for {
					select {
					case <-stop:
						return
					default:
					}
					led.mu.Lock()
					n := led.sent[src]
					led.sent[src] = n + 5
					led.mu.Unlock()
					var b strings.Builder
					b.WriteString(`{"rows":[`)
					for k := int64(0); k < 5; k++ {
						if k > 0 {
							b.WriteString(",")
						}
						fmt.Fprintf(&b, `{"insertId":"%s-%d","json":{"src":%q,"n":%d}}`, src, n+k, src, n+k)
					}
					b.WriteString(`]}`)
					req, _ := http.NewRequestWithContext(rctx, "POST", url, strings.NewReader(b.String()))
					req.Header.Set("Content-Type", "application/json")
					resp, err := hc.Do(req)
					if err != nil {
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || strings.Contains(string(body), "insertErrors") {
						t.Errorf("insertAll: HTTP %d %s", resp.StatusCode, body)
						return
					}
					led.mu.Lock()
					led.acked[src] = append(led.acked[src], [2]int64{n, n + 5})
					led.mu.Unlock()
				}
			})
		}
		// COMMITTED and PENDING and BUFFERED stream writers.
		for _, typ := range []storagepb.WriteStream_Type{storagepb.WriteStream_COMMITTED, storagepb.WriteStream_PENDING, storagepb.WriteStream_BUFFERED} {
			worker(func() {
				for k := 0; ; k++ {
					ws, err := w.CreateWriteStream(rctx, &storagepb.CreateWriteStreamRequest{Parent: parent, WriteStream: &storagepb.WriteStream{Type: typ}})
					if err != nil {
						return
					}
					src := fmt.Sprintf("%s-r%d-%d", typ, round, k)
					led.mu.Lock()
					led.streamSrc[ws.GetName()] = src
					led.mu.Unlock()
					c, err := w.AppendRows(rctx)
					if err != nil {
						return
					}
					var n int64
					for j := 0; j < 10+rand.IntN(20); j++ {
						select {
						case <-stop:
							if typ == storagepb.WriteStream_PENDING {
								led.mu.Lock()
								leftover = append(leftover, ws.GetName())
								led.mu.Unlock()
							}
							return
						default:
						}
						if err := appendSeq(c, ws.GetName(), src, n, 3, true, j == 0); err != nil {
							if typ == storagepb.WriteStream_PENDING {
								led.mu.Lock()
								leftover = append(leftover, ws.GetName())
								led.mu.Unlock()
							}
							return
						}
						n += 3
						led.mu.Lock()
						led.streamRows[ws.GetName()] = n
						led.mu.Unlock()
						if typ == storagepb.WriteStream_BUFFERED && j%3 == 2 {
							if _, err := w.FlushRows(rctx, &storagepb.FlushRowsRequest{WriteStream: ws.GetName(), Offset: wrapperspb.Int64(n - 2)}); err != nil {
								return
							}
							led.mu.Lock()
							led.flushed[ws.GetName()] = n - 2
							led.mu.Unlock()
						}
					}
					_ = c.CloseSend()
					fin, err := w.FinalizeWriteStream(rctx, &storagepb.FinalizeWriteStreamRequest{Name: ws.GetName()})
					if err != nil {
						if typ == storagepb.WriteStream_PENDING {
							led.mu.Lock()
							leftover = append(leftover, ws.GetName())
							led.mu.Unlock()
						}
						return
					}
					led.mu.Lock()
					led.finalized[ws.GetName()] = fin.GetRowCount()
					led.mu.Unlock()
					if typ == storagepb.WriteStream_PENDING {
						resp, err := w.BatchCommitWriteStreams(rctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: parent, WriteStreams: []string{ws.GetName()}})
						if err != nil || len(resp.GetStreamErrors()) > 0 {
							led.mu.Lock()
							leftover = append(leftover, ws.GetName())
							led.mu.Unlock()
							return
						}
						led.mu.Lock()
						led.committed[ws.GetName()] = fin.GetRowCount()
						led.mu.Unlock()
					}
				}
			})
		}
		// Kill at a random moment, but only once every kind of writer has
		// been acknowledged at least once, so a slow CI machine still tests
		// something.
		waitFor(t, 30*time.Second, func() bool {
			led.mu.Lock()
			defer led.mu.Unlock()
			return len(led.acked["def-0"]) > 0 && len(led.acked["insertall-0"]) > 0 && len(led.streamRows) >= 3
		})
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		h.kill()
		cancel()
		close(stop)
		wg.Wait()
		w.Close()
		bq.Close()
		h.start()
		verify(t, h, led, round)
		// Committed-but-uncommitted pending streams (commit not acked):
		// they may be committed after the restart or not; either way they
		// are retried as leftovers unless already committed.
		filtered := leftover[:0]
		for _, s := range leftover {
			if _, ok := led.committed[s]; !ok {
				filtered = append(filtered, s)
			}
		}
		leftover = filtered
	}
	if len(led.committed) == 0 {
		t.Fatalf("no PENDING stream was committed in %d rounds", rounds)
	}
	h.stop()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("workload made no progress in %v", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// verify reads the table back and checks the ledger's invariants.
func verify(t *testing.T, h *harness, led *ledger, round int) {
	t.Helper()
	ctx := context.Background()
	w, bq := h.clients(ctx)
	defer w.Close()
	defer bq.Close()
	it := bq.Dataset("d").Table("t").Read(ctx)
	count := map[string]map[int64]int{}
	for {
		var r []bigquery.Value
		err := it.Next(&r)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatalf("round %d: reading back: %v", round, err)
		}
		src, n := r[0].(string), r[1].(int64)
		if count[src] == nil {
			count[src] = map[int64]int{}
		}
		count[src][n]++
	}
	led.mu.Lock()
	defer led.mu.Unlock()
	total, ackedRows := 0, int64(0)
	for _, m := range count {
		total += len(m)
	}
	for _, rs := range led.acked {
		for _, r := range rs {
			ackedRows += r[1] - r[0]
		}
	}
	t.Logf("round %d: %d rows read back, %d default-stream and insertAll rows acknowledged, %d streams, %d committed", round, total, ackedRows, len(led.streamSrc), len(led.committed))
	if len(led.acked["insertall-0"]) == 0 {
		t.Fatalf("round %d: no insertAll request was acknowledged", round)
	}
	if ackedRows == 0 {
		t.Fatalf("round %d: the workload acknowledged too little to test anything", round)
	}
	for src, ranges := range led.acked {
		for _, r := range ranges {
			for n := r[0]; n < r[1]; n++ {
				if c := count[src][n]; c != 1 {
					t.Fatalf("round %d: %s acknowledged row %d present %d times", round, src, n, c)
				}
			}
		}
		for n, c := range count[src] {
			if c > 1 || n >= led.sent[src] {
				t.Fatalf("round %d: %s row %d present %d times (sent up to %d)", round, src, n, c, led.sent[src])
			}
		}
	}
	for name, src := range led.streamSrc {
		rows := int64(len(count[src]))
		for n, c := range count[src] {
			if c != 1 {
				t.Fatalf("round %d: stream %s row %d present %d times", round, name, n, c)
			}
		}
		switch {
		case strings.HasPrefix(src, "COMMITTED"):
			if rows < led.streamRows[name] {
				t.Fatalf("round %d: committed stream %s has %d rows, %d acknowledged", round, name, rows, led.streamRows[name])
			}
		case strings.HasPrefix(src, "PENDING"):
			if c, ok := led.committed[name]; ok && rows != c {
				t.Fatalf("round %d: committed pending stream %s shows %d rows, want %d", round, name, rows, c)
			}
			if _, ok := led.committed[name]; !ok && rows != 0 {
				// Commit was sent but not acknowledged; it may have landed.
				if _, fin := led.finalized[name]; !fin {
					t.Fatalf("round %d: uncommitted pending stream %s shows %d rows", round, name, rows)
				}
			}
		case strings.HasPrefix(src, "BUFFERED"):
			if f, ok := led.flushed[name]; ok && rows < f+1 {
				t.Fatalf("round %d: buffered stream %s shows %d rows, flushed through %d", round, name, rows, f)
			}
			if rows > led.streamRows[name]+3 {
				t.Fatalf("round %d: buffered stream %s shows %d rows, more than written", round, name, rows)
			}
		}
	}
	// Finalized streams stay finalized.
	for name := range led.finalized {
		c, err := w.AppendRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := appendSeq(c, name, "x", 1<<40, 1, false, true); err == nil || !strings.Contains(err.Error(), "finalized") {
			t.Fatalf("round %d: append to finalized stream %s after restart: %v", round, name, err)
		}
		_ = c.CloseSend()
		break
	}
}
