package planner

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
)

// postCandidates is how many cells nearest an area's weighted centroid are
// tried as its post.
const postCandidates = 200

// backupWeight is how much a cell that one unit reaches already counts
// when a post would give it a second: backup, worth less than first
// coverage.
const backupWeight = 0.3

// zoneBonus is what a unit adds for each cell of a zone whose rule it
// helps meet, per unit the rule still asks and per weight of the zone, in
// units of demand: enough that a post near a zone serves the zone first.
const zoneBonus = 3.0

// postPasses is how many times every post is chosen: first greedily in
// turn, then again with all the others in place (interchange), which
// never covers less.
const postPasses = 3

// Posts is the post placement of units over fixed areas: a maximal
// covering with backup. With n_c the number of posts that reach cell c
// within 3 minutes (n1_c within 1, n5_c within 5), d_c its demand, w_c the
// weight of its heaviest zone and r3_c, r1_c, r5_c the units the zones'
// rules ask within 3, 1 and 5 minutes, the posts maximise
//
//	Σ_c d_c·(min(n_c, 1) + backupWeight·min(max(n_c−1, 0), 1))
//	  + zoneBonus·w_c·(min(n_c, r3_c) + min(n1_c, r1_c) + min(n5_c, r5_c))
//
// each unit's post one of its candidates: the postCandidates cells of its
// area nearest the area's demand-weighted centroid and every cell of the
// area in a zone. A unit whose mechanism does not respond covers nothing
// and stands at the nearest to the centroid. Solve finds posts by greedy
// covering and interchange; WriteLP writes the same problem for an exact
// solver.
type Posts struct {
	grid   *geo.Grid
	demand patrol.Demand
	units  []postUnit
	need   [][3]int32 // per cell: the units its zones' rules ask within 1, 3 and 5 minutes
	zoneW  []float64  // per cell: the weight of its heaviest zone
	// chosen holds each unit's candidate (index), -1 before Solve;
	// reached and reached1 count the chosen posts reaching each cell.
	chosen   []int
	reached  []int32
	reached1 []int32
	reached5 []int32 // of the cells a zone asks units within 5 minutes
	// zones5 are the circles around the cells of each zone whose rule
	// asks units within 5 minutes: a post farther than 5 minutes' drive
	// from every circle reaches none of them then.
	zones5 []circle
}

// circle is a centre and the distance of the farthest cell centre from
// it.
type circle struct {
	centre orb.Point
	radius geo.Meters
}

// postUnit is a unit of a post placement.
type postUnit struct {
	id       string
	responds bool
	speed    float64 // of its profile, metres a second over detour
	cands    []int32 // grid numbers
	// reach holds per candidate the cells it reaches within 3 minutes,
	// sorted by drive time, the first n1 of them within 1 minute; reach5
	// the cells of zones asking units within 5 minutes that it reaches
	// within 5.
	reach  [][]int32
	n1     []int
	reach5 [][]int32
}

// ErrPosts is matched by the errors of NewPosts about its input.
var ErrPosts = errors.New("planner: posts")

// NewPosts returns the post placement of the units of plan named by ids
// (every unit for nil), each over its area in plan, on router's travel
// times and demand (one entry per cell of router's grid). It times every
// candidate once: on the demo city's lattice, 88 units take about a
// second.
func NewPosts(plan *patrol.Plan, router geo.Router, demand patrol.Demand, ids []string) (*Posts, error) {
	g := router.Grid()
	if len(demand) != g.Len() {
		return nil, fmt.Errorf("%w: %d demands for %d cells", ErrPosts, len(demand), g.Len())
	}
	ps := &Posts{grid: g, demand: demand, need: make([][3]int32, g.Len()), zoneW: make([]float64, g.Len()),
		reached: make([]int32, g.Len()), reached1: make([]int32, g.Len()), reached5: make([]int32, g.Len())}
	for _, z := range plan.Zones {
		var centres []orb.Point
		for _, c := range geo.PolygonCells(z.Area, g.Resolution()) {
			if i, ok := g.Index(c); ok {
				ps.need[i][0] = max(ps.need[i][0], int32(z.Rule.M1.Units))
				ps.need[i][1] = max(ps.need[i][1], int32(z.Rule.M3.Units))
				ps.need[i][2] = max(ps.need[i][2], int32(z.Rule.M5.Units))
				ps.zoneW[i] = max(ps.zoneW[i], z.Weight)
				centres = append(centres, geo.CellCenter(c))
			}
		}
		if z.Rule.M5.Units > 0 && len(centres) > 0 {
			ps.zones5 = append(ps.zones5, around(centres))
		}
	}
	if ids == nil {
		for _, u := range plan.Units {
			ids = append(ids, u.ID)
		}
	}
	var search geo.Search
	var buf []geo.Reach
	for _, id := range ids {
		u, ok := plan.Unit(id)
		if !ok {
			return nil, fmt.Errorf("%w: unit %q is not the plan's", ErrPosts, id)
		}
		pu, err := ps.newUnit(plan, router, u, &search, &buf)
		if err != nil {
			return nil, err
		}
		ps.units = append(ps.units, pu)
	}
	ps.chosen = make([]int, len(ps.units))
	for i := range ps.chosen {
		ps.chosen[i] = -1
	}
	return ps, nil
}

