package dispatch

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Advisor weighs the cost of dispatching each candidate for an incident:
// the demand-weighted coverage lost per tier, the zones that fall below
// their rule, and the best move-up of another unit (see Assess). It keeps
// the isochrones of move targets between calls (on a geo.CellRun router,
// such as the lattice, also those to the move limit, which time every
// mover without a search) and reuses its buffers, so it is not safe for
// concurrent use: give each goroutine its own. Its zero
// value is not ready; NewAdvisor makes one.
type Advisor struct {
	router Router
	grid   *geo.Grid
	demand patrol.Demand
	total  float64 // demand of the whole grid
	loc    *time.Location
	ids    map[string]int32 // unit id → plan (and snapshot) index
	posts  []target         // the plan's posts, one per cell
	zones  zoneIndex
	// moveLimit bounds a move's drive time: a mover that does not reach
	// the target within it (too far, off the network, on a part of the
	// graph cut off from the target) does not move there.
	moveLimit time.Duration
	// follow gives the compliance table move-ups follow once at least
	// followBusy of the plan's responding units are out of coverage (see
	// Follow); responding is how many there are.
	follow     func() (Table, error)
	followBusy int
	responding int

	search  geo.Search
	version uint64                    // of a patrol.VersionedRouter, when reaches were computed
	reaches map[reachKey]*targetReach // isochrones of targets, by profile and cell
	indexes map[geo.Profile]*profileIndex

	snap     *patrol.Snapshot
	targets  []target // posts, then the extra cells of the call
	rowPosts []target // the posts of the compliance row followed
	seen     map[h3.Cell]bool
	cover    coverState
	moves    moveState
	marks    [3]cellETAs // d's, the mover's and the target's reach, for zone checks
}

// target is a cell a unit may move up to.
type target struct {
	cell  h3.Cell
	at    int32     // grid number
	point orb.Point // the cell's centre, where the mover goes
	post  string    // id of the unit whose post it is, "" for none
}

// NewAdvisor returns an advisor for plan, which must be valid (see
// patrol.Plan.Validate), on router's travel model (the one the coverage
// engine runs on), weighing cells by demand, which must number router's
// grid.
func NewAdvisor(plan *patrol.Plan, router Router, demand patrol.Demand) (*Advisor, error) {
	g := router.Grid()
	if len(demand) != g.Len() {
		return nil, fmt.Errorf("dispatch: demand has %d cells, the router's grid %d", len(demand), g.Len())
	}
	loc, err := plan.Location()
	if err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	a := &Advisor{router: router, grid: g, demand: demand, total: demand.Total(), loc: loc,
		ids: make(map[string]int32, len(plan.Units)), reaches: map[reachKey]*targetReach{},
		zones: newZoneIndex(plan.Zones, g), moveLimit: DefaultMoveLimit, responding: len(Responding(plan))}
	if vr, ok := router.(patrol.VersionedRouter); ok {
		a.version = vr.Version()
	}
	for i, u := range plan.Units {
		a.ids[u.ID] = int32(i)
	}
	if a.posts, err = a.newTargets(nil, plan.Units, nil); err != nil {
		return nil, err
	}
	return a, nil
}

