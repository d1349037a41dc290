package ops

import (
	"context"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
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
	st, mu, ref := rep.Policies[0], rep.Policies[1], rep.Policies[2]
	if st.MoveUps != 0 || mu.MoveUps == 0 || ref.MoveUps != 0 {
		t.Errorf("move-ups: static %d, with move-ups %d, reference %d; want none, some and none", st.MoveUps, mu.MoveUps, ref.MoveUps)
	}
	if !ref.Reference || st.Reference || ref.Late3M > st.Late3M || ref.MeanS > st.MeanS {
		t.Errorf("reference %+v: want fewer late and a shorter mean than static posts, %+v", ref, st)
	}
}

// TestRouterAt simulates a day of Monaco's roads with the travel times of
// RouterAt: in the peak band all day it matches the peak router given as
// Router, and it differs from the same day without a band, where cars
// drive faster.
func TestRouterAt(t *testing.T) {
	net := patroltest.MonacoRoads(t)
	plan, _ := patroltest.MonacoPlan(t, net, 18)
	base := patroltest.RoadRouter(t, net, plan)
	peak := base.WithBand("peak")
	car := net.Graph("car")
	nodes, _ := car.Len()
	var day Day
	start := time.Date(2026, 8, 1, 8, 0, 0, 0, time.UTC)
	for i := range 8 {
		day.Incidents = append(day.Incidents, patrol.Incident{Time: start.Add(time.Duration(i) * 7 * time.Minute),
			Point: car.Node(int32((2*i + 1) * nodes / 16)), Kind: "theft"})
	}
	run := func(cfg Config) Result {
		cfg.Plan, cfg.History = plan, day.Incidents
		rep, err := Run(context.Background(), cfg, []Day{day}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Policies[0]
	}
	at := run(Config{Router: base, RouterAt: func(time.Time) dispatch.Router { return peak }})
	if want := run(Config{Router: peak}); at != want {
		t.Errorf("peak by RouterAt %+v, want as the peak router %+v", at, want)
	}
	if none := run(Config{Router: base}); none.MeanS >= at.MeanS {
		t.Errorf("mean response %v s without a band, %v s in the peak band; want the peak slower", none.MeanS, at.MeanS)
	}
}
