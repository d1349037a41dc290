package road

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// monaco is a box around the Principality, a little wider than its border.
var monaco = orb.Polygon{{
	{7.405, 43.723}, {7.445, 43.723}, {7.445, 43.755}, {7.405, 43.755}, {7.405, 43.723},
}}

// casino is a point on Place du Casino, Monte Carlo (lon, lat).
var casino = orb.Point{7.4280, 43.7396}

var (
	carProfile  = geo.Profile{Name: "car"}
	footProfile = geo.Profile{Name: "foot"}
)

// shanghai is the box of the central Shanghai extract, People's Square
// near its middle.
var shanghai = orb.Polygon{{
	{121.4615, 31.2200}, {121.4860, 31.2200}, {121.4860, 31.2408}, {121.4615, 31.2408}, {121.4615, 31.2200},
}}

// testCity is an extract of the shared test data with the box of its grid.
type testCity struct {
	name, file string
	box        orb.Polygon
}

var testCities = []testCity{{"monaco", monacoPBF, monaco}, {"shanghai", shanghaiXML, shanghai}}

// routers caches the routers of one test run by city, resolution and
// config.
var routers sync.Map

func cityRouter(t testing.TB, c testCity, res int, cfg RouterConfig) *Router {
	t.Helper()
	type key struct {
		file string
		res  int
		cfg  RouterConfig
	}
	k := key{c.file, res, cfg}
	if r, ok := routers.Load(k); ok {
		return r.(*Router)
	}
	net := testNetwork(t, c.file)
	grid, err := geo.NewPolygonGrid(c.box, res)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRouter(net, grid, cfg)
	routers.Store(k, r)
	return r
}

func monacoRouter(t testing.TB, res int, cfg RouterConfig) *Router {
	t.Helper()
	return cityRouter(t, testCities[0], res, cfg)
}

// pointAlong returns the point at fraction f of a shape's length.
func pointAlong(ls orb.LineString, f float64) orb.Point {
	total := 0.0
	for i := 1; i < len(ls); i++ {
		total += float64(geo.Distance(ls[i-1], ls[i]))
	}
	want := f * total
	for i := 1; i < len(ls); i++ {
		d := float64(geo.Distance(ls[i-1], ls[i]))
		if want <= d && d > 0 {
			t := want / d
			a, b := ls[i-1], ls[i]
			return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
		}
		want -= d
	}
	return ls[len(ls)-1]
}

// onewayStretch finds a oneway car edge of at least 80 m inside the grid
// and returns points a quarter and three quarters along it, both of which
// snap back onto it.
func onewayStretch(t *testing.T, r *Router) (a, b orb.Point) {
	t.Helper()
	g := r.graphs[0].g
	for e, ed := range g.edges {
		if ed.fwdKPH == 0 || ed.bwdKPH != 0 || ed.length < 80 {
			continue
		}
		shape := g.EdgeShape(int32(e))
		a, b = pointAlong(shape, 0.25), pointAlong(shape, 0.75)
		if _, ok := r.grid.Locate(a); !ok {
			continue
		}
		sa, _ := r.Snap(a, "car")
		sb, _ := r.Snap(b, "car")
		if sa.Edge == int32(e) && sb.Edge == int32(e) {
			return a, b
		}
	}
	t.Fatal("no oneway car edge of 80 m or more in the grid")
	return
}

// TestOnewayDirections: along a oneway street
//
//	A ──────► B      A→B drives straight along it;
//	 ╰──◄──╯         B→A must go round the block.
//
// On foot the street is two-way, so both directions take the same time.
func TestOnewayDirections(t *testing.T) {
	for _, c := range testCities {
		t.Run(c.name, func(t *testing.T) { testOnewayDirections(t, cityRouter(t, c, 10, RouterConfig{})) })
	}
}

