package geo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// tongliao is a 6 × 5 km box around the centre of Horqin district.
var tongliao = orb.Polygon{{
	{122.22, 43.60}, {122.30, 43.60}, {122.30, 43.645}, {122.22, 43.645}, {122.22, 43.60},
}}

var car = Profile{Name: "car", SpeedKPH: 30, Detour: 1.35}

func testLattice(t testing.TB, res int) *Lattice {
	t.Helper()
	g, err := NewPolygonGrid(tongliao, res)
	if err != nil {
		t.Fatalf("NewPolygonGrid: %v", err)
	}
	return NewLattice(g)
}

// etaTolerance absorbs the rounding of durations to nanoseconds along a path.
const etaTolerance = time.Microsecond

func TestIsochroneNeverBeatsStraightLine(t *testing.T) {
	l := testLattice(t, 10)
	rng := rand.New(rand.NewPCG(1, 2))
	var s Search
	for range 50 {
		from := orb.Point{122.23 + rng.Float64()*0.06, 43.605 + rng.Float64()*0.035}
		reach, err := l.Isochrone(&s, from, car, 5*time.Minute, nil)
		if err != nil {
			t.Fatalf("Isochrone(%v): %v", from, err)
		}
		if len(reach) < 100 {
			t.Fatalf("Isochrone(%v) reached %d cells, want a few hundred at least", from, len(reach))
		}
		topSpeed := Profile{SpeedKPH: car.SpeedKPH, Detour: 1}
		for _, r := range reach {
			floor := topSpeed.Travel(Distance(from, CellCenter(l.grid.Cell(r.Cell))))
			if r.ETA+etaTolerance < floor {
				t.Fatalf("ETA to %v = %v, below straight line at top speed %v", l.grid.Cell(r.Cell), r.ETA, floor)
			}
			if r.ETA > 5*time.Minute {
				t.Fatalf("ETA to %v = %v, beyond the 5m limit", l.grid.Cell(r.Cell), r.ETA)
			}
		}
	}
}

// TestIsochroneMonotone checks that ETAs grow along every path: each
// reached cell but the origin has a neighbour reached earlier by exactly one
// hop, and no neighbour differs by more than one hop.
func TestIsochroneMonotone(t *testing.T) {
	l := testLattice(t, 10)
	from := orb.Point{122.26, 43.62}
	var s Search
	reach, err := l.Isochrone(&s, from, car, 3*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	eta := make(map[int32]time.Duration, len(reach))
	for i, r := range reach {
		if i > 0 && r.ETA < reach[i-1].ETA {
			t.Fatalf("reach[%d].ETA = %v < reach[%d].ETA = %v: not in arrival order", i, r.ETA, i-1, reach[i-1].ETA)
		}
		eta[r.Cell] = r.ETA
	}
	for _, r := range reach[1:] {
		hasPred := false
		for k, j := range l.nbr[r.Cell] {
			e, ok := eta[j]
			if j < 0 || !ok {
				continue
			}
			hop := car.Travel(l.hop[r.Cell][k])
			if d := r.ETA - e; d > hop+etaTolerance || -d > hop+etaTolerance {
				t.Fatalf("neighbours %v and %v differ by %v, more than one hop %v", l.grid.Cell(r.Cell), l.grid.Cell(j), d, hop)
			}
			if d := r.ETA - e; d > 0 && d >= hop-etaTolerance {
				hasPred = true
			}
		}
		if !hasPred {
			t.Fatalf("cell %v at %v has no predecessor one hop earlier", l.grid.Cell(r.Cell), r.ETA)
		}
	}
}

func TestIsochroneOffGrid(t *testing.T) {
	l := testLattice(t, 10)
	var s Search
	for _, p := range []orb.Point{{0, 0}, {122.26, 91}} {
		if _, err := l.Isochrone(&s, p, car, time.Minute, nil); err != ErrOffGrid {
			t.Errorf("Isochrone(%v) error = %v, want ErrOffGrid", p, err)
		}
	}
}

func TestIsochroneLimitGrowsReach(t *testing.T) {
	l := testLattice(t, 10)
	var s Search
	from := orb.Point{122.26, 43.62}
	prev := 0
	for _, limit := range []time.Duration{time.Minute, 3 * time.Minute, 5 * time.Minute} {
		reach, _ := l.Isochrone(&s, from, car, limit, nil)
		if len(reach) <= prev {
			t.Errorf("Isochrone(limit %v) reached %d cells, want more than %d", limit, len(reach), prev)
		}
		prev = len(reach)
	}
}

func BenchmarkIsochrone(b *testing.B) {
	for _, res := range []int{9, 10} {
		l := testLattice(b, res)
		for _, p := range []Profile{car, {Name: "foot", SpeedKPH: 5, Detour: 1.25}} {
			b.Run(fmt.Sprintf("%s/res%d", p.Name, res), func(b *testing.B) {
				var s Search
				var dst []Reach
				from := orb.Point{122.26, 43.62}
				cells := 0
				b.ReportAllocs()
				for b.Loop() {
					dst, _ = l.Isochrone(&s, from, p, 5*time.Minute, dst[:0])
					cells += len(dst)
				}
				b.ReportMetric(float64(cells)/float64(b.N), "cells/op")
			})
		}
	}
}
