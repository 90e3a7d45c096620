package loadgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/loadgen"
	"github.com/penstockdb/penstock/internal/servertest"
)

// small returns options for a quick run against in: 2 connections, 20
// requests of 50 rows each.
func small(in *servertest.Instance, mode loadgen.Mode) loadgen.Options {
	return loadgen.Options{
		GRPC: in.GRPCAddr, HTTP: in.HTTPURL, Project: "p", Mode: mode, Conns: 2,
		RowsPerRequest: 50, Rows: 1000, Inflight: 4, Shape: loadgen.Typical,
		FlushInterval: 20 * time.Millisecond,
	}
}

// datasetCount returns how many datasets project p has.
func datasetCount(t *testing.T, in *servertest.Instance) int {
	t.Helper()
	resp, err := http.Get(in.HTTPURL + "/bigquery/v2/projects/p/datasets")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Datasets []json.RawMessage `json:"datasets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return len(list.Datasets)
}

func TestRun_Modes(t *testing.T) {
	in := servertest.Start(t)
	cases := []struct {
		mode    loadgen.Mode
		shape   loadgen.Shape
		offsets bool
	}{
		{loadgen.ModeDefault, loadgen.Narrow, false},
		{loadgen.ModeCommitted, loadgen.Typical, true},
		{loadgen.ModeCommitted, loadgen.Wide, false},
		{loadgen.ModePending, loadgen.Typical, true},
		{loadgen.ModeBuffered, loadgen.Typical, true},
		{loadgen.ModeCommit, loadgen.Wide, false},
		{loadgen.ModeMixed, loadgen.Typical, true},
	}
	for _, c := range cases {
		name := string(c.mode) + "/" + string(c.shape)
		if c.offsets {
			name += "/offsets"
		}
		t.Run(name, func(t *testing.T) {
			o := small(in, c.mode)
			o.Shape, o.Offsets = c.shape, c.offsets
			if c.mode == loadgen.ModeMixed {
				o.Conns = 4 // one of each stream type
			}
			var progress bytes.Buffer
			o.Progress = &progress
			rep, err := loadgen.Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := rep.Rows, int64(1000); got != want {
				t.Errorf("rows acknowledged: got %d, want %d (errors %v)", got, want, rep.Errors)
			}
			if got, want := rep.Requests, int64(20); got != want {
				t.Errorf("requests: got %d, want %d", got, want)
			}
			if len(rep.Errors) > 0 {
				t.Errorf("errors: %v", rep.Errors)
			}
			v := rep.Verify
			if v == nil || !v.OK || v.Method != loadgen.VerifyRows || v.Found != 1000 || v.Expected != 1000 {
				t.Errorf("verify: got %+v, want OK row-by-row with 1000 rows", v)
			}
			if rep.AckLatency == nil || rep.AckLatency.Count != 20 || rep.AckLatency.Max <= 0 || rep.AckLatency.P50 > rep.AckLatency.Max {
				t.Errorf("ack latency: got %+v, want 20 samples with p50 <= max", rep.AckLatency)
			}
			if rep.RowsPerSec <= 0 || rep.MBPerSec <= 0 || rep.AvgRowBytes <= 0 {
				t.Errorf("throughput: got %.0f rows/s, %.2f MB/s, %.0f B/row", rep.RowsPerSec, rep.MBPerSec, rep.AvgRowBytes)
			}
			switch c.mode {
			case loadgen.ModePending:
				if rep.CommitLatency == nil || rep.CommitLatency.Count != 2 || rep.FinalizeLatency == nil {
					t.Errorf("pending: want a finalize and a commit per connection, got %+v / %+v", rep.FinalizeLatency, rep.CommitLatency)
				}
			case loadgen.ModeCommit:
				if rep.CommitLatency == nil || rep.CommitLatency.Count != 1 {
					t.Errorf("commit: want one BatchCommit, got %+v", rep.CommitLatency)
				}
			case loadgen.ModeBuffered:
				if rep.FlushLatency == nil {
					t.Errorf("buffered: no flush recorded")
				}
			case loadgen.ModeMixed:
				if rep.FlushLatency == nil || rep.CommitLatency == nil || rep.CommitLatency.Count != 1 {
					t.Errorf("mixed: want a flush and one commit, got %+v / %+v", rep.FlushLatency, rep.CommitLatency)
				}
			}
			var text, js bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"throughput", "ack latency", "verify", "OK (rows)"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text report lacks %q:\n%s", want, text.String())
				}
			}
			if err := rep.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var back loadgen.Report
			if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Rows != rep.Rows || back.Verify == nil || !back.Verify.OK {
				t.Errorf("JSON report does not round-trip (%v):\n%s", err, js.String())
			}
		})
	}
	if n := datasetCount(t, in); n != 0 {
		t.Errorf("%d bench datasets left behind, want 0", n)
	}
}

func TestRun_DurationAndServerStats(t *testing.T) {
	in := servertest.Start(t)
	o := small(in, loadgen.ModeDefault)
	o.Rows, o.Duration = 0, 300*time.Millisecond
	o.PID = os.Getpid() // the server runs in this process
	o.Rate = 5000
	rep, err := loadgen.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows == 0 || rep.Verify == nil || !rep.Verify.OK {
		t.Fatalf("got %d rows, verify %+v", rep.Rows, rep.Verify)
	}
	// 5000 rows/s for 0.3 s is about 1500 rows; allow for slow machines.
	if rep.Rows > 2500 {
		t.Errorf("rate limit 5000 rows/s for 300ms: got %d rows", rep.Rows)
	}
	if rep.Client == nil || rep.Client.EndRSSMB <= 0 {
		t.Errorf("client stats: %+v", rep.Client)
	}
	if s := rep.Server; s == nil || s.PID != os.Getpid() || s.PeakRSSMB <= 0 || s.HighWaterRSSMB < s.EndRSSMB || s.CPUSeconds < 0 {
		t.Errorf("server stats: %+v", s)
	}
}

func TestRun_CountOnlyVerification(t *testing.T) {
	in := servertest.Start(t)
	o := small(in, loadgen.ModeCommitted)
	o.VerifyMaxRows = 10
	rep, err := loadgen.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verify; v.Method != loadgen.VerifyCount || !v.OK || v.Found != 1000 {
		t.Errorf("verify: got %+v, want OK by count with 1000 rows", v)
	}
}

func TestRun_InvalidOptions(t *testing.T) {
	for _, o := range []loadgen.Options{
		{Mode: "bogus"},
		{Mode: loadgen.ModeDefault, Offsets: true},
		{Mode: loadgen.ModeInsertAll, Offsets: true},
		{Shape: "huge"},
		{Mode: loadgen.ModeInsertAll, RowsPerRequest: 60_000},
	} {
		if _, err := loadgen.Run(context.Background(), o); !errors.Is(err, loadgen.ErrInvalidOptions) {
			t.Errorf("Run(%+v): got %v, want ErrInvalidOptions", o, err)
		}
	}
}

func TestRun_ServerUnreachable(t *testing.T) {
	o := loadgen.Options{GRPC: "127.0.0.1:1", HTTP: "127.0.0.1:1", Rows: 10}
	if _, err := loadgen.Run(context.Background(), o); err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
}

func TestRun_InsertAll(t *testing.T) {
	in := servertest.Start(t)
	for _, shape := range loadgen.Shapes {
		t.Run(string(shape), func(t *testing.T) {
			o := small(in, loadgen.ModeInsertAll)
			o.Shape = shape
			rep, err := loadgen.Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Rows != 1000 || len(rep.Errors) > 0 {
				t.Errorf("got %d rows acknowledged, errors %v; want 1000 and none", rep.Rows, rep.Errors)
			}
			if v := rep.Verify; !v.OK || v.Found != 1000 {
				t.Errorf("verify: %+v", v)
			}
			if rep.GRPC != "" || rep.Inflight != 1 {
				t.Errorf("insertAll report names gRPC %q, inflight %d", rep.GRPC, rep.Inflight)
			}
		})
	}
}
