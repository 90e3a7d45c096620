package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// maxMessageBytes bounds gRPC messages either way, well above the API's
// 20 MB request limit (grpc-go's 4 MiB receive default is too small for
// large requests echoed in errors).
const maxMessageBytes = 128 << 20

// worker is one connection: a gRPC client connection with its own
// AppendRows call and stream, or an HTTP client for insertAll. Its ledger
// and histograms are written by its own goroutines only and read after it
// finished.
type worker struct {
	id   int
	r    *runner
	mode Mode // the runner's, or this connection's share of ModeMixed

	conn   *grpc.ClientConn
	client storagepb.BigQueryWriteClient
	stream string

	led          ledger
	hist         histogram // ack latency
	flushHist    histogram
	finalizeHist histogram
	commitHist   histogram

	next     int64        // next local row counter
	offset   int64        // next stream offset to send (explicit streams)
	ackedEnd atomic.Int64 // stream offset after the last acknowledged row
	resync   atomic.Bool  // an offset append failed: realign before sending more
	flushed  int64        // stream offset after the last flushed row
	free     chan *reqBuf
	started  time.Time
}

// reqBuf is the encoded rows of one request, reused once answered.
type reqBuf struct {
	data []byte
	rows [][]byte
}

// inflight is a request sent and not yet answered.
type inflight struct {
	lo     int64 // local row counter of the first row
	n      int
	bytes  int
	offset int64 // -1: none
	sent   time.Time
	buf    *reqBuf
	retry  bool // a resend after the call broke
}

func newWorker(r *runner, id int) *worker {
	return &worker{id: id, r: r, mode: r.o.Mode.forConn(id), free: make(chan *reqBuf, r.o.Inflight+1)}
}

// dial opens the gRPC connection and, for explicit modes, creates the
// stream.
func (w *worker) dial(ctx context.Context) error {
	conn, err := grpc.NewClient(w.r.o.GRPC,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)))
	if err != nil {
		return fmt.Errorf("loadgen: connecting to %s: %w", w.r.o.GRPC, err)
	}
	w.conn, w.client = conn, storagepb.NewBigQueryWriteClient(conn)
	if !w.mode.explicit() {
		w.stream = w.r.tablePath + "/streams/_default"
		return nil
	}
	typ := storagepb.WriteStream_COMMITTED
	switch w.mode {
	case ModePending, ModeCommit:
		typ = storagepb.WriteStream_PENDING
	case ModeBuffered:
		typ = storagepb.WriteStream_BUFFERED
	}
	ws, err := w.client.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{
		Parent: w.r.tablePath, WriteStream: &storagepb.WriteStream{Type: typ},
	})
	if err != nil {
		return fmt.Errorf("loadgen: CreateWriteStream on %s: %w", w.r.o.GRPC, err)
	}
	w.stream = ws.GetName()
	return nil
}

func (w *worker) close() {
	if w.conn != nil {
		_ = w.conn.Close()
	}
}

// run sends until the runner stops, then waits for the answers.
func (w *worker) run(ctx context.Context) {
	w.started = time.Now()
	if w.mode == ModeInsertAll {
		w.runInsertAll(ctx)
		return
	}
	if w.mode == ModeBuffered {
		done := make(chan struct{})
		flusher := make(chan struct{})
		go func() {
			defer close(flusher)
			t := time.NewTicker(w.r.o.FlushInterval)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					w.flush(ctx)
				}
			}
		}()
		defer func() { close(done); <-flusher }()
	}
	w.runAppend(ctx)
}