func testOnewayDirections(t *testing.T, r *Router) {
	a, b := onewayStretch(t, r)
	var s geo.Search
	drive := func(p geo.Profile, from, to orb.Point) time.Duration {
		d, ok, err := r.DriveTime(&s, from, to, p, 10*time.Minute)
		if err != nil || !ok {
			t.Fatalf("DriveTime(%v, %v → %v) = %v, %v, %v", p.Name, from, to, d, ok, err)
		}
		return d
	}
	ab, ba := drive(carProfile, a, b), drive(carProfile, b, a)
	t.Logf("car: A→B %v, B→A %v", ab, ba)
	if ba < ab+5*time.Second {
		t.Errorf("car: B→A = %v, want at least 5 s more than A→B = %v along a oneway street", ba, ab)
	}
	fab, fba := drive(footProfile, a, b), drive(footProfile, b, a)
	t.Logf("foot: A→B %v, B→A %v", fab, fba)
	if d := fab - fba; d > time.Millisecond || d < -time.Millisecond {
		t.Errorf("foot: A→B = %v, B→A = %v, want equal: walkers ignore oneway", fab, fba)
	}
}

// crossingSlack bounds how far before a cell's true boundary an edge's
// crossing may be placed: a sample step over 2^crossingBisections.
const crossingSlack geo.Meters = 1

// cellRadius returns the largest distance from c's centre to its corners.
func cellRadius(c h3.Cell) geo.Meters {
	centre := geo.CellCenter(c)
	var r geo.Meters
	for _, p := range geo.CellPolygon(c)[0] {
		r = max(r, geo.Distance(centre, p))
	}
	return r
}

// TestRoadIsochroneNeverBeatsStraightLine checks every reached node and
// cell against the straight line from the snapped start at the graph's
// top speed: a node no sooner than its distance allows, a cell no sooner
// than the distance to its nearest possible point (its centre less its
// radius).
func TestRoadIsochroneNeverBeatsStraightLine(t *testing.T) {
	for _, c := range testCities {
		t.Run(c.name, func(t *testing.T) {
			testNeverBeatsStraightLine(t, cityRouter(t, c, 10, RouterConfig{}), c.box.Bound())
		})
	}
}

