package planner

import (
	"fmt"
	"math"
	"slices"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Redesign returns a copy of current whose unit areas are rebalanced by
// demand while at most maxMoved (0 to 1) of the grid's cells change unit,
// so that crews keep most of their beat. Cells of the grid in no unit's
// area first join the area that reaches them first along the grid (they
// change no unit). Then, one cell at a time, the heaviest area passes a
// border cell to its lightest neighbour, or when it cannot the lightest
// area takes one from its heaviest neighbour, each move leaving the pair
// better balanced, each area staying in one piece and keeping its post,
// until the heaviest is within cfg.Balance (default 1.10) of the
// lightest, the budget of moved cells is spent, or no move helps. Units keep their ids, mechanisms and posts; a cell
// moved back to its first unit gives its move back to the budget.
func Redesign(current *patrol.Plan, router geo.Router, demand patrol.Demand, maxMoved float64, cfg DesignConfig) (*patrol.Plan, int, error) {
	grid := router.Grid()
	if maxMoved < 0 || maxMoved > 1 || math.IsNaN(maxMoved) {
		return nil, 0, fmt.Errorf("%w: share of cells moved %v: want 0 to 1", ErrDesign, maxMoved)
	}
	if cfg.Balance == 0 {
		cfg.Balance = 1.10
	}
	s := newSplitter(geo.NewLattice(grid), demand)
	owner := make([]int32, grid.Len())
	for i := range owner {
		owner[i] = -1
	}
	p := Partition{Owner: owner, Load: make([]float64, len(current.Units))}
	for u, unit := range current.Units {
		for _, c := range unit.Area {
			if i, ok := grid.Index(c); ok {
				owner[i] = int32(u)
			}
		}
		if i, ok := grid.Index(unit.Post); ok && owner[i] == int32(u) {
			p.Sites = append(p.Sites, i)
		}
	}
	if err := s.fillGaps(owner); err != nil {
		return nil, 0, err
	}
	for i, u := range owner {
		p.Load[u] += demand[i]
	}
	first := slices.Clone(owner)
	moved := s.rebalance(&p, first, int(maxMoved*float64(grid.Len())), cfg.Balance)
	plan := *current
	plan.Units = slices.Clone(current.Units)
	for u := range plan.Units {
		plan.Units[u].Area = nil
	}
	for i, u := range owner {
		plan.Units[u].Area = append(plan.Units[u].Area, grid.Cell(int32(i)))
	}
	if err := plan.Validate(); err != nil {
		return nil, 0, fmt.Errorf("planner: redesigned plan: %w", err)
	}
	return &plan, moved, nil
}

// fillGaps gives every cell in no area (-1) to the area that reaches it
// first along the grid, by hops; it fails when no area reaches some cell
// or the plan has no area at all.
func (s *splitter) fillGaps(owner []int32) error {
	var queue []int32
	for i, u := range owner {
		if u >= 0 {
			queue = append(queue, int32(i))
		}
	}
	if len(queue) == 0 {
		return fmt.Errorf("%w: the plan's units have no area to start from", ErrDesign)
	}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, j := range s.nbr[c] {
			if j >= 0 && owner[j] < 0 {
				owner[j] = owner[c]
				queue = append(queue, j)
			}
		}
	}
	if slices.Contains(owner, -1) {
		return fmt.Errorf("%w: some cells of the grid are joined to no unit's area", ErrDesign)
	}
	return nil
}

// rebalance moves single cells of p between areas as Redesign says, at
// most budget of them away from their unit in first, and returns how many
// cells end in another unit's area than in first.
func (s *splitter) rebalance(p *Partition, first []int32, budget int, balance float64) int {
	site := make([]bool, len(s.nbr))
	for _, c := range p.Sites {
		site[c] = true
	}
	seen := make([]bool, len(s.nbr))
	areas := make([][]int32, len(p.Load)) // each area's cells, in grid order
	for i, u := range p.Owner {
		areas[u] = append(areas[u], int32(i))
	}
	moved := 0
	for p.Ratio() > balance {
		heavy := int32(slices.Index(p.Load, slices.Max(p.Load)))
		light := int32(slices.Index(p.Load, slices.Min(p.Load)))
		c, to := s.borderMove(p, areas[heavy], heavy, -1, site, seen)
		if c < 0 {
			c, to = s.borderMove(p, s.borderOf(p.Owner, areas[light], light), -1, light, site, seen)
		}
		if c >= 0 {
			cost := moveCost(first, p.Owner, c, to)
			if moved+cost > budget {
				break
			}
			moved += cost
			s.pass(p, areas, c, to)
			continue
		}
		path, cells := s.chainMove(p, areas, heavy, light, site, seen)
		if cells == nil {
			break
		}
		cost := 0
		for i, c := range cells { // the chain is made: count what it moved from where it was
			cost += moveCostFrom(first, path[i], c, path[i+1])
		}
		if moved+cost > budget {
			s.undoChain(p, areas, cells, path)
			break
		}
		moved += cost
	}
	return moved
}

// moveCost is what moving cell c, now in owner[c]'s area, to area to adds
// to the cells away from their first area: 1 when it leaves its first
// area, −1 when it comes back to it, else 0.
func moveCost(first, owner []int32, c, to int32) int {
	return moveCostFrom(first, owner[c], c, to)
}

func moveCostFrom(first []int32, from, c, to int32) int {
	switch {
	case first[c] == from:
		return 1
	case first[c] == to:
		return -1
	}
	return 0
}

// borderOf returns the cells next to area (the cells of area u) in other
// areas, in grid order.
func (s *splitter) borderOf(owner []int32, area []int32, u int32) []int32 {
	var out []int32
	for _, c := range area {
		for _, n := range s.nbr[c] {
			if n >= 0 && owner[n] != u {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// borderMove finds a cell of cands, in grid order, to move: with from
// set, a cell of area from that may pass to its lightest neighbouring
// area; with to set, a cell of the heaviest area next to to that may pass
// to it. A move must leave
// the pair better balanced, keep the donor in one piece and not move a
// post; among moves it prefers cells with more neighbours in the area
// they join. It returns -1 when there is none.
func (s *splitter) borderMove(p *Partition, cands []int32, from, to int32, site, seen []bool) (int32, int32) {
	best, bestTo, bestAround := int32(-1), int32(-1), -1
	for _, c := range cands {
		d := p.Owner[c]
		if site[c] || from >= 0 && d != from {
			continue
		}
		r := to
		if from >= 0 {
			r = s.lightestNeighbour(p, c)
		} else if d == to || s.around(p.Owner, c, to) == 0 {
			continue
		}
		// A move must gain beyond float rounding: between loads that are
		// multiples of one weight, a difference of exactly that weight would
		// otherwise pass a cell back and forth for ever.
		if r < 0 || p.Load[d]-p.Load[r] <= s.weight[c]*(1+1e-9) || from < 0 && best >= 0 && p.Load[d] < p.Load[p.Owner[best]] {
			continue
		}
		if a := s.around(p.Owner, c, r); a > bestAround && s.canLeave(p.Owner, c, seen) {
			best, bestTo, bestAround = c, r, a
		}
	}
	return best, bestTo
}
