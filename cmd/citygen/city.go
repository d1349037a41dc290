package main

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// resolution is the H3 resolution of the plan's cells.
const resolution = 10

// The streams of the random source, one per stage, so that a change to one
// stage leaves the others' draws alone.
const (
	streamZones uint64 = iota + 1
	streamIncidents
	streamSeeds
)

// city is the generated plan and incident history.
type city struct {
	plan             *patrol.Plan
	incidents        []patrol.Incident
	cells            int
	minLoad, maxLoad float64 // least and most demand of one unit's area, over its share
}

// generate builds the city from seed and checks it.
func generate(seed uint64) (*city, error) {
	rng := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
	boundary := boundaryPolygon()
	zones := priorityZones(rng(streamZones))
	if err := checkZones(boundary, zones); err != nil {
		return nil, err
	}
	incidents := makeIncidents(rng(streamIncidents), boundary, zones)
	grid, err := geo.NewPolygonGrid(boundary, resolution)
	if err != nil {
		return nil, fmt.Errorf("boundary grid: %w", err)
	}
	units, loads, err := deployUnits(rng(streamSeeds), grid, incidents, zones)
	if err != nil {
		return nil, err
	}
	plan, err := newPlan(boundary, units, zones)
	if err != nil {
		return nil, err
	}
	return &city{plan: plan, incidents: incidents, cells: grid.Len(),
		minLoad: slices.Min(loads), maxLoad: slices.Max(loads)}, nil
}

// deployUnits places the units' sites over grid and grows their areas on
// the incidents' demand, and returns the units and, per unit, the demand
// of its area over its share (1 for a beat unit).
func deployUnits(rng *rand.Rand, grid *geo.Grid, incidents []patrol.Incident, zones []patrol.Zone) ([]patrol.Unit, []float64, error) {
	pt := newPartitioner(geo.NewLattice(grid), patrol.NewDemand(grid, incidents))
	if err := pt.connected(); err != nil {
		return nil, nil, err
	}
	sites, beat, err := deploy(rng, grid, pt, zones)
	if err != nil {
		return nil, nil, err
	}
	owner := pt.run(sites, beat)
	if err := pt.contiguous(owner, len(sites)); err != nil {
		return nil, nil, err
	}
	return makeUnits(grid, owner, sites, zones), pt.relativeLoads(owner, sites), nil
}

// newPlan returns the demo city's plan of boundary, units and zones,
// validated.
func newPlan(boundary orb.Polygon, units []patrol.Unit, zones []patrol.Zone) (*patrol.Plan, error) {
	plan := &patrol.Plan{
		Name: "Horqin demo city", City: "tongliao", Notice: notice,
		Resolution: resolution, Timezone: "Asia/Shanghai", Boundary: boundary,
		Profiles: profiles(), Mechanisms: mechanisms(), Units: units, Zones: zones,
	}
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("generated plan: %w", err)
	}
	return plan, nil
}

// notice is the plan's notice that its data are synthetic.
const notice = "Illustrative demo data: the boundary, priority zones, patrol units and incidents " +
	"of this plan are synthetic and their positions approximate. It is not official data of " +
	"Tongliao or of its police."

// profiles returns the travel profiles of the units: car, bike and foot.
func profiles() []geo.Profile {
	return []geo.Profile{
		{Name: "car", SpeedKPH: 30, Detour: 1.35},
		{Name: "bike", SpeedKPH: 15, Detour: 1.3},
		{Name: "foot", SpeedKPH: 5, Detour: 1.25},
	}
}

// mechanisms returns the patrol mechanisms and the profile each moves by.
func mechanisms() []patrol.Mechanism {
	return []patrol.Mechanism{
		{ID: "vehicle", Name: "Vehicle patrol", Profile: "car", CountsResponse: true, MaxSpeedKPH: 130},
		{ID: "ebike", Name: "E-bike patrol", Profile: "bike", CountsResponse: true, MaxSpeedKPH: 60},
		{ID: "foot", Name: "Foot patrol", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 15},
		{ID: "post", Name: "Fixed post (police kiosk, mobile police station)", Profile: "foot",
			CountsResponse: true, MaxSpeedKPH: 130},
		{ID: "joint", Name: "Joint patrol with volunteers and security guards", Profile: "foot",
			CountsResponse: true, MaxSpeedKPH: 15},
		{ID: "video", Name: "Video patrol", CountsResponse: false},
	}
}
