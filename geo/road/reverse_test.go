package road

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/geotest"
	"github.com/paulmach/orb"
)

// randomPlace returns a point on a random edge of r's graph of profile
// (one-way ones first, half the time), or anywhere in the Monaco box, sea
// and off-network points included, a quarter of the time.
func randomPlace(rng *rand.Rand, r *Router, profile string) orb.Point {
	if rng.IntN(4) == 0 {
		return orb.Point{7.405 + rng.Float64()*0.04, 43.723 + rng.Float64()*0.032}
	}
	rg, _ := r.graph(profile)
	g := rg.g
	for {
		e := rng.IntN(len(g.edges))
		if ed := g.edges[e]; rng.IntN(2) == 0 && ed.fwdKPH > 0 && ed.bwdKPH > 0 {
			continue
		}
		return pointAlong(g.EdgeShape(int32(e)), rng.Float64())
	}
}

// TestETAsToMatchesDriveTime: one reverse search from an incident
//
//	unit ──► ··· ──► incident ◄── ··· ◄── unit
//
// gives every unit the time DriveTime finds driving from it to the
// incident, one-way streets, off-network units and the limit included,
// for every profile and at peak.
func TestETAsToMatchesDriveTime(t *testing.T) {
	base := monacoRouter(t, 10, RouterConfig{})
	for _, band := range []string{"", BandPeak} {
		r := base.WithBand(band)
		for _, p := range []geo.Profile{carProfile, {Name: "bike"}, footProfile} {
			t.Run(p.Name+"/"+band, func(t *testing.T) { testETAsToMatchesDriveTime(t, r, p) })
		}
	}
}

func testETAsToMatchesDriveTime(t *testing.T, r *Router, p geo.Profile) {
	rng := rand.New(rand.NewPCG(5, 7))
	var s geo.Search
	var got []time.Duration
	var reached, late, off int
	for range 30 {
		to := randomPlace(rng, r, p.Name)
		if _, err := r.Snap(to, p.Name); err != nil {
			if _, err := r.ETAsTo(&s, to, p, nil, time.Minute, nil); err != ErrOffNetwork {
				t.Fatalf("ETAsTo(to %v) error = %v, want ErrOffNetwork", to, err)
			}
			continue
		}
		from := make([]orb.Point, 40)
		for i := range from {
			from[i] = randomPlace(rng, r, p.Name)
		}
		limit := time.Duration(2+rng.IntN(14)) * time.Minute
		var err error
		if got, err = r.ETAsTo(&s, to, p, from, limit, got[:0]); err != nil || len(got) != len(from) {
			t.Fatalf("ETAsTo(%v) = %d ETAs, %v, want %d", to, len(got), err, len(from))
		}
		for i, u := range from {
			want, ok, err := r.DriveTime(&s, u, to, p, limit)
			switch {
			case err != nil:
				want, off = geo.Unreached, off+1
			case !ok:
				want, late = geo.Unreached, late+1
			default:
				reached++
			}
			if !sameETA(got[i], want, limit) {
				t.Fatalf("ETAsTo(%v → %v, limit %v) = %v, want DriveTime's %v", u, to, limit, got[i], want)
			}
		}
	}
	t.Logf("%s: %d reached, %d beyond the limit, %d off the network", p.Name, reached, late, off)
	if reached == 0 || late == 0 || off == 0 {
		t.Errorf("%d reached, %d late, %d off: want some of each", reached, late, off)
	}
}

// sameETA reports whether got and want agree within etaTolerance, one of
// them Unreached only when the other is that close to the limit.
func sameETA(got, want, limit time.Duration) bool {
	switch {
	case got == geo.Unreached && want == geo.Unreached:
		return true
	case got == geo.Unreached:
		return want >= limit-etaTolerance
	case want == geo.Unreached:
		return got >= limit-etaTolerance
	}
	d := got - want
	return d <= etaTolerance && -d <= etaTolerance
}

