package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Latency summarizes a latency histogram, in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func (l *Latency) String() string {
	if l == nil {
		return "-"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (n=%d)", fmtMS(l.P50), fmtMS(l.P99), fmtMS(l.Max), l.Count)
}

func fmtMS(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 1:
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.3f ms", v)
}

// ProcStats is what /proc showed of a process during the run.
type ProcStats struct {
	PID int `json:"pid,omitempty"`
	// PeakRSSMB is the highest VmRSS sampled during the run, in MB (1e6).
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// HighWaterRSSMB is VmHWM at the end: the peak RSS since the process
	// started.
	HighWaterRSSMB float64 `json:"hwm_rss_mb"`
	// EndRSSMB is VmRSS at the end.
	EndRSSMB float64 `json:"end_rss_mb"`
	// CPUSeconds is user+system CPU time used during the run; CPUPercent
	// is that over the wall time (200 = two cores busy).
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"`
	Threads    int     `json:"threads,omitempty"`
	Error      string  `json:"error,omitempty"`
}

func (p *ProcStats) String() string {
	if p == nil {
		return "-"
	}
	if p.Error != "" && p.PeakRSSMB == 0 {
		return "unavailable: " + p.Error
	}
	return fmt.Sprintf("peak RSS %.0f MB (VmHWM %.0f MB), CPU %.1f s = %.0f%%", p.PeakRSSMB, p.HighWaterRSSMB, p.CPUSeconds, p.CPUPercent)
}

// Report is the outcome of Run.
type Report struct {
	Mode           Mode    `json:"mode"`
	Shape          Shape   `json:"shape"`
	Conns          int     `json:"conns"`
	RowsPerRequest int     `json:"rows_per_request"`
	Offsets        bool    `json:"offsets"`
	Inflight       int     `json:"inflight"`
	Rate           float64 `json:"rate_limit_rows_per_sec,omitempty"`
	GRPC           string  `json:"grpc,omitempty"`
	HTTP           string  `json:"http"`
	Project        string  `json:"project"`
	Dataset        string  `json:"dataset"`
	Table          string  `json:"table"`

	// ElapsedSec runs from the first send to the last acknowledgement.
	ElapsedSec float64 `json:"elapsed_sec"`
	// Requests counts requests sent (including failed ones).
	Requests int64 `json:"requests"`
	// Rows and Bytes count acknowledged rows and their payload: the
	// serialized proto rows for gRPC, the request body for insertAll.
	Rows        int64   `json:"rows"`
	Bytes       int64   `json:"bytes"`
	AvgRowBytes float64 `json:"avg_row_bytes"`
	RowsPerSec  float64 `json:"rows_per_sec"`
	MBPerSec    float64 `json:"mb_per_sec"`

	AckLatency      *Latency `json:"ack_latency,omitempty"`
	FlushLatency    *Latency `json:"flush_latency,omitempty"`
	FinalizeLatency *Latency `json:"finalize_latency,omitempty"`
	CommitLatency   *Latency `json:"commit_latency,omitempty"`

	// Errors counts failed requests and calls by gRPC code (with the
	// StorageError code when given) or HTTP status and reason.
	Errors map[string]int64 `json:"errors,omitempty"`

	Server   *ProcStats `json:"server,omitempty"`
	Client   *ProcStats `json:"client,omitempty"`
	Verify   *Verify    `json:"verify,omitempty"`
	Warnings []string   `json:"warnings,omitempty"`
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a human-readable table.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	target := r.HTTP
	if r.GRPC != "" {
		target = r.GRPC + " (gRPC), " + r.HTTP
	}
	row("target", "%s, project %s, table %s.%s", target, r.Project, r.Dataset, r.Table)
	load := fmt.Sprintf("mode %s, shape %s, %d conns, %d rows/request, inflight %d", r.Mode, r.Shape, r.Conns, r.RowsPerRequest, r.Inflight)
	if r.Offsets {
		load += ", offsets"
	}
	if r.Rate > 0 {
		load += fmt.Sprintf(", rate limit %.0f rows/s", r.Rate)
	}
	row("load", "%s", load)
	row("elapsed", "%.2f s, %d requests", r.ElapsedSec, r.Requests)
	row("rows", "%d acknowledged (%.0f bytes/row)", r.Rows, r.AvgRowBytes)
	row("throughput", "%s rows/s, %.1f MB/s", strings.TrimSpace(human(r.RowsPerSec)), r.MBPerSec)
	row("ack latency", "%s", r.AckLatency)
	if r.FlushLatency != nil {
		row("flush latency", "%s", r.FlushLatency)
	}
	if r.FinalizeLatency != nil {
		row("finalize latency", "%s", r.FinalizeLatency)
	}
	if r.CommitLatency != nil {
		row("commit latency", "%s", r.CommitLatency)
	}
	if len(r.Errors) == 0 {
		row("errors", "none")
	} else {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			label := ""
			if i == 0 {
				label = "errors"
			}
			row(label, "%d × %s", r.Errors[k], k)
		}
	}
	if r.Server != nil {
		row("server", "pid %d: %s", r.Server.PID, r.Server)
	}
	if r.Client != nil {
		row("client (this process)", "%s", r.Client)
	}
	if v := r.Verify; v != nil {
		row("verify", "%s", v)
	}
	for _, s := range r.Warnings {
		row("warning", "%s", s)
	}
	return tw.Flush()
}

func (v *Verify) String() string {
	switch v.Method {
	case VerifySkipped:
		return "skipped"
	}
	verdict := "OK"
	if !v.OK {
		verdict = "FAILED"
	}
	s := fmt.Sprintf("%s (%s): expected %d, table has %d; lost %d, duplicated %d", verdict, v.Method, v.Expected, v.Found, v.Lost, v.Duplicated)
	if v.Method == VerifyRows {
		s += fmt.Sprintf(", unexpected %d, unacknowledged present %d, foreign %d", v.Unexpected, v.Unacknowledged, v.Foreign)
	} else {
		s += " (lower bounds: counts only)"
	}
	if v.Error != "" {
		s += "; " + v.Error
	}
	return s
}
