package road

import (
	"math"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// Network is the road graphs of one OSM extract, one per travel
// profile. It is immutable once built and safe for concurrent use.
type Network struct {
	// Graphs are the per-profile graphs, in profile file order.
	Graphs []*Graph
}

// Graph returns the graph of profile name, and nil when there is none.
func (n *Network) Graph(name string) *Graph {
	for _, g := range n.Graphs {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// GraphStats describes a road graph and what its import dropped.
type GraphStats struct {
	// Ways is the number of OSM ways the profile could use.
	Ways int
	// Nodes and Edges count the kept graph: intersections and dead ends,
	// and the road stretches between them (a two-way street is one edge).
	Nodes, Edges int
	// KeptKm is the length of the kept edges in km.
	KeptKm float64
	// Components is the number of strongly connected components found;
	// all but the largest are dropped.
	Components int
	// DroppedNodes, DroppedEdges and DroppedKm measure the fragments
	// outside the largest strongly connected component.
	DroppedNodes, DroppedEdges int
	DroppedKm                  float64
}

// Graph is the road network of one travel profile: intersections and
// dead ends as nodes, the road stretches between them as edges carrying
// their shape, length and speed per direction. Chains of shape nodes are
// contracted into their edge. Only the largest strongly connected
// component of the profile's roads is kept. A Graph is immutable and
// safe for concurrent use.
type Graph struct {
	// Name is the profile name ("car", "bike", "foot", ...).
	Name string
	// Mode is the profile's mode (ModeCar, ModeBike, ModeFoot).
	Mode string
	// Bands are the profile's time-of-day bands.
	Bands map[string]Band
	// Stats describe the graph and what its import dropped.
	Stats GraphStats

	nodes []orb.Point // (lon, lat) of each node
	edges []roadEdge
	shape []orb.Point // edge shapes back to back, endpoints included

	// derived by finish
	first  []int32 // arcs of node i are arcs[first[i]:first[i+1]]
	arcs   []arc
	topKPH float64
	snap   snapIndex
}

// roadEdge is a road stretch between two nodes.
type roadEdge struct {
	from, to       int32   // node numbers
	shape0, shape1 int32   // shape points shape[shape0:shape1], from first
	length         float32 // metres along the shape
	fwdKPH, bwdKPH float32 // speed from→to and to→from in km/h; 0: closed
}

// arc is one direction of an edge, as stored with the node it leaves.
type arc struct {
	cost time.Duration
	to   int32
	edge int32 // edge number; bit 31 set when the arc runs to→from
}

const arcBack = int32(math.MinInt32)

// Len returns the number of nodes and edges of the graph.
func (g *Graph) Len() (nodes, edges int) { return len(g.nodes), len(g.edges) }

// TopKPH returns the fastest speed on any edge in km/h.
func (g *Graph) TopKPH() float64 { return g.topKPH }

// Node returns the (lon, lat) position of node i, 0 <= i < nodes.
func (g *Graph) Node(i int32) orb.Point { return g.nodes[i] }

// EdgeShape returns the (lon, lat) shape of edge e from its first node
// to its second. The slice must not be modified.
func (g *Graph) EdgeShape(e int32) orb.LineString {
	ed := g.edges[e]
	return orb.LineString(g.shape[ed.shape0:ed.shape1])
}

// Edge is a road stretch of a graph as Graph.Edge reports it.
type Edge struct {
	// From and To are the nodes at its ends; its shape runs from From
	// to To. They are equal for a stretch that closes on itself.
	From, To int32
	// Length is the length of its shape.
	Length geo.Meters
	// FwdKPH and BwdKPH are its speeds from From to To and back in km/h,
	// before any time-of-day factor; 0 when that way is closed.
	FwdKPH, BwdKPH float64
}

// Edge returns edge e, 0 <= e < edges.
func (g *Graph) Edge(e int32) Edge {
	ed := g.edges[e]
	return Edge{From: ed.from, To: ed.to, Length: geo.Meters(ed.length),
		FwdKPH: float64(ed.fwdKPH), BwdKPH: float64(ed.bwdKPH)}
}

// Arc is one open way along an edge, out of one of its nodes.
type Arc struct {
	// Edge is the edge travelled.
	Edge int32
	// To is the node the arc arrives at.
	To int32
	// Back is set when the arc runs against the edge's shape, from its
	// To node to its From node.
	Back bool
}

// Arcs appends to dst the arcs out of node i, 0 <= i < nodes, one for
// each open way along an edge that leaves i, always in the same order,
// and returns the extended slice. It allocates only dst's growth.
func (g *Graph) Arcs(i int32, dst []Arc) []Arc {
	for _, a := range g.arcs[g.first[i]:g.first[i+1]] {
		dst = append(dst, Arc{Edge: a.edge &^ arcBack, To: a.to, Back: a.edge&arcBack != 0})
	}
	return dst
}

// travel returns the time to cover m metres at kph km/h.
func travel(m float64, kph float32) time.Duration {
	return time.Duration(m / (float64(kph) / 3.6) * float64(time.Second))
}

// finish derives the adjacency arrays, top speed and snap index from
// nodes, edges and shape.
func (g *Graph) finish() {
	n := len(g.nodes)
	g.first = make([]int32, n+1)
	g.topKPH = 0
	for _, e := range g.edges {
		if e.fwdKPH > 0 {
			g.first[e.from+1]++
		}
		if e.bwdKPH > 0 {
			g.first[e.to+1]++
		}
		g.topKPH = max(g.topKPH, float64(e.fwdKPH), float64(e.bwdKPH))
	}
	for i := range n {
		g.first[i+1] += g.first[i]
	}
	g.arcs = make([]arc, g.first[n])
	next := make([]int32, n)
	copy(next, g.first[:n])
	for i, e := range g.edges {
		if e.fwdKPH > 0 {
			g.arcs[next[e.from]] = arc{cost: travel(float64(e.length), e.fwdKPH), to: e.to, edge: int32(i)}
			next[e.from]++
		}
		if e.bwdKPH > 0 {
			g.arcs[next[e.to]] = arc{cost: travel(float64(e.length), e.bwdKPH), to: e.from, edge: int32(i) | arcBack}
			next[e.to]++
		}
	}
	g.snap = newSnapIndex(g)
}

// largestSCC returns, for each node, whether it lies in the largest
// strongly connected component of the directed graph of edges, and the
// number of components. It runs Tarjan's algorithm without recursion.
func largestSCC(n int, edges []roadEdge) (keep []bool, comps int) {
	first := make([]int32, n+1)
	for _, e := range edges {
		if e.fwdKPH > 0 {
			first[e.from+1]++
		}
		if e.bwdKPH > 0 {
			first[e.to+1]++
		}
	}
	for i := range n {
		first[i+1] += first[i]
	}
	adj := make([]int32, first[n])
	next := append([]int32(nil), first[:n]...)
	for _, e := range edges {
		if e.fwdKPH > 0 {
			adj[next[e.from]] = e.to
			next[e.from]++
		}
		if e.bwdKPH > 0 {
			adj[next[e.to]] = e.from
			next[e.to]++
		}
	}
	comp := tarjan(n, first, adj)
	size := map[int32]int{}
	best, bestN := int32(-1), 0
	for _, c := range comp {
		size[c]++
		if size[c] > bestN {
			best, bestN = c, size[c]
		}
	}
	keep = make([]bool, n)
	for i, c := range comp {
		keep[i] = c == best
	}
	return keep, len(size)
}

// tarjan returns the strongly connected component number of every node
// of the graph whose arcs out of node i are adj[first[i]:first[i+1]].
func tarjan(n int, first, adj []int32) []int32 {
	index := make([]int32, n)
	low := make([]int32, n)
	comp := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i], comp[i] = -1, -1
	}
	var stack, callNode, callArc []int32
	next, ncomp := int32(0), int32(0)
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		callNode, callArc = append(callNode[:0], int32(root)), append(callArc[:0], first[root])
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(callNode) > 0 {
			top := len(callNode) - 1
			v := callNode[top]
			if a := callArc[top]; a < first[v+1] {
				callArc[top]++
				w := adj[a]
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					callNode, callArc = append(callNode, w), append(callArc, first[w])
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
			callNode, callArc = callNode[:top], callArc[:top]
			if top > 0 {
				u := callNode[top-1]
				low[u] = min(low[u], low[v])
			}
		}
	}
	return comp
}