// runAppend runs AppendRows calls until the load stops, reopening a call
// that broke (up to MaxReconnects times). Unanswered requests of a broken
// call are resent with their offsets when offsets are on (an
// ALREADY_EXISTS answer then means the first attempt was written), and are
// otherwise recorded as unknown.
func (w *worker) runAppend(ctx context.Context) {
	var carry []*inflight
	for attempt := 0; ; attempt++ {
		err := w.session(ctx, &carry)
		if err == nil {
			return
		}
		w.r.countError(errorKey(err))
		if !w.offsets() || attempt >= w.r.o.MaxReconnects || ctx.Err() != nil {
			for _, p := range carry {
				addSpan(&w.led.unknown, p.lo, int64(p.n))
			}
			carry = nil
		}
		if attempt >= w.r.o.MaxReconnects || ctx.Err() != nil {
			return
		}
		if w.r.stopped() && len(carry) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
}

// session runs one AppendRows call: it first resends *carry, then new
// requests until the runner stops, then half-closes and waits for every
// answer. It returns nil when every request was answered, else the error
// that broke the call, with the unanswered requests in *carry.
func (w *worker) session(ctx context.Context, carry *[]*inflight) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := w.client.AppendRows(cctx)
	if err != nil {
		return err
	}
	o := w.r.o
	slots := make(chan struct{}, o.Inflight)
	pending := make(chan *inflight, o.Inflight)
	broken := make(chan struct{})
	var recvErr error
	go func() {
		defer close(broken)
		for {
			resp, err := cs.Recv()
			if err != nil {
				recvErr = err
				return
			}
			var p *inflight
			select {
			case p = <-pending:
			default:
				recvErr = errors.New("loadgen: the server answered a request that was not sent")
				return
			}
			w.handle(p, resp)
			<-slots
		}
	}()

	first := true
	send := func(p *inflight) error {
		select {
		case slots <- struct{}{}:
		case <-broken:
			*carry = append(*carry, p)
			return errBroken
		}
		req := &storagepb.AppendRowsRequest{Rows: &storagepb.AppendRowsRequest_ProtoRows{
			ProtoRows: &storagepb.AppendRowsRequest_ProtoData{Rows: &storagepb.ProtoRows{SerializedRows: p.buf.rows}},
		}}
		if first {
			req.WriteStream = w.stream
			req.GetProtoRows().WriterSchema = &storagepb.ProtoSchema{ProtoDescriptor: w.r.shape.desc}
			first = false
		}
		if p.offset >= 0 {
			req.Offset = wrapperspb.Int64(p.offset)
		}
		p.sent = time.Now()
		pending <- p // never blocks: slots bounds it
		w.r.requests.Add(1)
		return cs.Send(req)
	}

	resend := *carry
	*carry = nil
	var sendErr error
	for i, p := range resend {
		p.retry = true
		if sendErr = send(p); sendErr != nil {
			*carry = append(*carry, resend[i+1:]...)
			break
		}
	}
	for sendErr == nil {
		p := w.nextRequest(broken, slots)
		if p == nil {
			break
		}
		sendErr = send(p)
	}
	if sendErr == nil {
		_ = cs.CloseSend()
	}
	select {
	case <-broken:
	case <-time.After(o.DrainTimeout):
		cancel()
		<-broken
	}
	// Whatever is still pending was never answered; keep log order.
	var left []*inflight
	for len(pending) > 0 {
		left = append(left, <-pending)
	}
	*carry = append(left, *carry...)
	if recvErr == io.EOF && len(*carry) == 0 {
		return nil
	}
	if recvErr == io.EOF {
		recvErr = errors.New("loadgen: the call ended with requests unanswered")
	}
	return recvErr
}

// nextRequest builds the next request, or returns nil when the load
// stopped. After an offset failure it first waits for every answer and
// realigns the offset with the stream's acknowledged end.
func (w *worker) nextRequest(broken <-chan struct{}, slots chan struct{}) *inflight {
	o := w.r.o
	if w.offsets() && w.resync.Load() {
		for len(slots) > 0 {
			select {
			case <-broken:
				return nil
			case <-time.After(time.Millisecond):
			}
		}
		w.offset = w.ackedEnd.Load()
		w.resync.Store(false)
	}
	n := w.r.claim(o.RowsPerRequest)
	if n == 0 {
		return nil
	}
	if !w.pace(broken) {
		return nil
	}
	var buf *reqBuf
	select {
	case buf = <-w.free:
	default:
		buf = &reqBuf{}
	}
	buf.data, buf.rows = buf.data[:0], buf.rows[:0]
	ts := time.Now().UnixMicro()
	ends := make([]int, 0, n)
	for i := range n {
		buf.data = w.r.shape.appendProto(buf.data, makeSeq(w.id, w.next+int64(i)), ts)
		ends = append(ends, len(buf.data))
	}
	start := 0
	for _, e := range ends {
		buf.rows = append(buf.rows, buf.data[start:e:e])
		start = e
	}
	p := &inflight{lo: w.next, n: n, bytes: len(buf.data), offset: -1, buf: buf}
	w.next += int64(n)
	w.led.sent = w.next
	if w.offsets() {
		p.offset = w.offset
		w.offset += int64(n)
	}
	return p
}

// offsets reports whether this connection sends offsets.
func (w *worker) offsets() bool { return w.r.o.Offsets && w.mode.explicit() }

// pace sleeps as needed to hold this connection's share of o.Rate. It
// returns false if the call broke meanwhile.
func (w *worker) pace(broken <-chan struct{}) bool {
	if w.r.o.Rate <= 0 {
		return true
	}
	perConn := w.r.o.Rate / float64(w.r.o.Conns)
	due := w.started.Add(time.Duration(float64(w.next) / perConn * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-broken:
			return false
		case <-w.r.stop:
		}
	}
	return true
}

