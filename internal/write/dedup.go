package write

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"
)

// insertAll's best-effort de-duplication (spec rest-api.md §2.6).
//
// A row that carries an insertId is dropped, and reported as written, when
// a row with the same id was written to the same destination within the
// window. The destination is the resolved table together with the
// template it was reached through (none, or the template's UID) and the
// partition decorator (none, or its day): rows sent through a template and
// rows sent to the generated table directly are not compared, nor are
// rows sent to t and to t$20240131. Rows without an insertId are never
// dropped. Two rows with the same insertId in one request are stored once
// (the first valid one).
//
// The check and the reservation of a request's ids happen under one lock,
// before the rows are queued to the log, so two concurrent requests with
// the same id store it once. A request that finds an id reserved by a
// request still in flight waits for that request's rows to be durable
// before it answers, so its success means the row is stored; if that
// write fails, the waiting request fails the same way (and its retry
// stores the row).
//
// Memory is bounded: ids live in two generations of at most
// Options.DedupMaxIDs entries each; the current generation is retired when
// it is a window old or full, and the older one is then dropped. An entry
// therefore lives between one and two windows unless more than
// DedupMaxIDs ids arrive within a window, in which case the effective
// window shrinks (BigQuery's de-duplication is best-effort too). Entries
// are 128-bit hashes of (destination, insertId), so memory does not grow
// with id length.
//
// The index is held in memory only: after a restart earlier ids are
// forgotten, so a retry of a request that was acknowledged just before a
// crash is stored again. BigQuery documents the same best-effort
// semantics.

// dedupKey is a 128-bit hash of a destination and an insertId.
type dedupKey [2]uint64

// dedupScope identifies a de-duplication destination.
type dedupScope struct {
	table    int64 // UID of the table written
	template int64 // UID of the template table used, 0 for none
	// decorator is the partition (µs) a decorator named; hasDecorator
	// says whether there was one.
	decorator    int64
	hasDecorator bool
}

// insertFlight is one request's write as seen by the index: done is
// closed, with err set, once the rows are durable or have failed. keys are
// the ids it reserved, released if it fails.
type insertFlight struct {
	id   uint64
	done chan struct{}
	err  error
	keys []dedupKey
}

// dedupEntry is a remembered id. It holds no pointers, so the garbage
// collector never scans the (large) maps; flight names the request that
// wrote the row, which is still in progress while it is in
// dedupIndex.flights.
type dedupEntry struct {
	at     int64 // µs when the id was reserved
	flight uint64
}

// dedupIndex is the engine's insertId memory. Engine initializes it
// lazily with its options (see dedupIdx).
type dedupIndex struct {
	once   sync.Once
	window int64 // µs; <= 0 turns de-duplication off
	maxIDs int
	seeds  [2]maphash.Seed

	mu         sync.Mutex
	cur        map[dedupKey]dedupEntry
	prev       map[dedupKey]dedupEntry
	curStart   int64
	nextFlight uint64
	flights    map[uint64]*insertFlight // in progress, with reserved ids
}

// dedupIdx returns the engine's index, initializing it on first use.
func (e *Engine) dedupIdx() *dedupIndex {
	d := &e.dedup
	d.once.Do(func() {
		if e.opts.DedupWindow > 0 {
			d.window = e.opts.DedupWindow.Microseconds()
		}
		d.maxIDs = e.opts.DedupMaxIDs
		d.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
		d.flights = map[uint64]*insertFlight{}
	})
	return d
}

func (d *dedupIndex) key(h *maphash.Hash, scope *[25]byte, id string) dedupKey {
	var k dedupKey
	for i, seed := range d.seeds {
		h.SetSeed(seed)
		_, _ = h.Write(scope[:])
		_, _ = h.WriteString(id)
		k[i] = h.Sum64()
	}
	return k
}

