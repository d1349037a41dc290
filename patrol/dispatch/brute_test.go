package dispatch

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// This file computes the cost of a dispatch the slow way, from coverage
// engines rebuilt or moved unit by unit, for the Advisor to be held to.

// covered returns the demand of the cells cv covers, per tier.
func covered(cv *patrol.Coverage, w patrol.Demand) TierDemand {
	var d TierDemand
	for _, cc := range cv.Cells() {
		i, _ := cv.Grid().Index(cc.Cell)
		for t, n := range cc.N {
			if n > 0 {
				d[t] += w[i]
			}
		}
	}
	return d
}

// bruteBase is the coverage of a scene with every unit: the demand it
// covers and its zones.
type bruteBase struct {
	covered TierDemand
	zones   []patrol.ZoneStatus
}

func newBruteBase(t *testing.T, c city, sc scene, now time.Time) bruteBase {
	t.Helper()
	cv := c.engine(t, sc)
	return bruteBase{covered: covered(cv, c.demand), zones: cv.Zones(now)}
}

// bruteLoss returns what sending unit d of sc loses, from engine rest
// with every unit but d: the demand per tier, and the zones active at now
// that meet their rule with d (base) and not without.
func bruteLoss(c city, base bruteBase, rest *patrol.Coverage, now time.Time) (TierDemand, []ZoneLoss) {
	lost := sub(base.covered, covered(rest, c.demand))
	zones := []ZoneLoss{}
	for i, after := range rest.Zones(now) {
		if z := base.zones[i]; z.Active && z.Met && !after.Met {
			zones = append(zones, zoneLoss(z, after))
		}
	}
	return lost, zones
}

// without returns an engine rebuilt from scratch with unit d of sc sent.
func without(t *testing.T, c city, sc scene, d int) *patrol.Coverage {
	t.Helper()
	sc = sc.clone()
	sc.status[d] = patrol.Dispatched
	return c.engine(t, sc)
}

// zoneLoss returns the tiers of zone z whose share falls below the rule
// from before to after.
func zoneLoss(before, after patrol.ZoneStatus) ZoneLoss {
	l := ZoneLoss{Zone: before.ID, Name: before.Name}
	for tier, req := range before.Rule.Tiers() {
		share, asked := after.Share(patrol.Tier(tier))
		if asked && share+patrol.ShareTolerance < req.Share {
			was, _ := before.Share(patrol.Tier(tier))
			l.Tiers = append(l.Tiers, ZoneTier{Tier: patrol.Tier(tier), Name: tierName(patrol.Tier(tier)),
				Required: req.Share, Before: was, After: share})
		}
	}
	return l
}

// tracker follows the demand an engine covers through its Changes,
// against the coverage it had when the tracker was made.
type tracker struct {
	cv        *patrol.Coverage
	w         patrol.Demand
	base, cur [][numTiers]bool // covered per cell and tier
	diff      map[int32]bool   // cells where cur and base differ
}

func newTracker(cv *patrol.Coverage, w patrol.Demand) *tracker {
	n := cv.Grid().Len()
	tr := &tracker{cv: cv, w: w, base: make([][numTiers]bool, n), cur: make([][numTiers]bool, n), diff: map[int32]bool{}}
	tr.gain()
	copy(tr.base, tr.cur)
	clear(tr.diff)
	return tr
}

// gain reads the engine's changes and returns the demand covered now and
// not at first, less the demand covered at first and not now.
func (tr *tracker) gain() TierDemand {
	for _, cc := range tr.cv.Changes() {
		i, _ := tr.cv.Grid().Index(cc.Cell)
		for t, n := range cc.N {
			tr.cur[i][t] = n > 0
		}
		if tr.cur[i] != tr.base[i] {
			tr.diff[i] = true
		} else {
			delete(tr.diff, i)
		}
	}
	var g TierDemand
	for i := range tr.diff {
		for t := range g {
			switch {
			case tr.cur[i][t] && !tr.base[i][t]:
				g[t] += tr.w[i]
			case !tr.cur[i][t] && tr.base[i][t]:
				g[t] -= tr.w[i]
			}
		}
	}
	return g
}

// bruteTarget is a cell a unit may move to; post is the id of the unit
// whose post it is, if any.
type bruteTarget struct {
	cell h3.Cell
	post string
}

// bruteTargets returns the posts of plan, then the cells of extra, each
// cell once.
func bruteTargets(plan *patrol.Plan, extra []h3.Cell) []bruteTarget {
	var out []bruteTarget
	seen := map[h3.Cell]bool{}
	for _, u := range plan.Units {
		if !seen[u.Post] {
			seen[u.Post] = true
			out = append(out, bruteTarget{u.Post, u.ID})
		}
	}
	for _, c := range extra {
		if !seen[c] {
			seen[c] = true
			out = append(out, bruteTarget{c, ""})
		}
	}
	return out
}