// handle records the answer to p.
func (w *worker) handle(p *inflight, resp *storagepb.AppendRowsResponse) {
	w.hist.Record(time.Since(p.sent))
	defer func() {
		select {
		case w.free <- p.buf:
		default:
		}
		p.buf = nil
	}()
	if st := resp.GetError(); st != nil {
		if p.retry && p.offset >= 0 && codes.Code(st.GetCode()) == codes.AlreadyExists {
			// The attempt before the call broke was written.
			w.ackRows(p, p.offset)
			return
		}
		addSpan(&w.led.rejected, p.lo, int64(p.n))
		w.r.countError(statusKey(st))
		if p.offset >= 0 {
			w.resync.Store(true)
		}
		return
	}
	off := int64(-1)
	if o := resp.GetAppendResult().GetOffset(); o != nil {
		off = o.GetValue()
		if p.offset >= 0 && off != p.offset {
			w.r.countError(fmt.Sprintf("append_result offset %d for a request at offset %d", off, p.offset))
		}
	}
	w.ackRows(p, off)
}

func (w *worker) ackRows(p *inflight, off int64) {
	addSpan(&w.led.acked, p.lo, int64(p.n))
	if off >= 0 {
		w.ackedEnd.Store(off + int64(p.n))
	} else if w.mode.explicit() {
		w.ackedEnd.Add(int64(p.n))
	}
	w.r.acked(int64(p.n), int64(p.bytes))
}

// flush makes a BUFFERED stream visible through its last acknowledged row.
func (w *worker) flush(ctx context.Context) bool {
	end := w.ackedEnd.Load()
	if end <= w.flushed {
		return true
	}
	t0 := time.Now()
	_, err := w.client.FlushRows(ctx, &storagepb.FlushRowsRequest{WriteStream: w.stream, Offset: wrapperspb.Int64(end - 1)})
	w.flushHist.Record(time.Since(t0))
	if err != nil {
		w.r.countError("FlushRows " + errorKey(err))
		return false
	}
	w.flushed = end
	return true
}

// finalFlush flushes everything acknowledged; if that fails the
// acknowledged rows may or may not be visible.
func (w *worker) finalFlush(ctx context.Context) {
	if !w.flush(ctx) {
		w.led.demote(false)
	}
}

// finalize finalizes a PENDING stream and checks its row count against
// the acknowledged rows. It reports whether the stream can be committed.
func (w *worker) finalize(ctx context.Context) bool {
	t0 := time.Now()
	resp, err := w.client.FinalizeWriteStream(ctx, &storagepb.FinalizeWriteStreamRequest{Name: w.stream})
	w.finalizeHist.Record(time.Since(t0))
	if err != nil {
		w.r.countError("FinalizeWriteStream " + errorKey(err))
		w.led.demote(true)
		return false
	}
	if got, want := resp.GetRowCount(), w.ackedEnd.Load(); got != want {
		w.r.countError(fmt.Sprintf("FinalizeWriteStream row_count %d, acknowledged %d", got, want))
	}
	return true
}

// commit commits the streams of ws in one BatchCommitWriteStreams call
// and records its latency on w.
func (w *worker) commit(ctx context.Context, ws []*worker) {
	names := make([]string, len(ws))
	for i, x := range ws {
		names[i] = x.stream
	}
	t0 := time.Now()
	resp, err := w.client.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{
		Parent: w.r.tablePath, WriteStreams: names,
	})
	w.commitHist.Record(time.Since(t0))
	switch {
	case err != nil:
		// The commit may or may not have happened.
		w.r.countError("BatchCommitWriteStreams " + errorKey(err))
		for _, x := range ws {
			x.led.demote(false)
		}
	case len(resp.GetStreamErrors()) > 0 || resp.GetCommitTime() == nil:
		for _, se := range resp.GetStreamErrors() {
			w.r.countError("BatchCommitWriteStreams stream error " + se.GetCode().String())
		}
		if len(resp.GetStreamErrors()) == 0 {
			w.r.countError("BatchCommitWriteStreams without commit_time")
		}
		for _, x := range ws {
			x.led.demote(true)
		}
	}
}

// errorKey names a call error by its gRPC code.
func errorKey(err error) string {
	if st, ok := grpcstatus.FromError(err); ok {
		return st.Code().String()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return codes.Canceled.String()
	}
	return shortErr(err)
}

// statusKey names an in-band error by its gRPC code and, when present, its
// StorageError code.
func statusKey(st *status.Status) string {
	key := codes.Code(st.GetCode()).String()
	for _, d := range st.GetDetails() {
		var se storagepb.StorageError
		if d.UnmarshalTo(&se) == nil {
			return key + " " + se.GetCode().String()
		}
	}
	return key
}
