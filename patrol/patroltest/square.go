package patroltest

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// SquarePlan returns a plan over a square of about 2.4 km with its
// cells split by their centres into four areas, and two more units:
//
//	+--------+--------+
//	|   V1   |   E1   |   V2 (off duty) shares V1's area,
//	|vehicle | e-bike |   C1 (video) watches P1's area
//	+--------+--------+
//	|   F1   |   P1   |
//	|  foot  |  post  |
//	+--------+--------+
func SquarePlan(t testing.TB) *patrol.Plan {
	t.Helper()
	const w, e, s, n = 122.245, 122.275, 43.609, 43.631
	mid := orb.Point{(w + e) / 2, (s + n) / 2}
	boundary := orb.Polygon{{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}}
	quads := map[string][]h3.Cell{}
	for _, c := range geo.PolygonCells(boundary, 10) {
		p, key := geo.CellCenter(c), ""
		if p[1] >= mid[1] {
			key = "N"
		} else {
			key = "S"
		}
		if p[0] < mid[0] {
			key += "W"
		} else {
			key += "E"
		}
		quads[key] = append(quads[key], c)
	}
	unit := func(id, mech, quad string) patrol.Unit {
		area := quads[quad]
		return patrol.Unit{ID: id, Name: id, Mechanism: mech, Area: area, Post: Middle(area)}
	}
	p := &patrol.Plan{
		Name: "square", City: "square", Resolution: 10, Timezone: "UTC", Boundary: boundary,
		Profiles: []geo.Profile{{Name: "car", SpeedKPH: 30, Detour: 1.35}, {Name: "bike", SpeedKPH: 15, Detour: 1.3},
			{Name: "foot", SpeedKPH: 5, Detour: 1.25}},
		Mechanisms: []patrol.Mechanism{
			{ID: "vehicle", Profile: "car", CountsResponse: true, MaxSpeedKPH: 130},
			{ID: "ebike", Profile: "bike", CountsResponse: true, MaxSpeedKPH: 60},
			{ID: "foot", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 15},
			{ID: "post", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 130},
			{ID: "video"},
		},
		Units: []patrol.Unit{unit("V1", "vehicle", "NW"), unit("E1", "ebike", "NE"), unit("F1", "foot", "SW"),
			unit("P1", "post", "SE"), unit("C1", "video", "SE"), unit("V2", "vehicle", "NW")},
	}
	p.Units[5].Status = patrol.OffDuty
	if err := p.Validate(); err != nil {
		t.Fatalf("square plan: %v", err)
	}
	return p
}

// Middle returns the cell of area nearest the mean of its centres.
func Middle(area []h3.Cell) h3.Cell {
	var mean orb.Point
	for _, c := range area {
		p := geo.CellCenter(c)
		mean[0] += p[0] / float64(len(area))
		mean[1] += p[1] / float64(len(area))
	}
	best := area[0]
	for _, c := range area {
		if geo.Distance(geo.CellCenter(c), mean) < geo.Distance(geo.CellCenter(best), mean) {
			best = c
		}
	}
	return best
}
