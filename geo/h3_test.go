package geo

import (
	"math"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

// degreeTolerance is how far, in degrees, a coordinate may move through a
// conversion that only reorders it: about 0.1 µm on the ground.
const degreeTolerance = 1e-12

// cellEdgeSlack is how much farther than the cell's longest edge, as a
// share of it, a point of an H3 cell may lie from the cell's centre:
// cells are distorted hexagons, and at resolution 0 a vertex lies up to
// 0.7 % farther out than the longest edge is long.
const cellEdgeSlack = 0.01

// cellReach returns the longest edge of c with cellEdgeSlack: no point of
// c lies farther from its centre.
func cellReach(c h3.Cell) Meters {
	var longest float64
	for _, e := range c.DirectedEdges() {
		longest = max(longest, h3.EdgeLengthM(e))
	}
	return Meters(longest * (1 + cellEdgeSlack))
}

// knownPlaces have their coordinates in the order people write them
// (latitude first) and the resolution-9 cells h3 gives for them. Swapped
// to (lon, lat), each lands far away or off the globe (a latitude beyond
// 90°).
var knownPlaces = []struct {
	name     string
	lat, lon float64
	cell     string
}{
	{"Tongliao", 43.62, 122.26, "89310eb9807ffff"},
	{"Monaco casino", 43.7393, 7.4277, "893969a41d3ffff"},
	{"Buenos Aires, south and west", -34.6037, -58.3816, "89c2e31132bffff"},
	{"Fiji, east of the antimeridian", -16.80, 179.99, "899b436c643ffff"},
	{"Fiji, west of the antimeridian", -16.80, -179.99, "899b436d4a7ffff"},
}

func TestKnownPlaces(t *testing.T) {
	const res = 9
	for _, tc := range knownPlaces {
		t.Run(tc.name, func(t *testing.T) {
			p := orb.Point{tc.lon, tc.lat}
			if ll := latLngOf(p); math.Abs(ll.Lat-tc.lat) > degreeTolerance || math.Abs(ll.Lng-tc.lon) > degreeTolerance {
				t.Errorf("latLngOf(%v) = %v, want lat %v, lng %v", p, ll, tc.lat, tc.lon)
			}
			c := Cell(p, res)
			if c.String() != tc.cell {
				t.Errorf("Cell(%v, %d) = %v, want %v", p, res, c, tc.cell)
			}
			if d, reach := Distance(p, CellCenter(c)), cellReach(c); d > reach {
				t.Errorf("Distance(%v, CellCenter(%v)) = %v m, want at most %v m", p, c, d, reach)
			}
			if poly := CellPolygon(c); !planar.PolygonContains(poly, p) {
				t.Errorf("CellPolygon(%v) = %v, want it to contain %v", c, poly, p)
			}
			if got := PolygonCells(CellPolygon(c), res); !slices.Equal(got, []h3.Cell{c}) {
				t.Errorf("PolygonCells(CellPolygon(%v), %d) = %v, want [%v]", c, res, got, c)
			}
		})
	}
}

// FuzzCellRoundTrip checks the conversions between (lon, lat) points and
// h3's (lat, lng) on any valid point: point → LatLng → point is the
// identity, and the centre of the cell holding a point lies within the
// cell's edge length of it.
func FuzzCellRoundTrip(f *testing.F) {
	for _, tc := range knownPlaces {
		f.Add(tc.lon, tc.lat, uint8(9))
	}
	f.Add(0.0, 90.0, uint8(0))
	f.Add(180.0, -90.0, uint8(15))
	f.Add(-180.0, 0.0, uint8(5))
	f.Add(0.0, 0.0, uint8(1))
	f.Fuzz(func(t *testing.T, lon, lat float64, r uint8) {
		p := orb.Point{lon, lat}
		if !ValidPoint(p) {
			t.Skip()
		}
		ll := latLngOf(p)
		if math.Abs(ll.Lat-lat) > degreeTolerance || math.Abs(ll.Lng-lon) > degreeTolerance {
			t.Errorf("latLngOf(%v) = %v, want lat %v, lng %v", p, ll, lat, lon)
		}
		if back := pointOf(ll); math.Abs(back[0]-lon) > degreeTolerance || math.Abs(back[1]-lat) > degreeTolerance {
			t.Errorf("pointOf(latLngOf(%v)) = %v, want %v", p, back, p)
		}
		res := int(r % 16)
		c := Cell(p, res)
		if !c.IsValid() || c.Resolution() != res {
			t.Fatalf("Cell(%v, %d) = %v, want a valid cell of resolution %d", p, res, c, res)
		}
		if d, reach := Distance(p, CellCenter(c)), cellReach(c); d > reach {
			t.Errorf("Distance(%v, CellCenter(Cell(%v, %d) = %v)) = %v m, want at most %v m", p, p, res, c, d, reach)
		}
	})
}
