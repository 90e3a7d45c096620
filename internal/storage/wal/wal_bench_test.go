package wal_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

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
	if st := l.Stats(); st.Rounds > 0 {
		b.ReportMetric(float64(st.Records)/float64(st.Rounds), "recs/round")
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
