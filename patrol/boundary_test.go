package patrol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/data"
)

// TestReadBoundaryWilmington reads the embedded boundary of Wilmington,
// Delaware: one ring around the city, its name and time zone.
func TestReadBoundaryWilmington(t *testing.T) {
	b, err := ReadBoundary(bytes.NewReader(data.WilmingtonBoundary()))
	if err != nil {
		t.Fatal(err)
	}
	if b.City != "wilmington" || b.Timezone != "America/New_York" || !strings.Contains(b.Notice, "not the official city limits") {
		t.Errorf("ReadBoundary = city %q, timezone %q, notice %q", b.City, b.Timezone, b.Notice)
	}
	box := orb.Bound{Min: orb.Point{-75.60, 39.70}, Max: orb.Point{-75.50, 39.78}}
	if len(b.Area) != 1 || !box.Contains(b.Area.Bound().Min) || !box.Contains(b.Area.Bound().Max) {
		t.Errorf("boundary %v, want one ring within %v", b.Area.Bound(), box)
	}
}

// TestReadBoundaryOfPlan reads the boundary of the demo plan back from
// the GeoJSON of the plan, in which zones and posts stand beside it.
func TestReadBoundaryOfPlan(t *testing.T) {
	p, err := ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(p.GeoJSON())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadBoundary(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != p.Name || b.City != p.City || b.Timezone != p.Timezone || b.Notice != p.Notice || !orb.Equal(b.Area, p.Boundary) {
		t.Errorf("ReadBoundary(plan GeoJSON) = %q %q %q, %d points; want the plan's %q %q %q, %d points",
			b.Name, b.City, b.Timezone, len(b.Area[0]), p.Name, p.City, p.Timezone, len(p.Boundary[0]))
	}
}

func TestReadBoundaryErrors(t *testing.T) {
	const ring = `[[[-75.6,39.7],[-75.5,39.7],[-75.5,39.78],[-75.6,39.7]]]`
	const props = `{"city":"wilmington","timezone":"America/New_York"}`
	feature := func(geometry, properties string) string {
		return `{"type":"Feature","properties":` + properties + `,"geometry":` + geometry + `}`
	}
	polygon := `{"type":"Polygon","coordinates":` + ring + `}`
	for _, tc := range []struct{ name, json, want string }{
		{"not JSON", `{"type":`, "GeoJSON"},
		{"a point", `{"type":"Point","coordinates":[1,2]}`, `type "Point"`},
		{"a bare polygon", polygon, "bare Polygon has no properties"},
		{"no time zone", feature(polygon, `{"city":"wilmington"}`), `"timezone"`},
		{"no city", feature(polygon, `{"timezone":"America/New_York"}`), `"city"`},
		{"unknown time zone", feature(polygon, `{"city":"x","timezone":"America/Wilmington"}`), "America/Wilmington"},
		{"point feature", feature(`{"type":"Point","coordinates":[1,2]}`, props), "is a Point"},
		{"no geometry", feature(`null`, props), "no geometry"},
		{"two polygons", feature(`{"type":"MultiPolygon","coordinates":[`+ring+`,`+ring+`]}`, props), "MultiPolygon of 2"},
		{"open ring", feature(`{"type":"Polygon","coordinates":[[[-75.6,39.7],[-75.5,39.7],[-75.5,39.78],[-75.6,39.75]]]}`, props), "closed ring"},
		{"projected", feature(`{"type":"Polygon","coordinates":[[[-8415000,4822000],[-8404000,4822000],[-8404000,4833000],[-8415000,4822000]]]}`, props), "not (lon, lat)"},
		{"two features", `{"type":"FeatureCollection","features":[` + feature(polygon, props) + `,` + feature(polygon, props) + `]}`, "2 of the collection's 2"},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, "0 of the collection's 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadBoundary(strings.NewReader(tc.json))
			if !errors.Is(err, ErrBoundary) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadBoundary: %v, want ErrBoundary containing %q", err, tc.want)
			}
		})
	}
	multi := feature(`{"type":"MultiPolygon","coordinates":[`+ring+`]}`, props)
	if b, err := ReadBoundary(strings.NewReader(multi)); err != nil || len(b.Area[0]) != 4 || b.Name != "wilmington" {
		t.Errorf("ReadBoundary(MultiPolygon of one) = %v, name %q, %v; want its ring, the city's name", b.Area, b.Name, err)
	}
}

// TestWithBoundary moves the demo plan to Wilmington, where none of its
// zones and units lie, and to the western half of Horqin, where some do;
// a boundary too small to hold a cell centre is refused.
func TestWithBoundary(t *testing.T) {
	demo, err := ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		t.Fatal(err)
	}
	wilmington, err := ReadBoundary(bytes.NewReader(data.WilmingtonBoundary()))
	if err != nil {
		t.Fatal(err)
	}
	q, err := demo.WithBoundary(wilmington)
	if err != nil {
		t.Fatal(err)
	}
	if q.City != "wilmington" || q.Timezone != "America/New_York" || q.Resolution != demo.Resolution || len(q.Zones)+len(q.Units) != 0 ||
		len(q.Mechanisms) != len(demo.Mechanisms) {
		t.Errorf("demo over Wilmington: city %q, timezone %q, resolution %d, %d zones, %d units, %d mechanisms",
			q.City, q.Timezone, q.Resolution, len(q.Zones), len(q.Units), len(q.Mechanisms))
	}
	b := demo.Boundary.Bound()
	west := Boundary{City: demo.City, Timezone: demo.Timezone, Area: orb.Polygon{orb.Ring{
		b.Min, {(b.Min[0] + b.Max[0]) / 2, b.Min[1]}, {(b.Min[0] + b.Max[0]) / 2, b.Max[1]}, {b.Min[0], b.Max[1]}, b.Min}}}
	half, err := demo.WithBoundary(west)
	if err != nil {
		t.Fatal(err)
	}
	if n, z := len(half.Units), len(half.Zones); n == 0 || n >= len(demo.Units) || z == 0 || z >= len(demo.Zones) {
		t.Errorf("demo over its western half: %d of %d units, %d of %d zones, want some of each", n, len(demo.Units), z, len(demo.Zones))
	}
	tiny := Boundary{City: "x", Timezone: "UTC", Area: orb.Polygon{orb.Ring{{0, 0}, {1e-6, 0}, {1e-6, 1e-6}, {0, 0}}}}
	if _, err := demo.WithBoundary(tiny); !errors.Is(err, ErrBoundary) {
		t.Errorf("a boundary of a square millimetre: error %v, want ErrBoundary", err)
	}
}