// direct computes the gain of a move from its definition: the counts of
// units per cell and tier on an engine with d sent, less the mover where
// it is, plus the mover at the target's centre, each reach an isochrone
// of its own.
type direct struct {
	c       city
	sc      scene // with d sent
	cv      *patrol.Coverage
	n       [numTiers][]int // units per cell within each tier's limit, on cv
	here    []geo.Reach     // the mover's reach where it is
	there   map[bruteKey][]geo.Reach
	s       geo.Search
	inHere  []time.Duration // by cell: the mover's ETA where it is, -1 when none
	inThere []time.Duration // by cell: its ETA at the target
}

type bruteKey struct {
	profile string
	cell    h3.Cell
}

// newDirect returns the direct gains once unit d of sc is sent, keeping
// the isochrones of targets in there (shared by the candidates of a
// scene: they do not depend on the candidate).
func newDirect(t *testing.T, c city, sc scene, d int, there map[bruteKey][]geo.Reach) *direct {
	t.Helper()
	sc = sc.clone()
	sc.status[d] = patrol.Dispatched
	n := c.router.Grid().Len()
	dx := &direct{c: c, sc: sc, cv: c.engine(t, sc), there: there,
		inHere: make([]time.Duration, n), inThere: make([]time.Duration, n)}
	for tier := range dx.n {
		dx.n[tier] = make([]int, n)
	}
	for _, cc := range dx.cv.Cells() {
		i, _ := c.router.Grid().Index(cc.Cell)
		for tier, k := range cc.N {
			dx.n[tier][i] = k
		}
	}
	for i := range dx.inHere {
		dx.inHere[i], dx.inThere[i] = -1, -1
	}
	return dx
}

// counts reports whether unit u of the plan counts in coverage on dx.cv.
func (dx *direct) counts(u int) bool {
	unit := dx.c.plan.Units[u]
	m, _ := dx.c.plan.Mechanism(unit.Mechanism)
	return dx.sc.status[u] == patrol.Available && m.Responds() && !dx.cv.OffNetwork(unit.ID)
}

// reach returns the isochrone of profile p from point at.
func (dx *direct) reach(t *testing.T, at orb.Point, p geo.Profile) []geo.Reach {
	t.Helper()
	r, err := dx.c.router.Isochrone(&dx.s, at, p, patrol.Limits[patrol.Tier5], nil)
	if err != nil {
		return nil
	}
	return r
}

// setMover makes unit u the mover of the next gains.
func (dx *direct) setMover(t *testing.T, u int) {
	t.Helper()
	for _, r := range dx.here {
		dx.inHere[r.Cell] = -1
	}
	dx.here = dx.reach(t, dx.sc.at[u], profileOf(dx.c.plan, dx.c.plan.Units[u]))
	for _, r := range dx.here {
		dx.inHere[r.Cell] = r.ETA
	}
}

// gain returns the gain of moving the mover, unit u, to cell p.
func (dx *direct) gain(t *testing.T, u int, p h3.Cell) TierDemand {
	t.Helper()
	prof := profileOf(dx.c.plan, dx.c.plan.Units[u])
	key := bruteKey{prof.Name, p}
	there, ok := dx.there[key]
	if !ok {
		there = dx.reach(t, geo.CellCenter(p), prof)
		dx.there[key] = there
	}
	for _, r := range there {
		dx.inThere[r.Cell] = r.ETA
	}
	var g TierDemand
	for _, r := range there {
		dx.change(&g, r.Cell, dx.inHere[r.Cell], r.ETA)
	}
	for _, r := range dx.here {
		if dx.inThere[r.Cell] < 0 {
			dx.change(&g, r.Cell, r.ETA, -1)
		}
	}
	for _, r := range there {
		dx.inThere[r.Cell] = -1
	}
	return g
}

