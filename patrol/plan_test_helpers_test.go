package patrol

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
)

// box is a 6 × 5 km box around the centre of Horqin district, Tongliao.
var box = orb.Polygon{{
	{122.22, 43.60}, {122.30, 43.60}, {122.30, 43.645}, {122.22, 43.645}, {122.22, 43.60},
}}

func square(lon, lat, half float64) orb.Polygon {
	return orb.Polygon{{
		{lon - half, lat - half}, {lon + half, lat - half}, {lon + half, lat + half},
		{lon - half, lat + half}, {lon - half, lat - half},
	}}
}

// testPlan returns a plan of n units of mixed mechanisms in box, with posts
// spread at random from seed, and three zones.
func testPlan(t testing.TB, n int, seed uint64) *Plan {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	p := &Plan{
		Name: "test", City: "test", Resolution: 10, Timezone: "Asia/Shanghai", Boundary: box,
		Profiles: []geo.Profile{
			{Name: "car", SpeedKPH: 30, Detour: 1.35},
			{Name: "bike", SpeedKPH: 15, Detour: 1.3},
			{Name: "foot", SpeedKPH: 5, Detour: 1.25},
		},
		Mechanisms: []Mechanism{
			{ID: "vehicle", Profile: "car", CountsResponse: true, MaxSpeedKPH: 130},
			{ID: "ebike", Profile: "bike", CountsResponse: true, MaxSpeedKPH: 60},
			{ID: "foot", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 15},
			{ID: "video", CountsResponse: false},
		},
		Zones: []Zone{
			{ID: "Z1", Name: "centre", Kind: "commercial", Weight: 3, Area: square(122.26, 43.62, 0.003),
				Rule: Rule{M1: Requirement{1, 0.6}, M3: Requirement{2, 0.9}, M5: Requirement{3, 1}}},
			{ID: "Z2", Name: "market", Kind: "night_market", Weight: 2, Area: square(122.24, 43.61, 0.002),
				Hours: []Hours{{"18:00", "02:00"}}, Rule: Rule{M3: Requirement{1, 1}}},
			{ID: "Z3", Name: "station", Kind: "transport", Weight: 2, Area: square(122.29, 43.64, 0.002),
				Rule: Rule{M5: Requirement{1, 1}}},
		},
	}
	mechs := []string{"vehicle", "vehicle", "ebike", "foot", "video"}
	for i := range n {
		pt := randomPoint(rng)
		p.Units = append(p.Units, Unit{
			ID: fmt.Sprintf("U%02d", i), Name: fmt.Sprintf("Unit %d", i),
			Mechanism: mechs[i%len(mechs)], Post: geo.Cell(pt, 10),
		})
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("test plan: %v", err)
	}
	return p
}

func randomPoint(rng *rand.Rand) orb.Point {
	return orb.Point{122.221 + rng.Float64()*0.078, 43.601 + rng.Float64()*0.043}
}

func testLattice(t testing.TB, p *Plan) *geo.Lattice {
	t.Helper()
	g, err := geo.NewPolygonGrid(p.Boundary, p.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	return geo.NewLattice(g)
}