// TestETAsToOneway: along a oneway street A ──► B, the unit at A reaches
// B straight along it, the unit at B must go round the block.
func TestETAsToOneway(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	a, b := onewayStretch(t, r)
	var s geo.Search
	toB, _ := r.ETAsTo(&s, b, carProfile, []orb.Point{a, b}, 10*time.Minute, nil)
	toA, _ := r.ETAsTo(&s, a, carProfile, []orb.Point{b, a}, 10*time.Minute, nil)
	if toB[1] != 0 || toA[1] != 0 {
		t.Errorf("ETAsTo from the incident itself = %v, %v, want 0", toB[1], toA[1])
	}
	if toA[0] < toB[0]+5*time.Second {
		t.Errorf("ETAsTo B→A = %v, want at least 5 s more than A→B = %v along a oneway street", toA[0], toB[0])
	}
}

func TestETAsToBandRouter(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	at8 := func() time.Time { return time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) }
	br := NewBandRouter(r, testProfiles(t, "default"), time.UTC, at8, nil)
	from := benchUnits(r, 3)
	var s geo.Search
	got, err := br.ETAsTo(&s, casino, carProfile, from, 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := r.WithBand(BandPeak).ETAsTo(&s, casino, carProfile, from, 10*time.Minute, nil)
	for i := range want {
		if got[i] != want[i] || got[i] < 0 {
			t.Errorf("BandRouter at peak ETAsTo[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestETAsToFallback(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	lattice := geo.NewLattice(r.grid)
	fb := NewRouter(testNetwork(t, monacoPBF), r.grid, RouterConfig{Fallback: lattice})
	scooter := geo.Profile{Name: "scooter", SpeedKPH: 25, Detour: 1.3}
	from := []orb.Point{{7.4190, 43.7310}, {7.4350, 43.7450}}
	var s geo.Search
	got, err := fb.ETAsTo(&s, casino, scooter, from, 10*time.Minute, nil)
	want, _ := lattice.ETAsTo(&s, casino, scooter, from, 10*time.Minute, nil)
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("fallback ETAsTo = %v, %v, want the lattice's %v", got, err, want)
	}
	if _, err := r.ETAsTo(&s, casino, scooter, from, time.Minute, nil); err == nil {
		t.Errorf("ETAsTo(scooter) without a fallback: no error, want ErrNoProfile")
	}
}

func TestETAsToAllocatesNothing(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	units := benchUnits(r, 88)
	var s geo.Search
	dst, _ := r.ETAsTo(&s, casino, carProfile, units, 10*time.Minute, nil)
	allocs := testing.AllocsPerRun(20, func() {
		dst, _ = r.ETAsTo(&s, casino, carProfile, units, 10*time.Minute, dst[:0])
	})
	if allocs != 0 {
		t.Errorf("ETAsTo allocates %v times per call after warm-up, want 0", allocs)
	}
}

// benchUnits returns n fixed pseudo-random car units on the Monaco roads.
func benchUnits(r *Router, n int) []orb.Point {
	rng := rand.New(rand.NewPCG(8, 8))
	var units []orb.Point
	for len(units) < n {
		at := orb.Point{7.41 + rng.Float64()*0.028, 43.727 + rng.Float64()*0.022}
		if _, err := r.Snap(at, carProfile.Name); err == nil {
			units = append(units, at)
		}
	}
	return units
}

// BenchmarkETAsTo ranks 88 car units for an incident at the Casino within
// 10 minutes on the Monaco road graph: one reverse search against 88
// DriveTime searches, one per unit, in the same run.
func BenchmarkETAsTo(b *testing.B) {
	r := monacoRouter(b, 10, RouterConfig{})
	units := benchUnits(r, 88)
	const limit = 10 * time.Minute
	var s geo.Search
	var dst []time.Duration
	geotest.BenchRanking(b, len(units), func() {
		dst, _ = r.ETAsTo(&s, casino, carProfile, units, limit, dst[:0])
	}, func() {
		for _, u := range units {
			r.DriveTime(&s, u, casino, carProfile, limit)
		}
	})
}

var (
	_ geo.ReverseRouter = (*Router)(nil)
	_ geo.ReverseRouter = (*BandRouter)(nil)
)
