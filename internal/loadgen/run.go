package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runner is one load run: its options, target table, connections and
// live counters.
type runner struct {
	o       Options
	shape   *shape
	rest    *restClient
	dataset string
	table   string
	// tablePath is projects/p/datasets/d/tables/t.
	tablePath string

	workers []*worker

	stop     chan struct{} // closed: send nothing more
	stopOnce sync.Once
	claimed  atomic.Int64

	start      time.Time
	lastAck    atomic.Int64 // UnixNano of the latest ack
	ackedRows  atomic.Int64
	ackedBytes atomic.Int64
	requests   atomic.Int64
	errCount   atomic.Int64

	mu     sync.Mutex
	errors map[string]int64
}

// halt stops new sends; outstanding requests are still answered.
func (r *runner) halt() { r.stopOnce.Do(func() { close(r.stop) }) }

func (r *runner) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// claim reserves up to n rows to send and returns how many it got: 0 once
// the run is stopping or its row budget is spent.
func (r *runner) claim(n int) int {
	if r.stopped() {
		return 0
	}
	if r.o.Rows <= 0 {
		return n
	}
	end := r.claimed.Add(int64(n))
	start := end - int64(n)
	if end >= r.o.Rows {
		r.halt()
	}
	if start >= r.o.Rows {
		return 0
	}
	if end > r.o.Rows {
		return int(r.o.Rows - start)
	}
	return n
}

// countError adds one occurrence of the error named key.
func (r *runner) countError(key string) {
	r.errCount.Add(1)
	r.mu.Lock()
	r.errors[key]++
	r.mu.Unlock()
}

func (r *runner) acked(rows, bytes int64) {
	r.ackedRows.Add(rows)
	r.ackedBytes.Add(bytes)
	r.lastAck.Store(time.Now().UnixNano())
}

// uniqueName returns prefix followed by the time and random hex, a valid
// dataset id.
func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s_%s_%s", prefix, time.Now().UTC().Format("20060102_150405"), hex.EncodeToString(b[:]))
}

// newRunner checks the options and compiles the shape; it contacts no
// server.
func newRunner(o Options) (*runner, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	sh, err := compileShape(o.Shape)
	if err != nil {
		return nil, err
	}
	r := &runner{
		o: o, shape: sh, rest: newRESTClient(o.HTTP, o.Project, o.Conns),
		dataset: uniqueName("penstock_bench"), table: "rows_" + string(o.Shape),
		stop: make(chan struct{}), errors: map[string]int64{},
	}
	r.tablePath = fmt.Sprintf("projects/%s/datasets/%s/tables/%s", o.Project, r.dataset, r.table)
	return r, nil
}

// prepare creates the dataset and table.
func (r *runner) prepare(ctx context.Context) error {
	if err := r.rest.createDataset(ctx, r.dataset); err != nil {
		return fmt.Errorf("loadgen: creating dataset %s: %w", r.dataset, err)
	}
	if err := r.rest.createTable(ctx, r.dataset, r.table, r.shape.columns); err != nil {
		_ = r.cleanup()
		return fmt.Errorf("loadgen: creating table %s.%s: %w", r.dataset, r.table, err)
	}
	return nil
}

// cleanup deletes the dataset with its table.
func (r *runner) cleanup() error {
	return withTimeout(time.Minute, func(ctx context.Context) error {
		return r.rest.deleteDataset(ctx, r.dataset)
	})
}

// connect opens every connection (and creates its stream).
func (r *runner) connect(ctx context.Context) error {
	r.workers = make([]*worker, r.o.Conns)
	for i := range r.workers {
		w := newWorker(r, i)
		r.workers[i] = w
		if w.mode == ModeInsertAll {
			continue
		}
		if err := w.dial(ctx); err != nil {
			r.disconnect()
			return err
		}
	}
	return nil
}

func (r *runner) disconnect() {
	for _, w := range r.workers {
		if w != nil {
			w.close()
		}
	}
}

// load runs every connection until the duration passes, the row budget is
// spent or ctx is cancelled, and waits for outstanding answers. It then
// runs the mode's closing steps (final flush, finalize, commit).
func (r *runner) load(ctx context.Context) {
	r.start = time.Now()
	r.lastAck.Store(r.start.UnixNano())
	if r.o.Rows <= 0 {
		timer := time.AfterFunc(r.o.Duration, r.halt)
		defer timer.Stop()
	}
	stopWatch := context.AfterFunc(ctx, r.halt)
	defer stopWatch()

	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	wg.Wait()
	r.halt()
	r.close(ctx)
}

// close runs the mode's closing steps after every connection stopped.
func (r *runner) close(ctx context.Context) {
	switch r.o.Mode {
	case ModeBuffered, ModePending, ModeMixed:
		forEach(r.workers, func(w *worker) {
			switch w.mode {
			case ModeBuffered:
				w.finalFlush(ctx)
			case ModePending:
				if w.finalize(ctx) {
					w.commit(ctx, []*worker{w})
				}
			}
		})
	case ModeCommit:
		var ok []*worker
		var mu sync.Mutex
		forEach(r.workers, func(w *worker) {
			if w.finalize(ctx) {
				mu.Lock()
				ok = append(ok, w)
				mu.Unlock()
			}
		})
		if len(ok) > 0 {
			sort.Slice(ok, func(i, j int) bool { return ok[i].id < ok[j].id })
			ok[0].commit(ctx, ok)
		}
	}
}

