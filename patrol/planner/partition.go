package planner

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/patrolgrid/patrolgrid/geo"
)

// Partition is a split of a grid's cells into k contiguous areas.
type Partition struct {
	// Owner is the area of each cell, by grid number.
	Owner []int32
	// Load is the workload of each area: the sum of its cells' weights.
	Load []float64
	// Sites are the cells the areas grew from, one per area.
	Sites []int32
}

// Ratio returns the largest load over the smallest, +Inf when an area
// has none.
func (p Partition) Ratio() float64 {
	lo, hi := slices.Min(p.Load), slices.Max(p.Load)
	if lo <= 0 {
		return math.Inf(1)
	}
	return hi / lo
}

// PartitionConfig tunes Split.
type PartitionConfig struct {
	// Balance is the largest ratio of the heaviest area's load to the
	// lightest's that refinement aims for; default 1.10.
	Balance float64
	// Seed draws the first sites; the same seed gives the same partition.
	Seed uint64
	// Progress, when not nil, is called with the share (0 to 1) of the
	// work done.
	Progress func(done float64)
}

// ErrPartition is matched by the errors of Split about its input.
var ErrPartition = errors.New("planner: partition")

// The rounds of Split.
const (
	growRounds  = 120 // of weighted growth, each nudging the areas' head starts
	lloydRounds = 40  // of those, the first that move each site to its area's centroid
	refineMoves = 200 // per area: the most single-cell moves refinement makes
)

// Split cuts the cells of l's grid into k contiguous areas of about equal
// load, weight[i] being cell i's workload. Areas grow from k sites drawn by
// weight (k-means++) along the lattice, each with a head start that
// shrinks while its area is heavier than the mean (a weighted Voronoi
// diagram, grown by one multi-source Dijkstra a round, so every area is
// contiguous), the sites moving to their areas' weighted centroids in the
// first rounds; the most balanced round is then refined by moving single
// cells across borders, from the heavier area to the lighter, where the
// donor stays contiguous, smoothing borders first (see refine), until the
// ratio of the heaviest to the lightest load is within cfg.Balance or no
// move helps; where that stalls because single cells weigh more than the
// difference between touching areas (as on a road network, where a cell
// weighs its length of street), the heaviest and the lightest areas pass
// load along chains of touching areas as a redesign does (see rebalance),
// without a budget of moved cells.
func Split(l *geo.Lattice, weight []float64, k int, cfg PartitionConfig) (Partition, error) {
	g := l.Grid()
	n := g.Len()
	switch {
	case len(weight) != n:
		return Partition{}, fmt.Errorf("%w: %d weights for %d cells", ErrPartition, len(weight), n)
	case k < 1 || k > n:
		return Partition{}, fmt.Errorf("%w: %d areas of %d cells", ErrPartition, k, n)
	}
	if cfg.Balance == 0 {
		cfg.Balance = 1.10
	}
	s := newSplitter(l, weight)
	if err := s.connected(); err != nil {
		return Partition{}, err
	}
	sites := s.seeds(rand.New(rand.NewPCG(cfg.Seed, 0x70617472)), k)
	best := s.grow(sites, cfg.Progress)
	s.refine(&best, cfg.Balance, cfg.Progress)
	s.rebalance(&best, slices.Clone(best.Owner), math.MaxInt, cfg.Balance)
	if cfg.Progress != nil {
		cfg.Progress(1)
	}
	return best, nil
}

// splitter holds the lattice and weights a Split works on.
type splitter struct {
	nbr    [][6]int32
	xy     [][2]float64 // cell centres in metres, east and north
	weight []float64
	total  float64
}

func newSplitter(l *geo.Lattice, weight []float64) *splitter {
	g := l.Grid()
	s := &splitter{nbr: make([][6]int32, g.Len()), xy: make([][2]float64, g.Len()), weight: weight}
	origin := geo.CellCenter(g.Cell(0))
	for i := range s.nbr {
		s.nbr[i] = l.Neighbors(int32(i))
		c := geo.CellCenter(g.Cell(int32(i)))
		s.xy[i] = [2]float64{
			float64(geo.Distance(origin, [2]float64{c[0], origin[1]})) * math.Copysign(1, c[0]-origin[0]),
			float64(geo.Distance(origin, [2]float64{origin[0], c[1]})) * math.Copysign(1, c[1]-origin[1]),
		}
		s.total += weight[i]
	}
	return s
}

// connected fails unless the grid's cells form one piece.
func (s *splitter) connected() error {
	seen := make([]bool, len(s.nbr))
	if got := s.flood(0, seen, func(int32) bool { return true }); got != len(s.nbr) {
		return fmt.Errorf("%w: only %d of the grid's %d cells join the first: the city is in pieces", ErrPartition, got, len(s.nbr))
	}
	return nil
}

