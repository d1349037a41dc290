package dispatch

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// demandTolerance is how far two demand sums may differ and still be
// equal.
const demandTolerance = 1e-9

// demoEvening is 20:00 on a weekday in the demo city: the night markets,
// shops, parks, stations and hospitals are all active, the schools not.
func demoEvening() time.Time {
	return time.Date(2025, 6, 13, 20, 0, 0, 0, time.FixedZone("CST", 8*3600))
}

// city is a plan on a travel model with its demand.
type city struct {
	plan   *patrol.Plan
	router Router
	demand patrol.Demand
}

// demoCity returns the demo city on the lattice, with the demand of its
// incident history.
func demoCity(t testing.TB) city {
	t.Helper()
	plan, grid := patroltest.DemoGrid(t)
	return city{plan: plan, router: geo.NewLattice(grid), demand: patrol.NewDemand(grid, patroltest.DemoIncidents(t))}
}

// scene is where each unit of a plan stands and its status, by plan
// index.
type scene struct {
	at     []orb.Point
	status []patrol.Status
}

// clone returns a copy of sc that can be changed without changing sc.
func (sc scene) clone() scene {
	return scene{at: append([]orb.Point(nil), sc.at...), status: append([]patrol.Status(nil), sc.status...)}
}

// atPosts returns every unit at the centre of its post in its plan
// status.
func atPosts(plan *patrol.Plan) scene {
	var sc scene
	for _, u := range plan.Units {
		st := u.Status
		if st == "" {
			st = patrol.Available
		}
		sc.at = append(sc.at, geo.CellCenter(u.Post))
		sc.status = append(sc.status, st)
	}
	return sc
}

// scattered returns sc with every unit moved to a random point of the
// grid and dispatched units marked dispatched, drawn from seed.
func scattered(sc scene, g *geo.Grid, seed uint64, dispatched int) scene {
	sc = sc.clone()
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range sc.at {
		for {
			p := geo.PointAt(geo.CellCenter(g.Cell(int32(rng.IntN(g.Len())))), 360*rng.Float64(), geo.Meters(30*rng.Float64()))
			if _, ok := g.Locate(p); ok {
				sc.at[i] = p
				break
			}
		}
	}
	return dispatchSome(sc, rng, dispatched)
}

// dispatchSome marks n random available units of sc dispatched.
func dispatchSome(sc scene, rng *rand.Rand, n int) scene {
	sc = sc.clone()
	for n > 0 {
		if i := rng.IntN(len(sc.status)); sc.status[i] == patrol.Available {
			sc.status[i] = patrol.Dispatched
			n--
		}
	}
	return sc
}

// engine returns a coverage engine of c with the units placed as in sc.
func (c city) engine(t testing.TB, sc scene) *patrol.Coverage {
	t.Helper()
	cv, err := patrol.NewCoverage(c.plan, c.router)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range c.plan.Units {
		if _, err := cv.Move(u.ID, sc.at[i], sc.status[i]); err != nil {
			t.Fatal(err)
		}
	}
	return cv
}

// advisor returns an advisor on c.
func (c city) advisor(t testing.TB) *Advisor {
	t.Helper()
	a, err := NewAdvisor(c.plan, c.router, c.demand)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// everyone returns a candidate for every unit of snap that counts in
// coverage, in plan order, with no drive time.
func everyone(snap *patrol.Snapshot) []Candidate {
	var out []Candidate
	for _, u := range Units(snap) {
		out = append(out, Candidate{Unit: u.ID})
	}
	return out
}

// randomCells returns n cells of g drawn from seed.
func randomCells(g *geo.Grid, seed uint64, n int) []h3.Cell {
	rng := rand.New(rand.NewPCG(seed, 2))
	var out []h3.Cell
	for range n {
		out = append(out, g.Cell(int32(rng.IntN(g.Len()))))
	}
	return out
}

// near reports whether x and y are equal within demandTolerance in every
// tier.
func near(x, y TierDemand) bool {
	for t := range x {
		if d := x[t] - y[t]; d > demandTolerance || -d > demandTolerance {
			return false
		}
	}
	return true
}
