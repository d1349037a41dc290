package dispatch

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// DefaultMoveLimit is the longest drive a move-up may take unless
// Advisor.SetMoveLimit says otherwise. A longer move leaves its own area
// for most of a shift's hour to cover a gap that the sent unit's return
// may close first.
const DefaultMoveLimit = 10 * time.Minute

// etaUnknown marks a move whose drive time was not asked for yet.
const etaUnknown time.Duration = -2

// move is a unit (snapshot index) moving to a target (index in the
// advisor's targets) for gain, in drive time eta.
type move struct {
	unit, target int32
	gain         TierDemand
	eta          time.Duration
}

// moveState holds what the move-ups of one snapshot share. With W the
// demand of a set of cells, X_t the cells no unit covers in tier t now,
// A_u those u alone covers, L_d those d alone covers, B_ud those only u
// and d cover and R_p those p's isochrone reaches in time on u's
// profile, the gain of moving u to p once d is sent is, per tier,
//
//	W(R_p ∩ X) − W(A_u) + W(A_u ∩ R_p) + W(R_p ∩ L_d) − W(B_ud) + W(B_ud ∩ R_p)
//
// where the first three terms (h) do not depend on d, and the last three
// are sums over the few cells d covers alone or with one other unit.
type moveState struct {
	profiles []geo.Profile    // of counting units, in order of appearance
	profOf   []int32          // by snapshot index: into profiles, -1 when not counting
	reach    [][]*targetReach // [profile][target]
	index    []*profileIndex  // [profile]
	base     []TierDemand     // [profile*T+p]: W(R_p ∩ X)
	h        []TierDemand     // [u*T+p]
	m        []TierDemand     // [profile*T+p]: W(R_p ∩ L_d), for the d assessed
	slot     []int32          // by snapshot index: into pw, -1 when not a partner of d
	partners []int32          // snapshot indexes with a slot
	pw       []TierDemand     // [slot]: W(B_ud)
	pwr      []TierDemand     // [slot*T+p]: W(B_ud ∩ R_p)
	etas     []time.Duration  // [u*T+p]: drive time of the move, etaUnknown until asked
	order    [][]int32        // [profile][p*n:(p+1)*n]: the n units of the profile by h at p (sortUnits)
	group    []move           // the best moves of a scan, equal in gain
	best     TierDemand       // their gain
	points   []orb.Point      // reverse search input
	who      []int32          // the units at points
	found    []time.Duration  // reverse search output
}

// reachKey names the isochrone of a target cell on a profile.
type reachKey struct {
	profile geo.Profile
	cell    h3.Cell
}

// targetReach is a target's isochrone within patrol.Limits[Tier5]; ok is
// false when the router cannot place the target's centre on the profile's
// graph.
type targetReach struct {
	reach []geo.Reach
	ok    bool
	// times is the target's isochrone within limit, sorted by cell, on a
	// geo.CellRun router: it gives movers their drive times to the target
	// without a search. nil until a drive time is asked.
	times []geo.Reach
	limit time.Duration
}

// build prepares the move-ups of snap over a's targets.
func (ms *moveState) build(a *Advisor, snap *patrol.Snapshot) error {
	ms.setProfiles(snap)
	nt := len(a.targets)
	ms.reach = resize(ms.reach, len(ms.profiles))
	ms.index = resize(ms.index, len(ms.profiles))
	for k, p := range ms.profiles {
		var err error
		if ms.reach[k], err = a.targetReaches(p, ms.reach[k]); err != nil {
			return err
		}
		ms.index[k] = a.indexOf(p, ms.reach[k])
	}
	ms.baseGains(a, nt)
	ms.unitGains(a, nt)
	ms.sortUnits(nt)
	ms.m = resize(ms.m, len(ms.profiles)*nt)
	ms.slot = resize(ms.slot, len(snap.Units))
	for i := range ms.slot {
		ms.slot[i] = -1
	}
	ms.etas = resize(ms.etas, len(snap.Units)*nt)
	for i := range ms.etas {
		ms.etas[i] = etaUnknown
	}
	ms.outOfReach(a, snap)
	return nil
}

// outOfReach marks Unreached the moves that the router's speed bound (see
// geo.SpeedBound) puts beyond the move limit, so that no search is spent
// on them: most of a city's units are too far to move up to most gaps.
func (ms *moveState) outOfReach(a *Advisor, snap *patrol.Snapshot) {
	sb, ok := a.router.(geo.SpeedBound)
	if !ok {
		return
	}
	nt := len(a.targets)
	for u, k := range ms.profOf {
		if k < 0 {
			continue
		}
		speed := sb.MaxSpeed(ms.profiles[k])
		if speed <= 0 {
			continue
		}
		// A second's margin keeps rounding from ruling out a move the
		// search would allow.
		reach := geo.Meters(speed * (a.moveLimit + time.Second).Seconds())
		for p, t := range a.targets {
			if geo.Distance(snap.Units[u].Point, t.point) > reach {
				ms.etas[u*nt+p] = geo.Unreached
			}
		}
	}
}

