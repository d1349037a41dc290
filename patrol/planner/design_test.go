package planner

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestDesignWilmington designs 88 units over the Wilmington boundary on
// the roads of the Delaware extract, each cell weighing its length of car
// road: every area contiguous, the heaviest within 1.10 of the lightest,
// each post in its own area and on a road, the same plan again from the
// same seed, and another plan, as balanced, from another.
func TestDesignWilmington(t *testing.T) {
	net := patroltest.DelawareRoads(t)
	template := patroltest.Wilmington(t)
	router := patroltest.RoadRouter(t, net, template)
	demand, err := patrol.NewRoadDemand(router.Grid(), net.Graph(road.ModeCar))
	if err != nil {
		t.Fatal(err)
	}
	var plans [3][]byte
	for i, seed := range []uint64{1, 1, 2} {
		start := time.Now()
		plan, err := Design(template, router, demand, DesignConfig{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		ev, err := Evaluate(plan, router, demand)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: designed in %v over %d cells, %.1f km of road: workload %.2f to %.2f km, max/min %.3f, "+
			"demand within 1 / 3 / 5 min %.3f / %.3f / %.3f, compactness %.3f",
			seed, took, router.Grid().Len(), demand.Total(), ev.Workload.Min, ev.Workload.Max, ev.Workload.Ratio,
			ev.Coverage.M1, ev.Coverage.M3, ev.Coverage.M5, ev.Workload.Compactness)
		if len(plan.Units) != 88 || ev.Workload.Split != 0 || ev.Workload.Ratio > 1.10 {
			t.Errorf("seed %d: %d units, %d areas not contiguous, workload max/min %.3f, want 88, 0, at most 1.10",
				seed, len(plan.Units), ev.Workload.Split, ev.Workload.Ratio)
		}
		for _, u := range plan.Units {
			if !slices.Contains(u.Area, u.Post) {
				t.Errorf("seed %d: unit %s: post %v outside its area", seed, u.ID, u.Post)
			}
			m, _ := plan.Mechanism(u.Mechanism)
			if _, err := router.Snap(geo.CellCenter(u.Post), m.Profile); m.Profile != "" && err != nil {
				t.Errorf("seed %d: unit %s: post %v off the %s roads: %v", seed, u.ID, u.Post, m.Profile, err)
			}
		}
		if plans[i], err = json.Marshal(plan); err != nil {
			t.Fatal(err)
		}
	}
	if string(plans[0]) != string(plans[1]) {
		t.Errorf("seed 1 designed two different plans")
	}
	if string(plans[0]) == string(plans[2]) {
		t.Errorf("seeds 1 and 2 designed the same plan")
	}
}
