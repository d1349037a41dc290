package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/patrolgrid/patrolgrid/geo"
)

// The rounds of the partition.
const (
	balanceRounds = 150 // rounds of each phase that balance the areas' loads
	lloydRounds   = 60  // of those, the first rounds that move the other units' sites
)

// partitioner splits the grid's cells into contiguous unit areas of about
// equal demand: areas grow from their sites by a multi-source Dijkstra over
// the cell lattice, each site with a head start that shrinks when its area
// holds too much demand, and the sites move to their areas' demand
// centroids (Lloyd's method). Growing along shortest paths keeps every area
// contiguous.
type partitioner struct {
	nbr    [][6]int32   // neighbour numbers, -1 where the grid ends
	hop    [][6]float64 // metres to each neighbour
	xy     [][2]float64 // cell centres, metres east and north of the centre
	demand []float64
}

func newPartitioner(l *geo.Lattice, demand []float64) *partitioner {
	g := l.Grid()
	n := g.Len()
	p := &partitioner{nbr: make([][6]int32, n), hop: make([][6]float64, n), xy: make([][2]float64, n), demand: demand}
	for i := range n {
		p.nbr[i] = l.Neighbors(int32(i))
		x, y := toXY(geo.CellCenter(g.Cell(int32(i))))
		p.xy[i] = [2]float64{x, y}
	}
	for i := range n {
		for k, j := range p.nbr[i] {
			if j >= 0 {
				p.hop[i][k] = p.dist(int32(i), j)
			}
		}
	}
	return p
}

func (p *partitioner) dist(i, j int32) float64 {
	return math.Hypot(p.xy[i][0]-p.xy[j][0], p.xy[i][1]-p.xy[j][1])
}

// connected reports whether the grid's cells form one connected piece.
func (p *partitioner) connected() error {
	all := make([]int32, len(p.nbr))
	if n := p.reach(all, 0, 0); n != len(all) {
		return fmt.Errorf("boundary cells: %d of %d connected to the first", n, len(all))
	}
	return nil
}