// setProfiles lists the profiles of the units that count.
func (ms *moveState) setProfiles(snap *patrol.Snapshot) {
	ms.profiles = ms.profiles[:0]
	ms.profOf = ms.profOf[:0]
	for i := range snap.Units {
		u := &snap.Units[i]
		k := int32(-1)
		if u.Counts() {
			j := slices.Index(ms.profiles, u.Profile)
			if j < 0 {
				j = len(ms.profiles)
				ms.profiles = append(ms.profiles, u.Profile)
			}
			k = int32(j)
		}
		ms.profOf = append(ms.profOf, k)
	}
}

// targetReaches returns the isochrone of every target on profile p, in
// target order, from the cache or the router.
func (a *Advisor) targetReaches(p geo.Profile, dst []*targetReach) ([]*targetReach, error) {
	dst = dst[:0]
	for _, t := range a.targets {
		key := reachKey{p, t.cell}
		tr, ok := a.reaches[key]
		if !ok {
			reach, err := a.router.Isochrone(&a.search, t.point, p, patrol.Limits[patrol.Tier5], nil)
			if err != nil && !errors.Is(err, geo.ErrOffGrid) {
				return nil, fmt.Errorf("dispatch: reach of target %v on %s: %w", t.cell, p.Name, err)
			}
			tr = &targetReach{reach: reach, ok: err == nil}
			a.reaches[key] = tr
		}
		dst = append(dst, tr)
	}
	return dst, nil
}

// baseGains sets base: the demand uncovered now that each target reaches.
func (ms *moveState) baseGains(a *Advisor, nt int) {
	ms.base = resize(ms.base, len(ms.profiles)*nt)
	clear(ms.base)
	for k := range ms.profiles {
		for p, tr := range ms.reach[k] {
			g := &ms.base[k*nt+p]
			for _, r := range tr.reach {
				for t, limit := range patrol.Limits {
					if r.ETA <= limit && a.cover.cnt[t][r.Cell] == 0 {
						g[t] += a.demand[r.Cell]
					}
				}
			}
		}
	}
}

// unitGains sets h: for each counting unit and target, base less what the
// unit alone covers where it is, plus what of that the target reaches.
func (ms *moveState) unitGains(a *Advisor, nt int) {
	ms.h = resize(ms.h, len(ms.profOf)*nt)
	for u, k := range ms.profOf {
		if k < 0 {
			continue
		}
		alone := a.cover.lost(int32(u), a.demand)
		h := ms.h[u*nt : (u+1)*nt]
		for p := range h {
			h[p] = sub(ms.base[int(k)*nt+p], alone)
		}
		ms.index[k].spread(a.cover.solo(int32(u)), a.demand, h)
	}
}

// sub returns x − y.
func sub(x, y TierDemand) TierDemand {
	for t := range x {
		x[t] -= y[t]
	}
	return x
}

// dispatchGains sets m and the partners' sums for sending d.
func (ms *moveState) dispatchGains(a *Advisor, d int32) {
	nt := len(a.targets)
	clear(ms.m)
	solo := a.cover.solo(d)
	for k := range ms.profiles {
		ms.index[k].spread(solo, a.demand, ms.m[k*nt:(k+1)*nt])
	}
	for _, u := range ms.partners {
		ms.slot[u] = -1
	}
	ms.partners, ms.pw = ms.partners[:0], ms.pw[:0]
	for _, pc := range a.cover.pairs(d) {
		if ms.profOf[pc.other] < 0 {
			continue
		}
		s := ms.partnerSlot(pc.other, nt)
		addMasked(&ms.pw[s], pc.mask, a.demand[pc.cell])
		ms.index[ms.profOf[pc.other]].add(pc.cell, pc.mask, a.demand[pc.cell], ms.pwr[int(s)*nt:(int(s)+1)*nt])
	}
}

