package patrol_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// monacoNet is the road network of the Monaco extract, imported once.
var monacoNet struct {
	once sync.Once
	net  *road.Network
	err  error
}

// monacoRoads returns the road network of the shared extract
// osm/monaco.osm.pbf with the default profiles, skipping when the file is
// missing (failing under CI=true or PATROLGRID_REQUIRE=1).
func monacoRoads(t testing.TB) *road.Network {
	t.Helper()
	f, err := os.Open(datatest.File(t, "osm/monaco.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	monacoNet.once.Do(func() {
		b, _ := data.Profiles("default")
		var pf *road.ProfileFile
		if pf, monacoNet.err = road.ReadProfileFile(bytes.NewReader(b)); monacoNet.err != nil {
			return
		}
		monacoNet.net, monacoNet.err = road.ImportOSM(context.Background(), bufio.NewReader(f), road.OSMPBF,
			road.ImportConfig{Profiles: pf})
	})
	if monacoNet.err != nil {
		t.Fatalf("import %s: %v", f.Name(), monacoNet.err)
	}
	return monacoNet.net
}

// monacoBox is a box around Monaco, sea included.
var monacoBox = orb.Polygon{{{7.409, 43.724}, {7.440, 43.724}, {7.440, 43.752}, {7.409, 43.752}, {7.409, 43.724}}}

// atSea is a point in the harbour mouth's open water, inside monacoBox and
// more than 200 m from any road.
var atSea = orb.Point{7.4360, 43.7330}

// monacoPlan returns a plan over Monaco with n units of mixed mechanisms
// posted at car graph nodes spread evenly through the graph, and two
// zones; posts[i] is unit i's post position.
func monacoPlan(t testing.TB, net *road.Network, n int) (plan *patrol.Plan, posts []orb.Point) {
	t.Helper()
	car := net.Graph("car")
	nodes, _ := car.Len()
	p := &patrol.Plan{
		Name: "Monaco", City: "Monaco", Resolution: 10, Timezone: "Europe/Monaco", Boundary: monacoBox,
		Profiles: []geo.Profile{
			{Name: "car", SpeedKPH: 30, Detour: 1.35},
			{Name: "bike", SpeedKPH: 15, Detour: 1.3},
			{Name: "foot", SpeedKPH: 5, Detour: 1.25},
		},
		Mechanisms: []patrol.Mechanism{
			{ID: "vehicle", Profile: "car", CountsResponse: true},
			{ID: "ebike", Profile: "bike", CountsResponse: true},
			{ID: "foot", Profile: "foot", CountsResponse: true},
			{ID: "video"},
		},
		Zones: []patrol.Zone{
			{ID: "Z1", Name: "Casino", Kind: "commercial", Weight: 3,
				Area: orb.Polygon{{{7.4265, 43.7385}, {7.4290, 43.7385}, {7.4290, 43.7400}, {7.4265, 43.7400}, {7.4265, 43.7385}}},
				Rule: patrol.Rule{M1: patrol.Requirement{Units: 1, Share: 0.5}, M3: patrol.Requirement{Units: 2, Share: 0.9}}},
			{ID: "Z2", Name: "Larvotto", Kind: "park", Weight: 2,
				Area: orb.Polygon{{{7.4330, 43.7440}, {7.4370, 43.7440}, {7.4370, 43.7475}, {7.4330, 43.7475}, {7.4330, 43.7440}}},
				Rule: patrol.Rule{M3: patrol.Requirement{Units: 1, Share: 1}}},
		},
	}
	mechs := []string{"vehicle", "vehicle", "ebike", "foot", "vehicle", "video"}
	for i := range n {
		at := car.Node(int32(i * nodes / n))
		posts = append(posts, at)
		p.Units = append(p.Units, patrol.Unit{ID: fmt.Sprintf("M%02d", i), Name: fmt.Sprintf("Unit %d", i),
			Mechanism: mechs[i%len(mechs)], Post: geo.Cell(at, p.Resolution)})
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Monaco plan: %v", err)
	}
	return p, posts
}

// monacoRouter returns the road router of net over plan's boundary, with
// the lattice as fallback.
func monacoRouter(t testing.TB, net *road.Network, plan *patrol.Plan) *road.Router {
	t.Helper()
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	return road.NewRouter(net, grid, road.RouterConfig{Fallback: geo.NewLattice(grid)})
}

// TestCoverageOffNetwork moves a vehicle out to sea and back on the
// Monaco road graph: at sea it is off the network, reaches nothing and is
// no error; back on a street it covers cells again.
func TestCoverageOffNetwork(t *testing.T) {
	net := monacoRoads(t)
	plan, posts := monacoPlan(t, net, 12)
	cv, err := patrol.NewCoverage(plan, monacoRouter(t, net, plan))
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
		{"at sea", atSea, true, false},
		{"at sea again", atSea, true, false},
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
	if _, err := cv.Move(id, atSea, patrol.Dispatched); err != nil || cv.OffNetwork(id) {
		t.Errorf("busy at sea: Move = %v, OffNetwork = %v; want nil, false (only units in coverage are placed)", err, cv.OffNetwork(id))
	}
}

// BenchmarkRoadCoverage measures coverage of 88 units on the road graph of
// Monaco, every unit at its post: the full computation (target ≤ 50
// ms/plan), and one vehicle moving between two cells with the diff taken
// after each move (target ≤ 1 ms/move).
func BenchmarkRoadCoverage(b *testing.B) {
	net := monacoRoads(b)
	plan, posts := monacoPlan(b, net, 88)
	router := monacoRouter(b, net, plan)
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
	net := monacoRoads(t)
	plan, posts := monacoPlan(t, net, 20)
	base := monacoRouter(t, net, plan)
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
