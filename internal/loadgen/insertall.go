package loadgen

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// runInsertAll posts tabledata.insertAll requests one at a time until the
// load stops. A request answered 200 without insertErrors is acknowledged;
// one with insertErrors wrote nothing (skipInvalidRows is off); a 4xx
// answer wrote nothing; a 5xx answer or a transport failure may or may
// not have written its rows. After MaxReconnects transport failures in a
// row the connection gives up.
func (w *worker) runInsertAll(ctx context.Context) {
	r := w.r
	u := r.rest.path("datasets", r.dataset, "tables", r.table, "insertAll")
	var body []byte
	failures := 0
	for {
		n := r.claim(r.o.RowsPerRequest)
		if n == 0 {
			return
		}
		if !w.pace(nil) {
			return
		}
		ts := rfc3339Micros(time.Now())
		body = append(body[:0], `{"rows":[`...)
		for i := range n {
			if i > 0 {
				body = append(body, ',')
			}
			body = append(body, `{"json":`...)
			body = r.shape.appendJSON(body, makeSeq(w.id, w.next+int64(i)), ts)
			body = append(body, '}')
		}
		body = append(body, "]}"...)
		lo := w.next
		w.next += int64(n)
		w.led.sent = w.next

		t0 := time.Now()
		rowErrs, reason, err := r.rest.insertAll(ctx, u, body)
		w.hist.Record(time.Since(t0))
		r.requests.Add(1)
		var ae *apiError
		switch {
		case err == nil && rowErrs == 0:
			failures = 0
			addSpan(&w.led.acked, lo, int64(n))
			r.acked(int64(n), int64(len(body)))
		case err == nil:
			failures = 0
			addSpan(&w.led.rejected, lo, int64(n))
			r.countError("insertErrors " + reason)
		case errors.As(err, &ae):
			failures = 0
			if ae.Status >= http.StatusInternalServerError {
				addSpan(&w.led.unknown, lo, int64(n))
			} else {
				addSpan(&w.led.rejected, lo, int64(n))
			}
			r.countError(ae.key())
		default:
			addSpan(&w.led.unknown, lo, int64(n))
			if ctx.Err() != nil {
				return
			}
			r.countError("HTTP transport: " + shortErr(err))
			if failures++; failures > r.o.MaxReconnects {
				return
			}
			time.Sleep(time.Duration(failures) * 100 * time.Millisecond)
		}
	}
}