// newTargets appends to dst the posts of units and the cells of extra
// that are not in dst yet. A post off the grid is no target, as a unit
// there counts in no coverage; an extra cell off the grid is an error
// matching geo.ErrOffGrid.
func (a *Advisor) newTargets(dst []target, units []patrol.Unit, extra []h3.Cell) ([]target, error) {
	if a.seen == nil {
		a.seen = map[h3.Cell]bool{}
	}
	seen := a.seen
	clear(seen)
	for _, t := range dst {
		seen[t.cell] = true
	}
	add := func(c h3.Cell, post string) error {
		if seen[c] {
			return nil
		}
		i, ok := a.grid.Index(c)
		if !ok {
			return fmt.Errorf("dispatch: move target %v: %w", c, geo.ErrOffGrid)
		}
		seen[c] = true
		dst = append(dst, target{cell: c, at: i, point: geo.CellCenter(c), post: post})
		return nil
	}
	for _, u := range units {
		if _, on := a.grid.Index(u.Post); on {
			_ = add(u.Post, u.ID) // on the grid: add does not fail
		}
	}
	for _, c := range extra {
		if err := add(c, ""); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// SetMoveLimit bounds the drive time of a move-up to limit (at least a
// second); moves that take longer are not suggested. It forgets nothing:
// the targets' isochrones do not depend on it.
func (a *Advisor) SetMoveLimit(limit time.Duration) {
	a.moveLimit = max(limit, time.Second)
}

// DefaultFollowBusy returns how many of plan's responding units must be
// busy before move-ups follow the compliance table (see Follow) unless
// told otherwise: a quarter of them, at least one.
func DefaultFollowBusy(plan *patrol.Plan) int {
	return max(len(Responding(plan))/4, 1)
}

// Follow makes move-ups follow a compliance table (see Compliance), which
// table gives, while many units are busy: once at least busy of the
// plan's responding units do not count in coverage (dispatched, on scene,
// lost, off duty), a move-up goes only to a post of the table's row for
// the units that count once the candidate is sent, and to the extra cells
// of the call; with fewer busy, to any post. table is called only then,
// on every such call, so it should keep the table it builds. busy 0 or
// less stops following.
func (a *Advisor) Follow(table func() (Table, error), busy int) {
	a.follow, a.followBusy = table, busy
}

// moveTargets returns the posts a move-up may go to for snap: every post
// of the plan, or while many units are busy those of the compliance row
// for the units left after a dispatch (see Follow).
func (a *Advisor) moveTargets(snap *patrol.Snapshot) ([]target, error) {
	if a.followBusy <= 0 || a.follow == nil {
		return a.posts, nil
	}
	counting := 0
	for i := range snap.Units {
		if snap.Units[i].Counts() {
			counting++
		}
	}
	if a.responding-counting < a.followBusy {
		return a.posts, nil
	}
	table, err := a.follow()
	if err != nil {
		return nil, fmt.Errorf("dispatch: compliance table to follow: %w", err)
	}
	row, ok := table.Row(counting - 1)
	if !ok {
		return a.posts, nil
	}
	out := a.rowPosts[:0]
	for _, t := range a.posts {
		if slices.ContainsFunc(row.Posts, func(p Post) bool { return p.Cell == t.cell }) {
			out = append(out, t)
		}
	}
	a.rowPosts = out
	return out, nil
}

// Assess returns the candidates with the cost of sending each, in their
// order, for the coverage of snap (a Snapshot of the engine on the
// advisor's router and plan) and the zones active at now. A move-up goes
// from a unit's position to a target: every post of the plan on the grid
// (only those of a compliance row while many units are busy, see Follow)
// and every cell of extraTargets (which must lie on the grid). A candidate that
// does not count in coverage costs nothing but still gets the best
// move-up. It fails for a candidate the plan does not hold (matching
// patrol.ErrUnknownUnit) and when a move's reverse search fails.
//
// A cell is covered in tier t when at least one counting unit reaches it
// within patrol.Limits[t]. The move-up of a unit u to target p after
// sending d is the one with the largest Gain by 3-minute, then 1-minute,
// then 5-minute demand, then the shorter drive time, then u's id, then
// p's cell; a move must gain (be better than not moving by that order),
// and a unit moves to no target in its own cell nor to one it does not
// reach within the move limit (DefaultMoveLimit, see SetMoveLimit). Gain is the demand of
// the cells uncovered after the dispatch that u at p's centre reaches
// in time, less that of the cells only u still covers where it is and no
// longer would.
func (a *Advisor) Assess(snap *patrol.Snapshot, cands []Candidate, now time.Time, extraTargets []h3.Cell) ([]Assessed, error) {
	if err := a.prepare(snap, extraTargets); err != nil {
		return nil, err
	}
	a.zones.baseline(&a.cover, now.In(a.loc))
	out := make([]Assessed, len(cands))
	for i, c := range cands {
		d, ok := a.ids[c.Unit]
		if !ok {
			return nil, fmt.Errorf("dispatch: assess %q: %w", c.Unit, patrol.ErrUnknownUnit)
		}
		cost, err := a.assess(d)
		if err != nil {
			return nil, err
		}
		out[i] = Assessed{Candidate: c, Cost: cost}
	}
	return out, nil
}

// prepare reads snap and the targets of a call into the advisor's state.
func (a *Advisor) prepare(snap *patrol.Snapshot, extra []h3.Cell) error {
	if snap.Grid.Len() != a.grid.Len() || len(snap.Units) != len(a.ids) {
		return fmt.Errorf("dispatch: snapshot of %d units on %d cells, want the plan's %d units on %d cells",
			len(snap.Units), snap.Grid.Len(), len(a.ids), a.grid.Len())
	}
	for i := range snap.Units {
		if j, ok := a.ids[snap.Units[i].ID]; !ok || j != int32(i) {
			return fmt.Errorf("dispatch: snapshot unit %d is %s, not the plan's", i, snap.Units[i].ID)
		}
	}
	a.followRouter()
	posts, err := a.moveTargets(snap)
	if err != nil {
		return err
	}
	if a.targets, err = a.newTargets(append(a.targets[:0], posts...), nil, extra); err != nil {
		return err
	}
	a.snap = snap
	a.cover.build(snap, a.grid)
	return a.moves.build(a, snap)
}

// followRouter forgets the targets' isochrones when a versioned router's
// travel times changed.
func (a *Advisor) followRouter() {
	vr, ok := a.router.(patrol.VersionedRouter)
	if !ok {
		return
	}
	if v := vr.Version(); v != a.version {
		a.version = v
		clear(a.reaches)
	}
}

// assess returns the cost of sending the unit of snapshot index d.
func (a *Advisor) assess(d int32) (Cost, error) {
	var c Cost
	c.Lost = a.cover.lost(d, a.demand)
	for t := range c.Lost {
		if a.total > 0 {
			c.LostShare[t] = c.Lost[t] / a.total
		}
	}
	c.Zones = a.zones.losses(&a.cover, a.snap.Units[d].Reach)
	mv, ok, err := a.bestMove(d)
	if err != nil {
		return Cost{}, err
	}
	if ok {
		c.MoveUp = a.moveUp(d, mv, c.Zones)
	}
	c.Reason = reason(a.snap.Units[d].ID, &c, a.total)
	return c, nil
}

// moveUp describes move mv after sending d, with the lost zones it
// restores.
func (a *Advisor) moveUp(d int32, mv move, lost []ZoneLoss) *MoveUp {
	p := a.targets[mv.target]
	m := &MoveUp{Unit: a.snap.Units[mv.unit].ID, ToPost: p.post, ToCell: p.cell, Gain: mv.gain,
		ETA: mv.eta, ETAS: math.Round(mv.eta.Seconds()*10) / 10}
	if len(lost) == 0 {
		return m
	}
	a.marks[0].fill(a.snap.Units[d].Reach, a.grid.Len())
	a.marks[1].fill(a.snap.Units[mv.unit].Reach, a.grid.Len())
	a.marks[2].fill(a.moves.reachOf(mv.unit, mv.target), a.grid.Len())
	for _, z := range lost {
		if a.zones.metAfterMove(&a.cover, z.Zone, &a.marks) {
			m.Restores = append(m.Restores, z.Zone)
		}
	}
	return m
}
