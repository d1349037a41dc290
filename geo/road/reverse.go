package road

import (
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// ETAsTo is geo.ReverseRouter.ETAsTo on the road graph of profile p.Name:
// one bounded Dijkstra over the incoming arcs from to's snapped position,
// then each unit's ETA is, as DriveTime from its snapped position would
// give it, the rest of its edge to an end plus that end's time to the
// incident (or the stretch between them when both lie on one edge). One-way
// streets count in the direction the units drive them. A unit farther than
// the snapping distance from every road gets geo.Unreached. It returns
// ErrOffNetwork when to is too far from a road and, without a Fallback that
// is a geo.ReverseRouter, ErrNoProfile for a profile without a graph. The
// search stops once both ends of every unit's edge are settled.
func (r *Router) ETAsTo(s *geo.Search, to orb.Point, p geo.Profile, from []orb.Point, limit time.Duration, dst []time.Duration) ([]time.Duration, error) {
	rg, err := r.graph(p.Name)
	if err != nil {
		if rr, ok := r.fallback.(geo.ReverseRouter); ok {
			return rr.ETAsTo(s, to, p, from, limit, dst)
		}
		return dst, err
	}
	b, ok := rg.g.Snap(to, r.radius)
	if !ok {
		return dst, ErrOffNetwork
	}
	start := len(dst)
	for _, u := range from { // each unit's edge, for now, -1 off the network
		sn, ok := rg.g.Snap(u, r.radius)
		dst = append(dst, time.Duration(sn.Edge))
		if !ok {
			dst[len(dst)-1] = geo.Unreached
		}
	}
	base := time.Duration(float64(limit) * rg.factor)
	rg.settleTo(s, b, base, dst[start:])
	for i, u := range from {
		dst[start+i] = rg.etaFrom(s, u, b, base, r.radius)
	}
	return dst, nil
}

// settleTo runs the bounded Dijkstra over incoming arcs from b, seeded
// with the time from each end of b's edge to b, until both ends of every
// edge of units (-1: none) are settled or nothing is left within limit.
func (rg *routedGraph) settleTo(s *geo.Search, b Snap, limit time.Duration, units []time.Duration) {
	g := rg.g
	s.Reset(len(g.nodes))
	ed := g.edges[b.Edge]
	kph := max(ed.fwdKPH, ed.bwdKPH)
	seed := func(node int32, t time.Duration) {
		if t <= limit {
			s.Push(node, t)
		}
	}
	if b.Along <= endSnap {
		seed(ed.from, travel(float64(b.Along), kph))
	}
	if rest := geo.Meters(ed.length) - b.Along; rest <= endSnap {
		seed(ed.to, travel(float64(rest), kph))
	}
	if ed.fwdKPH > 0 {
		seed(ed.from, time.Duration(b.Fraction*float64(travel(float64(ed.length), ed.fwdKPH))))
	}
	if ed.bwdKPH > 0 {
		seed(ed.to, time.Duration((1-b.Fraction)*float64(travel(float64(ed.length), ed.bwdKPH))))
	}
	pending := 0 // units[:pending] have both ends settled or no edge
	for {
		for pending < len(units) && (units[pending] < 0 || rg.endsDone(s, int32(units[pending]))) {
			pending++
		}
		node, at, ok := s.Next()
		if pending == len(units) || !ok {
			return
		}
		for _, a := range rg.in[rg.inFirst[node]:rg.inFirst[node+1]] {
			if t := at + a.cost; !s.Done(a.to) && t <= limit {
				s.Push(a.to, t)
			}
		}
	}
}

func (rg *routedGraph) endsDone(s *geo.Search, e int32) bool {
	ed := rg.g.edges[e]
	return s.Done(ed.from) && s.Done(ed.to)
}

// etaFrom returns the band-scaled time from u to b after settleTo, and
// geo.Unreached when u is off the network or the time exceeds limit.
func (rg *routedGraph) etaFrom(s *geo.Search, u orb.Point, b Snap, limit time.Duration, radius geo.Meters) time.Duration {
	a, ok := rg.g.Snap(u, radius)
	if !ok {
		return geo.Unreached
	}
	ed := rg.g.edges[a.Edge]
	best := time.Duration(-1)
	via := func(node int32, t time.Duration) {
		if s.Done(node) && (best < 0 || s.ETA(node)+t < best) {
			best = s.ETA(node) + t
		}
	}
	kph := max(ed.fwdKPH, ed.bwdKPH)
	if a.Along <= endSnap {
		via(ed.from, travel(float64(a.Along), kph))
	}
	if rest := geo.Meters(ed.length) - a.Along; rest <= endSnap {
		via(ed.to, travel(float64(rest), kph))
	}
	if ed.fwdKPH > 0 {
		via(ed.to, time.Duration((1-a.Fraction)*float64(travel(float64(ed.length), ed.fwdKPH))))
	}
	if ed.bwdKPH > 0 {
		via(ed.from, time.Duration(a.Fraction*float64(travel(float64(ed.length), ed.bwdKPH))))
	}
	if t, ok := rg.alongEdge(a, b); ok && (best < 0 || t < best) {
		best = t
	}
	if best < 0 || best > limit {
		return geo.Unreached
	}
	return time.Duration(float64(best) / rg.factor)
}

// alongEdge returns the time from a to b straight along their edge when
// they share one and its direction allows it.
func (rg *routedGraph) alongEdge(a, b Snap) (time.Duration, bool) {
	if a.Edge != b.Edge {
		return 0, false
	}
	ed := rg.g.edges[b.Edge]
	switch {
	case ed.fwdKPH > 0 && a.Fraction <= b.Fraction:
		return time.Duration((b.Fraction - a.Fraction) * float64(travel(float64(ed.length), ed.fwdKPH))), true
	case ed.bwdKPH > 0 && a.Fraction >= b.Fraction:
		return time.Duration((a.Fraction - b.Fraction) * float64(travel(float64(ed.length), ed.bwdKPH))), true
	}
	return 0, false
}

// reverseArcs returns g's arcs grouped by the node they arrive at: the
// arcs into node i are in[first[i]:first[i+1]], each with to set to the
// node it leaves.
func reverseArcs(g *Graph) (first []int32, in []arc) {
	first = make([]int32, len(g.nodes)+1)
	for _, a := range g.arcs {
		first[a.to+1]++
	}
	for i := range g.nodes {
		first[i+1] += first[i]
	}
	in = make([]arc, len(g.arcs))
	next := append([]int32(nil), first[:len(g.nodes)]...)
	for u := range g.nodes {
		for _, a := range g.arcs[g.first[u]:g.first[u+1]] {
			in[next[a.to]] = arc{cost: a.cost, to: int32(u), edge: a.edge}
			next[a.to]++
		}
	}
	return first, in
}

var (
	_ geo.ReverseRouter = (*Router)(nil)
	_ geo.ReverseRouter = (*BandRouter)(nil)
)
