package patroltest

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

// sharedRoads is the road network of a shared extract, imported once per
// test binary.
type sharedRoads struct {
	once sync.Once
	net  *road.Network
	err  error
}

// monacoNet and delawareNet are the networks of the Monaco and Delaware
// extracts.
var monacoNet, delawareNet sharedRoads

// MonacoRoads returns the road network of the shared extract
// osm/monaco.osm.pbf with the default profiles, skipping when the file is
// missing (failing under CI=true or PATROLGRID_REQUIRE=1).
func MonacoRoads(t testing.TB) *road.Network {
	t.Helper()
	return monacoNet.open(t, "osm/monaco.osm.pbf")
}

// open returns the road network of the shared extract rel with the
// default profiles, importing it on the first call.
func (s *sharedRoads) open(t testing.TB, rel string) *road.Network {
	t.Helper()
	f, err := os.Open(datatest.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s.once.Do(func() {
		b, _ := data.Profiles("default")
		var pf *road.ProfileFile
		if pf, s.err = road.ReadProfileFile(bytes.NewReader(b)); s.err != nil {
			return
		}
		s.net, s.err = road.ImportOSM(context.Background(), bufio.NewReader(f), road.OSMPBF, road.ImportConfig{Profiles: pf})
	})
	if s.err != nil {
		t.Fatalf("import %s: %v", f.Name(), s.err)
	}
	return s.net
}

// monacoBox is a box around Monaco, sea included.
var monacoBox = orb.Polygon{{{7.409, 43.724}, {7.440, 43.724}, {7.440, 43.752}, {7.409, 43.752}, {7.409, 43.724}}}

// AtSea is a point in the harbour mouth's open water, inside monacoBox and
// more than 200 m from any road.
var AtSea = orb.Point{7.4360, 43.7330}

// MonacoPlan returns a plan over Monaco with n units of mixed mechanisms
// posted at car graph nodes spread evenly through the graph, and two
// zones; posts[i] is unit i's post position.
func MonacoPlan(t testing.TB, net *road.Network, n int) (plan *patrol.Plan, posts []orb.Point) {
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

// RoadRouter returns the road router of net over plan's boundary, with
// the lattice as fallback.
func RoadRouter(t testing.TB, net *road.Network, plan *patrol.Plan) *road.Router {
	t.Helper()
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	return road.NewRouter(net, grid, road.RouterConfig{Fallback: geo.NewLattice(grid)})
}