// newUnit lists u's candidates and times them.
func (ps *Posts) newUnit(plan *patrol.Plan, router geo.Router, u patrol.Unit, s *geo.Search, buf *[]geo.Reach) (postUnit, error) {
	pu := postUnit{id: u.ID}
	var area []int32
	for _, c := range u.Area {
		if i, ok := ps.grid.Index(c); ok {
			area = append(area, i)
		}
	}
	if len(area) == 0 {
		return pu, fmt.Errorf("%w: unit %s has no area on the grid", ErrPosts, u.ID)
	}
	var cx, cy, w float64
	for _, c := range area {
		p := geo.CellCenter(ps.grid.Cell(c))
		d := ps.demand[c] + 1e-9
		cx, cy, w = cx+d*p[0], cy+d*p[1], w+d
	}
	centroid := [2]float64{cx / w, cy / w}
	dist := func(c int32) float64 { return float64(geo.Distance(geo.CellCenter(ps.grid.Cell(c)), centroid)) }
	slices.SortStableFunc(area, func(a, b int32) int { return cmp.Compare(dist(a), dist(b)) })
	m, _ := plan.Mechanism(u.Mechanism)
	profile, ok := plan.Profile(m.Profile)
	if pu.responds = m.Responds() && ok; !pu.responds {
		pu.cands = area[:1]
		return pu, nil
	}
	pu.speed = profile.MetersPerSecond() / profile.Detour
	pu.cands = slices.Clone(area[:min(len(area), postCandidates)])
	for _, c := range area[len(pu.cands):] {
		if ps.zoneW[c] > 0 {
			pu.cands = append(pu.cands, c)
		}
	}
	for _, c := range pu.cands {
		var err error
		*buf, err = router.Isochrone(s, geo.CellCenter(ps.grid.Cell(c)), profile, patrol.Limits[patrol.Tier3], (*buf)[:0])
		if err != nil && !errors.Is(err, geo.ErrOffGrid) {
			return pu, fmt.Errorf("planner: post of %s: %w", u.ID, err)
		}
		slices.SortStableFunc(*buf, func(a, b geo.Reach) int { return cmp.Compare(a.ETA, b.ETA) })
		cells := make([]int32, len(*buf))
		n1 := 0
		for i, r := range *buf {
			cells[i] = r.Cell
			if r.ETA <= patrol.Limits[patrol.Tier1] {
				n1 = i + 1
			}
		}
		pu.reach, pu.n1 = append(pu.reach, cells), append(pu.n1, n1)
		far, err := ps.zoneCells5(router, profile, c, s, buf)
		if err != nil {
			return pu, fmt.Errorf("planner: post of %s: %w", u.ID, err)
		}
		pu.reach5 = append(pu.reach5, far)
	}
	return pu, nil
}

// around returns a circle holding points: their mean, and the distance of
// the farthest from it.
func around(points []orb.Point) circle {
	var c orb.Point
	for _, p := range points {
		c[0], c[1] = c[0]+p[0]/float64(len(points)), c[1]+p[1]/float64(len(points))
	}
	out := circle{centre: c}
	for _, p := range points {
		out.radius = max(out.radius, geo.Distance(c, p))
	}
	return out
}

// cellMargin widens a straight-line bound by more than a cell's size at
// any resolution a plan uses, as searches start from a cell's centre and
// reach a cell anywhere in it.
const cellMargin geo.Meters = 500

