package simulate

import (
	"math"
	"math/bits"
	"time"
)

// histogram counts durations in log-linear buckets: exact below
// 128 ns, then histSub buckets per power of two, so a reported percentile
// is within 1/128 of a sample at that rank. Memory stays bounded however
// long the run. The zero value is empty; it is not safe for concurrent use.
type histogram struct {
	counts   []int64
	n        int64
	min, max time.Duration
}

// histSub is the number of buckets per power of two.
const histSub = 64

// histBucket returns the bucket of v.
func histBucket(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - 7 // v>>shift is in [histSub, 2*histSub)
	return 2*histSub + (shift-1)*histSub + int(v>>shift) - histSub
}

// histRange returns the smallest value of bucket i and its width.
func histRange(i int) (lo, width uint64) {
	if i < 2*histSub {
		return uint64(i), 1
	}
	shift := (i-2*histSub)/histSub + 1
	return uint64((i-2*histSub)%histSub+histSub) << shift, 1 << shift
}

func (h *histogram) record(d time.Duration) {
	d = max(d, 0)
	i := histBucket(uint64(d))
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.n++
}

// quantile returns the nearest-rank q-quantile, q in (0, 1]: the
// midpoint of the bucket holding the ceil(q*n)-th smallest sample, kept
// within the smallest and largest samples. It is 0 when there are none.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := min(max(int64(math.Ceil(q*float64(h.n))), 1), h.n)
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			lo, width := histRange(i)
			return min(max(time.Duration(lo+(width-1)/2), h.min), h.max)
		}
	}
	return h.max
}

// add adds the samples of o to h.
func (h *histogram) add(o *histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]int64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

func (h *histogram) summary() LatencySummary {
	return LatencySummary{Count: h.n, P50: h.quantile(0.50), P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max}
}