// flood marks seen the cells joined to start through cells in accepts,
// and returns how many it marked.
func (s *splitter) flood(start int32, seen []bool, in func(int32) bool) int {
	stack, count := []int32{start}, 1
	seen[start] = true
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range s.nbr[c] {
			if j >= 0 && !seen[j] && in(j) {
				seen[j] = true
				count++
				stack = append(stack, j)
			}
		}
	}
	return count
}

func (s *splitter) dist(i, j int32) float64 {
	return math.Hypot(s.xy[i][0]-s.xy[j][0], s.xy[i][1]-s.xy[j][1])
}

// seeds draws k sites, each with probability proportional to its weight
// times the squared distance to the nearest site drawn (k-means++).
func (s *splitter) seeds(rng *rand.Rand, k int) []int32 {
	near := make([]float64, len(s.nbr))
	for i := range near {
		near[i] = math.Inf(1)
	}
	sites := make([]int32, 0, k)
	w := make([]float64, len(near))
	for range k {
		var sum float64
		for i, d := range near {
			w[i] = s.weight[i] + 1e-9
			if !math.IsInf(d, 1) {
				w[i] *= d * d
			}
			sum += w[i]
		}
		u, site := rng.Float64()*sum, int32(len(w)-1)
		for i, x := range w {
			if u < x {
				site = int32(i)
				break
			}
			u -= x
		}
		sites = append(sites, site)
		for i := range near {
			near[i] = min(near[i], s.dist(int32(i), site))
		}
	}
	return sites
}

// grow runs the rounds of weighted growth and returns the most balanced.
func (s *splitter) grow(sites []int32, progress func(float64)) Partition {
	k := len(sites)
	offset := make([]float64, k)
	mean := s.total / float64(k)
	var best Partition
	for r := range growRounds {
		owner := s.assign(sites, offset)
		load := s.loads(owner, k)
		p := Partition{Owner: owner, Load: load, Sites: slices.Clone(sites)}
		if r >= lloydRounds && (best.Owner == nil || spread(load) < spread(best.Load)) {
			best = p
		}
		step := 200 * (1 - float64(r)/growRounds) // metres of head start
		for u := range offset {
			offset[u] += step * math.Max(-1, math.Min(1, load[u]/mean-1))
		}
		least := slices.Min(offset)
		for u := range offset {
			offset[u] -= least
		}
		if r < lloydRounds {
			s.centroids(owner, sites)
		}
		if progress != nil {
			progress(0.5 * float64(r+1) / growRounds)
		}
	}
	return best
}

// spread is the largest load less the smallest.
func spread(load []float64) float64 { return slices.Max(load) - slices.Min(load) }

// assign gives each cell to the site that reaches it first along the
// lattice, each site starting offset[u] metres late; ties go to the lower
// site number, then the lower cell, so the result depends on nothing else.
func (s *splitter) assign(sites []int32, offset []float64) []int32 {
	owner := make([]int32, len(s.nbr))
	cost := make([]float64, len(s.nbr))
	for i := range owner {
		owner[i], cost[i] = -1, math.Inf(1)
	}
	h := &offerHeap{}
	done := make([]bool, len(s.nbr))
	for u, c := range sites { // a site is its own area's, however late it starts
		done[c], owner[c], cost[c] = true, int32(u), offset[u]
	}
	for u, c := range sites {
		s.offer(h, owner, cost, done, offer{cost: offset[u], unit: int32(u), cell: c})
	}
	for h.Len() > 0 {
		o := heap.Pop(h).(offer)
		if done[o.cell] {
			continue
		}
		done[o.cell], owner[o.cell] = true, o.unit
		s.offer(h, owner, cost, done, o)
	}
	return owner
}

// offer bids for the neighbours of o's cell that are not taken yet.
func (s *splitter) offer(h *offerHeap, owner []int32, cost []float64, done []bool, o offer) {
	for _, j := range s.nbr[o.cell] {
		if j < 0 || done[j] {
			continue
		}
		if c := o.cost + s.dist(o.cell, j); c < cost[j] || c == cost[j] && o.unit < owner[j] {
			cost[j], owner[j] = c, o.unit
			heap.Push(h, offer{cost: c, unit: o.unit, cell: j})
		}
	}
}

// loads returns the load of each of k areas.
func (s *splitter) loads(owner []int32, k int) []float64 {
	load := make([]float64, k)
	for i, u := range owner {
		load[u] += s.weight[i]
	}
	return load
}

