package geo

import (
	"math"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/uber/h3-go/v4"
)

// Meters is a distance in metres.
type Meters float64

// DefaultResolution is the H3 resolution used when none is configured:
// cells of about 0.015 km², 66 m edges.
const DefaultResolution = 10

// ValidPoint reports whether p is a finite longitude in [-180, 180] and
// latitude in [-90, 90].
func ValidPoint(p orb.Point) bool {
	lon, lat := p[0], p[1]
	return !math.IsNaN(lon) && !math.IsNaN(lat) &&
		lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90
}

// latLngOf returns the (lon, lat) point p as an h3.LatLng (lat, lng).
// It and pointOf are the one place where the coordinate order swaps.
func latLngOf(p orb.Point) h3.LatLng { return h3.LatLng{Lat: p[1], Lng: p[0]} }

// pointOf returns ll (lat, lng) as a (lon, lat) point.
func pointOf(ll h3.LatLng) orb.Point { return orb.Point{ll.Lng, ll.Lat} }

// Cell returns the H3 cell at resolution res that holds p (lon, lat).
func Cell(p orb.Point, res int) h3.Cell {
	return h3.LatLngToCell(latLngOf(p), res)
}

// CellCenter returns the centre of c as a (lon, lat) point.
func CellCenter(c h3.Cell) orb.Point {
	return pointOf(h3.CellToLatLng(c))
}

// CellPolygon returns the boundary of c as a closed (lon, lat) polygon.
func CellPolygon(c h3.Cell) orb.Polygon {
	b := h3.CellToBoundary(c)
	ring := make(orb.Ring, 0, len(b)+1)
	for _, ll := range b {
		ring = append(ring, pointOf(ll))
	}
	ring = append(ring, ring[0])
	return orb.Polygon{ring}
}

// PolygonCells returns the cells at resolution res whose centres lie inside
// poly (outer ring first, then holes, in (lon, lat) order).
func PolygonCells(poly orb.Polygon, res int) []h3.Cell {
	if len(poly) == 0 {
		return nil
	}
	gp := h3.GeoPolygon{GeoLoop: loop(poly[0])}
	for _, hole := range poly[1:] {
		gp.Holes = append(gp.Holes, loop(hole))
	}
	return h3.PolygonToCells(gp, res)
}

func loop(r orb.Ring) h3.GeoLoop {
	n := len(r)
	if n > 1 && r[0] == r[n-1] {
		n-- // H3 loops are implicitly closed
	}
	l := make(h3.GeoLoop, n)
	for i := 0; i < n; i++ {
		l[i] = latLngOf(r[i])
	}
	return l
}

// Distance returns the great-circle distance between a and b.
func Distance(a, b orb.Point) Meters {
	return Meters(orbgeo.DistanceHaversine(a, b))
}

// Bearing returns the initial bearing from a to b in degrees clockwise from
// north, in [0, 360).
func Bearing(a, b orb.Point) float64 {
	d := orbgeo.Bearing(a, b)
	if d < 0 {
		d += 360
	}
	return d
}

// PointAt returns the point at distance d along bearing deg from p.
func PointAt(p orb.Point, deg float64, d Meters) orb.Point {
	return orbgeo.PointAtBearingAndDistance(p, deg, float64(d))
}
