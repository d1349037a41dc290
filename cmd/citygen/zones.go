package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// zoneSpec describes a priority zone as an ellipse: its centre, its
// semi-axes in metres (east-west and north-south before rotation) and its
// rotation in degrees counter-clockwise.
type zoneSpec struct {
	id, name, short, kind string
	lon, lat              float64
	a, b, rot             float64
	weight                float64
}

// zoneSpecs returns the demo city's priority zones, at approximate places.
func zoneSpecs() []zoneSpec {
	return []zoneSpec{
		{"Z01", "Central commercial district", "Central Commercial", "commercial", 122.2605, 43.6235, 350, 250, 0, 3},
		{"Z02", "Pedestrian shopping street", "Pedestrian Street", "commercial", 122.2690, 43.6180, 380, 110, 5, 3},
		{"Z03", "East shopping centre", "East Shopping Centre", "commercial", 122.2870, 43.6290, 250, 200, 0, 2.5},
		{"Z04", "East night market", "East Night Market", "night_market", 122.2935, 43.6195, 200, 150, 0, 3},
		{"Z05", "West night market", "West Night Market", "night_market", 122.2300, 43.6170, 180, 140, -10, 3},
		{"Z06", "North night market", "North Night Market", "night_market", 122.2560, 43.6490, 200, 130, 0, 2.5},
		{"Z07", "Xiliao riverside park", "Riverside Park", "park", 122.2450, 43.5830, 400, 150, 6, 2},
		{"Z08", "City centre square", "Centre Square", "park", 122.2630, 43.6285, 150, 150, 0, 2.5},
		{"Z09", "North-west lake park", "Lake Park", "park", 122.2380, 43.6400, 300, 240, 20, 2},
		{"Z10", "Tongliao railway station", "Railway Station", "transport", 122.2700, 43.6010, 300, 200, 0, 3},
		{"Z11", "Long-distance bus station", "Bus Station", "transport", 122.2830, 43.6075, 150, 120, 0, 2.5},
		{"Z12", "Central schools", "Central Schools", "school", 122.2500, 43.6320, 200, 150, 0, 2},
		{"Z13", "East schools", "East Schools", "school", 122.2960, 43.6380, 200, 150, 0, 2},
		{"Z14", "West schools", "West Schools", "school", 122.2180, 43.6280, 220, 150, 0, 2},
		{"Z15", "City hospital", "City Hospital", "hospital", 122.2720, 43.6330, 150, 120, 0, 1.5},
		{"Z16", "University hospital", "University Hospital", "hospital", 122.2280, 43.6060, 150, 120, 0, 1.5},
	}
}

// kindHours returns the daily active hours of a zone kind, local time.
func kindHours(kind string) []patrol.Hours {
	switch kind {
	case "commercial":
		return []patrol.Hours{{From: "09:00", To: "22:00"}}
	case "night_market":
		return []patrol.Hours{{From: "18:00", To: "02:00"}}
	case "park":
		return []patrol.Hours{{From: "06:00", To: "22:00"}}
	case "school":
		return []patrol.Hours{{From: "07:00", To: "08:30"}, {From: "16:00", To: "18:00"}}
	}
	return []patrol.Hours{{From: "00:00", To: "24:00"}} // transport, hospital
}

// zoneRule returns the response rule of a zone of kind and weight: how
// many units must reach what share of the zone within 1, 3 and 5 minutes.
// Within a minute only a post or an officer on foot in the zone is on the
// spot, and each reaches about the cell it stands in, so the first tier
// asks for the zone's key places only, a few of its cells. The second asks
// a patrol within 3 minutes for most of the zone and the third
// reinforcement within 5 minutes for all of it. Commercial districts,
// night markets and transport hubs ask for three reinforcements, and the
// busiest of them (transport hubs and the heaviest districts and night
// markets) for two patrols; parks, schools and hospitals ask for less.
func zoneRule(kind string, weight float64) patrol.Rule {
	switch {
	case kind == "school" || kind == "hospital":
		return patrol.Rule{M1: req(1, 0.1), M3: req(1, 0.8), M5: req(2, 1)}
	case kind == "park":
		return patrol.Rule{M1: req(1, 0.1), M3: req(1, 0.9), M5: req(2, 1)}
	case kind == "transport" || weight >= 3:
		return patrol.Rule{M1: req(1, 0.15), M3: req(2, 0.9), M5: req(3, 1)}
	}
	return patrol.Rule{M1: req(1, 0.15), M3: req(1, 0.9), M5: req(3, 1)}
}

func req(units int, share float64) patrol.Requirement {
	return patrol.Requirement{Units: units, Share: share}
}

// priorityZones returns the zones with slightly irregular outlines.
func priorityZones(rng *rand.Rand) []patrol.Zone {
	specs := zoneSpecs()
	zones := make([]patrol.Zone, len(specs))
	for i, s := range specs {
		zones[i] = patrol.Zone{ID: s.id, Name: s.name, Kind: s.kind, Hours: kindHours(s.kind),
			Weight: s.weight, Rule: zoneRule(s.kind, s.weight), Area: zoneOutline(rng, s)}
	}
	return zones
}

// zoneOutline returns a ten-sided counter-clockwise outline inscribed in the
// spec's ellipse, each vertex pulled in by up to 10%.
func zoneOutline(rng *rand.Rand, s zoneSpec) orb.Polygon {
	const n = 10
	cx, cy := toXY(orb.Point{s.lon, s.lat})
	sin, cos := math.Sincos(s.rot * math.Pi / 180)
	ring := make(orb.Ring, 0, n+1)
	for k := range n {
		t := 2 * math.Pi * float64(k) / n
		f := 0.9 + 0.1*rng.Float64()
		x, y := s.a*f*math.Cos(t), s.b*f*math.Sin(t)
		ring = append(ring, toPoint(cx+x*cos-y*sin, cy+x*sin+y*cos))
	}
	return orb.Polygon{append(ring, ring[0])}
}

// checkZones reports a zone with a vertex outside the boundary.
func checkZones(boundary orb.Polygon, zones []patrol.Zone) error {
	for _, z := range zones {
		for _, p := range z.Area[0] {
			if !planar.PolygonContains(boundary, p) {
				return fmt.Errorf("zone %s: vertex %v outside the boundary", z.ID, p)
			}
		}
	}
	return nil
}