// centroids moves each site to its area's cell nearest the area's
// weighted centroid.
func (s *splitter) centroids(owner []int32, sites []int32) {
	sum := make([][3]float64, len(sites))
	for i, u := range owner {
		w := s.weight[i] + 1e-9
		sum[u][0] += w * s.xy[i][0]
		sum[u][1] += w * s.xy[i][1]
		sum[u][2] += w
	}
	best := make([]float64, len(sites))
	for u := range best {
		best[u] = math.Inf(1)
	}
	for i, u := range owner {
		c := sum[u]
		if d := math.Hypot(s.xy[i][0]-c[0]/c[2], s.xy[i][1]-c[1]/c[2]); d < best[u] {
			best[u], sites[u] = d, int32(i)
		}
	}
}

// offer is a site's bid for a cell at a cost in metres.
type offer struct {
	cost       float64
	unit, cell int32
}

type offerHeap []offer

func (h offerHeap) Len() int { return len(h) }
func (h offerHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	if a.unit != b.unit {
		return a.unit < b.unit
	}
	return a.cell < b.cell
}
func (h offerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *offerHeap) Push(x any)   { *h = append(*h, x.(offer)) }
func (h *offerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// refineSweeps bounds the sweeps of refine over the grid.
const refineSweeps = 60

// refine balances p by diffusion: sweep after sweep, each cell on a border
// passes from its area to the lightest neighbouring one when that is
// lighter by more than the cell's weight, unless it is its area's site or
// its area would fall apart without it, until the ratio of the heaviest
// to the lightest load is within balance. While a sweep still moves
// something, only cells with at least as many neighbours in the lighter
// area as in their own move, which smooths borders instead of fraying
// them; after that any border cell may.
func (s *splitter) refine(p *Partition, balance float64, progress func(float64)) {
	site := make([]bool, len(s.nbr))
	for _, c := range p.Sites {
		site[c] = true
	}
	seen := make([]bool, len(s.nbr))
	smooth := true // first only cells with as many neighbours in the lighter area as in their own
	for sweep := 0; sweep < refineSweeps && p.Ratio() > balance; sweep++ {
		moved := 0
		for i := range s.nbr {
			c := int32(i)
			d := p.Owner[c]
			if site[c] {
				continue
			}
			r := s.lightestNeighbour(p, c)
			if r < 0 || p.Load[d]-p.Load[r] <= s.weight[c]*(1+1e-9) || smooth && s.around(p.Owner, c, r) < s.around(p.Owner, c, d) ||
				!s.canLeave(p.Owner, c, seen) {
				continue
			}
			p.Owner[c] = r
			p.Load[d] -= s.weight[c]
			p.Load[r] += s.weight[c]
			moved++
		}
		if progress != nil {
			progress(0.5 + 0.5*float64(sweep+1)/refineSweeps)
		}
		if moved == 0 && !smooth {
			break
		}
		if moved == 0 {
			smooth = false
		}
	}
}

// around returns how many of c's neighbours are in area u.
func (s *splitter) around(owner []int32, c, u int32) int {
	n := 0
	for _, j := range s.nbr[c] {
		if j >= 0 && owner[j] == u {
			n++
		}
	}
	return n
}

// lightestNeighbour returns the area of lowest load among those of c's
// neighbours that are not c's own, -1 when c is inside its area.
func (s *splitter) lightestNeighbour(p *Partition, c int32) int32 {
	best := int32(-1)
	for _, j := range s.nbr[c] {
		if j < 0 {
			continue
		}
		if u := p.Owner[j]; u != p.Owner[c] && (best < 0 || p.Load[u] < p.Load[best] || p.Load[u] == p.Load[best] && u < best) {
			best = u
		}
	}
	return best
}

// canLeave reports whether c's area stays in one piece without c: every
// neighbour of c in the area is joined to the first through the area
// without c. seen is scratch space, all false on entry and on return.
func (s *splitter) canLeave(owner []int32, c int32, seen []bool) bool {
	u := owner[c]
	var inside []int32
	for _, j := range s.nbr[c] {
		if j >= 0 && owner[j] == u {
			inside = append(inside, j)
		}
	}
	if len(inside) == 0 {
		return false // c is the whole area
	}
	if len(inside) == 1 {
		return true
	}
	seen[c] = true
	var marked []int32
	stack := []int32{inside[0]}
	seen[inside[0]] = true
	marked = append(marked, c, inside[0])
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range s.nbr[x] {
			if j >= 0 && !seen[j] && owner[j] == u {
				seen[j] = true
				marked = append(marked, j)
				stack = append(stack, j)
			}
		}
	}
	ok := true
	for _, j := range inside {
		ok = ok && seen[j]
	}
	for _, j := range marked {
		seen[j] = false
	}
	return ok
}
