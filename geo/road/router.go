package road

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

// offNetwork is the type of ErrOffNetwork, so that it also matches
// ErrOffGrid for callers that only know the Router contract.
type offNetwork struct{}

func (offNetwork) Error() string        { return "road: no road within snapping distance" }
func (offNetwork) Is(target error) bool { return target == geo.ErrOffGrid }

// ErrOffNetwork is returned by a Router for a point farther than the
// snapping distance from every road its profile may use: the unit is off
// the network. errors.Is(err, ErrOffGrid) holds for it too.
var ErrOffNetwork error = offNetwork{}

// ErrNoRoadProfile is returned for a profile the road network has no
// graph for.
var ErrNoProfile = errors.New("road: no road graph for profile")

// DefaultSnapRadius is the snapping distance used when none is set.
const DefaultSnapRadius geo.Meters = 200

// RouterConfig configures a Router. The zero value is the default.
type RouterConfig struct {
	// SnapRadius is how far a point may lie from the nearest usable road
	// and still be placed on it; 0 means DefaultSnapRadius.
	SnapRadius geo.Meters
	// Band is the time-of-day band whose speed factor applies ("peak",
	// "off-peak", "night"); "" applies none. A profile without the band
	// travels at its base speeds.
	Band string
	// Fallback, when not nil, answers for the profiles the network has no
	// graph for (a lattice over the same grid, say); nil makes them fail
	// with ErrNoRoadProfile. It must number cells by the same Grid.
	Fallback geo.Router
}

// Router is the Router of a road network over a Grid: isochrones run
// a bounded Dijkstra on the graph of the profile named by Profile.Name
// from the point snapped onto it, and a cell's ETA is the earliest time
// any road in it is reached, partially travelled edges at the limit
// included. Speeds come from the road profiles; Profile's SpeedKPH and
// Detour are not used. Roads outside the grid are travelled; their cells
// are not reported. A Router is immutable and safe for concurrent
// use; each caller brings its own Search.
type Router struct {
	grid     *geo.Grid
	radius   geo.Meters
	graphs   []routedGraph
	fallback geo.Router
}

// routedGraph is one profile's graph with its edges' cell crossings.
type routedGraph struct {
	g          *Graph
	factor     float64 // time-of-day speed factor
	crossFirst []int32 // crossings of edge e: cross[crossFirst[e]:crossFirst[e+1]]
	cross      []crossing
	// The cells reached along the arcs out of node i, with the time from
	// i to each, are out[outFirst[i]:outFirst[i+1]].
	outFirst []int32
	out      []cellOffset
	inFirst  []int32 // arcs into node i, for ETAsTo: in[inFirst[i]:inFirst[i+1]]
	in       []arc
}

// cellOffset is a cell reached along an arc, dt after leaving its node.
type cellOffset struct {
	dt   time.Duration
	cell int32
}

// crossing is a stretch of an edge inside one grid cell, as fractions of
// the edge's length from its first node.
type crossing struct {
	cell        int32
	enter, exit float32
}

// NewRouter returns the router of net's graphs over grid. It finds
// the grid cells every edge crosses, sampling each shape at a quarter of
// the grid's average cell edge length.
func NewRouter(net *Network, grid *geo.Grid, cfg RouterConfig) *Router {
	r := &Router{grid: grid, radius: cfg.SnapRadius, fallback: cfg.Fallback}
	if r.radius <= 0 {
		r.radius = DefaultSnapRadius
	}
	for _, g := range net.Graphs {
		first, cross := edgeCrossings(g, grid)
		rg := routedGraph{g: g, factor: bandFactor(g, cfg.Band), crossFirst: first, cross: cross}
		rg.outFirst, rg.out = nodeOffsets(g, first, cross)
		rg.inFirst, rg.in = reverseArcs(g)
		r.graphs = append(r.graphs, rg)
	}
	return r
}

// Grid returns the grid reach results are numbered by.
func (r *Router) Grid() *geo.Grid { return r.grid }

// WithBand returns a router over the same graphs and cells whose speeds
// are scaled by time-of-day band ("" for none), as RouterConfig.Band
// does. It shares everything but the factors, so switching bands as the
// hours turn costs next to nothing.
func (r *Router) WithBand(band string) *Router {
	out := *r
	out.graphs = make([]routedGraph, len(r.graphs))
	for i, rg := range r.graphs {
		rg.factor = bandFactor(rg.g, band)
		out.graphs[i] = rg
	}
	return &out
}

// bandFactor returns g's speed factor in band, 1 for "" or a band g's
// profile does not have.
func bandFactor(g *Graph, band string) float64 {
	if b, ok := g.Bands[band]; ok && band != "" {
		return b.Factor
	}
	return 1
}

