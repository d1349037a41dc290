package planner

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
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
	areas = zoneAreasFirst(template, grid, areas, order)
	plan := *template
	plan.Units = nil
	ids := newUnitIDs(template)
	units := make([]patrol.Unit, total)
	for i, area := range areas {
		m := order[i]
		units[i] = patrol.Unit{ID: ids.next(m.ID), Mechanism: m.ID, Shift: "24h"}
		units[i].Name = fmt.Sprintf("%s %s", title(m.ID), units[i].ID[1:])
		for _, c := range area {
			units[i].Area = append(units[i].Area, grid.Cell(c))
		}
	}
	plan.Units = units
	ps, err := NewPosts(&plan, router, demand, nil)
	if err != nil {
		return nil, err
	}
	for i, c := range ps.Solve(func(x float64) { progress(0.8 + 0.2*x) }) {
		units[i].Post = c
	}
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

// zoneAreasFirst reorders areas (smallest first, to match order, the
// mechanisms slowest first) so that, for each zone whose rule asks two or
// more units within 3 minutes, as many of the areas holding most of its
// cells as the rule asks units go to the fastest responding mechanisms:
// a foot patrol posted in a busy district reaches too little of it in 3
// minutes to meet such a rule, and no other unit's post may stand in that
// area. The other areas keep their order, smallest first.
func zoneAreasFirst(plan *patrol.Plan, grid *geo.Grid, areas [][]int32, order []patrol.Mechanism) [][]int32 {
	owner := make([]int, grid.Len())
	for i, a := range areas {
		for _, c := range a {
			owner[c] = i
		}
	}
	picked := map[int]bool{}
	var fastAreas []int
	for _, z := range plan.Zones {
		if z.Rule.M3.Units < 2 {
			continue
		}
		count := map[int]int{}
		for _, c := range geo.PolygonCells(z.Area, grid.Resolution()) {
			if i, ok := grid.Index(c); ok {
				count[owner[i]]++
			}
		}
		held := slices.Collect(maps.Keys(count))
		slices.SortFunc(held, func(x, y int) int { return cmp.Or(cmp.Compare(count[y], count[x]), cmp.Compare(x, y)) })
		for _, a := range held[:min(len(held), z.Rule.M3.Units)] {
			if !picked[a] {
				picked[a] = true
				fastAreas = append(fastAreas, a)
			}
		}
	}
	slot := len(order) - 1 // the fastest responding mechanism's place, going down
	for slot >= 0 && !order[slot].Responds() {
		slot--
	}
	out := make([][]int32, len(areas))
	for _, a := range fastAreas {
		if slot < 0 {
			picked[a] = false
			continue
		}
		out[slot] = areas[a]
		slot--
	}
	k := 0
	for i := range out {
		if out[i] != nil {
			continue
		}
		for picked[k] && out[i] == nil {
			k++
		}
		out[i] = areas[k]
		k++
	}
	return out
}
