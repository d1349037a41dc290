package planner

import (
	"math"
	"slices"
)

// chainDepth bounds how many areas a chain of moves passes through, and
// chainTargets how many ends of chains are tried from each side.
const (
	chainDepth   = 8
	chainTargets = 6
)

// chainMove passes load from the heaviest area toward a lighter one that
// does not touch it, or to the lightest area from a heavier one, along a
// chain of touching areas: each area of the chain passes one border cell
// to the next, so that the areas between keep about their load (each
// gives a cell of about the weight it took). It is what rebalance does
// when no single cell can pass between two touching areas to the good of
// both: the heavy areas of a city's centre border areas almost as heavy.
// Of the chains from heavy to the chainTargets lightest areas within
// chainDepth steps, and to light from the chainTargets heaviest, it makes
// the one that lowers the sum of the squared loads the most per cell
// moved; every area stays in one piece and keeps its post. It returns the
// path of areas and the cells moved along it, or nil when no chain helps.
func (s *splitter) chainMove(p *Partition, areas [][]int32, heavy, light int32, site, seen []bool) (path, cells []int32) {
	var paths [][]int32
	for _, fromHeavy := range []bool{true, false} {
		root := heavy
		if !fromHeavy {
			root = light
		}
		parent, reached := s.chainTree(p, areas, root)
		slices.SortStableFunc(reached, func(x, y int32) int {
			d := p.Load[x] - p.Load[y]
			if !fromHeavy {
				d = -d
			}
			switch {
			case d < 0:
				return -1
			case d > 0:
				return 1
			}
			return 0
		})
		for _, end := range reached[:min(len(reached), chainTargets)] {
			var path []int32 // root … end
			for x := end; x >= 0; x = parent[x] {
				path = append(path, x)
			}
			if fromHeavy {
				slices.Reverse(path) // heavy … end
			} // else end … light
			paths = append(paths, path)
		}
	}
	before := sumSquares(p.Load)
	var best []int32
	bestGain := 0.0
	for _, path := range paths {
		if p.Load[path[0]] <= p.Load[path[len(path)-1]] {
			continue
		}
		moved := s.tryChain(p, areas, path, site, seen)
		if moved == nil {
			continue
		}
		if gain := (before - sumSquares(p.Load)) / float64(len(moved)); gain > bestGain {
			best, bestGain = path, gain
		}
		s.undoChain(p, areas, moved, path)
	}
	if best == nil {
		return nil, nil
	}
	return best, s.tryChain(p, areas, best, site, seen) // the same moves again, on the same state
}

// chainTree returns the areas within chainDepth steps of root along
// touching areas, each with its parent toward root.
func (s *splitter) chainTree(p *Partition, areas [][]int32, root int32) (map[int32]int32, []int32) {
	parent := map[int32]int32{root: -1}
	depth := map[int32]int{root: 0}
	queue := []int32{root}
	var reached []int32
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if depth[a] == chainDepth {
			continue
		}
		for _, b := range s.touching(p.Owner, areas[a], a) {
			if _, ok := parent[b]; !ok {
				parent[b], depth[b] = a, depth[a]+1
				queue = append(queue, b)
				reached = append(reached, b)
			}
		}
	}
	return parent, reached
}

// tryChain makes the moves of a chain along path, each area passing a
// border cell to the next, and returns the cells moved when they lower
// the sum of the squared loads; otherwise it takes them back and returns
// nil.
func (s *splitter) tryChain(p *Partition, areas [][]int32, path []int32, site, seen []bool) (cells []int32) {
	before := sumSquares(p.Load)
	wIn := math.Inf(1) // the first area gives its heaviest movable cell
	for i := 0; i+1 < len(path); i++ {
		c := s.chainCell(p, areas[path[i]], path[i+1], wIn, site, seen)
		if c < 0 {
			s.undoChain(p, areas, cells, path)
			return nil
		}
		s.pass(p, areas, c, path[i+1])
		cells = append(cells, c)
		wIn = s.weight[c]
	}
	if sumSquares(p.Load) >= before-1e-9*before {
		s.undoChain(p, areas, cells, path)
		return nil
	}
	return cells
}

// chainCell returns the cell of area (owned by one area) that may pass to
// area next, staying in one piece and not a post, of weight nearest wIn
// (the heaviest for an infinite wIn), then with the most neighbours in
// next; -1 when there is none.
func (s *splitter) chainCell(p *Partition, area []int32, next int32, wIn float64, site, seen []bool) int32 {
	best, bestGap, bestAround := int32(-1), math.Inf(1), -1
	for _, c := range area {
		a := s.around(p.Owner, c, next)
		if site[c] || a == 0 {
			continue
		}
		gap := math.Abs(s.weight[c] - wIn)
		if math.IsInf(wIn, 1) {
			gap = -s.weight[c]
		}
		if (gap < bestGap-1e-12 || gap <= bestGap+1e-12 && a > bestAround) && s.canLeave(p.Owner, c, seen) {
			best, bestGap, bestAround = c, gap, a
		}
	}
	return best
}

// pass moves cell c to area to, keeping loads and the areas' cell lists.
func (s *splitter) pass(p *Partition, areas [][]int32, c, to int32) {
	from := p.Owner[c]
	p.Load[from] -= s.weight[c]
	p.Load[to] += s.weight[c]
	p.Owner[c] = to
	i, _ := slices.BinarySearch(areas[from], c)
	areas[from] = slices.Delete(areas[from], i, i+1)
	j, _ := slices.BinarySearch(areas[to], c)
	areas[to] = slices.Insert(areas[to], j, c)
}

// undoChain passes cells back along path, last first.
func (s *splitter) undoChain(p *Partition, areas [][]int32, cells, path []int32) {
	for i := len(cells) - 1; i >= 0; i-- {
		s.pass(p, areas, cells[i], path[i])
	}
}

// touching returns the areas other than u next to area (u's cells), in
// order of area number.
func (s *splitter) touching(owner []int32, area []int32, u int32) []int32 {
	var out []int32
	for _, c := range area {
		for _, n := range s.nbr[c] {
			if n >= 0 && owner[n] != u {
				out = append(out, owner[n])
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sumSquares(load []float64) float64 {
	var sum float64
	for _, l := range load {
		sum += l * l
	}
	return sum
}