func (r *Router) graph(name string) (*routedGraph, error) {
	for i := range r.graphs {
		if r.graphs[i].g.Name == name {
			return &r.graphs[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrNoProfile, name)
}

// Snap places p (lon, lat) on the nearest road of profile's graph. It
// returns ErrOffNetwork when no road is within the snapping distance.
func (r *Router) Snap(p orb.Point, profile string) (Snap, error) {
	rg, err := r.graph(profile)
	if err != nil {
		return Snap{}, err
	}
	sn, ok := rg.g.Snap(p, r.radius)
	if !ok {
		return Snap{}, ErrOffNetwork
	}
	return sn, nil
}

// Isochrone appends to dst every grid cell reachable from (lon, lat)
// point from within limit on the road graph of profile p.Name, with its
// earliest arrival time, in the order the search first touched them
// (roughly, not strictly, by arrival). The trip starts on the road
// nearest from; the way from from to that road costs nothing. It returns
// ErrOffNetwork when no road is near enough and, without a Fallback,
// ErrNoRoadProfile for a profile without a graph. After the first call on a graph it allocates
// nothing but dst's growth.
func (r *Router) Isochrone(s *geo.Search, from orb.Point, p geo.Profile, limit time.Duration, dst []geo.Reach) ([]geo.Reach, error) {
	rg, err := r.graph(p.Name)
	if err != nil {
		if r.fallback != nil {
			return r.fallback.Isochrone(s, from, p, limit, dst)
		}
		return dst, err
	}
	sn, ok := rg.g.Snap(from, r.radius)
	if !ok {
		return dst, ErrOffNetwork
	}
	return rg.isochrone(s, sn, r.grid.Len(), limit, dst), nil
}

// isochrone runs the bounded Dijkstra from sn. Nodes are numbered 0..n-1
// in s, and cell i of the grid is n+i: s holds both node times and
// cell times, in base (unscaled) travel time.
func (rg *routedGraph) isochrone(s *geo.Search, sn Snap, cells int, limit time.Duration, dst []geo.Reach) []geo.Reach {
	g := rg.g
	n := int32(len(g.nodes))
	s.Reset(int(n) + cells)
	start := len(dst)
	base := time.Duration(float64(limit) * rg.factor)
	dst = rg.startEdge(s, sn, n, base, dst)
	for {
		node, at, ok := s.Next()
		if !ok {
			break
		}
		for _, a := range g.arcs[g.first[node]:g.first[node+1]] {
			if !s.Done(a.to) {
				if t := at + a.cost; t <= base {
					s.Push(a.to, t)
				}
			}
		}
		for _, c := range rg.out[rg.outFirst[node]:rg.outFirst[node+1]] {
			if t := at + c.dt; t <= base {
				dst = reachCell(s, n+c.cell, t, dst)
			}
		}
	}
	return rg.finishReach(s, n, start, dst)
}

// startEdge seeds the search from a point partway along an edge: the
// edge's ends at the cost of the rest of the edge in each open direction,
// and the cells of the edge itself.
func (rg *routedGraph) startEdge(s *geo.Search, sn Snap, n int32, limit time.Duration, dst []geo.Reach) []geo.Reach {
	ed := rg.g.edges[sn.Edge]
	f := sn.Fraction
	crs := rg.cross[rg.crossFirst[sn.Edge]:rg.crossFirst[sn.Edge+1]]
	rg.seed(s, sn, true, limit)
	if ed.fwdKPH > 0 {
		full := travel(float64(ed.length), ed.fwdKPH)
		for _, c := range crs {
			if float64(c.exit) >= f {
				if t := time.Duration(max(0, float64(c.enter)-f) * float64(full)); t <= limit {
					dst = reachCell(s, n+c.cell, t, dst)
				}
			}
		}
	}
	if ed.bwdKPH > 0 {
		full := travel(float64(ed.length), ed.bwdKPH)
		for _, c := range crs {
			if float64(c.enter) <= f {
				if t := time.Duration(max(0, f-float64(c.exit)) * float64(full)); t <= limit {
					dst = reachCell(s, n+c.cell, t, dst)
				}
			}
		}
	}
	return dst
}

// endSnap is how close to an edge's end a snapped point counts as being
// at that node, free to take any road out of it.
const endSnap geo.Meters = 1

// seed queues the ends of sn's edge at their times from sn (leaving) or
// to it, those within limit.
func (rg *routedGraph) seed(s *geo.Search, sn Snap, leaving bool, limit time.Duration) {
	rg.ends(sn, leaving, func(node int32, t time.Duration) {
		if t <= limit {
			s.Push(node, t)
		}
	})
}

// reachCell records that slot i (a cell) is reached at t, appending it to
// dst the first time.
func reachCell(s *geo.Search, i int32, t time.Duration, dst []geo.Reach) []geo.Reach {
	if s.Offer(i, t) {
		return append(dst, geo.Reach{Cell: i, ETA: t})
	}
	return dst
}

// finishReach turns the slots appended since start into cell numbers
// with their final, band-scaled ETAs.
func (rg *routedGraph) finishReach(s *geo.Search, n int32, start int, dst []geo.Reach) []geo.Reach {
	out := dst[start:]
	for i := range out {
		slot := out[i].Cell
		out[i] = geo.Reach{Cell: slot - n, ETA: time.Duration(float64(s.ETA(slot)) / rg.factor)}
	}
	return dst
}

// edgeCrossings returns, per edge of g, the grid cells its shape passes
// through with the fractions of the edge's length at which it enters and
// leaves each, found by sampling the shape every quarter of a cell edge.
// Cells outside the grid are left out.
func edgeCrossings(g *Graph, grid *geo.Grid) (first []int32, cross []crossing) {
	step := HexagonEdge(grid.Resolution()) / 4
	bound := grid.Bound()
	rings := cellRings{grid: grid, m: map[h3.Cell]*cellRing{}}
	first = make([]int32, len(g.edges)+1)
	for e, ed := range g.edges {
		if orb.LineString(g.shape[ed.shape0:ed.shape1]).Bound().Intersects(bound) {
			cross = appendCrossings(cross, g, int32(e), &rings, step)
		}
		first[e+1] = int32(len(cross))
	}
	return first, cross
}

// nodeOffsets lays out, node by node, the cells reached along each arc
// leaving the node with the time from the node to each: the crossing's
// entry into the cell, measured from whichever end the arc leaves.
func nodeOffsets(g *Graph, first []int32, cross []crossing) ([]int32, []cellOffset) {
	outFirst := make([]int32, len(g.nodes)+1)
	var out []cellOffset
	for u := range g.nodes {
		for _, a := range g.arcs[g.first[u]:g.first[u+1]] {
			e, back := a.edge&^arcBack, a.edge < 0
			for _, c := range cross[first[e]:first[e+1]] {
				frac := float64(c.enter)
				if back {
					frac = 1 - float64(c.exit)
				}
				out = append(out, cellOffset{dt: time.Duration(frac * float64(a.cost)), cell: c.cell})
			}
		}
		outFirst[u+1] = int32(len(out))
	}
	return outFirst, out
}

// HexagonEdge returns the average edge length of H3 cells at resolution
// res, in [0, 15].
func HexagonEdge(res int) geo.Meters {
	return geo.Meters(h3.HexagonEdgeLengthAvgM(res))
}

// crossingBisections refines each cell boundary found between two shape
// samples by halving: a sample step of 16 m places it within 0.5 m.
const crossingBisections = 5

func appendCrossings(cross []crossing, g *Graph, e int32, rings *cellRings, step geo.Meters) []crossing {
	ed := g.edges[e]
	total := float64(ed.length)
	res := rings.grid.Resolution()
	cur := &cellRing{}
	enter, along := 0.0, 0.0
	emit := func(exit float64) {
		if cur.index >= 0 && cur.cell != 0 {
			cross = append(cross, crossing{cell: cur.index, enter: frac32(enter, total), exit: frac32(exit, total)})
		}
	}
	for s := ed.shape0; s+1 < ed.shape1; s++ {
		a, b := g.shape[s], g.shape[s+1]
		at := func(t float64) orb.Point { return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])} }
		seg := float64(geo.Distance(a, b))
		k := max(1, int(math.Ceil(seg/float64(step))))
		i0 := 1
		if s == ed.shape0 {
			i0 = 0
		}
		for i := i0; i <= k; i++ {
			t := float64(i) / float64(k)
			p := at(t)
			if cur.cell != 0 && cur.holds(p) {
				continue
			}
			c := geo.Cell(p, res)
			if c == cur.cell {
				continue
			}
			if cur.cell == 0 {
				cur = rings.get(c)
				continue
			}
			lo, hi := float64(i-1)/float64(k), t
			for range crossingBisections {
				if mid := (lo + hi) / 2; cur.holds(at(mid)) {
					lo = mid
				} else {
					hi = mid
				}
			}
			emit(along + hi*seg)
			cur, enter = rings.get(c), along+hi*seg
		}
		along += seg
	}
	emit(total)
	return cross
}

