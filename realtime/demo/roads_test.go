package demo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

const (
	// onRoadM is how far a fix of a unit on the roads may lie from a road
	// of its profile's graph, in metres.
	onRoadM = 2.0
	// minInArea is the least share of the fixes of units on the roads
	// with an area that lie within one cell of it: one-way streets out of
	// a small area may take a car some way before it can turn back.
	minInArea = 0.85
)

// monacoNet is the road network of the Monaco extract, imported once.
var monacoNet struct {
	once sync.Once
	net  *road.Network
	err  error
}

// monacoRoads returns the road network of the shared extract
// osm/monaco.osm.pbf with the default profile file, skipping when the
// file is missing (failing under CI=true or PATROLGRID_REQUIRE=1).
func monacoRoads(t *testing.T) *road.Network {
	t.Helper()
	path := datatest.File(t, "osm/monaco.osm.pbf")
	monacoNet.once.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			monacoNet.err = err
			return
		}
		defer f.Close()
		b, _ := data.Profiles("default")
		pf, err := road.ReadProfileFile(bytes.NewReader(b))
		if err != nil {
			monacoNet.err = err
			return
		}
		monacoNet.net, monacoNet.err = road.ImportOSM(context.Background(), bufio.NewReader(f), road.OSMPBF,
			road.ImportConfig{Profiles: pf})
	})
	if monacoNet.err != nil {
		t.Fatalf("import %s: %v", path, monacoNet.err)
	}
	return monacoNet.net
}

// monacoPosts are 12 points (lon, lat) on Monaco's streets.
var monacoPosts = []orb.Point{
	{7.4277, 43.7393}, {7.4225, 43.7365}, {7.4199, 43.7312}, {7.4165, 43.7300},
	{7.4290, 43.7420}, {7.4330, 43.7450}, {7.4355, 43.7468}, {7.4210, 43.7380},
	{7.4175, 43.7335}, {7.4245, 43.7405}, {7.4260, 43.7430}, {7.4190, 43.7355},
}