func encodeScope(s dedupScope) (b [25]byte) {
	binary.LittleEndian.PutUint64(b[0:], uint64(s.table))
	binary.LittleEndian.PutUint64(b[8:], uint64(s.template))
	binary.LittleEndian.PutUint64(b[16:], uint64(s.decorator))
	if s.hasDecorator {
		b[24] = 1
	}
	return b
}

// claim decides which of the candidate rows (indexes into ids) the caller
// writes: rows without an id, and rows whose id is neither remembered for
// scope nor repeated earlier in the request. It reserves the ids of the
// rows it keeps for the returned flight, which the caller must pass to
// finish once the write is over, and returns the flights of other
// requests, still in progress, that hold ids of dropped rows (they must be
// durable before the caller answers).
func (d *dedupIndex) claim(scope dedupScope, ids []string, cand []int, now time.Time) (f *insertFlight, keep []int, waits []*insertFlight) {
	f = &insertFlight{done: make(chan struct{})}
	if d.window <= 0 {
		return f, cand, nil
	}
	n := 0
	for _, i := range cand {
		if ids[i] != "" {
			n++
		}
	}
	if n == 0 {
		return f, cand, nil
	}
	sb := encodeScope(scope)
	keys := make([]dedupKey, len(cand))
	var h maphash.Hash
	for j, i := range cand {
		if ids[i] != "" {
			keys[j] = d.key(&h, &sb, ids[i])
		}
	}
	at := now.UnixMicro()
	keep = make([]int, 0, len(cand))
	f.keys = make([]dedupKey, 0, n)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextFlight++
	f.id = d.nextFlight
	d.rotateLocked(at)
	for j, i := range cand {
		if ids[i] == "" {
			keep = append(keep, i)
			continue
		}
		k := keys[j]
		if e, ok := d.lookupLocked(k, at); ok {
			if w := d.flights[e.flight]; w != nil && !containsFlight(waits, w) {
				waits = append(waits, w)
			}
			continue
		}
		d.cur[k] = dedupEntry{at: at, flight: f.id}
		f.keys = append(f.keys, k)
		keep = append(keep, i)
	}
	if len(f.keys) > 0 {
		d.flights[f.id] = f
	}
	return f, keep, waits
}

// finish ends flight f with the outcome of its write: on failure its ids
// are forgotten, so a retry stores the rows. Waiters are released after.
func (d *dedupIndex) finish(f *insertFlight, err error) {
	if len(f.keys) > 0 {
		d.mu.Lock()
		delete(d.flights, f.id)
		if err != nil {
			for _, k := range f.keys {
				for _, m := range [2]map[dedupKey]dedupEntry{d.cur, d.prev} {
					if e, ok := m[k]; ok && e.flight == f.id {
						delete(m, k)
					}
				}
			}
		}
		d.mu.Unlock()
	}
	f.err = err
	close(f.done)
}

// lookupLocked returns the entry for k if it was reserved within the
// window.
func (d *dedupIndex) lookupLocked(k dedupKey, at int64) (dedupEntry, bool) {
	for _, m := range [2]map[dedupKey]dedupEntry{d.cur, d.prev} {
		if e, ok := m[k]; ok && at-e.at < d.window {
			return e, true
		}
	}
	return dedupEntry{}, false
}

// rotateLocked retires the current generation when it is a window old or
// full.
func (d *dedupIndex) rotateLocked(at int64) {
	if d.cur == nil {
		d.cur = map[dedupKey]dedupEntry{}
		d.curStart = at
		return
	}
	if at-d.curStart < d.window && (d.maxIDs <= 0 || len(d.cur) < d.maxIDs) {
		return
	}
	// Entries of the retired generation stay visible (lookups check their
	// age) until the next rotation drops them.
	d.prev = d.cur
	d.cur = make(map[dedupKey]dedupEntry, len(d.cur)/2)
	d.curStart = at
}

// size returns how many ids the index holds (for tests).
func (d *dedupIndex) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.cur) + len(d.prev)
}

func containsFlight(fs []*insertFlight, f *insertFlight) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}
