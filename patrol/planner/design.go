package planner

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Count is how many units of a mechanism a design has.
type Count struct {
	Mechanism string
	Units     int
}

// DefaultMix is the mechanism mix of a design of 88 units unless told
// otherwise.
var DefaultMix = []Count{{"vehicle", 30}, {"ebike", 20}, {"foot", 20}, {"post", 8}, {"joint", 6}, {"video", 4}}

// ParseMix reads a mix as "vehicle=30,ebike=20,...".
func ParseMix(s string) ([]Count, error) {
	var out []Count
	for _, part := range strings.Split(s, ",") {
		name, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		units, err := strconv.Atoi(n)
		if !ok || err != nil || units < 0 || name == "" {
			return nil, fmt.Errorf("%w: mix %q: want mechanism=units, comma-separated", ErrDesign, part)
		}
		out = append(out, Count{name, units})
	}
	return out, nil
}

// DesignConfig tunes Design.
type DesignConfig struct {
	// Mix is how many units of each mechanism of the template the design
	// has; default DefaultMix.
	Mix []Count
	// Seed, Balance and Progress are as in PartitionConfig.
	Seed     uint64
	Balance  float64
	Progress func(done float64)
}

// ErrDesign is matched by the errors of Design about its input.
var ErrDesign = errors.New("planner: design")

// postCandidates is how many cells nearest an area's weighted centroid are
// tried as its post.
const postCandidates = 200

// Design returns a new plan for template's city (its name, boundary,
// resolution, time zone, profiles, mechanisms and zones) with the units
// of cfg.Mix: the cells of the grid split into as many contiguous areas of
// about equal demand (Split on router's grid, weighing each cell by
// demand), the areas handed out smallest first to the mechanisms of the
// slowest profile first (fixed posts and foot patrols get the small busy
// areas of the centre, vehicles the large ones; mechanisms that do not
// respond come last), and each unit's post the cell of its area, among
// the postCandidates nearest the area's weighted centroid and those in a
// zone, that adds the most demand reached within 3 minutes to the posts
// chosen before it, and the most toward the zones' rules (zoneBonus),
// fastest units first (greedy maximal covering, with backup).
func Design(template *patrol.Plan, router geo.Router, demand patrol.Demand, cfg DesignConfig) (*patrol.Plan, error) {
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	order, err := mechanismOrder(template, cfg.Mix)
	if err != nil {
		return nil, err
	}
	total := len(order)
	grid := router.Grid()
	progress := func(float64) {}
	if cfg.Progress != nil {
		progress = cfg.Progress
	}
	part, err := Split(geo.NewLattice(grid), demand, total, PartitionConfig{Seed: cfg.Seed, Balance: cfg.Balance,
		Progress: func(x float64) { progress(0.8 * x) }})
	if err != nil {
		return nil, err
	}
	areas := make([][]int32, total)
	for i, u := range part.Owner {
		areas[u] = append(areas[u], int32(i))
	}
	slices.SortStableFunc(areas, func(a, b []int32) int { return cmp.Compare(len(a), len(b)) })
	plan := *template
	plan.Units = nil
	ids := newUnitIDs(template)
	pl := newPlacer(template, router, demand)
	units := make([]patrol.Unit, total)
	for i, area := range areas {
		m := order[i]
		units[i] = patrol.Unit{ID: ids.next(m.ID), Mechanism: m.ID, Shift: "24h"}
		units[i].Name = fmt.Sprintf("%s %s", title(m.ID), units[i].ID[1:])
		for _, c := range area {
			units[i].Area = append(units[i].Area, grid.Cell(c))
		}
	}
	posts := make([]int32, total)
	for pass := range postPasses {
		for n, i := range fastestFirst(order) { // the fast units' posts first: they cover the most
			if posts[i], err = pl.place(i, areas[i], order[i]); err != nil {
				return nil, err
			}
			progress(0.8 + 0.2*float64(pass*total+n+1)/float64(postPasses*total))
		}
	}
	for i, p := range posts {
		units[i].Post = grid.Cell(p)
	}
	plan.Units = units
	slices.SortStableFunc(plan.Units, func(a, b patrol.Unit) int { return cmp.Compare(a.ID, b.ID) })
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("planner: designed plan: %w", err)
	}
	return &plan, nil
}

