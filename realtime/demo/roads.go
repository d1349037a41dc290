package demo

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
)

// Road loop tuning.
const (
	roadSnap    = road.DefaultSnapRadius // farthest a post may lie from its unit's roads
	outsideCost = 5.0                    // extra cost, per share out of the area, of a road on the way home
	outsideWalk = 0.02                   // weight of a road wholly out of the area in the walk
	maxArcs     = 5000                   // arcs a walk takes at most
	samePointM  = 0.001                  // points of a path closer than this are one
)

// roadWalk lays out one unit's loop on the roads of its profile's graph.
type roadWalk struct {
	g      *road.Graph
	rng    *rand.Rand
	search *geo.Search
	cruise float64              // m/s, to time the way home
	inside func(orb.Point) bool // the unit's area within the boundary
	share  map[int32]float64    // edge → share of its probes inside
	nodeIn map[int32]bool       // node → whether it lies inside
	lost   bool                 // no node inside can be reached
	taken  map[int32]int        // edge → times the loop has taken it
	arcs   []road.Arc           // scratch
	pts    []orb.Point
	length float64 // metres along pts
}

// newRoadLoop lays out a loop on g's roads that starts and ends at home
// snapped to g: a random walk of about budget metres that prefers the
// roads inside and those it has not taken yet, and that takes the least
// costly way back in whenever it finds itself out (see route), then the
// least costly way back to the start. It follows one-way streets and
// turns back only at dead ends. It returns nil when no road of g lies
// within roadSnap of home, or the loop is shorter than 30 m.
func newRoadLoop(g *road.Graph, rng *rand.Rand, s *geo.Search, home orb.Point, cruise, budget float64,
	inside func(orb.Point) bool) *loop {
	sn, ok := g.Snap(home, roadSnap)
	if !ok {
		return nil
	}
	w := &roadWalk{g: g, rng: rng, search: s, cruise: cruise, inside: inside,
		share: map[int32]float64{}, nodeIn: map[int32]bool{}, taken: map[int32]int{}}
	ed := g.Edge(sn.Edge)
	head, tail := splitShape(g.EdgeShape(sn.Edge), sn)
	start, goal, closing := ed.To, ed.From, head
	if ed.FwdKPH <= 0 || ed.BwdKPH > 0 && rng.IntN(2) == 0 {
		start, goal, closing = ed.From, ed.To, reversed(tail)
		tail = reversed(head)
	}
	w.add(tail...)
	w.taken[sn.Edge]++
	at := w.walk(start, sn.Edge, budget)
	if at != goal {
		if _, _, ok := w.route(at, -1, func(n int32) bool { return n == goal }); !ok {
			return nil
		}
	}
	w.add(closing...)
	if last := len(w.pts) - 1; last > 0 && float64(geo.Distance(w.pts[last], w.pts[0])) < samePointM {
		w.pts[last] = w.pts[0] // closed exactly
	}
	return newPath(w.pts)
}

// splitShape cuts shape at sn, a point on it: head runs from the shape's
// first point to sn.Point, tail from sn.Point to its last.
func splitShape(shape orb.LineString, sn road.Snap) (head, tail []orb.Point) {
	k, along := 0, 0.0 // sn lies on segment k
	for ; k+2 < len(shape); k++ {
		next := along + float64(geo.Distance(shape[k], shape[k+1]))
		if next >= float64(sn.Along) {
			break
		}
		along = next
	}
	head = append(append(head, shape[:k+1]...), sn.Point)
	tail = append(append(tail, sn.Point), shape[k+1:]...)
	return head, tail
}

// reversed returns a reversed copy of pts.
func reversed(pts []orb.Point) []orb.Point {
	out := slices.Clone(pts)
	slices.Reverse(out)
	return out
}

// add appends pts to the path, skipping a point on the last one.
func (w *roadWalk) add(pts ...orb.Point) {
	for _, p := range pts {
		if n := len(w.pts); n > 0 {
			d := float64(geo.Distance(w.pts[n-1], p))
			if d < samePointM {
				continue
			}
			w.length += d
		}
		w.pts = append(w.pts, p)
	}
}

// follow appends arc a's shape to the path.
func (w *roadWalk) follow(a road.Arc) {
	shape := w.g.EdgeShape(a.Edge)
	if a.Back {
		for i := len(shape) - 1; i >= 0; i-- {
			w.add(shape[i])
		}
	} else {
		w.add(shape...)
	}
	w.taken[a.Edge]++
}

