package planner

import (
	"errors"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestWhatIf tries changes on the demo city: ten vehicles on duty out
// cover less, ten more vehicles at foot patrols' posts cover more, ten
// off duty respond no more, and unknown units, mechanisms and bad cells
// are refused.
func TestWhatIf(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(t))
	base, err := Evaluate(plan, router, demand)
	if err != nil {
		t.Fatal(err)
	}
	score := func(w WhatIf) Evaluation {
		t.Helper()
		q, err := w.Apply(plan)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Evaluate(q, router, demand)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	var vehicles []string
	var add []Added
	for _, u := range plan.Units {
		if u.Mechanism == "vehicle" && u.Status != patrol.OffDuty && len(vehicles) < 10 {
			vehicles = append(vehicles, u.ID)
		}
		if u.Mechanism == "foot" && len(add) < 10 {
			add = append(add, Added{Mechanism: "vehicle", Post: u.Post})
		}
	}
	if fewer := score(WhatIf{Remove: vehicles}); fewer.Units != 78 || fewer.Coverage.M3 >= base.Coverage.M3 {
		t.Errorf("ten vehicles out: %d units, 3-minute coverage %v against %v", fewer.Units, fewer.Coverage.M3, base.Coverage.M3)
	}
	if more := score(WhatIf{Add: add}); more.Units != 98 || more.Coverage.M3 <= base.Coverage.M3 {
		t.Errorf("ten vehicles added: %d units, 3-minute coverage %v against %v", more.Units, more.Coverage.M3, base.Coverage.M3)
	}
	if off := score(WhatIf{OffDuty: vehicles}); off.Responding != base.Responding-10 {
		t.Errorf("ten vehicles off duty: %d responding, want %d", off.Responding, base.Responding-10)
	}
	if bikes := score(WhatIf{Mechanism: map[string]string{vehicles[0]: "ebike"}}); bikes.Coverage.M3 > base.Coverage.M3 {
		t.Errorf("a vehicle on an e-bike covers more: %v against %v", bikes.Coverage.M3, base.Coverage.M3)
	}
	for _, w := range []WhatIf{
		{Remove: []string{"X99"}},
		{Mechanism: map[string]string{vehicles[0]: "horse"}},
		{Add: []Added{{Mechanism: "vehicle", Post: plan.Units[0].Post.Parent(8)}}},
	} {
		if _, err := w.Apply(plan); !errors.Is(err, ErrDesign) {
			t.Errorf("%+v: error %v, want ErrDesign", w, err)
		}
	}
	if _, err := ParseWhatIf("", "", "V01", "", ""); err == nil {
		t.Errorf("mechanism without =: no error")
	}
	if _, err := ParseWhatIf("", "", "", "F01", ""); err == nil {
		t.Errorf("shift without =: no error")
	}
	if _, err := ParseWhatIf("", "", "", "", "vehicle@nonsense"); err == nil {
		t.Errorf("add at a bad cell: no error")
	}
}

// TestShiftWhatIf scores the demo city at 03:00, when its day shift is
// off duty, and with ten day-shift units moved to the night shift, which
// the small hours gain from; a shift that does not read is refused.
func TestShiftWhatIf(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(t))
	const at = 3 * time.Hour
	night := plan.AtTime(at)
	var day []string
	shifts := map[string]string{}
	for _, u := range plan.Units {
		if u.Shift == "day" && u.Status != patrol.OffDuty && len(day) < 10 {
			day = append(day, u.ID)
			shifts[u.ID] = "night"
		}
	}
	if len(day) < 10 {
		t.Fatalf("the demo city has %d day-shift units on duty, want 10", len(day))
	}
	moved, err := WhatIf{Shift: shifts}.Apply(plan)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Evaluate(plan, router, demand)
	before, _ := Evaluate(night, router, demand)
	after, err := Evaluate(moved.AtTime(at), router, demand)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("responding %d, at 03:00 %d, with ten day units on nights %d; 3-minute coverage %.4f, %.4f, %.4f",
		all.Responding, before.Responding, after.Responding, all.Coverage.M3, before.Coverage.M3, after.Coverage.M3)
	if before.Responding >= all.Responding || after.Responding != before.Responding+10 || after.Coverage.M3 <= before.Coverage.M3 {
		t.Errorf("responding %d, at 03:00 %d, moved %d; coverage %v, moved %v", all.Responding, before.Responding, after.Responding,
			before.Coverage.M3, after.Coverage.M3)
	}
	if _, err := (WhatIf{Shift: map[string]string{day[0]: "nights"}}).Apply(plan); !errors.Is(err, ErrDesign) {
		t.Errorf("shift nights: %v, want ErrDesign", err)
	}
	at3, err := EvaluateAt(plan, router, demand, at)
	if err != nil {
		t.Fatal(err)
	}
	inactive := 0
	for _, z := range at3.Zones {
		if !z.Active {
			inactive++
			if !z.Met {
				t.Errorf("zone %s outside its hours not met", z.Zone)
			}
		}
	}
	if at3.Responding != before.Responding || at3.At != "03:00" || inactive == 0 || inactive == len(at3.Zones) {
		t.Errorf("at 03:00: %d responding (want %d), at %q, %d of %d zones inactive", at3.Responding, before.Responding, at3.At, inactive, len(at3.Zones))
	}
	if _, err := patrol.ParseTimeOfDay("3am"); err == nil {
		t.Errorf("time of day 3am read")
	}
}