// zoneCells5 returns the cells of zones asking units within 5 minutes
// that a post at c reaches within 5 minutes on profile; it searches only
// when such a cell lies within the straight-line bound of the profile's
// speed (see geo.SpeedBound).
func (ps *Posts) zoneCells5(router geo.Router, profile geo.Profile, c int32, s *geo.Search, buf *[]geo.Reach) ([]int32, error) {
	speed := profile.MetersPerSecond()
	if sb, ok := router.(geo.SpeedBound); ok && sb.MaxSpeed(profile) > 0 {
		speed = sb.MaxSpeed(profile)
	}
	far := geo.Meters(speed*patrol.Limits[patrol.Tier5].Seconds()) + cellMargin
	from := geo.CellCenter(ps.grid.Cell(c))
	if !slices.ContainsFunc(ps.zones5, func(z circle) bool { return geo.Distance(from, z.centre) <= far+z.radius }) {
		return nil, nil
	}
	var err error
	*buf, err = router.Isochrone(s, from, profile, patrol.Limits[patrol.Tier5], (*buf)[:0])
	if err != nil && !errors.Is(err, geo.ErrOffGrid) {
		return nil, err
	}
	var out []int32
	for _, r := range *buf {
		if ps.need[r.Cell][2] > 0 {
			out = append(out, r.Cell)
		}
	}
	return out, nil
}

// Solve chooses every unit's post: in turn, the units that do not respond
// first and then the fastest first, each the candidate that adds the most
// to the posts chosen before it (greedy covering), then postPasses−1 more
// rounds choosing each again with all the others in place (interchange),
// which never lowers the value. It calls progress (when not nil) after
// each choice with the share done, and returns the posts in the order of
// the units.
func (ps *Posts) Solve(progress func(done float64)) []h3.Cell {
	order := make([]int, len(ps.units))
	for i := range order {
		order[i] = len(order) - 1 - i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ua, ub := &ps.units[a], &ps.units[b]
		if ua.responds != ub.responds {
			if !ua.responds {
				return -1
			}
			return 1
		}
		return cmp.Compare(ub.speed, ua.speed)
	})
	steps := (postPasses + 1) * len(order)
	for pass := range postPasses {
		for n, u := range order {
			ps.place(u)
			if progress != nil {
				progress(float64(pass*len(order)+n+1) / float64(steps))
			}
		}
	}
	for n, u := range order {
		ps.replaceGroup(u)
		if progress != nil {
			progress(float64(postPasses*len(order)+n+1) / float64(steps))
		}
	}
	return ps.Cells()
}

// groupSize is how many units Solve places again together: a unit and
// its nearest neighbours by post.
const groupSize = 3

// replaceGroup lifts unit u and the groupSize−1 responding units whose
// posts are nearest its own, and places them again one by one in every
// order, keeping the best when it beats the posts they had: posts that
// only pay together, as two units a zone's rule asks, move together.
func (ps *Posts) replaceGroup(u int) {
	if !ps.units[u].responds {
		return
	}
	group := ps.neighbours(u, groupSize)
	old := make([]int, len(group))
	for i, v := range group {
		old[i] = ps.chosen[v]
	}
	bestValue, best := ps.Value(), slices.Clone(old)
	for _, perm := range permutations(len(group)) {
		for _, v := range group {
			ps.lift(v)
		}
		for _, i := range perm {
			ps.place(group[i])
		}
		if v := ps.Value(); v > bestValue+1e-9 {
			bestValue = v
			for i, w := range group {
				best[i] = ps.chosen[w]
			}
		}
	}
	for i, v := range group {
		ps.lift(v)
		ps.chosen[v] = best[i]
		ps.cover(v, 1)
	}
}

// neighbours returns u and the n−1 other responding units whose chosen
// posts are nearest u's.
func (ps *Posts) neighbours(u, n int) []int {
	at := func(v int) orb.Point { return geo.CellCenter(ps.grid.Cell(ps.units[v].cands[ps.chosen[v]])) }
	var others []int
	for v := range ps.units {
		if v != u && ps.units[v].responds && ps.chosen[v] >= 0 {
			others = append(others, v)
		}
	}
	p := at(u)
	slices.SortStableFunc(others, func(a, b int) int { return cmp.Compare(geo.Distance(at(a), p), geo.Distance(at(b), p)) })
	return append([]int{u}, others[:min(n-1, len(others))]...)
}

