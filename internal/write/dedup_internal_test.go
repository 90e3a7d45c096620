package write

import (
	"errors"
	"fmt"
	"hash/maphash"
	"testing"
	"time"
)

func newTestIndex(window time.Duration, maxIDs int) *dedupIndex {
	d := &dedupIndex{window: window.Microseconds(), maxIDs: maxIDs,
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, flights: map[uint64]*insertFlight{}}
	d.once.Do(func() {})
	return d
}

func TestDedupIndex_Flights(t *testing.T) {
	d := newTestIndex(time.Minute, 0)
	now := time.Unix(1000, 0)
	scope := dedupScope{table: 1}
	ids := []string{"a", "b", "", "a"}
	all := []int{0, 1, 2, 3}

	f1, keep, waits := d.claim(scope, ids, all, now)
	if fmt.Sprint(keep) != "[0 1 2]" || len(waits) != 0 {
		t.Fatalf("first claim keeps %v waits %v", keep, waits)
	}
	// While f1 is in flight a second request drops a and b but must wait
	// for f1.
	f2, keep, waits := d.claim(scope, ids[:2], []int{0, 1}, now)
	if len(keep) != 0 || len(waits) != 1 || waits[0] != f1 {
		t.Fatalf("in-flight claim keeps %v waits %v", keep, waits)
	}
	d.finish(f2, nil)
	// f1 fails: its ids are released, and its waiters see the error.
	boom := errors.New("boom")
	d.finish(f1, boom)
	<-waits[0].done
	if waits[0].err != boom {
		t.Fatalf("waiter sees %v", waits[0].err)
	}
	f3, keep, waits := d.claim(scope, ids[:2], []int{0, 1}, now)
	if fmt.Sprint(keep) != "[0 1]" || len(waits) != 0 {
		t.Fatalf("after a failure: keeps %v waits %v", keep, waits)
	}
	d.finish(f3, nil)
	// A finished flight's ids are duplicates without waiting.
	_, keep, waits = d.claim(scope, ids[:2], []int{0, 1}, now.Add(59*time.Second))
	if len(keep) != 0 || len(waits) != 0 {
		t.Fatalf("after success: keeps %v waits %v", keep, waits)
	}
	if len(d.flights) != 0 {
		t.Fatalf("%d flights left registered", len(d.flights))
	}
	// Another scope is independent.
	_, keep, _ = d.claim(dedupScope{table: 1, hasDecorator: true}, ids[:1], []int{0}, now)
	if len(keep) != 1 {
		t.Fatalf("another scope: keeps %v", keep)
	}
}

func TestDedupIndex_Rotation(t *testing.T) {
	d := newTestIndex(time.Minute, 0)
	t0 := time.Unix(1000, 0)
	claim := func(at time.Time, id string) bool {
		f, keep, _ := d.claim(dedupScope{table: 1}, []string{id}, []int{0}, at)
		d.finish(f, nil)
		return len(keep) == 1
	}
	claim(t0, "x")
	claim(t0.Add(50*time.Second), "y")
	// At t0+61s the first generation retires but y (11 s old) is found.
	if claim(t0.Add(61*time.Second), "y") {
		t.Fatal("y forgotten after one rotation")
	}
	if !claim(t0.Add(61*time.Second), "x") {
		t.Fatal("x (61 s old) still remembered")
	}
	// Two rotations later nothing of the first generation is held.
	claim(t0.Add(200*time.Second), "z")
	claim(t0.Add(300*time.Second), "w")
	if n := d.size(); n != 2 {
		t.Fatalf("index holds %d ids, want 2 (z and w)", n)
	}
}