// cellRing is an H3 cell with its boundary, to test points against it
// without calling into H3; index is its grid number, -1 off the grid.
type cellRing struct {
	cell  h3.Cell
	index int32
	ring  orb.Ring
	bound orb.Bound
}

// cellRings caches the rings of the cells edges pass through.
type cellRings struct {
	grid *geo.Grid
	m    map[h3.Cell]*cellRing
}

func (rs *cellRings) get(c h3.Cell) *cellRing {
	if r, ok := rs.m[c]; ok {
		return r
	}
	ring := geo.CellPolygon(c)[0]
	i, ok := rs.grid.Index(c)
	if !ok {
		i = -1
	}
	r := &cellRing{cell: c, index: i, ring: ring, bound: ring.Bound()}
	rs.m[c] = r
	return r
}

// holds reports whether p (lon, lat) lies inside the cell, treating its
// edges as straight in degrees: over a cell of a city-scale resolution
// the difference from H3's great-circle edges is far below a metre.
func (r *cellRing) holds(p orb.Point) bool {
	return r.bound.Contains(p) && planar.RingContains(r.ring, p)
}

// frac32 returns x/total clamped to [0, 1], 0 when total is 0.
func frac32(x, total float64) float32 {
	if total <= 0 {
		return 0
	}
	return float32(max(0, min(1, x/total)))
}

