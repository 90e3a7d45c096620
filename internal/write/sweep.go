package write

import (
	"time"
)

// Sweep forgets streams that can no longer be used, so a long-running
// server's memory does not grow with every stream ever created:
//   - PENDING streams once their commit window has passed (committed ones
//     24 h after creation, when a blind commit retry can no longer need the
//     STREAM_ALREADY_COMMITTED answer; uncommitted ones when they expire,
//     dropping their never-visible rows too);
//   - COMMITTED and BUFFERED streams after their idle expiry.
//
// Visible rows stay visible. A purged stream answers NOT_FOUND. Stream
// records stay in the log, so a restart replays them and the next sweep
// forgets them again. It returns the number of streams forgotten.
func (e *Engine) Sweep(now time.Time) int {
	e.mu.Lock()
	var gone []*stream
	for name, st := range e.streams {
		st.mu.Lock()
		expired := e.expiredLocked(st, now)
		st.mu.Unlock()
		st.table.mu.RLock()
		committed := st.committed
		st.table.mu.RUnlock()
		if st.typ == Pending && committed {
			expired = now.Sub(st.created) > e.opts.PendingTTL
		}
		if !expired {
			continue
		}
		delete(e.streams, name)
		delete(e.byID, st.id)
		gone = append(gone, st)
	}
	e.mu.Unlock()

	// Rows of expired, uncommitted PENDING streams can never become
	// visible: drop their chunks so reads and stats stop walking them.
	dead := map[*tableState]map[*stream]bool{}
	for _, st := range gone {
		if st.typ != Pending {
			continue
		}
		st.table.mu.RLock()
		committed := st.committed
		st.table.mu.RUnlock()
		if committed {
			continue
		}
		if dead[st.table] == nil {
			dead[st.table] = map[*stream]bool{}
		}
		dead[st.table][st] = true
	}
	for ts, streams := range dead {
		ts.mu.Lock()
		kept := ts.chunks[:0:0]
		for _, c := range ts.chunks {
			if !streams[c.st] {
				kept = append(kept, c)
			}
		}
		ts.chunks = kept
		ts.mu.Unlock()
	}
	return len(gone)
}

// sweepLoop runs Sweep every interval until stop is closed.
func (e *Engine) sweepLoop(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			e.Sweep(e.now())
		}
	}
}
