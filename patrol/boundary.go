package patrol

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/patrolgrid/patrolgrid/geo"
)

// Boundary is the outline of a city with what a plan needs to know about
// the city itself, as ReadBoundary reads it.
type Boundary struct {
	// Area is the outline in (lon, lat) order: its outer ring, then holes.
	Area orb.Polygon
	// Name, City and Timezone become the plan's (see Plan); Name is City
	// when not given. Notice, when not empty, is shown with the plan.
	Name, City, Timezone, Notice string
}

// ErrBoundary is matched by the errors of ReadBoundary about its input.
var ErrBoundary = errors.New("patrol: boundary")

// ReadBoundary reads a city's boundary from GeoJSON: a Feature whose
// geometry is a Polygon (or a MultiPolygon of one polygon), or a
// FeatureCollection holding one such feature, or several of which one has
// "kind": "boundary" (as Plan.GeoJSON and plan export write it). The
// feature's properties give the city: "city" and "timezone" (an IANA zone
// such as "America/New_York") are required, "name" and "notice" optional.
// Rings must be closed, with at least 4 points of valid longitude and
// latitude in degrees on WGS 84.
func ReadBoundary(r io.Reader) (Boundary, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return Boundary{}, err
	}
	f, err := boundaryFeature(raw)
	if err != nil {
		return Boundary{}, err
	}
	b := Boundary{City: f.Properties.MustString("city", ""), Timezone: f.Properties.MustString("timezone", ""),
		Name: f.Properties.MustString("name", ""), Notice: f.Properties.MustString("notice", "")}
	if b.Name == "" {
		b.Name = b.City
	}
	if b.Area, err = boundaryPolygon(f.Geometry); err != nil {
		return Boundary{}, err
	}
	if b.City == "" || b.Timezone == "" {
		return Boundary{}, fmt.Errorf(`%w: the feature needs properties "city" and "timezone" (an IANA zone such as "America/New_York")`, ErrBoundary)
	}
	if _, err := time.LoadLocation(b.Timezone); err != nil {
		return Boundary{}, fmt.Errorf("%w: timezone %q: %v", ErrBoundary, b.Timezone, err)
	}
	return b, nil
}

// boundaryFeature returns the feature of raw GeoJSON that holds the
// boundary (see ReadBoundary).
func boundaryFeature(raw []byte) (*geojson.Feature, error) {
	var head struct{ Type string }
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("%w: GeoJSON: %v", ErrBoundary, err)
	}
	switch head.Type {
	case "Feature":
		f, err := geojson.UnmarshalFeature(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: GeoJSON: %v", ErrBoundary, err)
		}
		return f, nil
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: GeoJSON: %v", ErrBoundary, err)
		}
		return onePolygon(fc)
	case "Polygon", "MultiPolygon":
		return nil, fmt.Errorf(`%w: a bare %s has no properties: give it as a Feature with properties "city" and "timezone"`, ErrBoundary, head.Type)
	}
	return nil, fmt.Errorf("%w: GeoJSON of type %q, want a Feature or a FeatureCollection", ErrBoundary, head.Type)
}

// onePolygon returns fc's one feature of "kind" "boundary", or else its
// one feature whose geometry is a Polygon or MultiPolygon.
func onePolygon(fc *geojson.FeatureCollection) (*geojson.Feature, error) {
	var marked, polygons []*geojson.Feature
	for _, f := range fc.Features {
		if f.Properties.MustString("kind", "") == "boundary" {
			marked = append(marked, f)
		}
		switch f.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
			polygons = append(polygons, f)
		}
	}
	switch {
	case len(marked) == 1:
		return marked[0], nil
	case len(marked) > 1:
		return nil, fmt.Errorf(`%w: %d features of "kind" "boundary", want one`, ErrBoundary, len(marked))
	case len(polygons) != 1:
		return nil, fmt.Errorf(`%w: %d of the collection's %d features are polygons, want one (or one of "kind" "boundary")`,
			ErrBoundary, len(polygons), len(fc.Features))
	}
	return polygons[0], nil
}

// boundaryPolygon returns g as one polygon with closed rings of valid
// points.
func boundaryPolygon(g orb.Geometry) (orb.Polygon, error) {
	var poly orb.Polygon
	switch v := g.(type) {
	case orb.Polygon:
		poly = v
	case orb.MultiPolygon:
		if len(v) != 1 {
			return nil, fmt.Errorf("%w: a MultiPolygon of %d polygons: a plan's boundary is one polygon", ErrBoundary, len(v))
		}
		poly = v[0]
	case nil:
		return nil, fmt.Errorf("%w: the feature has no geometry", ErrBoundary)
	default:
		return nil, fmt.Errorf("%w: geometry is a %s, want a Polygon or MultiPolygon", ErrBoundary, g.GeoJSONType())
	}
	if len(poly) == 0 {
		return nil, fmt.Errorf("%w: a polygon without rings", ErrBoundary)
	}
	for i, ring := range poly {
		if len(ring) < 4 || !ring.Closed() {
			return nil, fmt.Errorf("%w: ring %d: want a closed ring of at least 4 points, its last point its first", ErrBoundary, i)
		}
		for _, p := range ring {
			if !geo.ValidPoint(p) {
				return nil, fmt.Errorf("%w: ring %d: point %v is not (lon, lat) in degrees on WGS 84", ErrBoundary, i, p)
			}
		}
	}
	return poly, nil
}
