package patrol_test

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestCoverageOffNetwork moves a vehicle out to sea and back on the
// Monaco road graph: at sea it is off the network, reaches nothing and is
// no error; back on a street it covers cells again.
func TestCoverageOffNetwork(t *testing.T) {
	net := patroltest.MonacoRoads(t)
	plan, posts := patroltest.MonacoPlan(t, net, 12)
	cv, err := patrol.NewCoverage(plan, patroltest.RoadRouter(t, net, plan))
	if err != nil {
		t.Fatal(err)
	}
	const id = "M00" // a vehicle
	for _, step := range []struct {
		name    string
		at      orb.Point
		off     bool
		reached bool
	}{
		{"on a street", posts[0], false, true},
		{"at sea", patroltest.AtSea, true, false},
		{"at sea again", patroltest.AtSea, true, false},
		{"back on the street", posts[0], false, true},
	} {
		if _, err := cv.Move(id, step.at, patrol.Available); err != nil {
			t.Fatalf("%s: Move(%v) = %v, want no error", step.name, step.at, err)
		}
		if got := cv.OffNetwork(id); got != step.off {
			t.Errorf("%s: OffNetwork = %v, want %v", step.name, got, step.off)
		}
		if got := len(cv.Cells()) > 0; got != step.reached {
			t.Errorf("%s: cells reached = %v, want %v", step.name, got, step.reached)
		}
	}
	if _, err := cv.Move(id, patroltest.AtSea, patrol.Dispatched); err != nil || cv.OffNetwork(id) {
		t.Errorf("busy at sea: Move = %v, OffNetwork = %v; want nil, false (only units in coverage are placed)", err, cv.OffNetwork(id))
	}
}

// BenchmarkRoadCoverage measures coverage of 88 units on the road graph of
// Monaco, every unit at its post: the full computation (target ≤ 50
// ms/plan), and one vehicle moving between two cells with the diff taken
// after each move (target ≤ 1 ms/move).
func BenchmarkRoadCoverage(b *testing.B) {
	net := patroltest.MonacoRoads(b)
	plan, posts := patroltest.MonacoPlan(b, net, 88)
	router := patroltest.RoadRouter(b, net, plan)
	benchCoverage(b, "units=88", plan, router, posts, posts[1]) // unit 0 is a vehicle
}

// The router serve runs on a road network: coverage must see its band
// switches.
var _ patrol.VersionedRouter = (*road.BandRouter)(nil)

// switchRouter is a road router whose band a test switches; Version
// counts the switches.
type switchRouter struct {
	*road.Router
	version uint64
}

func (r *switchRouter) Version() uint64 { return r.version }

// TestCoverageFollowsBand switches a versioned road router from no band to
// peak and back: after each switch Changes recomputes every unit, and the
// coverage equals that of a fresh engine on the router of the new band.
func TestCoverageFollowsBand(t *testing.T) {
	net := patroltest.MonacoRoads(t)
	plan, posts := patroltest.MonacoPlan(t, net, 20)
	base := patroltest.RoadRouter(t, net, plan)
	place := func(r geo.Router) *patrol.Coverage { return placeUnits(t, plan, r, posts) }
	sw := &switchRouter{Router: base}
	cv := place(sw)
	cv.Changes()
	for _, band := range []string{"peak", ""} {
		sw.Router, sw.version = base.WithBand(band), sw.version+1
		if changed := cv.Changes(); len(changed) == 0 {
			t.Errorf("band %q: Changes after the switch = none, want the cells whose tier moved", band)
		}
		got, want := cv.Cells(), place(base.WithBand(band)).Cells()
		if len(got) != len(want) {
			t.Fatalf("band %q: %d cells reached after the switch, want %d as from scratch", band, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("band %q: cell %v after the switch = %+v, want %+v as from scratch", band, got[i].Cell, got[i], want[i])
			}
		}
	}
}