// partnerSlot returns u's slot in pw and pwr, making one when it has none.
func (ms *moveState) partnerSlot(u int32, nt int) int32 {
	if s := ms.slot[u]; s >= 0 {
		return s
	}
	s := int32(len(ms.partners))
	ms.slot[u] = s
	ms.partners = append(ms.partners, u)
	ms.pw = append(ms.pw, TierDemand{})
	ms.pwr = slices.Grow(ms.pwr[:int(s)*nt], nt)[:(int(s)+1)*nt] // keeps the earlier slots
	clear(ms.pwr[int(s)*nt:])
	return s
}

// gain returns the gain of moving u to target p once d is sent.
func (ms *moveState) gain(u int32, p, nt int) TierDemand {
	g := ms.h[int(u)*nt+p]
	m := &ms.m[int(ms.profOf[u])*nt+p]
	for t := range g {
		g[t] += m[t]
	}
	if s := ms.slot[u]; s >= 0 {
		pw, pwr := &ms.pw[s], &ms.pwr[int(s)*nt+p]
		for t := range g {
			g[t] += pwr[t] - pw[t]
		}
	}
	return g
}

// reachOf returns the isochrone of target p on u's profile.
func (ms *moveState) reachOf(u, p int32) []geo.Reach { return ms.reach[ms.profOf[u]][p].reach }

// bestMove returns the move-up after sending d, and false when no move
// gains.
func (a *Advisor) bestMove(d int32) (move, bool, error) {
	ms := &a.moves
	ms.dispatchGains(a, d)
	for ms.scan(a, d) {
		if err := a.driveTimes(ms.group); err != nil {
			return move{}, false, err
		}
		if mv, ok := a.fastest(ms.group); ok {
			return mv, true, nil
		}
	}
	return move{}, false, nil
}

// scan puts into group the moves of the largest gain (equal within
// gainTolerance), leaving out moves known to be out of reach, and reports
// whether any gains. A unit that is not d's partner gains h + m, where m
// is the same for every unit of a profile at a target: at each target
// only the first units by h (see order) can be best.
func (ms *moveState) scan(a *Advisor, d int32) bool {
	nt := len(a.targets)
	ms.group, ms.best = ms.group[:0], TierDemand{}
	for _, u := range ms.partners {
		for p := range nt {
			if ms.allowed(a, u, p) {
				ms.consider(u, p, ms.gain(u, p, nt))
			}
		}
	}
	for k, order := range ms.order {
		n := len(order) / nt
		for p := range nt {
			if ms.reach[k][p].ok {
				ms.walk(a, d, order[p*n:(p+1)*n], p)
			}
		}
	}
	return len(ms.group) > 0
}

// walk considers the moves to target p of the units of units, sorted by
// h at p, that are not d nor its partners: the first allowed, and the
// units after it as good, unless the first is worse than the best so far.
func (ms *moveState) walk(a *Advisor, d int32, units []int32, p int) {
	nt := len(a.targets)
	var top *TierDemand
	for _, u := range units {
		if u == d || ms.slot[u] >= 0 || !ms.allowed(a, u, p) {
			continue
		}
		h := &ms.h[int(u)*nt+p]
		if top != nil && compareGain(*h, *top) < 0 {
			return // every unit after is worse
		}
		g := ms.gain(u, p, nt)
		if top == nil && compareGain(g, ms.best) < 0 {
			return
		}
		top = h
		ms.consider(u, p, g)
	}
}

// allowed reports whether u may move to target p: p is not in u's cell,
// and not known to be out of u's reach within the move limit.
func (ms *moveState) allowed(a *Advisor, u int32, p int) bool {
	return a.targets[p].at != a.cover.cellOf[u] && ms.etas[int(u)*len(a.targets)+p] != geo.Unreached
}

// consider adds the move of u to p for gain g to the group when it is as
// good as the best so far, or makes it the group when better; a move must
// gain.
func (ms *moveState) consider(u int32, p int, g TierDemand) {
	switch c := compareGain(g, ms.best); {
	case c > 0:
		ms.best = g
		ms.group = append(ms.group[:0], move{unit: u, target: int32(p), gain: g})
	case c == 0 && len(ms.group) > 0:
		ms.group = append(ms.group, move{unit: u, target: int32(p), gain: g})
	}
}

// sortUnits sets order: per profile and target, the counting units of the
// profile by h at the target, largest first (by compareGain), then by
// snapshot index.
func (ms *moveState) sortUnits(nt int) {
	ms.order = resize(ms.order, len(ms.profiles))
	for k := range ms.profiles {
		units := ms.order[k][:0]
		for u, ku := range ms.profOf {
			if ku == int32(k) {
				units = append(units, int32(u))
			}
		}
		n := len(units)
		for p := 1; p < nt; p++ {
			units = append(units, units[:n]...)
		}
		for p := range nt {
			slices.SortFunc(units[p*n:(p+1)*n], func(x, y int32) int { return ms.byH(x, y, p, nt) })
		}
		ms.order[k] = units
	}
}