// permutations returns every order of 0 … n−1.
func permutations(n int) [][]int {
	if n <= 1 {
		return [][]int{make([]int, n)}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := range n {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// Cells returns the chosen posts in the order of the units, 0 for a unit
// with none yet.
func (ps *Posts) Cells() []h3.Cell {
	out := make([]h3.Cell, len(ps.units))
	for u, j := range ps.chosen {
		if j >= 0 {
			out[u] = ps.grid.Cell(ps.units[u].cands[j])
		}
	}
	return out
}

// place chooses unit u's post again, the others held.
func (ps *Posts) place(u int) {
	ps.lift(u)
	pu := &ps.units[u]
	best, bestGain := 0, -1.0
	for j := range pu.reach {
		if g := ps.gain(pu, j); g > bestGain+1e-9 {
			best, bestGain = j, g
		}
	}
	ps.chosen[u] = best
	ps.cover(u, 1)
}

// gain returns what candidate j of pu adds to the posts chosen.
func (ps *Posts) gain(pu *postUnit, j int) float64 {
	var gain float64
	for k, c := range pu.reach[j] {
		switch ps.reached[c] {
		case 0:
			gain += ps.demand[c]
		case 1:
			gain += backupWeight * ps.demand[c]
		}
		if ps.reached[c] < ps.need[c][1] {
			gain += zoneBonus * ps.zoneW[c]
		}
		if k < pu.n1[j] && ps.reached1[c] < ps.need[c][0] {
			gain += zoneBonus * ps.zoneW[c]
		}
	}
	for _, c := range pu.reach5[j] {
		if ps.reached5[c] < ps.need[c][2] {
			gain += zoneBonus * ps.zoneW[c]
		}
	}
	return gain
}

// lift takes unit u's post out of the counts.
func (ps *Posts) lift(u int) {
	if ps.chosen[u] >= 0 {
		ps.cover(u, -1)
		ps.chosen[u] = -1
	}
}

// cover adds by to the counts of the cells u's chosen post reaches.
func (ps *Posts) cover(u int, by int32) {
	pu := &ps.units[u]
	if !pu.responds {
		return
	}
	j := ps.chosen[u]
	for k, c := range pu.reach[j] {
		ps.reached[c] += by
		if k < pu.n1[j] {
			ps.reached1[c] += by
		}
	}
	for _, c := range pu.reach5[j] {
		ps.reached5[c] += by
	}
}

// Value returns the objective (see Posts) of the posts chosen.
func (ps *Posts) Value() float64 {
	var v float64
	for c, n := range ps.reached {
		if n > 0 {
			v += ps.demand[c] * (1 + backupWeight*float64(min(n-1, 1)))
		}
		v += zoneBonus * ps.zoneW[c] * float64(min(n, ps.need[c][1])+min(ps.reached1[c], ps.need[c][0])+min(ps.reached5[c], ps.need[c][2]))
	}
	return v
}

// Set chooses the posts cells, one per unit in the order of the units, so
// that Value scores them; a cell that is not a candidate of its unit is an
// error matching ErrPosts.
func (ps *Posts) Set(cells []h3.Cell) error {
	if len(cells) != len(ps.units) {
		return fmt.Errorf("%w: %d posts for %d units", ErrPosts, len(cells), len(ps.units))
	}
	for u := range ps.units {
		ps.lift(u)
	}
	for u, c := range cells {
		i, on := ps.grid.Index(c)
		j := slices.Index(ps.units[u].cands, i)
		if j < 0 || !on {
			return fmt.Errorf("%w: post %v of %s is not one of its candidates", ErrPosts, c, ps.units[u].id)
		}
		ps.chosen[u] = j
		ps.cover(u, 1)
	}
	return nil
}

// CentralUnits returns the ids of the n responding units of plan (see
// dispatch.Responding) whose posts are nearest the centre of its
// boundary's bounding box, nearest first: a cluster whose posts compete
// for the same cells, an instance of post placement of any size.
func CentralUnits(plan *patrol.Plan, n int) []string {
	centre := plan.Boundary.Bound().Center()
	var ids []string
	var dist []geo.Meters
	for _, p := range dispatch.Responding(plan) {
		ids = append(ids, p.Unit)
		dist = append(dist, geo.Distance(geo.CellCenter(p.Cell), centre))
	}
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(dist[a], dist[b]) })
	out := make([]string, 0, min(n, len(ids)))
	for _, i := range idx[:min(n, len(ids))] {
		out = append(out, ids[i])
	}
	return out
}
