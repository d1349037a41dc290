package geo

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo/geotest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// demoLattice returns the lattice over the demo city's grid: the boundary
// and resolution of data.TongliaoPlan.
func demoLattice(t testing.TB) *Lattice {
	t.Helper()
	var plan struct {
		Resolution int              `json:"resolution"`
		Boundary   geojson.Geometry `json:"boundary"`
	}
	if err := json.Unmarshal(data.TongliaoPlan(), &plan); err != nil {
		t.Fatalf("TongliaoPlan: %v", err)
	}
	poly, ok := plan.Boundary.Geometry().(orb.Polygon)
	if !ok {
		t.Fatalf("TongliaoPlan boundary is a %T, want a polygon", plan.Boundary.Geometry())
	}
	g, err := NewPolygonGrid(poly, plan.Resolution)
	if err != nil {
		t.Fatalf("NewPolygonGrid: %v", err)
	}
	return NewLattice(g)
}

// randomPoint returns a point in the grid's bounding box widened by a
// tenth on each side, so that some fall off the grid.
func randomPoint(rng *rand.Rand, b orb.Bound) orb.Point {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	return orb.Point{b.Min[0] - w/10 + rng.Float64()*w*1.2, b.Min[1] - h/10 + rng.Float64()*h*1.2}
}

// forwardETA is the reference for ETAsTo: the unit's own Isochrone, read
// at the incident's cell.
func forwardETA(t *testing.T, l *Lattice, s *Search, from, to orb.Point, p Profile, limit time.Duration) time.Duration {
	target, _ := l.grid.Locate(to)
	reach, err := l.Isochrone(s, from, p, limit, nil)
	if err != nil {
		return Unreached
	}
	for _, r := range reach {
		if r.Cell == target {
			return r.ETA
		}
	}
	return Unreached
}

// TestETAsToMatchesIsochrone: on the demo city's lattice, one search from
// the incident gives every unit the ETA its own Isochrone gives the
// incident's cell, off-grid units and the limit included.
func TestETAsToMatchesIsochrone(t *testing.T) {
	l := demoLattice(t)
	box := l.grid.Bound()
	rng := rand.New(rand.NewPCG(3, 4))
	var s, fwd Search
	var got []time.Duration
	var reached, late, off int
	for _, p := range []Profile{car, {Name: "foot", SpeedKPH: 5, Detour: 1.25}} {
		for range 20 {
			to := randomPoint(rng, box)
			from := make([]orb.Point, 30)
			for i := range from { // half of them within 4 km
				from[i] = randomPoint(rng, box)
				if i%2 == 1 {
					from[i] = PointAt(to, rng.Float64()*360, Meters(rng.Float64()*4000))
				}
			}
			limit := time.Duration(5+rng.IntN(26)) * time.Minute
			got, err := l.ETAsTo(&s, to, p, from, limit, got[:0])
			if _, ok := l.grid.Locate(to); !ok {
				if err != ErrOffGrid {
					t.Fatalf("ETAsTo(to %v off the grid) error = %v, want ErrOffGrid", to, err)
				}
				continue
			}
			if err != nil || len(got) != len(from) {
				t.Fatalf("ETAsTo(%v) = %d ETAs, %v, want %d", to, len(got), err, len(from))
			}
			for i, u := range from {
				want := forwardETA(t, l, &fwd, u, to, p, limit)
				switch _, onGrid := l.grid.Locate(u); {
				case !onGrid:
					off++
				case want == Unreached:
					late++
				default:
					reached++
				}
				if !sameETA(got[i], want, limit) {
					t.Fatalf("ETAsTo(%s %v → %v, limit %v) = %v, want Isochrone's %v", p.Name, u, to, limit, got[i], want)
				}
			}
		}
	}
	t.Logf("%d reached, %d beyond the limit, %d off the grid", reached, late, off)
	if reached == 0 || late == 0 || off == 0 {
		t.Errorf("%d reached, %d late, %d off: want some of each", reached, late, off)
	}
}

// sameETA reports whether got and want agree within etaTolerance, one of
// them Unreached only when the other is that close to the limit.
func sameETA(got, want, limit time.Duration) bool {
	switch {
	case got == Unreached && want == Unreached:
		return true
	case got == Unreached:
		return want >= limit-etaTolerance
	case want == Unreached:
		return got >= limit-etaTolerance
	}
	d := got - want
	return d <= etaTolerance && -d <= etaTolerance
}

func TestETAsToAllocatesNothing(t *testing.T) {
	l := demoLattice(t)
	units := demoUnits(l, 88)
	to := CellCenter(l.grid.Cell(int32(l.grid.Len() / 2)))
	var s Search
	dst, _ := l.ETAsTo(&s, to, car, units, 10*time.Minute, nil)
	allocs := testing.AllocsPerRun(20, func() {
		dst, _ = l.ETAsTo(&s, to, car, units, 10*time.Minute, dst[:0])
	})
	// H3's cgo binding allocates to place a point: that much, and no more.
	placing := testing.AllocsPerRun(20, func() {
		l.grid.Locate(to)
		for _, u := range units {
			l.grid.Locate(u)
		}
	})
	if allocs != placing {
		t.Errorf("ETAsTo allocates %v times per call after warm-up, want %v, the H3 lookups placing the points", allocs, placing)
	}
}

