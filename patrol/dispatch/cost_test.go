package dispatch

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Brute force is slow: an engine per candidate, and thousands of
// isochrones per move-up searched. Every candidate's loss and zones are
// read off one engine where the candidate is set dispatched and back, and
// every scratchEvery-th candidate's off an engine rebuilt without it;
// move-ups are searched for bruteMoves candidates per scene (those that
// drop a zone first, then the others in rank order), and directPairs
// moves per scene are held to an engine moving the unit.
const (
	scratchEvery = 4
	bruteMoves   = 2
	directPairs  = 40
)

// TestAssessMatchesBruteForce holds the cost of every candidate of two
// scenes of the demo city (units at their posts, and scattered at random,
// some dispatched) to engines rebuilt without it: the demand lost per
// tier and share, the zones that fall below their rule; and for
// bruteMoves candidates per scene, the move-up to the best of every unit
// tried at every post and extra target (see direct), itself held to an
// engine for directPairs moves.
func TestAssessMatchesBruteForce(t *testing.T) {
	c := demoCity(t)
	g := c.router.Grid()
	extra := append(randomCells(g, 3, 3), c.plan.Units[0].Post)
	posts := atPosts(c.plan)
	for _, tc := range []struct {
		name string
		sc   scene
	}{
		{"at posts, 6 dispatched", dispatchSome(posts, rand.New(rand.NewPCG(5, 5)), 6)},
		{"scattered, 10 dispatched", scattered(posts, g, 11, 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkAgainstBrute(t, c, tc.sc, extra)
		})
	}
}

// checkAgainstBrute assesses every counting unit of sc, and one that
// does not count, against brute force.
func checkAgainstBrute(t *testing.T, c city, sc scene, extra []h3.Cell) {
	now := demoEvening()
	snap := c.engine(t, sc).Snapshot()
	cands := append(everyone(snap), Candidate{Unit: c.plan.Units[slices.Index(sc.status, patrol.Dispatched)].ID})
	got, err := c.advisor(t).Assess(snap, cands, now, extra)
	if err != nil {
		t.Fatal(err)
	}
	base := newBruteBase(t, c, sc, now)
	live := c.engine(t, sc)
	targets := bruteTargets(c.plan, extra)
	there := map[bruteKey][]geo.Reach{}
	zoned, moved := 0, 0
	for k, i := range bruteOrder(got) {
		a := got[i]
		d := slices.IndexFunc(c.plan.Units, func(u patrol.Unit) bool { return u.ID == a.Unit })
		setStatus(t, live, a.Unit, patrol.Dispatched)
		lost, zones := bruteLoss(c, base, live, now)
		setStatus(t, live, a.Unit, sc.status[d])
		checkLoss(t, "set dispatched", a, lost, zones, c.demand.Total())
		if k%scratchEvery == 0 {
			lost, zones := bruteLoss(c, base, without(t, c, sc, d), now)
			checkLoss(t, "rebuilt", a, lost, zones, c.demand.Total())
		}
		zoned += min(len(zones), 1)
		if k == 0 {
			checkDirect(t, c, sc, d, targets, rand.New(rand.NewPCG(uint64(d), 3)), directPairs)
		}
		if k >= bruteMoves {
			continue
		}
		want := bruteMove(t, c, sc, d, targets, there, zones, now)
		if !moveUpsEqual(a.Cost.MoveUp, want) {
			t.Errorf("%s: MoveUp = %+v, want %+v", a.Unit, a.Cost.MoveUp, want)
		}
		if want != nil {
			moved++
		}
	}
	if zoned == 0 || moved == 0 {
		t.Errorf("%d candidates drop a zone and %d of %d checked have a move-up, want some of each: the scene tests too little", zoned, moved, bruteMoves)
	}
}

// checkLoss holds a's lost demand, its share of total and its zones to
// brute force's.
func checkLoss(t *testing.T, how string, a Assessed, lost TierDemand, zones []ZoneLoss, total float64) {
	t.Helper()
	if !near(a.Cost.Lost, lost) {
		t.Errorf("%s: Lost = %v, want %v (%s)", a.Unit, a.Cost.Lost, lost, how)
	}
	for tier := range lost {
		if s := lost[tier] / total; !near(TierDemand{a.Cost.LostShare[tier]}, TierDemand{s}) {
			t.Errorf("%s: LostShare[%d] = %v, want %v (%s)", a.Unit, tier, a.Cost.LostShare[tier], s, how)
		}
	}
	if !zoneLossesEqual(a.Cost.Zones, zones) {
		t.Errorf("%s: Zones = %+v, want %+v (%s)", a.Unit, a.Cost.Zones, zones, how)
	}
}

