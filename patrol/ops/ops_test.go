package ops

import (
	"context"
	"testing"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestDemoDays simulates three days of the demo city under both policies
// and holds the outcome to what the policies promise: every incident
// counted once, shares ordered by tier, no move-up without the policy and
// never more than the hourly limit of one unit.
func TestDemoDays(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	history := patroltest.DemoIncidents(t)
	loc, _ := plan.Location()
	days := Days(history, loc)[:3]
	want := 0
	for _, d := range days {
		want += len(d.Incidents)
	}
	cfg := Config{Plan: plan, Router: geo.NewLattice(grid), History: history}
	rep, err := Run(context.Background(), cfg, days, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d days, %d incidents, %d responding units in %s", rep.Days, rep.Incidents, rep.Units, rep.Elapsed)
	for _, p := range rep.Policies {
		t.Logf("%+v", p)
		if p.Incidents != want || rep.Incidents != want {
			t.Errorf("%s: %d incidents (report %d), want %d", p.Name, p.Incidents, rep.Incidents, want)
		}
		if !(p.Within1M <= p.Within3M && p.Within3M <= p.Within5M && p.Within5M <= 1) || p.Within3M == 0 {
			t.Errorf("%s: shares %v, %v, %v not ordered by tier", p.Name, p.Within1M, p.Within3M, p.Within5M)
		}
		if p.MaxMovesInHour > cfg.withDefaults().MovesPerHour {
			t.Errorf("%s: a unit moved %d times in an hour, limit %d", p.Name, p.MaxMovesInHour, cfg.withDefaults().MovesPerHour)
		}
	}
	if st, mu := rep.Policies[0], rep.Policies[1]; st.MoveUps != 0 || mu.MoveUps == 0 {
		t.Errorf("move-ups: static %d, with move-ups %d; want none and some", st.MoveUps, mu.MoveUps)
	}
}