// reach counts the cells reachable from cell start through cells i with
// owner[i] == u.
func (p *partitioner) reach(owner []int32, start int32, u int32) int {
	seen := map[int32]bool{start: true}
	queue := []int32{start}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range p.nbr[i] {
			if j >= 0 && !seen[j] && owner[j] == u {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	return len(seen)
}

// seeds returns first followed by k more cells drawn, among the cells
// allow accepts, with probability proportional to demand times the squared
// distance to the nearest cell drawn or given so far (k-means++).
func (p *partitioner) seeds(rng *rand.Rand, first []int32, k int, allow func(int32) bool) []int32 {
	sites := slices.Clone(first)
	near := make([]float64, len(p.xy))
	for i := range near {
		near[i] = math.Inf(1)
	}
	for _, s := range sites {
		p.closer(near, s)
	}
	w := make([]float64, len(p.xy))
	for range k {
		for i, d := range near {
			switch {
			case !allow(int32(i)):
				w[i] = 0
			case math.IsInf(d, 1): // no site yet
				w[i] = p.demand[i]
			default:
				w[i] = p.demand[i] * d * d
			}
		}
		s := int32(pick(rng, w))
		sites = append(sites, s)
		p.closer(near, s)
	}
	return sites
}

// closer lowers near[i] to the distance from cell i to site s where that
// is shorter.
func (p *partitioner) closer(near []float64, s int32) {
	for i := range near {
		near[i] = min(near[i], p.dist(int32(i), s))
	}
}

// run partitions the grid in two phases. First the beat units' areas
// share the cells beat accepts, each zone's cells evenly among its beats.
// Then the other units' areas share the rest, each balanced toward its
// share of the demand left, their sites moving to their areas' demand
// centroids unless fixed. run returns the owner of each cell and updates
// the sites that moved.
func (p *partitioner) run(sites []site, beat func(int32) bool) []int32 {
	cells := make([]int32, len(sites))
	var beats, others []int32
	for u, s := range sites {
		cells[u] = s.cell
		if s.beat {
			beats = append(beats, int32(u))
		} else {
			others = append(others, int32(u))
		}
	}
	base := make([]int32, len(p.xy))
	for i := range base {
		base[i] = -1
	}
	base = p.balance(sites, cells, beats, base, beat, 0, beatLoads)
	all := func(int32) bool { return true }
	owner := p.balance(sites, cells, others, base, all, lloydRounds, p.relativeLoads)
	p.centres(owner, sites, cells)
	for u := range sites {
		sites[u].cell = cells[u]
	}
	return owner
}

// balance grows the areas of units over the cells base leaves unowned and
// allow accepts, for balanceRounds rounds, each round giving a unit whose
// load (by loads: 1 is on target) is too high less of a head start. In the
// first moveRounds rounds, the sites that are not fixed move to their
// areas' demand centroids (Lloyd's method). After those, the most balanced
// assignment seen wins.
func (p *partitioner) balance(sites []site, cells, units, base []int32, allow func(int32) bool,
	moveRounds int, loads func([]int32, []site) []float64) []int32 {
	offset := make([]float64, len(sites))
	var best []int32
	bestSpread := math.Inf(1)
	for r := range balanceRounds {
		owner := p.assign(cells, units, offset, base, allow)
		load := loads(owner, sites)
		if spread := spreadOf(load, units); r >= moveRounds && spread < bestSpread {
			best, bestSpread = owner, spread
		}
		gain := 150 * (1 - float64(r)/balanceRounds) // metres of head start per round
		least := math.Inf(1)
		for _, u := range units {
			offset[u] += gain * math.Max(-1, math.Min(1, load[u]-1))
			least = min(least, offset[u])
		}
		for _, u := range units {
			offset[u] -= least
		}
		if r < moveRounds {
			p.centres(owner, sites, cells)
		}
	}
	return best
}

// beatLoads returns, per beat site, the cells of its area over its even
// share of its zone's cells; other sites get 1.
func beatLoads(owner []int32, sites []site) []float64 {
	area := make([]float64, len(sites))
	for _, u := range owner {
		if u >= 0 && sites[u].beat {
			area[u]++
		}
	}
	inZone := map[int]float64{} // cells of beat areas per zone
	beats := map[int]float64{}  // beat units per zone
	for u, s := range sites {
		if s.beat {
			inZone[s.zone] += area[u]
			beats[s.zone]++
		}
	}
	loads := make([]float64, len(sites))
	for u, s := range sites {
		if loads[u] = 1; s.beat {
			loads[u] = area[u] / (inZone[s.zone] / beats[s.zone])
		}
	}
	return loads
}

// spreadOf returns the largest minus the smallest of loads[u] over units.
func spreadOf(loads []float64, units []int32) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, u := range units {
		lo, hi = min(lo, loads[u]), max(hi, loads[u])
	}
	return hi - lo
}

// relativeLoads returns, per site that is not a beat unit's, the demand in
// its area over its share (by capacity) of the demand outside the beat
// units' areas, so 1 is a perfect balance; beat units get 1.
func (p *partitioner) relativeLoads(owner []int32, sites []site) []float64 {
	var capSum, total float64
	for _, s := range sites {
		if !s.beat {
			capSum += capacity(s.mech)
		}
	}
	raw := p.loads(owner, len(sites))
	loads := make([]float64, len(sites))
	for u, s := range sites {
		if !s.beat {
			total += raw[u]
		}
	}
	for u, s := range sites {
		if loads[u] = 1; !s.beat {
			loads[u] = raw[u] / (total * capacity(s.mech) / capSum)
		}
	}
	return loads
}

// assign grows the areas of units from their sites over the cells that
// base leaves unowned (-1) and allow accepts: each site goes to its own
// unit, and every other such cell to the unit u that minimises offset[u]
// plus the lattice distance from its site, ties to the lower unit number.
// Cells no unit reaches stay unowned.
func (p *partitioner) assign(cells, units []int32, offset []float64, base []int32, allow func(int32) bool) []int32 {
	owner := slices.Clone(base)
	best := make([]growItem, len(p.xy))
	for i := range best {
		best[i] = growItem{cost: math.Inf(1)}
	}
	for _, u := range units {
		owner[cells[u]] = u
	}
	var h growHeap
	for _, u := range units {
		p.grow(&h, owner, best, growItem{cost: offset[u], unit: u, cell: cells[u]}, allow)
	}
	for len(h) > 0 {
		it := h.pop()
		if owner[it.cell] >= 0 || it != best[it.cell] {
			continue // taken, or a stale entry
		}
		owner[it.cell] = it.unit
		p.grow(&h, owner, best, it, allow)
	}
	return owner
}

// grow offers the unowned neighbours of it's cell that allow accepts to
// it's unit.
func (p *partitioner) grow(h *growHeap, owner []int32, best []growItem, it growItem, allow func(int32) bool) {
	for k, j := range p.nbr[it.cell] {
		if j < 0 || owner[j] >= 0 || !allow(j) {
			continue
		}
		if next := (growItem{cost: it.cost + p.hop[it.cell][k], unit: it.unit, cell: j}); next.less(best[j]) {
			best[j] = next
			h.push(next)
		}
	}
}

// loads returns the demand in each of the k areas.
func (p *partitioner) loads(owner []int32, k int) []float64 {
	load := make([]float64, k)
	for i, u := range owner {
		if u >= 0 {
			load[u] += p.demand[i]
		}
	}
	return load
}

// centres moves each site that is not fixed, in cells, to its area's cell
// nearest the area's demand centroid; an area that lost all its cells
// keeps its site.
func (p *partitioner) centres(owner []int32, sites []site, cells []int32) {
	k := len(sites)
	sum := make([][3]float64, k) // demand-weighted x, y and total
	for i, u := range owner {
		if u < 0 {
			continue
		}
		d := p.demand[i]
		sum[u][0] += d * p.xy[i][0]
		sum[u][1] += d * p.xy[i][1]
		sum[u][2] += d
	}
	bestD := make([]float64, k)
	for u := range bestD {
		bestD[u] = math.Inf(1)
	}
	for i, u := range owner {
		if u < 0 || sites[u].fixed {
			continue
		}
		cx, cy := sum[u][0]/sum[u][2], sum[u][1]/sum[u][2]
		if d := math.Hypot(p.xy[i][0]-cx, p.xy[i][1]-cy); d < bestD[u] {
			cells[u], bestD[u] = int32(i), d
		}
	}
}

// contiguous reports a cell without an area, and an area that is empty or
// in more than one piece.
func (p *partitioner) contiguous(owner []int32, k int) error {
	size := make([]int, k)
	first := make([]int32, k)
	for i := len(owner) - 1; i >= 0; i-- {
		if owner[i] < 0 {
			return fmt.Errorf("cell %d has no area", i)
		}
		size[owner[i]]++
		first[owner[i]] = int32(i)
	}
	for u := range k {
		if size[u] == 0 {
			return fmt.Errorf("area %d is empty", u)
		}
		if n := p.reach(owner, first[u], int32(u)); n != size[u] {
			return fmt.Errorf("area %d is not contiguous: %d of %d cells connected", u, n, size[u])
		}
	}
	return nil
}
