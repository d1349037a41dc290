package dispatch

import (
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// BenchmarkDispatch measures what the command center waits for when it
// reports an incident: a snapshot of coverage, the ranking of every
// available unit by drive time, and the cost and best move-up of sending
// each candidate, for 88 units at their posts, on the demo city's
// lattice (78 of them respond) and on Monaco's road graph. The advisor
// keeps the isochrones of move targets between calls, as the live city
// does (warm); cold builds a new advisor per dispatch, as after a
// time-of-day band switch. Target ≤ 20 ms a dispatch, moonshot 5 ms.
func BenchmarkDispatch(b *testing.B) {
	demo := demoCity(b)
	net := patroltest.MonacoRoads(b)
	plan, posts := patroltest.MonacoPlan(b, net, 88)
	router := patroltest.RoadRouter(b, net, plan)
	monaco := city{plan: plan, router: router, demand: patrol.NewDemand(router.Grid(), nil)}
	for _, c := range []struct {
		name     string
		city     city
		incident orb.Point
	}{
		{"lattice", demo, orb.Point{122.26, 43.62}},
		{"road", monaco, posts[len(posts)/2]},
	} {
		for _, cold := range []bool{false, true} {
			name := c.name + "/warm"
			if cold {
				name = c.name + "/cold"
			}
			b.Run(name, func(b *testing.B) { benchDispatch(b, c.city, c.incident, cold) })
		}
	}
}

func benchDispatch(b *testing.B, c city, incident orb.Point, cold bool) {
	cv := c.engine(b, atPosts(c.plan))
	ranker := NewRanker(c.router)
	a := c.advisor(b)
	now := demoEvening()
	var cands int
	b.ReportAllocs()
	for b.Loop() {
		if cold {
			a = c.advisor(b)
		}
		snap := cv.Snapshot()
		ranked, err := ranker.Rank(incident, Units(snap), 30*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		out, err := a.Assess(snap, ranked, now, nil)
		if err != nil {
			b.Fatal(err)
		}
		cands = len(out)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/dispatch")
	b.ReportMetric(float64(cands), "candidates")
}