func forEach(ws []*worker, fn func(*worker)) {
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w)
		}()
	}
	wg.Wait()
}

// progress prints a line every second until stopped.
func (r *runner) progress(out io.Writer, srv *sampler, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastRows, lastBytes int64
	last := time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			rows, bytes := r.ackedRows.Load(), r.ackedBytes.Load()
			dt := now.Sub(last).Seconds()
			line := fmt.Sprintf("[%5.1fs] %s rows  %s rows/s  %6.1f MB/s  errors %d",
				now.Sub(r.start).Seconds(), human(float64(rows)), human(float64(rows-lastRows)/dt),
				float64(bytes-lastBytes)/dt/1e6, r.errCount.Load())
			if srv != nil {
				s := srv.current()
				line += fmt.Sprintf("  server rss %.0f MB", mb(s.rss))
			}
			fmt.Fprintln(out, line)
			lastRows, lastBytes, last = rows, bytes, now
		}
	}
}

// human formats n with a k/M/G suffix.
func human(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%6.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%6.2fM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%6.1fk", n/1e3)
	}
	return fmt.Sprintf("%7.0f", n)
}

// Run creates a dataset and table on the target, writes rows as o says,
// reads them back to verify, deletes the dataset (unless o.Keep) and
// returns the report. Lost or duplicated rows are reported in
// Report.Verify, not as an error. The error is for runs that could not
// start (ErrInvalidOptions, an unreachable or failing server at setup).
// Cancelling ctx stops sending early; the run still drains, verifies and
// cleans up.
func Run(ctx context.Context, o Options) (*Report, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	setupCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := r.prepare(setupCtx); err != nil {
		return nil, err
	}
	rep := &Report{}
	defer func() {
		if r.o.Keep {
			return
		}
		if err := r.cleanup(); err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("deleting dataset %s: %v", r.dataset, err))
		}
	}()
	if err := r.connect(setupCtx); err != nil {
		return nil, err
	}
	defer r.disconnect()

	var srv *sampler
	if r.o.PID > 0 {
		srv = startSampler(r.o.PID, 200*time.Millisecond)
	}
	self := startSampler(0, time.Second)
	progDone := make(chan struct{})
	if r.o.Progress != nil {
		go r.progress(r.o.Progress, srv, progDone)
	}
	// The load itself ignores ctx cancellation beyond halting sends, so
	// an interrupted run still drains its answers and closes its streams.
	loadCtx, loadCancel := context.WithCancel(context.WithoutCancel(ctx))
	stopHalt := context.AfterFunc(ctx, r.halt)
	r.load(loadCtx)
	stopHalt()
	loadCancel()
	close(progDone)
	end := time.Now()

	r.fill(rep, end)
	rep.Client = self.finish()
	if srv != nil {
		rep.Server = srv.finish()
	}
	ledgers := make([]*ledger, len(r.workers))
	for i, w := range r.workers {
		ledgers[i] = &w.led
	}
	vctx, vcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer vcancel()
	rep.Verify = verify(vctx, r.rest, r.dataset, r.table, ledgers, r.o.VerifyMaxRows)
	return rep, nil
}

// fill copies the run's figures into rep.
func (r *runner) fill(rep *Report, end time.Time) {
	o := r.o
	rep.Mode, rep.Shape, rep.Conns, rep.RowsPerRequest = o.Mode, o.Shape, o.Conns, o.RowsPerRequest
	rep.Offsets, rep.Inflight, rep.Rate = o.Offsets, o.Inflight, o.Rate
	rep.GRPC, rep.HTTP, rep.Project, rep.Dataset, rep.Table = o.GRPC, o.HTTP, o.Project, r.dataset, r.table
	if o.Mode == ModeInsertAll {
		rep.GRPC = ""
		rep.Inflight = 1
	}
	lastAck := time.Unix(0, r.lastAck.Load())
	elapsed := lastAck.Sub(r.start)
	if elapsed <= 0 {
		elapsed = end.Sub(r.start)
	}
	rep.ElapsedSec = elapsed.Seconds()
	rep.Requests = r.requests.Load()
	rep.Rows = r.ackedRows.Load()
	rep.Bytes = r.ackedBytes.Load()
	if rep.Rows > 0 {
		rep.AvgRowBytes = float64(rep.Bytes) / float64(rep.Rows)
	}
	if s := elapsed.Seconds(); s > 0 {
		rep.RowsPerSec = float64(rep.Rows) / s
		rep.MBPerSec = float64(rep.Bytes) / s / 1e6
	}
	var ack, flush, fin, commit histogram
	for _, w := range r.workers {
		ack.Merge(&w.hist)
		flush.Merge(&w.flushHist)
		fin.Merge(&w.finalizeHist)
		commit.Merge(&w.commitHist)
	}
	rep.AckLatency, rep.FlushLatency = ack.Summary(), flush.Summary()
	rep.FinalizeLatency, rep.CommitLatency = fin.Summary(), commit.Summary()
	r.mu.Lock()
	if len(r.errors) > 0 {
		rep.Errors = make(map[string]int64, len(r.errors))
		for k, v := range r.errors {
			rep.Errors[k] = v
		}
	}
	r.mu.Unlock()
}

// errBroken ends a session whose call broke while sending.
var errBroken = errors.New("loadgen: call broke")

// shortErr keeps error keys readable: the first line, at most 80 bytes.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}
