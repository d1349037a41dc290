package road

import (
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// ETAsTo is geo.ReverseRouter.ETAsTo on the road graph of profile
// p.Name: one bounded Dijkstra over incoming arcs from to's snapped
// position until both ends of every unit's edge are settled, then each
// unit's ETA as DriveTime from its snapped position gives it, one-way
// streets included. A unit off the network gets geo.Unreached. Errors are
// Isochrone's: ErrOffNetwork for to, ErrNoProfile; a Fallback answers
// only when it is a geo.ReverseRouter.
func (r *Router) ETAsTo(s *geo.Search, to orb.Point, p geo.Profile, from []orb.Point, limit time.Duration, dst []time.Duration) ([]time.Duration, error) {
	rg, err := r.graph(p.Name)
	if rr, ok := r.fallback.(geo.ReverseRouter); err != nil && ok {
		return rr.ETAsTo(s, to, p, from, limit, dst)
	} else if err != nil {
		return dst, err
	}
	b, ok := rg.g.Snap(to, r.radius)
	if !ok {
		return dst, ErrOffNetwork
	}
	start := len(dst)
	for _, u := range from { // each unit's edge, for now, -1 off the network
		sn, ok := rg.g.Snap(u, r.radius)
		if !ok {
			sn.Edge = -1
		}
		dst = append(dst, time.Duration(sn.Edge))
	}
	base := time.Duration(float64(limit) * rg.factor)
	s.Reset(len(rg.g.nodes))
	rg.seed(s, b, false, base)
	units, pending := dst[start:], 0 // units[:pending] are settled or off
	drain(s, rg.inFirst, rg.in, base, func() bool {
		for ; pending < len(units); pending++ {
			if e := units[pending]; e >= 0 && !(s.Done(rg.g.edges[e].from) && s.Done(rg.g.edges[e].to)) {
				return false
			}
		}
		return true
	})
	for i, u := range from {
		units[i] = rg.etaFrom(s, u, b, base, r.radius)
	}
	return dst, nil
}

// etaFrom returns the band-scaled time from u to b after settleTo, and
// geo.Unreached when u is off the network or the time exceeds limit.
func (rg *routedGraph) etaFrom(s *geo.Search, u orb.Point, b Snap, limit time.Duration, radius geo.Meters) time.Duration {
	a, ok := rg.g.Snap(u, radius)
	if !ok {
		return geo.Unreached
	}
	t, ok := rg.alongEdge(a, b)
	if t, ok = rg.viaEnds(s, a, true, t, ok); !ok || t > limit {
		return geo.Unreached
	}
	return time.Duration(float64(t) / rg.factor)
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