// DriveTime returns the shortest travel time from (lon, lat) point from
// to point to on the road graph of profile p.Name, both snapped onto it,
// and false when to is not reached within limit. It returns
// ErrOffNetwork when either point is too far from a road.
func (r *Router) DriveTime(s *geo.Search, from, to orb.Point, p geo.Profile, limit time.Duration) (time.Duration, bool, error) {
	rg, err := r.graph(p.Name)
	if err != nil {
		return 0, false, err
	}
	a, okA := rg.g.Snap(from, r.radius)
	b, okB := rg.g.Snap(to, r.radius)
	if !okA || !okB {
		return 0, false, ErrOffNetwork
	}
	base := time.Duration(float64(limit) * rg.factor)
	rg.settle(s, a, base)
	t, ok := rg.alongEdge(a, b)
	best, found := rg.viaEnds(s, b, false, t, ok)
	if !found || best > base {
		return 0, false, nil
	}
	return time.Duration(float64(best) / rg.factor), true, nil
}

// settle runs the bounded Dijkstra from sn over nodes only.
func (rg *routedGraph) settle(s *geo.Search, sn Snap, limit time.Duration) {
	s.Reset(len(rg.g.nodes))
	rg.seed(s, sn, true, limit)
	drain(s, rg.g.first, rg.g.arcs, limit, nil)
}

// drain settles the nodes queued in s and those reached from them along
// arcs (the arcs of node i are arcs[first[i]:first[i+1]]) within limit,
// until none is left or stop, when not nil, reports true.
func drain(s *geo.Search, first []int32, arcs []arc, limit time.Duration, stop func() bool) {
	for stop == nil || !stop() {
		node, at, ok := s.Next()
		if !ok {
			return
		}
		for _, a := range arcs[first[node]:first[node+1]] {
			if t := at + a.cost; !s.Done(a.to) && t <= limit {
				s.Push(a.to, t)
			}
		}
	}
}

// viaEnds returns the earliest of best (when found) and the settled
// times of the ends of sn's edge plus the stretch between each end and
// sn, leaving sn or arriving at it.
func (rg *routedGraph) viaEnds(s *geo.Search, sn Snap, leaving bool, best time.Duration, found bool) (time.Duration, bool) {
	rg.ends(sn, leaving, func(node int32, t time.Duration) {
		if s.Done(node) && (!found || s.ETA(node)+t < best) {
			best, found = s.ETA(node)+t, true
		}
	})
	return best, found
}

// ends calls f with each end of sn's edge and the time between sn and
// it: the ends a trip leaving sn may reach, or those a trip arriving at
// sn may come from. An end within endSnap is open both ways.
func (rg *routedGraph) ends(sn Snap, leaving bool, f func(node int32, t time.Duration)) {
	ed := rg.g.edges[sn.Edge]
	kph := max(ed.fwdKPH, ed.bwdKPH)
	if sn.Along <= endSnap {
		f(ed.from, travel(float64(sn.Along), kph))
	}
	if rest := geo.Meters(ed.length) - sn.Along; rest <= endSnap {
		f(ed.to, travel(float64(rest), kph))
	}
	// Leaving, the shape's way runs to its to node over the rest of the
	// edge, and against it to its from node; arriving, the other way round.
	ahead, behind, rest := ed.to, ed.from, 1-sn.Fraction
	if !leaving {
		ahead, behind, rest = behind, ahead, sn.Fraction
	}
	if ed.fwdKPH > 0 {
		f(ahead, time.Duration(rest*float64(travel(float64(ed.length), ed.fwdKPH))))
	}
	if ed.bwdKPH > 0 {
		f(behind, time.Duration((1-rest)*float64(travel(float64(ed.length), ed.bwdKPH))))
	}
}
