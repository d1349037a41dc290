package geotest

import (
	"fmt"
	"testing"
)

// BenchRanking runs, as sub-benchmarks of b, reverse (ranking units units
// for an incident with one reverse search) and forward (the same with one
// forward search per unit), reporting for each its allocations, ms/search
// and ms/ranking (the time to rank all units).
func BenchRanking(b *testing.B, units int, reverse, forward func()) {
	run := func(name string, searches int, rank func()) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rank()
			}
			ms := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e6
			b.ReportMetric(ms/float64(searches), "ms/search")
			b.ReportMetric(ms, "ms/ranking")
		})
	}
	run("reverse", 1, reverse)
	run(fmt.Sprintf("forward%d", units), units, forward)
}