// demoUnits returns n fixed pseudo-random points on the lattice's grid.
func demoUnits(l *Lattice, n int) []orb.Point {
	rng := rand.New(rand.NewPCG(8, 8))
	box := l.grid.Bound()
	var units []orb.Point
	for len(units) < n {
		at := randomPoint(rng, box)
		if _, ok := l.grid.Locate(at); ok {
			units = append(units, at)
		}
	}
	return units
}

// BenchmarkETAsTo ranks 88 car units for an incident in the middle of the
// demo city within 10 minutes: one reverse search against 88 forward
// Isochrones, one per unit (the lattice has no point-to-point search), in
// the same run.
func BenchmarkETAsTo(b *testing.B) {
	l := demoLattice(b)
	units := demoUnits(l, 88)
	to := CellCenter(l.grid.Cell(int32(l.grid.Len() / 2)))
	const limit = 10 * time.Minute
	var s Search
	var dst []time.Duration
	var reach []Reach
	geotest.BenchRanking(b, len(units), func() {
		dst, _ = l.ETAsTo(&s, to, car, units, limit, dst[:0])
	}, func() {
		for _, u := range units {
			reach, _ = l.Isochrone(&s, u, car, limit, reach[:0])
		}
	})
}

// TestLatticeSpeedBound: no drive time on the demo city's lattice beats
// the straight line to the target cell's centre at the lattice's
// MaxSpeed, for random points and targets.
func TestLatticeSpeedBound(t *testing.T) {
	l := demoLattice(t)
	box := l.grid.Bound()
	rng := rand.New(rand.NewPCG(5, 6))
	var s Search
	var got []time.Duration
	checked := 0
	for _, p := range []Profile{car, {Name: "foot", SpeedKPH: 5, Detour: 1.25}} {
		for range 40 {
			to := randomPoint(rng, box)
			c, ok := l.grid.Locate(to)
			if !ok {
				continue
			}
			centre := CellCenter(l.grid.Cell(c))
			from := make([]orb.Point, 50)
			for j := range from {
				from[j] = randomPoint(rng, box)
			}
			got, _ = l.ETAsTo(&s, to, p, from, time.Hour, got[:0])
			for j, eta := range got {
				if eta == Unreached {
					continue
				}
				checked++
				if bound := float64(Distance(from[j], centre)) / l.MaxSpeed(p); eta.Seconds() < bound-1e-6 {
					t.Fatalf("%s: %v → %v takes %v, below the bound %.3f s", p.Name, from[j], to, eta, bound)
				}
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d trips reached their target; want hundreds", checked)
	}
}

// TestLatticeCellRun: on the demo city's lattice a unit's drive time to a
// cell's centre is its Run plus the time the target's Isochrone gives the
// unit's cell, exactly as ETAsTo finds it, and out of reach for both
// beyond the limit.
func TestLatticeCellRun(t *testing.T) {
	l := demoLattice(t)
	box := l.grid.Bound()
	rng := rand.New(rand.NewPCG(7, 8))
	var s Search
	var got []time.Duration
	const limit = 10 * time.Minute
	reached, unreached := 0, 0
	for _, p := range []Profile{car, {Name: "foot", SpeedKPH: 5, Detour: 1.25}} {
		for range 30 {
			c, ok := l.grid.Locate(randomPoint(rng, box))
			if !ok {
				continue
			}
			to := CellCenter(l.grid.Cell(c))
			reach, err := l.Isochrone(&s, to, p, limit, nil)
			if err != nil {
				t.Fatal(err)
			}
			times := map[int32]time.Duration{}
			for _, r := range reach {
				times[r.Cell] = r.ETA
			}
			from := make([]orb.Point, 40)
			for j := range from { // around to, some beyond the limit
				from[j] = PointAt(to, 360*rng.Float64(), Meters(5000*rng.Float64()))
			}
			got, _ = l.ETAsTo(&s, to, p, from, limit, got[:0])
			for j, want := range got {
				eta := Unreached
				if cell, run, ok := l.Run(from[j], p); ok {
					if t, in := times[cell]; in && run+t <= limit {
						eta = run + t
					}
				}
				if eta != want {
					t.Fatalf("%s: %v → %v: Run and Isochrone give %v, ETAsTo %v", p.Name, from[j], to, eta, want)
				}
				if want == Unreached {
					unreached++
				} else {
					reached++
				}
			}
		}
	}
	if reached < 100 || unreached < 100 {
		t.Fatalf("%d trips reached and %d did not; want many of each", reached, unreached)
	}
}
