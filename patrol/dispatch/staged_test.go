package dispatch

import (
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb/planar"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// stagedLimit is how far a candidate may be in the staged scenario, as in
// the live city.
const stagedLimit = 30 * time.Minute

// TestStagedNightMarket stages an evening of the demo city's busiest night
// market with a 3-minute rule: incidents at its centre, one after the
// other, each answered by the fastest available unit, until the market
// loses its 3-minute rule. At every step the ranking holds exactly the
// drive times of one forward search per unit, fastest first; the cost of
// sending the fastest equals that of an engine rebuilt without it; its
// move-up is the best of every unit tried at every post; and the market
// falls below its rule, the gap the live city raises an alert for, at the
// very dispatch whose cost says it does, not before and not after.
func TestStagedNightMarket(t *testing.T) {
	c := demoCity(t)
	now := demoEvening()
	zone := busiestNightMarket(t, c.plan)
	incident, _ := planar.CentroidArea(zone.Area)
	lattice := c.router.(*geo.Lattice)
	ranker, a := NewRanker(c.router), c.advisor(t)
	targets, there := bruteTargets(c.plan, nil), map[bruteKey][]geo.Reach{}
	sc := atPosts(c.plan)
	for step := 1; step <= 30; step++ {
		snap := c.engine(t, sc).Snapshot()
		units := Units(snap)
		ranked, err := ranker.Rank(incident, units, stagedLimit)
		if err != nil {
			t.Fatal(err)
		}
		checkRanking(t, ranked, bruteForce(t, lattice, incident, units, stagedLimit))
		got, err := a.Assess(snap, ranked[:1], now, nil)
		if err != nil {
			t.Fatal(err)
		}
		sent := got[0]
		d := slices.IndexFunc(c.plan.Units, func(u patrol.Unit) bool { return u.ID == sent.Unit })
		lost, zones := bruteLoss(c, newBruteBase(t, c, sc, now), without(t, c, sc, d), now)
		checkLoss(t, "rebuilt", sent, lost, zones, c.demand.Total())
		if want := bruteMove(t, c, sc, d, targets, there, zones, now); !moveUpsEqual(sent.Cost.MoveUp, want) {
			t.Errorf("step %d, sending %s: MoveUp = %+v, want %+v", step, sent.Unit, sent.Cost.MoveUp, want)
		}
		t.Logf("dispatch %d: %d candidates, the fastest %s in %v", step, len(ranked), sent.Unit, sent.ETA)
		says := slices.ContainsFunc(sent.Cost.Zones, func(z ZoneLoss) bool { return z.Zone == zone.ID })
		sc.status[d] = patrol.Dispatched
		met := zoneMet(t, c, sc, zone.ID, now)
		if says == met {
			t.Fatalf("step %d, sending %s (%v away): the cost says the market loses its rule: %v; the rebuilt engine says it meets it: %v",
				step, sent.Unit, sent.ETA, says, met)
		}
		if !met {
			t.Logf("%s loses its rule at dispatch %d: %s", zone.Name, step, sent.Cost.Reason)
			if step < 2 {
				t.Errorf("the market lost its rule at the first dispatch: the scenario stages nothing")
			}
			return
		}
	}
	t.Fatalf("%s kept its rule through 30 dispatches", zone.Name)
}

// busiestNightMarket returns the night market of plan with a 3-minute rule
// and the largest weight.
func busiestNightMarket(t *testing.T, plan *patrol.Plan) patrol.Zone {
	t.Helper()
	var best *patrol.Zone
	for i, z := range plan.Zones {
		if z.Kind == "night_market" && z.Rule.M3.Units > 0 && (best == nil || z.Weight > best.Weight) {
			best = &plan.Zones[i]
		}
	}
	if best == nil {
		t.Fatal("the demo city has no night market with a 3-minute rule")
	}
	return *best
}

// checkRanking holds ranked to the drive times of a forward search per
// unit: the same units, the same times, fastest first.
func checkRanking(t *testing.T, ranked []Candidate, want map[string]time.Duration) {
	t.Helper()
	if len(ranked) != len(want) || len(ranked) == 0 {
		t.Fatalf("%d candidates, want the %d units that reach the incident", len(ranked), len(want))
	}
	for i, c := range ranked {
		if w, ok := want[c.Unit]; !ok || w != c.ETA {
			t.Errorf("candidate %s: ETA %v, forward search %v (reached %v)", c.Unit, c.ETA, w, ok)
		}
		if i > 0 && c.ETA < ranked[i-1].ETA {
			t.Errorf("candidate %d (%s, %v) is faster than the one before it (%v)", i, c.Unit, c.ETA, ranked[i-1].ETA)
		}
	}
}

// zoneMet reports whether zone id meets its rule at now in an engine
// rebuilt for sc.
func zoneMet(t *testing.T, c city, sc scene, id string, now time.Time) bool {
	t.Helper()
	for _, z := range c.engine(t, sc).Zones(now) {
		if z.ID == id {
			return z.Met
		}
	}
	t.Fatalf("no zone %s", id)
	return false
}