func testNeverBeatsStraightLine(t *testing.T, r *Router, box orb.Bound) {
	rng := rand.New(rand.NewPCG(5, 6))
	var s geo.Search
	for _, name := range []string{"car", "bike", "foot"} {
		rg, _ := r.graph(name)
		top := geo.Profile{SpeedKPH: rg.g.TopKPH(), Detour: 1}
		for range 20 {
			from := orb.Point{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
			sn, err := r.Snap(from, name)
			if errors.Is(err, ErrOffNetwork) {
				continue
			}
			reach, err := r.Isochrone(&s, from, geo.Profile{Name: name}, 5*time.Minute, nil)
			if err != nil {
				t.Fatalf("%s: Isochrone(%v): %v", name, from, err)
			}
			for i, nd := range rg.g.nodes {
				if s.Done(int32(i)) {
					// float32 edge lengths and the linear snap point leave centimetres
					if floor := top.Travel(max(0, geo.Distance(sn.Point, nd)-0.1)); s.ETA(int32(i))+etaTolerance < floor {
						t.Fatalf("%s from %v: node %d at %v, below straight line at top speed %v", name, from, i, s.ETA(int32(i)), floor)
					}
				}
			}
			for _, rc := range reach {
				c := r.grid.Cell(rc.Cell)
				// The cell boundary is found within crossingSlack along a road.
				floor := top.Travel(max(0, geo.Distance(sn.Point, geo.CellCenter(c))-cellRadius(c)-crossingSlack))
				if rc.ETA+etaTolerance < floor || rc.ETA > 5*time.Minute {
					t.Fatalf("%s from %v: cell %v at %v, want in [%v, 5m]", name, from, c, rc.ETA, floor)
				}
			}
		}
	}
}

func TestRoadIsochroneOffNetwork(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	var s geo.Search
	sea := orb.Point{7.4400, 43.7300} // 1 km out to sea off Port Hercule
	_, err := r.Isochrone(&s, sea, carProfile, time.Minute, nil)
	if !errors.Is(err, ErrOffNetwork) || !errors.Is(err, geo.ErrOffGrid) {
		t.Errorf("Isochrone(at sea) error = %v, want ErrOffNetwork, also matching ErrOffGrid", err)
	}
	if _, err := r.Isochrone(&s, casino, geo.Profile{Name: "boat"}, time.Minute, nil); !errors.Is(err, ErrNoProfile) {
		t.Errorf("Isochrone(profile boat) error = %v, want ErrNoRoadProfile", err)
	}
	sn, err := r.Snap(casino, "car")
	if err != nil {
		t.Fatal(err)
	}
	// A point 60 m off the road: on the network with the default
	// distance, off it with a 20 m one.
	off := geo.PointAt(sn.Point, geo.Bearing(casino, sn.Point)+180, 60)
	if s2, err := r.Snap(off, "car"); err != nil || s2.Off > 60+1 {
		t.Errorf("Snap(60 m off) = %+v, %v, want a snap within 61 m", s2, err)
	}
	tight := NewRouter(testNetwork(t, monacoPBF), r.grid, RouterConfig{SnapRadius: 20})
	if _, err := tight.Snap(geo.PointAt(sn.Point, 0, 0), "car"); err != nil {
		t.Errorf("Snap(on the road, 20 m radius) error = %v, want nil", err)
	}
	if sn2, err := tight.Snap(off, "car"); err == nil && sn2.Off > 20 {
		t.Errorf("Snap(60 m off, 20 m radius) = %+v, want ErrOffNetwork", sn2)
	}
}

func TestSnapPosition(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	g := r.graphs[0].g
	for _, e := range []int32{0, int32(len(g.edges) / 3), int32(len(g.edges) / 2)} {
		shape := g.EdgeShape(e)
		p := pointAlong(shape, 0.5)
		sn, ok := g.Snap(p, DefaultSnapRadius)
		if !ok || sn.Off > 0.5 {
			t.Fatalf("Snap(middle of edge %d) = %+v, %v, want on the road", e, sn, ok)
		}
		if sn.Edge == e && (sn.Fraction < 0.49 || sn.Fraction > 0.51) {
			t.Errorf("Snap(middle of edge %d).Fraction = %v, want 0.5", e, sn.Fraction)
		}
	}
}

func TestRoadIsochroneSmallGrid(t *testing.T) {
	net := testNetwork(t, monacoPBF)
	c := geo.Cell(casino, 10)
	grid, err := geo.NewGrid(h3.GridDisk(c, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRouter(net, grid, RouterConfig{})
	var s geo.Search
	reach, err := r.Isochrone(&s, casino, carProfile, 5*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(reach) == 0 || len(reach) > grid.Len() {
		t.Fatalf("Isochrone on a 7-cell grid reached %d cells, want 1..7", len(reach))
	}
	for _, rc := range reach {
		if rc.Cell < 0 || int(rc.Cell) >= grid.Len() {
			t.Fatalf("reached cell number %d outside the grid of %d", rc.Cell, grid.Len())
		}
	}
}

func TestRoadIsochroneBand(t *testing.T) {
	base := monacoRouter(t, 10, RouterConfig{})
	peak := NewRouter(testNetwork(t, monacoPBF), base.grid, RouterConfig{Band: BandPeak})
	f := base.graphs[0].g.Bands[BandPeak].Factor
	var s geo.Search
	viaWith, _ := base.WithBand(BandPeak).Isochrone(&s, casino, carProfile, 5*time.Minute, nil)
	viaCfg, _ := peak.Isochrone(&s, casino, carProfile, 5*time.Minute, nil)
	if !slices.Equal(viaWith, viaCfg) {
		t.Errorf("WithBand(peak) and Band: peak disagree: %d and %d cells", len(viaWith), len(viaCfg))
	}
	if again, _ := base.WithBand(BandPeak).WithBand("").Isochrone(&s, casino, carProfile, 5*time.Minute, nil); len(again) == len(viaWith) {
		t.Errorf("WithBand(\"\") after peak reached %d cells, as many as at peak", len(again))
	}
	slow, err := peak.Isochrone(&s, casino, carProfile, 5*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, _ := base.Isochrone(&s, casino, carProfile, time.Duration(float64(5*time.Minute)*f), nil)
	if len(slow) != len(fast) {
		t.Fatalf("peak 5m reached %d cells, base %v reached %d, want equal", len(slow), time.Duration(float64(5*time.Minute)*f), len(fast))
	}
	for i := range slow {
		want := time.Duration(float64(fast[i].ETA) / f)
		if d := slow[i].ETA - want; slow[i].Cell != fast[i].Cell || d > etaTolerance || d < -etaTolerance {
			t.Fatalf("peak reach[%d] = %+v, want cell %d at %v", i, slow[i], fast[i].Cell, want)
		}
	}
}

func TestRoadIsochroneAllocatesNothing(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	var s geo.Search
	dst, _ := r.Isochrone(&s, casino, carProfile, 5*time.Minute, nil)
	allocs := testing.AllocsPerRun(20, func() {
		dst, _ = r.Isochrone(&s, casino, carProfile, 5*time.Minute, dst[:0])
	})
	if allocs != 0 {
		t.Errorf("Isochrone allocates %v times per call after warm-up, want 0", allocs)
	}
}

// TestRoadIsochroneGolden compares the 5-minute car isochrone from the
// Casino at resolution 10 with testdata/monaco_car_5m.csv (go test -update
// rewrites it).
func TestRoadIsochroneGolden(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	var s geo.Search
	reach, err := r.Isochrone(&s, casino, carProfile, 5*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "monaco_car_5m.csv")
	if *update {
		var b strings.Builder
		b.WriteString("cell,eta_s\n")
		sorted := slices.Clone(reach)
		slices.SortFunc(sorted, func(a, b geo.Reach) int {
			return cmp.Or(cmp.Compare(a.ETA, b.ETA), cmp.Compare(a.Cell, b.Cell))
		})
		for _, rc := range sorted {
			fmt.Fprintf(&b, "%s,%.3f\n", r.grid.Cell(rc.Cell), rc.ETA.Seconds())
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readGolden(t, path)
	if len(reach) != len(want) {
		t.Errorf("reached %d cells, golden has %d", len(reach), len(want))
	}
	for _, rc := range reach {
		c := r.grid.Cell(rc.Cell)
		w, ok := want[c]
		if !ok {
			t.Errorf("cell %s reached at %v, not in the golden file", c, rc.ETA)
			continue
		}
		if d := rc.ETA.Seconds() - w; d > 0.01 || d < -0.01 {
			t.Errorf("cell %s at %.3f s, golden %.3f s", c, rc.ETA.Seconds(), w)
		}
	}
}

func readGolden(t *testing.T, path string) map[h3.Cell]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("golden file: %v (run go test -update to write it)", err)
	}
	defer f.Close()
	m := map[h3.Cell]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cell, eta, _ := strings.Cut(sc.Text(), ",")
		if cell == "cell" {
			continue
		}
		c := h3.Cell(h3.IndexFromString(cell))
		v, err := strconv.ParseFloat(eta, 64)
		if err != nil || !c.IsValid() {
			t.Fatalf("golden line %q: bad cell or ETA", sc.Text())
		}
		m[c] = v
	}
	return m
}

func TestRoadRouterFallback(t *testing.T) {
	r := monacoRouter(t, 10, RouterConfig{})
	lattice := geo.NewLattice(r.grid)
	fb := NewRouter(testNetwork(t, monacoPBF), r.grid, RouterConfig{Fallback: lattice})
	var s geo.Search
	scooter := geo.Profile{Name: "scooter", SpeedKPH: 25, Detour: 1.3}
	got, err := fb.Isochrone(&s, casino, scooter, 3*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := lattice.Isochrone(&s, casino, scooter, 3*time.Minute, nil)
	if len(got) != len(want) || len(got) == 0 {
		t.Errorf("fallback Isochrone reached %d cells, lattice %d, want the lattice's", len(got), len(want))
	}
	road, _ := fb.Isochrone(&s, casino, carProfile, 3*time.Minute, nil)
	direct, _ := r.Isochrone(&s, casino, carProfile, 3*time.Minute, nil)
	if len(road) != len(direct) {
		t.Errorf("car with a fallback reached %d cells, without %d, want the road graph's", len(road), len(direct))
	}
}