// byH orders units x and y by h at target p, largest first.
func (ms *moveState) byH(x, y int32, p, nt int) int {
	return cmp.Or(compareGain(ms.h[int(y)*nt+p], ms.h[int(x)*nt+p]), cmp.Compare(x, y))
}

// driveTimes fills in the drive times of moves, one reverse search per
// target and profile not asked before.
func (a *Advisor) driveTimes(moves []move) error {
	ms, nt := &a.moves, len(a.targets)
	for i, mv := range moves {
		if ms.etas[int(mv.unit)*nt+int(mv.target)] != etaUnknown {
			continue
		}
		k := ms.profOf[mv.unit]
		ms.points, ms.who = ms.points[:0], ms.who[:0]
		for _, o := range moves[i:] {
			if o.target == mv.target && ms.profOf[o.unit] == k && ms.etas[int(o.unit)*nt+int(o.target)] == etaUnknown {
				ms.points = append(ms.points, a.snap.Units[o.unit].Point)
				ms.who = append(ms.who, o.unit)
			}
		}
		if err := a.reverse(mv.target, ms.profiles[k], ms.who); err != nil {
			return err
		}
	}
	return nil
}

// reverse records the drive times of units who (at ms.points) to target
// p on profile pr.
func (a *Advisor) reverse(p int32, pr geo.Profile, who []int32) error {
	ms, nt := &a.moves, len(a.targets)
	if cr, ok := a.router.(geo.CellRun); ok {
		return a.runTimes(cr, p, pr, who)
	}
	var err error
	ms.found, err = a.router.ETAsTo(&a.search, a.targets[p].point, pr, ms.points, a.moveLimit, ms.found[:0])
	if err != nil && !errors.Is(err, geo.ErrOffGrid) {
		return fmt.Errorf("dispatch: drive time to %v: %w", a.targets[p].cell, err)
	}
	for i, u := range who {
		eta := geo.Unreached
		if err == nil {
			eta = ms.found[i]
		}
		ms.etas[int(u)*nt+int(p)] = eta
	}
	return nil
}

// runTimes records the drive times of units who to target p on profile pr
// from the target's isochrone to the move limit, which it keeps with the
// target's reach (see geo.CellRun).
func (a *Advisor) runTimes(cr geo.CellRun, p int32, pr geo.Profile, who []int32) error {
	ms, nt, t := &a.moves, len(a.targets), a.targets[p]
	tr := a.reaches[reachKey{pr, t.cell}]
	if tr.ok && (tr.times == nil || tr.limit != a.moveLimit) {
		times, err := a.router.Isochrone(&a.search, t.point, pr, a.moveLimit, nil)
		if err != nil {
			return fmt.Errorf("dispatch: drive times to %v on %s: %w", t.cell, pr.Name, err)
		}
		slices.SortFunc(times, func(x, y geo.Reach) int { return cmp.Compare(x.Cell, y.Cell) })
		tr.times, tr.limit = times, a.moveLimit
	}
	for _, u := range who {
		eta := geo.Unreached
		if c, run, on := cr.Run(a.snap.Units[u].Point, pr); on && tr.ok {
			i, found := slices.BinarySearchFunc(tr.times, c, func(r geo.Reach, c int32) int { return cmp.Compare(r.Cell, c) })
			if found && run+tr.times[i].ETA <= a.moveLimit {
				eta = run + tr.times[i].ETA
			}
		}
		ms.etas[int(u)*nt+int(p)] = eta
	}
	return nil
}

// fastest returns the move of moves, whose drive times are known, that
// takes the least time (then by the mover's id, then the target's cell),
// and false when none reaches its target.
func (a *Advisor) fastest(moves []move) (move, bool) {
	nt := len(a.targets)
	var best move
	ok := false
	for _, mv := range moves {
		mv.eta = a.moves.etas[int(mv.unit)*nt+int(mv.target)]
		if mv.eta < 0 {
			continue
		}
		if !ok || a.compareMoves(mv, best) < 0 {
			best, ok = mv, true
		}
	}
	return best, ok
}

// compareMoves orders moves of equal gain by drive time, mover id and
// target cell.
func (a *Advisor) compareMoves(x, y move) int {
	return cmp.Or(cmp.Compare(x.eta, y.eta), cmp.Compare(a.snap.Units[x.unit].ID, a.snap.Units[y.unit].ID),
		cmp.Compare(a.targets[x.target].cell, a.targets[y.target].cell))
}