// walk takes arcs from node at, having come along edge came, until the
// path is budget metres long, and returns the node it stops at. Out of
// the area it takes the least costly way back in, not turning back at
// once, before it walks on.
func (w *roadWalk) walk(at, came int32, budget float64) int32 {
	for n := 0; w.length < budget && n < maxArcs; n++ {
		if !w.nodeInside(at) && !w.lost {
			var ok bool
			if at, came, ok = w.route(at, came, w.nodeInside); ok {
				continue
			}
			w.lost = true // no road of the area is reached: walk on regardless
		}
		a, ok := w.choose(at, came)
		if !ok {
			break // no road leaves at: an import keeps no such node
		}
		w.follow(a)
		at, came = a.To, a.Edge
	}
	return at
}

// nodeInside reports whether node n lies inside.
func (w *roadWalk) nodeInside(n int32) bool {
	in, ok := w.nodeIn[n]
	if !ok {
		in = w.inside(w.g.Node(n))
		w.nodeIn[n] = in
	}
	return in
}

// choose picks an arc out of node at, at random: in proportion to the
// square of the share of its edge inside (at least outsideWalk), divided
// by one plus the times the loop has taken it, and never back along came
// unless that is the only way on. It returns false when no arc leaves at.
func (w *roadWalk) choose(at, came int32) (road.Arc, bool) {
	w.arcs = w.g.Arcs(at, w.arcs[:0])
	weight := func(a road.Arc) float64 {
		if a.Edge == came && len(w.arcs) > 1 {
			return 0
		}
		in := w.shareInside(a.Edge)
		return max(outsideWalk, in*in) / float64(1+w.taken[a.Edge])
	}
	total := 0.0
	for _, a := range w.arcs {
		total += weight(a)
	}
	if len(w.arcs) == 0 {
		return road.Arc{}, false
	}
	r := w.rng.Float64() * total
	for _, a := range w.arcs {
		if r -= weight(a); r < 0 {
			return a, true
		}
	}
	return w.arcs[len(w.arcs)-1], true
}

// shareInside returns the share of edge e inside: of its two ends and
// its middle, how many are.
func (w *roadWalk) shareInside(e int32) float64 {
	if s, ok := w.share[e]; ok {
		return s
	}
	ed := w.g.Edge(e)
	n := 0
	for _, p := range []orb.Point{w.g.Node(ed.From), midpoint(w.g.EdgeShape(e), float64(ed.Length)), w.g.Node(ed.To)} {
		if w.inside(p) {
			n++
		}
	}
	w.share[e] = float64(n) / 3
	return w.share[e]
}

// midpoint returns the point half of length metres along shape.
func midpoint(shape orb.LineString, length float64) orb.Point {
	half := length / 2
	for k := 1; k < len(shape); k++ {
		d := float64(geo.Distance(shape[k-1], shape[k]))
		if d >= half && d > 0 {
			return lerp(shape[k-1], shape[k], half/d)
		}
		half -= d
	}
	return shape[len(shape)-1]
}

// route appends the least costly way from node from, not back along
// edge came at first unless that is the only way on, to the first node
// where arrived holds. It returns that node and the edge it arrives by,
// or false when arrived holds nowhere. It runs Dijkstra's algorithm, an
// edge costing its time at cruising speed times 1+outsideCost·(share
// out).
func (w *roadWalk) route(from, came int32, arrived func(int32) bool) (int32, int32, bool) {
	nodes, _ := w.g.Len()
	s := w.search
	s.Reset(nodes)
	via := map[int32]road.Arc{} // the arc each reached node was last offered by
	s.Push(from, 0)
	for {
		node, at, ok := s.Next()
		if !ok {
			return from, came, false
		}
		if node != from && arrived(node) {
			return node, w.retrace(via, from, node), true
		}
		w.arcs = w.g.Arcs(node, w.arcs[:0])
		for _, a := range w.arcs {
			t := at + w.cost(a.Edge)
			turn := node == from && a.Edge == came && len(w.arcs) > 1
			if _, seen := via[a.To]; turn || s.Done(a.To) || seen && s.ETA(a.To) <= t {
				continue
			}
			via[a.To] = a
			s.Push(a.To, t)
		}
	}
}

// retrace follows, from node from, the arcs of via that lead to node to,
// and returns the edge of the last.
func (w *roadWalk) retrace(via map[int32]road.Arc, from, to int32) int32 {
	var back []road.Arc
	for n := to; n != from; {
		a := via[n]
		back = append(back, a)
		if ed := w.g.Edge(a.Edge); a.Back {
			n = ed.To
		} else {
			n = ed.From
		}
	}
	for i := len(back) - 1; i >= 0; i-- {
		w.follow(back[i])
	}
	return back[0].Edge
}

// cost returns the cost of edge e on the way home.
func (w *roadWalk) cost(e int32) time.Duration {
	sec := float64(w.g.Edge(e).Length) / w.cruise * (1 + outsideCost*(1-w.shareInside(e)))
	return time.Duration(sec * float64(time.Second))
}
