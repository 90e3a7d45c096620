package wal_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/storage/wal"
)

// BenchmarkAppend measures acknowledged appends: each op is one Append that returned, spread
// over `writers` goroutines calling Append concurrently (so group commit can batch them).
// Run briefly, e.g.
//
//	go test ./internal/storage/wal -run '^$' -bench BenchmarkAppend -benchtime 200ms
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		for _, size := range []int{100, 4096, 1 << 20} {
			for _, mode := range []wal.SyncMode{wal.SyncAlways, wal.SyncNever} {
				name := fmt.Sprintf("writers=%d/size=%d/sync=%s", writers, size, mode)
				b.Run(name, func(b *testing.B) { benchAppend(b, writers, size, mode) })
			}
		}
	}
}

func benchAppend(b *testing.B, writers, size int, mode wal.SyncMode) {
	l, err := wal.Open(b.TempDir(), wal.Options{Sync: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	runAppends(b, l, writers, size)
}

// runAppends runs b.N appends of size bytes from writers goroutines and reports throughput.
func runAppends(b *testing.B, l *wal.Log, writers, size int) {
	before := l.Stats()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()

	// b.Loop cannot hand iterations to several goroutines, so they share a b.N countdown.
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if _, err := l.Append(data); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
	st := l.Stats()
	if st.Rounds > before.Rounds {
		b.ReportMetric(float64(st.Records-before.Records)/float64(st.Rounds-before.Rounds), "recs/round")
	}
	if st.ZeroBytes > 0 {
		b.ReportMetric(float64(st.ZeroBytes-before.ZeroBytes)/float64(b.N), "zeroB/op")
		b.ReportMetric(float64(st.RollsUnprepared-before.RollsUnprepared), "unprepared-rolls")
	}
}

// BenchmarkAppendSteady measures acknowledged appends like BenchmarkAppend, but on a log that
// has already rolled twice, so that (with preallocation) its active segment and spare are in
// the state a running server sees, and with prealloc on and off side by side. Segments are 32
// MiB so that the warm-up stays short; with 1 MiB records a run rolls several times.
//
//	go test ./internal/storage/wal -run '^$' -bench BenchmarkAppendSteady -benchtime 1s
func BenchmarkAppendSteady(b *testing.B) {
	for _, c := range []struct{ writers, size int }{{1, 1 << 20}, {8, 4096}, {64, 100}} {
		for _, prealloc := range []bool{true, false} {
			name := fmt.Sprintf("writers=%d/size=%d/prealloc=%v", c.writers, c.size, prealloc)
			b.Run(name, func(b *testing.B) {
				l := openWarm(b, wal.Options{SegmentSize: steadySegment, DisablePrealloc: !prealloc})
				defer l.Close()
				runAppends(b, l, c.writers, c.size)
			})
		}
	}
}

const steadySegment = 32 << 20

// openWarm opens a log in a new directory and appends 1 MiB records until it has rolled twice.
func openWarm(b *testing.B, opts wal.Options) *wal.Log {
	b.Helper()
	l, err := wal.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	warm := make([]byte, 1<<20)
	for l.Stats().Rolls < 2 {
		if _, err := l.Append(warm); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// BenchmarkAppendLatency appends 1 MiB records at a fixed rate from one goroutine per record
// (as independent clients would) and reports the latency of Append: p50, p90, p99 and max, in
// microseconds, measured from the moment the record was due. The log is warmed up as in
// BenchmarkAppendSteady. Use a fixed count, e.g. -benchtime 400x (4 s at 100/s).
func BenchmarkAppendLatency(b *testing.B) {
	const size, rate = 1 << 20, 100
	for _, prealloc := range []bool{true, false} {
		b.Run(fmt.Sprintf("size=%d/rate=%d/prealloc=%v", size, rate, prealloc), func(b *testing.B) {
			l := openWarm(b, wal.Options{SegmentSize: steadySegment, DisablePrealloc: !prealloc})
			defer l.Close()
			data := make([]byte, size)
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.SetBytes(size)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				due := start.Add(time.Duration(i) * time.Second / rate)
				time.Sleep(time.Until(due))
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := l.Append(data); err != nil {
						b.Error(err)
					}
					lat[i] = time.Since(due)
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
			b.ReportMetric(q(0.50), "p50-µs")
			b.ReportMetric(q(0.90), "p90-µs")
			b.ReportMetric(q(0.99), "p99-µs")
			b.ReportMetric(q(1), "max-µs")
		})
	}
}

// BenchmarkReplay measures reading a log back at startup (from the page cache, so it measures
// the CPU cost: checksums and framing). Each op replays a 64 MiB log.
func BenchmarkReplay(b *testing.B) {
	const logBytes = 64 << 20
	for _, size := range []int{100, 4096, 1 << 20} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			dir := b.TempDir()
			l, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever})
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, size)
			for range logBytes / size {
				l.AppendAsync(data, nil)
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(logBytes)
			b.ReportAllocs()
			for b.Loop() {
				l, err := wal.Open(dir, wal.Options{Sync: wal.SyncNever})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				if err := l.Replay(func(wal.Pos, []byte) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
				if n != logBytes/size {
					b.Fatalf("replayed %d records, want %d", n, logBytes/size)
				}
				l.Close()
			}
		})
	}
}
