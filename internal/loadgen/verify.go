package loadgen

import (
	"context"
	"fmt"
	"math/bits"
)

// A row's seq value is its connection number in the high bits and the
// connection's own row counter in the low seqBits bits, so every row sent
// in a run has a distinct seq and verification can tell rows apart.
const (
	seqBits = 40
	seqMask = 1<<seqBits - 1
)

func makeSeq(conn int, local int64) int64 { return int64(conn)<<seqBits | local }

// span is a half-open range [lo, hi) of a connection's row counter.
type span struct{ lo, hi int64 }

// ledger records the fate of every row one connection sent: acknowledged
// (must be readable exactly once), rejected (answered with an error: must
// not be readable) or unknown (no answer: readable at most once).
type ledger struct {
	sent                     int64
	acked, rejected, unknown []span
}

func addSpan(list *[]span, lo, n int64) {
	if n <= 0 {
		return
	}
	l := *list
	if k := len(l); k > 0 && l[k-1].hi == lo {
		l[k-1].hi = lo + n
		return
	}
	*list = append(l, span{lo, lo + n})
}

func count(list []span) int64 {
	var n int64
	for _, s := range list {
		n += s.hi - s.lo
	}
	return n
}

// demote moves every acknowledged row to unknown (rows whose visibility
// depends on a later step, a flush or commit, that did not complete) or to
// rejected (rows that must not be visible).
func (l *ledger) demote(toRejected bool) {
	for _, s := range l.acked {
		if toRejected {
			addSpan(&l.rejected, s.lo, s.hi-s.lo)
		} else {
			addSpan(&l.unknown, s.lo, s.hi-s.lo)
		}
	}
	l.acked = nil
}

// Verification methods.
const (
	VerifyRows    = "rows"    // every row's seq read back and checked
	VerifyCount   = "count"   // totalRows compared with the acknowledged count
	VerifySkipped = "skipped" // not verified
)

// Verify is what reading the table back found.
type Verify struct {
	// Method is VerifyRows, VerifyCount or VerifySkipped.
	Method string `json:"method"`
	// Expected is the number of acknowledged rows that must be readable.
	Expected int64 `json:"expected"`
	// Found is the table's totalRows.
	Found int64 `json:"found"`
	// Lost counts acknowledged rows that are missing (with VerifyCount, a
	// lower bound: Expected - Found when positive).
	Lost int64 `json:"lost"`
	// Duplicated counts extra copies of rows (with VerifyCount, a lower
	// bound: rows beyond every row that could legitimately be there).
	Duplicated int64 `json:"duplicated"`
	// Unexpected counts readable rows whose request was answered with an
	// error (VerifyRows only).
	Unexpected int64 `json:"unexpected"`
	// Unacknowledged counts readable rows whose request got no answer
	// (allowed: the server may have written them before failing).
	Unacknowledged int64 `json:"unacknowledged"`
	// Foreign counts rows with a seq this run never sent (VerifyRows only).
	Foreign int64 `json:"foreign"`
	// OK is true when nothing was lost, duplicated, unexpected or foreign.
	OK bool `json:"ok"`
	// Error is why verification could not complete, if it could not.
	Error string `json:"error,omitempty"`
}

// verify reads the table back and compares it with the ledgers (one per
// connection). maxRows bounds the row-by-row check; above it only counts
// are compared.
func verify(ctx context.Context, c *restClient, dataset, table string, ledgers []*ledger, maxRows int64) *Verify {
	v := &Verify{Method: VerifyRows}
	var unknown int64
	for _, l := range ledgers {
		v.Expected += count(l.acked)
		unknown += count(l.unknown)
	}
	if maxRows < 0 {
		v.Method = VerifySkipped
		v.OK = true
		return v
	}
	if v.Expected+unknown > maxRows {
		v.Method = VerifyCount
		total, err := c.totalRows(ctx, dataset, table)
		if err != nil {
			v.Error = fmt.Sprintf("reading totalRows: %v", err)
			return v
		}
		v.Found = total
		if total < v.Expected {
			v.Lost = v.Expected - total
		}
		if total > v.Expected+unknown {
			v.Duplicated = total - v.Expected - unknown
		}
		v.OK = v.Lost == 0 && v.Duplicated == 0
		return v
	}

	seen := make([][]uint64, len(ledgers))
	for i, l := range ledgers {
		seen[i] = make([]uint64, (l.sent+63)/64)
	}
	var scanned int64
	total, err := c.scanSeq(ctx, dataset, table, func(seq int64) {
		scanned++
		conn, local := seq>>seqBits, seq&seqMask
		if seq < 0 || conn >= int64(len(ledgers)) || local >= ledgers[conn].sent {
			v.Foreign++
			return
		}
		w, bit := local/64, uint64(1)<<(local%64)
		if seen[conn][w]&bit != 0 {
			v.Duplicated++
			return
		}
		seen[conn][w] |= bit
	})
	v.Found = total
	if err != nil {
		v.Error = fmt.Sprintf("reading rows back: %v", err)
		return v
	}
	for i, l := range ledgers {
		for _, s := range l.acked {
			v.Lost += (s.hi - s.lo) - countBits(seen[i], s)
		}
		for _, s := range l.rejected {
			v.Unexpected += countBits(seen[i], s)
		}
		for _, s := range l.unknown {
			v.Unacknowledged += countBits(seen[i], s)
		}
	}
	if scanned != total {
		v.Error = fmt.Sprintf("tabledata.list returned %d rows but reported totalRows %d", scanned, total)
	}
	v.OK = v.Lost == 0 && v.Duplicated == 0 && v.Unexpected == 0 && v.Foreign == 0 && v.Error == ""
	return v
}

// countBits counts the set bits of set in [s.lo, s.hi).
func countBits(set []uint64, s span) int64 {
	var n int64
	for i := s.lo; i < s.hi; {
		w := i / 64
		off := i % 64
		word := set[w] >> off
		width := int64(64 - off)
		if rest := s.hi - i; rest < width {
			word &= 1<<rest - 1
			width = rest
		}
		n += int64(bits.OnesCount64(word))
		i += width
	}
	return n
}
