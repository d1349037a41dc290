package simulate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistBuckets(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<20 + 1, 3e9, math.MaxInt64, math.MaxUint64}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		i := histBucket(v)
		lo, width := histRange(i)
		if v < lo || v-lo >= width {
			t.Fatalf("histBucket(%d) = %d holding [%d, %d+%d), want it to hold %d", v, i, lo, lo, width, v)
		}
		if width > 1 && float64(width) > float64(lo)/histSub {
			t.Fatalf("bucket %d: width %d over lo %d is above 1/%d", i, width, lo, histSub)
		}
		if i > 0 {
			if plo, pw := histRange(i - 1); plo+pw != lo {
				t.Fatalf("bucket %d starts at %d, want %d where bucket %d ends", i, lo, plo+pw, i-1)
			}
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	seq := func(from, to int) []time.Duration {
		var d []time.Duration
		for v := from; v <= to; v++ {
			d = append(d, time.Duration(v))
		}
		return d
	}
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{42}, 0.99, 42},
		{"median of 1..100", seq(1, 100), 0.50, 50},
		{"p95 of 1..100", seq(1, 100), 0.95, 95},
		{"p99 of 1..100", seq(1, 100), 0.99, 99},
		{"max of 1..100", seq(1, 100), 1, 100},
		{"median of four", []time.Duration{4, 1, 3, 2}, 0.5, 2},
		{"p99 of four", []time.Duration{4, 1, 3, 2}, 0.99, 4},
		{"tiny q is the minimum", seq(10, 20), 1e-9, 10},
		{"one large sample", []time.Duration{250 * time.Millisecond}, 0.5, 250 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, d := range tc.samples {
				h.record(d)
			}
			if got := h.quantile(tc.q); got != tc.want {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestHistogramAgainstSorted compares the histogram's percentiles with
// the exact nearest-rank percentiles of the sorted samples.
func TestHistogramAgainstSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h histogram
	samples := make([]time.Duration, 20000)
	for i := range samples {
		// log-normal around 5 ms, as latencies are
		samples[i] = time.Duration(5e6 * math.Exp(rng.NormFloat64()))
		h.record(samples[i])
	}
	slices.Sort(samples)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		want := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := h.quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 1.0/128 {
			t.Errorf("quantile(%v) = %v, want %v within 1/128 (off by %.4f)", q, got, want, rel)
		}
	}
	if s := h.summary(); s.Max != samples[len(samples)-1] || s.Count != int64(len(samples)) {
		t.Errorf("summary() = %+v, want max %v and count %d", s, samples[len(samples)-1], len(samples))
	}
}