// monacoPlan returns a plan over Monaco at resolution 10: a box around
// the city (sea included), and a unit at each of monacoPosts, of
// mechanisms in turn vehicle, e-bike, foot, joint, vehicle and video. The
// first eight patrol the cells within two of their post (about 250 m),
// the others the whole box.
//
//	7.409                      7.440
//	  +--------------------------+ 43.752
//	  |        Larvotto          |
//	  |   Casino                 |
//	  |  Port        (sea)       |
//	  | Rocher                   |
//	  +--------------------------+ 43.724
func monacoPlan(t *testing.T) *patrol.Plan {
	t.Helper()
	const res = 10
	p := &patrol.Plan{
		Name: "Monaco", City: "Monaco", Resolution: res, Timezone: "Europe/Monaco",
		Boundary: orb.Polygon{{{7.409, 43.724}, {7.440, 43.724}, {7.440, 43.752}, {7.409, 43.752}, {7.409, 43.724}}},
		Profiles: []geo.Profile{{Name: "car", SpeedKPH: 30, Detour: 1.35}, {Name: "bike", SpeedKPH: 15, Detour: 1.3},
			{Name: "foot", SpeedKPH: 5, Detour: 1.25}},
		Mechanisms: []patrol.Mechanism{
			{ID: "vehicle", Name: "Vehicle patrol", Profile: "car", MaxSpeedKPH: 130},
			{ID: "ebike", Name: "E-bike patrol", Profile: "bike", MaxSpeedKPH: 60},
			{ID: "foot", Name: "Foot patrol", Profile: "foot", MaxSpeedKPH: 15},
			{ID: "joint", Name: "Joint patrol", Profile: "foot", MaxSpeedKPH: 15},
			{ID: "video", Name: "Video patrol"},
		},
	}
	mechs := []string{"vehicle", "ebike", "foot", "joint", "vehicle", "video"}
	for i, pt := range monacoPosts {
		u := patrol.Unit{ID: fmt.Sprintf("M%02d", i+1), Name: fmt.Sprintf("Monaco %d", i+1),
			Mechanism: mechs[i%len(mechs)], Post: geo.Cell(pt, res)}
		if i < 8 {
			u.Area = h3.GridDisk(u.Post, 2)
		}
		p.Units = append(p.Units, u)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// roadFigures sums up the fixes of the units on the roads.
type roadFigures struct {
	fixes  int
	maxOff float64            // metres from a road of the unit's graph
	maxKPH map[string]float64 // highest implied speed by mechanism, km/h
	inArea int                // fixes within a cell of their unit's area, of those with one
	ofArea int
}

// TestDemoOnRoads runs five minutes of the demo on Monaco's roads: every
// fix of a moving unit lies on a road of its profile's graph, within
// onRoadM by the graph's own snapping; its speeds, reported and implied,
// stay under the mechanism's max; every moving unit leaves its post and
// keeps mostly to its area; video patrols stay at their posts.
func TestDemoOnRoads(t *testing.T) {
	roads, plan := monacoRoads(t), monacoPlan(t)
	_, byUnit := runConfig(plan, Config{Roads: roads}, 300, time.Second)
	mechs := mechanisms(plan)
	fig := roadFigures{maxKPH: map[string]float64{}}
	for _, u := range plan.Units {
		m, fixes := mechs[u.ID], byUnit[u.ID]
		if !moves(m) {
			checkStill(t, u, fixes)
			continue
		}
		fig.add(t, u, m, roads.Graph(m.Profile), fixes)
	}
	var top []string
	for _, m := range plan.Mechanisms {
		if v, ok := fig.maxKPH[m.ID]; ok {
			top = append(top, fmt.Sprintf("%s %.1f (max %v)", m.ID, v, m.MaxSpeedKPH))
		}
	}
	t.Logf("%d fixes on the roads: at most %.2g m from a road; highest implied speeds in km/h: %s; %d of %d fixes of units with an area within one cell of it",
		fig.fixes, fig.maxOff, strings.Join(top, ", "), fig.inArea, fig.ofArea)
	if share := float64(fig.inArea) / float64(fig.ofArea); share < minInArea {
		t.Errorf("%.2f of the fixes of units with an area within one cell of it, want at least %v", share, minInArea)
	}
}

// add checks and counts the fixes of unit u of mechanism m on graph g.
func (fig *roadFigures) add(t *testing.T, u patrol.Unit, m patrol.Mechanism, g *road.Graph, fixes []fix.Fix) {
	t.Helper()
	near, farthest := dilate(u.Area), 0.0
	for i, f := range fixes {
		checkFields(t, f, m)
		sn, ok := g.Snap(f.Point, onRoadM)
		if !ok {
			t.Errorf("%s fix %d at %v: no %s road within %v m", u.ID, i, f.Point, g.Name, onRoadM)
		} else {
			fig.maxOff = max(fig.maxOff, float64(sn.Off))
		}
		if i > 0 {
			checkImplied(t, fixes[i-1], f, m)
			dt := f.Time.Sub(fixes[i-1].Time).Seconds()
			fig.maxKPH[m.ID] = max(fig.maxKPH[m.ID], float64(geo.Distance(fixes[i-1].Point, f.Point))/dt*3.6)
		}
		if len(u.Area) > 0 {
			fig.ofArea++
			if near[geo.Cell(f.Point, u.Post.Resolution())] {
				fig.inArea++
			}
		}
		farthest = max(farthest, float64(geo.Distance(fixes[0].Point, f.Point)))
	}
	fig.fixes += len(fixes)
	if farthest < 50 {
		t.Errorf("%s (%s): %d fixes all within %.0f m of the first, want it to move", u.ID, m.ID, len(fixes), farthest)
	}
}

// checkStill checks that a unit's fixes stay within 5 m of its post.
func checkStill(t *testing.T, u patrol.Unit, fixes []fix.Fix) {
	t.Helper()
	if len(fixes) == 0 {
		t.Errorf("%s: no fixes", u.ID)
	}
	for _, f := range fixes {
		if d := geo.Distance(f.Point, geo.CellCenter(u.Post)); d > 5 || f.SpeedMPS != 0 {
			t.Errorf("%s: fix %v m from its post at %v m/s, want at most 5 m and 0", u.ID, float64(d), f.SpeedMPS)
		}
	}
}

// TestDemoRoadLoops checks the loops laid out on Monaco's roads: each is
// a closed ring that starts on a road near its post and runs along its
// graph's roads, every point within onRoadM of one; the same seed lays
// out the same loops.
func TestDemoRoadLoops(t *testing.T) {
	roads, plan := monacoRoads(t), monacoPlan(t)
	d, a := runConfig(plan, Config{Roads: roads}, 120, time.Second)
	_, b := runConfig(plan, Config{Roads: roads}, 120, time.Second)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two demos on the roads with the same seed gave different fixes")
	}
	mechs := mechanisms(plan)
	for i, u := range d.units {
		g := roads.Graph(mechs[u.id].Profile)
		if u.path == nil {
			continue
		}
		pts := u.path.pts
		if pts[0] != pts[len(pts)-1] {
			t.Errorf("%s: loop from %v ends at %v, want a closed ring", u.id, pts[0], pts[len(pts)-1])
		}
		if dist := geo.Distance(pts[0], monacoPosts[i]); dist > roadSnap {
			t.Errorf("%s: loop starts %v m from its post, want at most %v", u.id, float64(dist), float64(roadSnap))
		}
		for k := 1; k < len(pts); k++ {
			mid := lerp(pts[k-1], pts[k], 0.5)
			if sn, ok := g.Snap(mid, onRoadM); !ok {
				t.Errorf("%s: loop segment %d from %v to %v leaves the %s roads", u.id, k, pts[k-1], pts[k], g.Name)
				break
			} else if sn.Off > onRoadM {
				t.Errorf("%s: loop segment %d %v m off the road", u.id, k, float64(sn.Off))
			}
		}
		t.Logf("%s (%s): loop of %.0f m, %d points, %.0f%% inside the boundary",
			u.id, g.Name, u.path.length(), len(pts), 100*insideShare(pts, plan.Boundary))
	}
}

func insideShare(pts []orb.Point, boundary orb.Polygon) float64 {
	n := 0
	for _, p := range pts {
		if planar.PolygonContains(boundary, p) {
			n++
		}
	}
	return float64(n) / math.Max(1, float64(len(pts)))
}

// TestDemoRoadsElsewhere: units whose profile has no graph, or whose post
// is far from every road of it, move exactly as without roads.
func TestDemoRoadsElsewhere(t *testing.T) {
	plan := tongliaoPlan(t)
	_, want := runMotion(plan, 1, 120, time.Second)
	tests := []struct {
		name  string
		roads *road.Network
	}{
		{"no graphs", &road.Network{}},
		{"roads of another city", monacoRoads(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, got := runConfig(plan, Config{Roads: tc.roads}, 120, time.Second); !reflect.DeepEqual(got, want) {
				t.Errorf("demo of %s on %s: fixes differ from those without roads", plan.Name, tc.name)
			}
		})
	}
}
