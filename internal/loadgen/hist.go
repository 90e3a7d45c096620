package loadgen

import (
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets: each power of two is
// split into subBuckets equal parts, so any recorded value is reported
// within 1/subBuckets (about 1.6%) of its true value, in constant memory,
// and histograms merge by adding counts (the HDR histogram idea).
type histogram struct {
	counts [64 * subBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

const (
	subBits    = 6
	subBuckets = 1 << subBits
)

// bucket maps a non-negative nanosecond count to its bucket index.
func bucket(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	exp := bits.Len64(v) - 1 // position of the leading one, >= subBits
	shift := exp - subBits
	mant := int(v>>shift) & (subBuckets - 1)
	return (shift+1)*subBuckets + mant
}

// bucketValue returns the upper bound of bucket i (the value reported for
// every sample in it).
func bucketValue(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	shift := i/subBuckets - 1
	mant := uint64(i % subBuckets)
	return ((subBuckets+mant+1)<<shift - 1)
}

// Record adds one sample; negative durations count as zero.
func (h *histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

// Merge adds o's samples to h.
func (h *histogram) Merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
}

// Count returns the number of samples.
func (h *histogram) Count() uint64 { return h.n }

// Quantile returns the value at quantile q in [0, 1] (0 with no samples),
// never more than the largest sample.
func (h *histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketValue(i))
			if v > h.max {
				v = h.max
			}
			return v
		}
	}
	return h.max
}

// Summary returns the usual figures in milliseconds.
func (h *histogram) Summary() *Latency {
	if h.n == 0 {
		return nil
	}
	return &Latency{
		Count: h.n,
		Mean:  ms(h.sum / time.Duration(h.n)),
		P50:   ms(h.Quantile(0.50)),
		P90:   ms(h.Quantile(0.90)),
		P99:   ms(h.Quantile(0.99)),
		P999:  ms(h.Quantile(0.999)),
		Max:   ms(h.max),
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