// change adds to g the change at cell c when the mover, reaching it in
// here where it is, reaches it in there instead (-1: not at all).
func (dx *direct) change(g *TierDemand, c int32, here, there time.Duration) {
	for tier, limit := range patrol.Limits {
		n := dx.n[tier][c]
		after := n - b2i(here >= 0 && here <= limit) + b2i(there >= 0 && there <= limit)
		if (after > 0) != (n > 0) {
			g[tier] += float64(b2i(after > 0)-b2i(n > 0)) * dx.c.demand[c]
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bruteMove returns the best move-up once unit d of sc is sent, trying
// every counting unit at every target with direct gains, and nil when
// none gains within the move limit; lost are the zones the dispatch
// drops, for Restores. Moves are taken by gain, each group of equal gain
// by drive time, a group none of whose moves arrives in time giving way
// to the next.
func bruteMove(t *testing.T, c city, sc scene, d int, targets []bruteTarget, there map[bruteKey][]geo.Reach,
	lost []ZoneLoss, now time.Time) *MoveUp {
	t.Helper()
	dx := newDirect(t, c, sc, d, there)
	var moves []*MoveUp
	for u, unit := range c.plan.Units {
		if !dx.counts(u) {
			continue
		}
		dx.setMover(t, u)
		for _, p := range targets {
			if p.cell == geo.Cell(sc.at[u], c.plan.Resolution) {
				continue
			}
			if g := dx.gain(t, u, p.cell); compareGain(g, TierDemand{}) > 0 {
				moves = append(moves, &MoveUp{Unit: unit.ID, ToPost: p.post, ToCell: p.cell, Gain: g})
			}
		}
	}
	slices.SortStableFunc(moves, func(x, y *MoveUp) int { return compareGain(y.Gain, x.Gain) })
	for len(moves) > 0 {
		n := 1
		for n < len(moves) && compareGain(moves[n].Gain, moves[0].Gain) == 0 {
			n++
		}
		if m := fastestBrute(t, c, dx.sc, moves[:n]); m != nil {
			m.Restores = bruteRestores(t, c, dx.sc, m, lost, now)
			return m
		}
		moves = moves[n:]
	}
	return nil
}

// checkDirect holds direct gains to an engine: for n moves drawn from
// rng once unit d of sc is sent, the gain of the move is the demand the
// engine, with the mover moved there, covers more than before.
func checkDirect(t *testing.T, c city, sc scene, d int, targets []bruteTarget, rng *rand.Rand, n int) {
	t.Helper()
	dx := newDirect(t, c, sc, d, map[bruteKey][]geo.Reach{})
	tr := newTracker(dx.cv, c.demand)
	for checked := 0; checked < n; {
		u, p := rng.IntN(len(c.plan.Units)), targets[rng.IntN(len(targets))]
		if !dx.counts(u) || p.cell == geo.Cell(sc.at[u], c.plan.Resolution) {
			continue
		}
		id := c.plan.Units[u].ID
		dx.setMover(t, u)
		want := dx.gain(t, u, p.cell)
		mustMove(t, dx.cv, id, geo.CellCenter(p.cell))
		if got := tr.gain(); !near(got, want) {
			t.Errorf("moving %s to %v: the engine gains %v, the direct count %v", id, p.cell, got, want)
		}
		mustMove(t, dx.cv, id, dx.sc.at[u])
		tr.gain()
		checked++
	}
}

func mustMove(t *testing.T, cv *patrol.Coverage, id string, p orb.Point) {
	t.Helper()
	if _, err := cv.Move(id, p, patrol.Available); err != nil {
		t.Fatal(err)
	}
}

// fastestBrute returns the move of group of the least drive time, then
// by unit id and cell, and nil when none reaches its target.
func fastestBrute(t *testing.T, c city, sc scene, group []*MoveUp) *MoveUp {
	t.Helper()
	var best *MoveUp
	for _, m := range group {
		i := slices.IndexFunc(c.plan.Units, func(u patrol.Unit) bool { return u.ID == m.Unit })
		m.ETA = driveTime(t, c, sc.at[i], geo.CellCenter(m.ToCell), profileOf(c.plan, c.plan.Units[i]))
		if m.ETA < 0 {
			continue
		}
		if best == nil || m.ETA < best.ETA || m.ETA == best.ETA && (m.Unit < best.Unit || m.Unit == best.Unit && m.ToCell < best.ToCell) {
			best = m
		}
	}
	return best
}

// driveTime returns the drive time from from to to on profile p, within
// DefaultMoveLimit, or geo.Unreached: from a forward isochrone on the lattice,
// from a reverse search for the one unit on other routers.
func driveTime(t *testing.T, c city, from, to orb.Point, p geo.Profile) time.Duration {
	t.Helper()
	var s geo.Search
	if l, ok := c.router.(*geo.Lattice); ok {
		target, _ := l.Grid().Locate(to)
		reach, err := l.Isochrone(&s, from, p, DefaultMoveLimit, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reach {
			if r.Cell == target {
				return r.ETA
			}
		}
		return geo.Unreached
	}
	etas, err := c.router.ETAsTo(&s, to, p, []orb.Point{from}, DefaultMoveLimit, nil)
	if err != nil {
		return geo.Unreached
	}
	return etas[0]
}

// profileOf returns the travel profile of u's mechanism.
func profileOf(plan *patrol.Plan, u patrol.Unit) geo.Profile {
	m, _ := plan.Mechanism(u.Mechanism)
	for _, p := range plan.Profiles {
		if p.Name == m.Profile {
			return p
		}
	}
	return geo.Profile{}
}

// bruteRestores returns the ids of the zones of lost that meet their rule
// once m is made, on an engine rebuilt with it.
func bruteRestores(t *testing.T, c city, sc scene, m *MoveUp, lost []ZoneLoss, now time.Time) []string {
	t.Helper()
	sc = sc.clone()
	i := slices.IndexFunc(c.plan.Units, func(u patrol.Unit) bool { return u.ID == m.Unit })
	sc.at[i] = geo.CellCenter(m.ToCell)
	var out []string
	for _, z := range c.engine(t, sc).Zones(now) {
		if z.Met && slices.ContainsFunc(lost, func(l ZoneLoss) bool { return l.Zone == z.ID }) {
			out = append(out, z.ID)
		}
	}
	return out
}