// mechanismOrder returns a mechanism per unit of mix, the slowest profile
// first and those that do not respond last.
func mechanismOrder(template *patrol.Plan, mix []Count) ([]patrol.Mechanism, error) {
	var out []patrol.Mechanism
	for _, c := range mix {
		m, ok := template.Mechanism(c.Mechanism)
		if !ok {
			return nil, fmt.Errorf("%w: mechanism %q is not the plan's", ErrDesign, c.Mechanism)
		}
		for range c.Units {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: a mix of no units", ErrDesign)
	}
	speed := func(m patrol.Mechanism) float64 {
		if !m.Responds() {
			return math.Inf(1)
		}
		p, _ := template.Profile(m.Profile)
		return p.MetersPerSecond() / p.Detour
	}
	slices.SortStableFunc(out, func(a, b patrol.Mechanism) int { return cmp.Compare(speed(a), speed(b)) })
	return out, nil
}

// fastestFirst returns the indexes of order (the units' mechanisms,
// slowest first) from its end: the units that do not respond, which cover
// nothing and take their area's centre, then the fastest first.
func fastestFirst(order []patrol.Mechanism) []int {
	idx := make([]int, len(order))
	for i := range idx {
		idx[i] = len(order) - 1 - i // order is slowest first
	}
	return idx
}

// backupWeight is how much a cell that one unit reaches already counts
// when a post would give it a second: backup, worth less than first
// coverage.
const backupWeight = 0.3

// postPasses is how many times every post is chosen: first greedily in
// turn, then again with all the others in place (interchange), which
// never covers less.
const postPasses = 3

// placer chooses posts one unit at a time, each where it adds the most
// demand reached within 3 minutes to what the other units placed reach
// (greedy maximal covering), a cell reached once already counting
// backupWeight of its demand.
type placer struct {
	template *patrol.Plan
	router   geo.Router
	demand   patrol.Demand
	reached  []int32             // units placed that reach each cell within 3 minutes
	reached1 []int32             // and within 1 minute
	need     [][2]int32          // per cell, the units its zones' rules ask within 1 and 3 minutes
	zoneW    []float64           // per cell, the weight of its heaviest zone
	placed   map[int][]geo.Reach // the reach of each unit placed, by unit
	search   geo.Search
	reach    []geo.Reach
}

func newPlacer(template *patrol.Plan, router geo.Router, demand patrol.Demand) *placer {
	g := router.Grid()
	pl := &placer{template: template, router: router, demand: demand, reached: make([]int32, g.Len()),
		reached1: make([]int32, g.Len()), need: make([][2]int32, g.Len()), zoneW: make([]float64, g.Len()),
		placed: map[int][]geo.Reach{}}
	for _, z := range template.Zones {
		for _, c := range geo.PolygonCells(z.Area, g.Resolution()) {
			if i, ok := g.Index(c); ok {
				pl.need[i][0] = max(pl.need[i][0], int32(z.Rule.M1.Units))
				pl.need[i][1] = max(pl.need[i][1], int32(z.Rule.M3.Units))
				pl.zoneW[i] = max(pl.zoneW[i], z.Weight)
			}
		}
	}
	return pl
}

// zoneBonus is what a unit adds for each cell of a zone whose rule it
// helps meet, per unit the rule still asks and per weight of the zone, in
// units of demand: enough that a post near a zone serves the zone first.
const zoneBonus = 3.0

// place returns the post of unit u, of mechanism m, in area: among the
// postCandidates cells nearest the area's weighted centroid and the
// area's cells in a zone, the one that adds the most to the other units
// placed (see placer), a cell of a zone whose rule asks more units within
// 1 or 3 minutes than reach it counting zoneBonus times the zone's weight
// more; the nearest for a
// mechanism that does not respond. A unit placed before is lifted first.
func (pl *placer) place(u int, area []int32, m patrol.Mechanism) (int32, error) {
	grid := pl.router.Grid()
	for _, r := range pl.placed[u] {
		pl.reached[r.Cell]--
		if r.ETA <= patrol.Limits[patrol.Tier1] {
			pl.reached1[r.Cell]--
		}
	}
	var cx, cy, w float64
	for _, c := range area {
		p := geo.CellCenter(grid.Cell(c))
		d := pl.demand[c] + 1e-9
		cx, cy, w = cx+d*p[0], cy+d*p[1], w+d
	}
	centroid := [2]float64{cx / w, cy / w}
	cands := slices.Clone(area)
	slices.SortStableFunc(cands, func(a, b int32) int {
		return cmp.Compare(geo.Distance(geo.CellCenter(grid.Cell(a)), centroid), geo.Distance(geo.CellCenter(grid.Cell(b)), centroid))
	})
	profile, ok := pl.template.Profile(m.Profile)
	if !m.Responds() || !ok {
		return cands[0], nil
	}
	tried := slices.Clone(cands[:min(len(cands), postCandidates)])
	for _, c := range cands[len(tried):] { // and every cell of the area in a zone
		if pl.zoneW[c] > 0 {
			tried = append(tried, c)
		}
	}
	best, bestGain := cands[0], -1.0
	var bestReach []geo.Reach
	for _, c := range tried {
		var err error
		pl.reach, err = pl.router.Isochrone(&pl.search, geo.CellCenter(grid.Cell(c)), profile, patrol.Limits[patrol.Tier3], pl.reach[:0])
		if errors.Is(err, geo.ErrOffGrid) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("planner: post of an area: %w", err)
		}
		var gain float64
		for _, r := range pl.reach {
			c := r.Cell
			switch pl.reached[c] {
			case 0:
				gain += pl.demand[c]
			case 1:
				gain += backupWeight * pl.demand[c]
			}
			if pl.reached[c] < pl.need[c][1] {
				gain += zoneBonus * pl.zoneW[c]
			}
			if r.ETA <= patrol.Limits[patrol.Tier1] && pl.reached1[c] < pl.need[c][0] {
				gain += zoneBonus * pl.zoneW[c]
			}
		}
		if gain > bestGain+1e-9 {
			best, bestGain, bestReach = c, gain, append(bestReach[:0], pl.reach...)
		}
	}
	for _, r := range bestReach {
		pl.reached[r.Cell]++
		if r.ETA <= patrol.Limits[patrol.Tier1] {
			pl.reached1[r.Cell]++
		}
	}
	pl.placed[u] = bestReach
	return best, nil
}

// unitIDs hands out unit ids: a letter per mechanism (its first letter
// not taken by an earlier mechanism of the plan, else the next) and a
// number counting from 01.
type unitIDs struct {
	letter map[string]byte
	n      map[string]int
}

func newUnitIDs(plan *patrol.Plan) *unitIDs {
	ids := &unitIDs{letter: map[string]byte{}, n: map[string]int{}}
	taken := map[byte]bool{}
	for _, m := range plan.Mechanisms {
		for _, r := range strings.ToUpper(m.ID) + "XYZQ" {
			if b := byte(r); r < unicode.MaxASCII && unicode.IsUpper(r) && !taken[b] {
				ids.letter[m.ID], taken[b] = b, true
				break
			}
		}
	}
	return ids
}

func (ids *unitIDs) next(mech string) string {
	ids.n[mech]++
	return fmt.Sprintf("%c%02d", ids.letter[mech], ids.n[mech])
}

// title returns s with its first letter upper case.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
