package patrol

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
)

type unitState struct {
	at     orb.Point
	status Status
	placed bool
}

// TestCoverageIncrementalEqualsFull applies random moves and status changes
// and checks after each step that the engine equals one built from scratch
// with the units where they are now.
func TestCoverageIncrementalEqualsFull(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		plan := testPlan(t, 30, seed)
		lat := testLattice(t, plan)
		cv, err := NewCoverage(plan, lat)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 99))
		state := map[string]unitState{}
		statuses := []Status{Available, Available, Available, Dispatched, OffDuty}
		for step := range 200 {
			u := plan.Units[rng.IntN(len(plan.Units))]
			s := state[u.ID]
			if s.status == "" {
				s.status = Available
			}
			switch rng.IntN(4) {
			case 0: // small move, often inside the same cell
				if s.placed {
					s.at = geo.PointAt(s.at, rng.Float64()*360, geo.Meters(rng.Float64()*40))
					break
				}
				fallthrough
			case 1:
				s.at, s.placed = randomPoint(rng), true
			case 2:
				s.status = statuses[rng.IntN(len(statuses))]
				if !s.placed {
					if _, err := cv.SetStatus(u.ID, s.status); err != nil {
						t.Fatal(err)
					}
					state[u.ID] = s
					continue
				}
			case 3:
				s.at, s.placed = orb.Point{10, 10}, true // off the grid
			}
			state[u.ID] = s
			if _, err := cv.Move(u.ID, s.at, s.status); err != nil {
				t.Fatalf("seed %d step %d: Move: %v", seed, step, err)
			}
			if step%20 == 19 {
				assertSameCoverage(t, cv, fullCoverage(t, plan, lat, cv))
			}
		}
	}
}

// fullCoverage rebuilds coverage from scratch with every unit where cv last
// computed it from.
func fullCoverage(t *testing.T, plan *Plan, lat *geo.Lattice, cv *Coverage) *Coverage {
	t.Helper()
	full, err := NewCoverage(plan, lat)
	if err != nil {
		t.Fatal(err)
	}
	for id, u := range cv.units {
		if u.cell >= 0 {
			if _, err := full.Move(id, u.at, u.status); err != nil {
				t.Fatal(err)
			}
		}
	}
	return full
}

func assertSameCoverage(t *testing.T, got, want *Coverage) {
	t.Helper()
	g, w := got.Cells(), want.Cells()
	if len(g) != len(w) {
		t.Fatalf("incremental coverage has %d reached cells, full recompute %d", len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("Cover(%v) = %+v, full recompute %+v", w[i].Cell, g[i], w[i])
		}
	}
}

