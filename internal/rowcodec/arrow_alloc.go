package rowcodec

import "github.com/apache/arrow-go/v18/arrow/memory"

// cappedAllocator is an Arrow allocator that refuses (by panicking, which
// the decoder recovers into an error) to hand out more than limit bytes in
// total, so a small malformed or compressed batch cannot claim unbounded
// memory. One is made per batch; it is not safe for concurrent use.
type cappedAllocator struct {
	inner memory.Allocator
	left  int
}

type errAllocLimit struct{}

func (errAllocLimit) Error() string { return "the batch needs more memory than allowed" }

func newCappedAllocator(limit int) *cappedAllocator {
	return &cappedAllocator{inner: memory.NewGoAllocator(), left: limit}
}

func (a *cappedAllocator) take(n int) {
	if n < 0 || n > a.left {
		panic(errAllocLimit{})
	}
	a.left -= n
}

// Allocate implements memory.Allocator.
func (a *cappedAllocator) Allocate(size int) []byte {
	a.take(size)
	return a.inner.Allocate(size)
}

// Reallocate implements memory.Allocator.
func (a *cappedAllocator) Reallocate(size int, b []byte) []byte {
	if size > len(b) {
		a.take(size - len(b))
	}
	return a.inner.Reallocate(size, b)
}

// Free implements memory.Allocator.
func (a *cappedAllocator) Free(b []byte) { a.inner.Free(b) }
