package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// The number of units of each mechanism.
const (
	nPost    = 12
	nJoint   = 8
	nFoot    = 14
	nVideo   = 8
	nEbike   = 16 // one per priority zone
	nVehicle = 30
	nUnits   = nPost + nJoint + nFoot + nVideo + nEbike + nVehicle
)

// area is one partition area before it becomes a unit.
type area struct {
	cells []h3.Cell
	post  h3.Cell
	mech  string
	zone  int // the zone the unit serves, by number, or -1
}

// makeUnits turns the partition into units, each with its site's
// mechanism and its site as its post.
func makeUnits(g *geo.Grid, owner []int32, sites []site, zones []patrol.Zone) []patrol.Unit {
	areas := make([]*area, len(sites))
	for u, s := range sites {
		areas[u] = &area{post: g.Cell(s.cell), mech: s.mech, zone: s.zone}
	}
	for i, u := range owner {
		areas[u].cells = append(areas[u].cells, g.Cell(int32(i)))
	}
	return numberUnits(areas, zones)
}

// zoneAt returns the first zone whose outline holds p, or nil.
func zoneAt(zones []patrol.Zone, p orb.Point) *patrol.Zone {
	for i := range zones {
		if planar.PolygonContains(zones[i].Area, p) {
			return &zones[i]
		}
	}
	return nil
}

// unitKind is how a mechanism's units are numbered and named.
type unitKind struct {
	mech, prefix, noun string
	offDuty            []int // the unit numbers taken out of service
}

// unitKinds returns how each mechanism's units are numbered and named. The
// units off duty are two vehicles of the outskirts, in the northern and
// southern bands, and a video patrol, so that the demo shows units out of
// service without stripping a zone of the units posted to it.
func unitKinds() []unitKind {
	return []unitKind{
		{"vehicle", "V", "Vehicle", []int{2, nVehicle}},
		{"ebike", "E", "E-bike", nil},
		{"foot", "F", "Foot", nil},
		{"post", "P", "Post", nil},
		{"joint", "J", "Joint", nil},
		{"video", "C", "Video", []int{nVideo}},
	}
}

// numberUnits numbers the units of each mechanism in reading order of their
// posts (north to south in bands of about 1.3 km, then west to east) and
// names them after their place.
func numberUnits(areas []*area, zones []patrol.Zone) []patrol.Unit {
	var units []patrol.Unit
	for _, k := range unitKinds() {
		var mine []*area
		for _, a := range areas {
			if a.mech == k.mech {
				mine = append(mine, a)
			}
		}
		slices.SortStableFunc(mine, func(a, b *area) int {
			pa, pb := geo.CellCenter(a.post), geo.CellCenter(b.post)
			return cmp.Or(cmp.Compare(band(pa), band(pb)), cmp.Compare(pa[0], pb[0]))
		})
		for i, a := range mine {
			n := i + 1
			u := patrol.Unit{
				ID:        fmt.Sprintf("%s%02d", k.prefix, n),
				Name:      fmt.Sprintf("%s %02d · %s", k.noun, n, a.place(zones)),
				Mechanism: k.mech, Post: a.post, Area: a.cells, Shift: shift(k.mech, n),
			}
			if slices.Contains(k.offDuty, n) {
				u.Status = patrol.OffDuty
			}
			units = append(units, u)
		}
	}
	return units
}

// band returns the number of the 1.3 km east-west band holding p, counted
// from the north.
func band(p orb.Point) int {
	_, y := toXY(p)
	return int(math.Floor((8000 - y) / 1300))
}

// shift returns the shift of unit number n of mech: "day", "night" or "24h".
func shift(mech string, n int) string {
	switch mech {
	case "ebike":
		return []string{"night", "day"}[n%2]
	case "foot":
		return "day"
	case "joint":
		return "night"
	}
	return "24h"
}

// place names the unit's place: its zone, or else the place of its post.
func (a *area) place(zones []patrol.Zone) string {
	if a.zone >= 0 {
		return shortName(zones[a.zone].ID)
	}
	return placeName(zones, geo.CellCenter(a.post))
}

// shortName returns the short name of the zone with id, or id.
func shortName(id string) string {
	for _, s := range zoneSpecs() {
		if s.id == id {
			return s.short
		}
	}
	return id
}

// placeName names the place of p: the priority zone that holds it, the
// centre, or the compass direction from the centre.
func placeName(zones []patrol.Zone, p orb.Point) string {
	if z := zoneAt(zones, p); z != nil {
		return shortName(z.ID)
	}
	x, y := toXY(p)
	if math.Hypot(x, y) < 1500 {
		return "Horqin Centre"
	}
	dirs := []string{"East", "Northeast", "North", "Northwest", "West", "Southwest", "South", "Southeast"}
	sector := int(math.Round(math.Atan2(y, x)/(math.Pi/4)+8)) % 8
	return "Horqin " + dirs[sector]
}