// TestCoverageChangesReplay checks that a client that starts from nothing
// and applies every Changes result sees the same tiers and counts as the
// engine.
func TestCoverageChangesReplay(t *testing.T) {
	plan := testPlan(t, 20, 3)
	cv, err := NewCoverage(plan, testLattice(t, plan))
	if err != nil {
		t.Fatal(err)
	}
	client := map[int64]CellCover{}
	apply := func() {
		for _, c := range cv.Changes() {
			if c.ETA == Unreached {
				delete(client, int64(c.Cell))
			} else {
				client[int64(c.Cell)] = c
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for step := range 100 {
		u := plan.Units[rng.IntN(len(plan.Units))]
		st := []Status{Available, Dispatched}[rng.IntN(2)]
		if _, err := cv.Move(u.ID, randomPoint(rng), st); err != nil {
			t.Fatal(err)
		}
		if step%3 == 0 {
			apply()
		}
	}
	apply()
	cells := cv.Cells()
	if len(client) != len(cells) {
		t.Fatalf("client holds %d cells, engine %d", len(client), len(cells))
	}
	for _, c := range cells {
		got := client[int64(c.Cell)]
		if !got.sameTierAndCounts(c) {
			t.Fatalf("client cell %v = %+v, engine %+v", c.Cell, got, c)
		}
	}
}

// TestCoverageDependsOnLatestPositionOnly checks that an engine that saw a
// unit wander inside its cell and one that saw only where it ended agree,
// as two server instances, one started late, must.
func TestCoverageDependsOnLatestPositionOnly(t *testing.T) {
	plan := testPlan(t, 5, 1)
	lat := testLattice(t, plan)
	all, _ := NewCoverage(plan, lat)
	last, _ := NewCoverage(plan, lat)
	id := plan.Units[0].ID
	p := geo.CellCenter(plan.Units[0].Post)
	for _, d := range []geo.Meters{0, 10, 20, 30} {
		if _, err := all.Move(id, geo.PointAt(p, 45, d), Available); err != nil {
			t.Fatal(err)
		}
	}
	if changed, err := last.Move(id, geo.PointAt(p, 45, 30), Available); !changed || err != nil {
		t.Fatalf("Move = %v, %v, want true, nil", changed, err)
	}
	assertSameCoverage(t, all, last)
	if changed, _ := last.Move(id, geo.PointAt(p, 45, 30), Available); changed {
		t.Fatal("Move to the same point and status recomputed the reach")
	}
}

func TestCoverageUnavailableUnitsDoNotCount(t *testing.T) {
	plan := testPlan(t, 5, 1) // U04 is a video unit
	cv, _ := NewCoverage(plan, testLattice(t, plan))
	p := orb.Point{122.26, 43.62}
	for _, tc := range []struct {
		id     string
		status Status
		want   bool
	}{
		{"U00", Available, true},
		{"U00", Dispatched, false},
		{"U00", OffDuty, false},
		{"U04", Available, false}, // video patrol does not respond
		{"U03", Available, true},  // foot
	} {
		cv.Move(tc.id, p, tc.status)
		got := cv.Cover(geo.Cell(p, 10)).N[Tier1] > 0
		if got != tc.want {
			t.Errorf("unit %s %s covers its own cell = %v, want %v", tc.id, tc.status, got, tc.want)
		}
		cv.Move(tc.id, orb.Point{0, 0}, tc.status)
	}
}

func TestCoverageUnknownUnit(t *testing.T) {
	plan := testPlan(t, 2, 1)
	cv, _ := NewCoverage(plan, testLattice(t, plan))
	if _, err := cv.Move("nope", orb.Point{122.26, 43.62}, Available); err == nil {
		t.Fatal("Move(unknown unit) = nil error, want ErrUnknownUnit")
	}
}

func TestZonesGapsAndHours(t *testing.T) {
	plan := testPlan(t, 5, 1)
	cv, _ := NewCoverage(plan, testLattice(t, plan))
	loc, _ := time.LoadLocation("Asia/Shanghai")
	noon := time.Date(2026, 11, 28, 12, 0, 0, 0, loc)
	night := time.Date(2026, 11, 28, 23, 30, 0, 0, loc)

	byID := func(ss []ZoneStatus) map[string]ZoneStatus {
		m := map[string]ZoneStatus{}
		for _, s := range ss {
			m[s.ID] = s
		}
		return m
	}
	z := byID(cv.Zones(noon))
	if !z["Z1"].Gap() || z["Z1"].Shares[Tier1] != 0 {
		t.Fatalf("Z1 with no units: gap %v share %v, want a gap with share 0", z["Z1"].Gap(), z["Z1"].Shares[Tier1])
	}
	if z["Z2"].Active || z["Z2"].Gap() {
		t.Fatalf("night market at noon: active %v gap %v, want inactive and no gap", z["Z2"].Active, z["Z2"].Gap())
	}
	if !byID(cv.Zones(night))["Z2"].Active {
		t.Fatal("night market at 23:30 is inactive, want active")
	}
	// Three cars in the centre meet Z1's rule.
	for _, id := range []string{"U00", "U01", "U02"} {
		if _, err := cv.Move(id, orb.Point{122.26, 43.62}, Available); err != nil {
			t.Fatal(err)
		}
	}
	z = byID(cv.Zones(noon))
	if !z["Z1"].Met {
		t.Fatalf("Z1 with units in the centre: shares %v, want met", z["Z1"].Shares)
	}
}

func BenchmarkCoverage(b *testing.B) {
	for _, n := range []int{88, 300} {
		plan := testPlan(b, n, 1)
		lat := testLattice(b, plan)
		rng := rand.New(rand.NewPCG(1, 1))
		pts := make([]orb.Point, n)
		for i := range pts {
			pts[i] = randomPoint(rng)
		}
		b.Run("full/units="+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cv, _ := NewCoverage(plan, lat)
				for i, u := range plan.Units {
					cv.Move(u.ID, pts[i], Available)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/plan")
		})
		b.Run("move/units="+itoa(n), func(b *testing.B) {
			cv, _ := NewCoverage(plan, lat)
			for i, u := range plan.Units {
				cv.Move(u.ID, pts[i], Available)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				u := plan.Units[i%n]
				// alternate between two cells 300 m apart
				p := geo.PointAt(pts[i%n], 90, geo.Meters(300*((i/n)%2)))
				cv.Move(u.ID, p, Available)
				cv.Changes()
				i++
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