func setStatus(t *testing.T, cv *patrol.Coverage, id string, st patrol.Status) {
	t.Helper()
	if _, err := cv.SetStatus(id, st); err != nil {
		t.Fatal(err)
	}
}

// bruteOrder returns the indexes of got: those that drop a zone first.
func bruteOrder(got []Assessed) []int {
	var first, rest []int
	for i, a := range got {
		if len(a.Cost.Zones) > 0 {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	return append(first, rest...)
}

// zoneLossesEqual reports whether x and y name the same zones and tiers
// with the same shares, within demandTolerance.
func zoneLossesEqual(x, y []ZoneLoss) bool {
	return slices.EqualFunc(x, y, func(a, b ZoneLoss) bool {
		return a.Zone == b.Zone && a.Name == b.Name && slices.EqualFunc(a.Tiers, b.Tiers, func(s, u ZoneTier) bool {
			return s.Tier == u.Tier && s.Name == u.Name && near(TierDemand{s.Required, s.Before, s.After}, TierDemand{u.Required, u.Before, u.After})
		})
	})
}

// moveUpsEqual reports whether x and y are the same move, gains within
// demandTolerance and drive times within etaTolerance.
func moveUpsEqual(x, y *MoveUp) bool {
	if x == nil || y == nil {
		return x == y
	}
	d := x.ETA - y.ETA
	return x.Unit == y.Unit && x.ToPost == y.ToPost && x.ToCell == y.ToCell && near(x.Gain, y.Gain) &&
		d <= etaTolerance && -d <= etaTolerance && slices.Equal(x.Restores, y.Restores)
}

// TestPostOffTheGrid: a plan may put a post beyond the travel grid (a
// unit there counts in no coverage); it is no move target, and the
// advisor still weighs every candidate.
func TestPostOffTheGrid(t *testing.T) {
	c := demoCity(t)
	c.plan.Units[1].Post = geo.Cell(orb.Point{121.0, 43.0}, c.plan.Resolution) // some 100 km west
	a := c.advisor(t)
	snap := c.engine(t, atPosts(c.plan)).Snapshot()
	got, err := a.Assess(snap, everyone(snap), demoEvening(), nil)
	if err != nil || len(got) == 0 {
		t.Fatalf("Assess with a post off the grid = %d candidates, %v; want them all weighed", len(got), err)
	}
	for _, g := range got {
		if m := g.Cost.MoveUp; m != nil && m.ToPost == c.plan.Units[1].ID {
			t.Fatalf("move-up %+v goes to the post off the grid", m)
		}
	}
}

// TestMoveGainsMatchDirect holds the gain of every move (every counting
// unit to every target) once a unit with partners is sent to the direct
// count: random pairs (checkDirect) seldom draw a partner, the unit that
// shares cells with the one sent, whose gain takes the most bookkeeping.
func TestMoveGainsMatchDirect(t *testing.T) {
	c := demoCity(t)
	g := c.router.Grid()
	sc := scattered(atPosts(c.plan), g, 11, 10)
	a := c.advisor(t)
	if err := a.prepare(c.engine(t, sc).Snapshot(), randomCells(g, 3, 3)); err != nil {
		t.Fatal(err)
	}
	d := slices.IndexFunc(c.plan.Units, func(u patrol.Unit) bool { return u.ID == "V05" })
	a.moves.dispatchGains(a, int32(d))
	if len(a.moves.partners) < 2 {
		t.Fatalf("%s has %d partners, want several: the scene tests too little", c.plan.Units[d].ID, len(a.moves.partners))
	}
	dx := newDirect(t, c, sc, d, map[bruteKey][]geo.Reach{})
	nt, checked := len(a.targets), 0
	for u := range c.plan.Units {
		if u == d || !dx.counts(u) {
			continue
		}
		dx.setMover(t, u)
		for p, tg := range a.targets {
			if tg.at == a.cover.cellOf[u] {
				continue
			}
			if got, want := a.moves.gain(int32(u), p, nt), dx.gain(t, u, tg.cell); !near(got, want) {
				t.Errorf("moving %s to %v (a partner: %v): gain %v, the direct count %v",
					c.plan.Units[u].ID, tg.cell, a.moves.slot[u] >= 0, got, want)
			}
			checked++
		}
	}
	t.Logf("%d moves checked, %d partners of %s", checked, len(a.moves.partners), c.plan.Units[d].ID)
}
