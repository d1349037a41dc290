package dispatch

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// etaTolerance is how far two drive times may differ and still be equal.
const etaTolerance = time.Microsecond

// demoUnits returns the demo city's lattice and its responding units at
// their posts, each on its mechanism's profile.
func demoUnits(t testing.TB) (*geo.Lattice, []Unit) {
	t.Helper()
	plan, grid := patroltest.DemoGrid(t)
	profiles := map[string]geo.Profile{}
	for _, p := range plan.Profiles {
		profiles[p.Name] = p
	}
	var units []Unit
	for _, u := range plan.Units {
		m, _ := plan.Mechanism(u.Mechanism)
		if !m.Responds() {
			continue
		}
		units = append(units, Unit{ID: u.ID, Point: geo.CellCenter(u.Post), Profile: profiles[m.Profile]})
	}
	return geo.NewLattice(grid), units
}

// bruteForce ranks units by one forward isochrone per unit, read at the
// incident's cell.
func bruteForce(t *testing.T, l *geo.Lattice, incident orb.Point, units []Unit, limit time.Duration) map[string]time.Duration {
	t.Helper()
	target, ok := l.Grid().Locate(incident)
	if !ok {
		t.Fatalf("incident %v off the grid", incident)
	}
	want := map[string]time.Duration{}
	var s geo.Search
	for _, u := range units {
		reach, err := l.Isochrone(&s, u.Point, u.Profile, limit, nil)
		if err != nil {
			continue
		}
		for _, r := range reach {
			if r.Cell == target {
				want[u.ID] = r.ETA
			}
		}
	}
	return want
}

// TestRankMatchesBruteForce: for random incidents in the demo city, the
// ranking holds exactly the units whose own isochrone reaches the
// incident's cell within the limit, with those drive times, fastest first.
func TestRankMatchesBruteForce(t *testing.T) {
	l, units := demoUnits(t)
	r := NewRanker(l)
	rng := rand.New(rand.NewPCG(1, 2))
	at := map[string]orb.Point{}
	for _, u := range units {
		at[u.ID] = u.Point
	}
	const limit = 5 * time.Minute
	ranked := 0
	for range 25 {
		u := units[rng.IntN(len(units))]
		incident := geo.PointAt(u.Point, 360*rng.Float64(), geo.Meters(3000*rng.Float64()))
		if _, ok := l.Grid().Locate(incident); !ok {
			continue
		}
		got, err := r.Rank(incident, units, limit)
		if err != nil {
			t.Fatal(err)
		}
		want := bruteForce(t, l, incident, units, limit)
		if len(want) > 1 {
			ranked++
		}
		if len(got) != len(want) {
			t.Fatalf("Rank(%v) has %d candidates, want %d", incident, len(got), len(want))
		}
		for i, c := range got {
			w, ok := want[c.Unit]
			if d := c.ETA - w; !ok || d > etaTolerance || -d > etaTolerance {
				t.Errorf("Rank(%v): %s at %v, want %v (listed %v)", incident, c.Unit, c.ETA, w, ok)
			}
			if i > 0 && got[i-1].ETA > c.ETA {
				t.Errorf("Rank(%v): %s (%v) after %s (%v): not fastest first", incident, c.Unit, c.ETA, got[i-1].Unit, got[i-1].ETA)
			}
			if d := float64(geo.Distance(at[c.Unit], incident)); c.DistanceM < d-0.5 || c.DistanceM > d+0.5 {
				t.Errorf("Rank(%v): %s %v m away, want %.1f", incident, c.Unit, c.DistanceM, d)
			}
		}
	}
	if ranked < rankedAtLeast {
		t.Errorf("%d incidents had two or more candidates, want at least %d", ranked, rankedAtLeast)
	}
}

// rankedAtLeast is how many of the random incidents must have two or more
// candidates, so that the test compares orders and not empty lists.
const rankedAtLeast = 10

// TestRankOffGrid: an incident outside the city is an error that says so.
func TestRankOffGrid(t *testing.T) {
	l, units := demoUnits(t)
	if _, err := NewRanker(l).Rank(orb.Point{0, 0}, units, time.Minute); !errors.Is(err, geo.ErrOffGrid) {
		t.Errorf("Rank(0,0) = %v, want an error matching geo.ErrOffGrid", err)
	}
}

// BenchmarkRank ranks the demo city's responding units for an incident in
// the centre on the lattice.
func BenchmarkRank(b *testing.B) {
	l, units := demoUnits(b)
	r := NewRanker(l)
	incident := orb.Point{122.26, 43.62}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Rank(incident, units, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/ranking")
}
