package road

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// lengthTolerance is how far, in metres, an edge's length may differ from
// the length of its shape.
const lengthTolerance = 0.5

// TestGraphArcsSmall walks the arcs of a small extract.
func TestGraphArcsSmall(t *testing.T) {
	xml := `<?xml version="1.0"?><osm version="0.6">
<node id="1" lat="43.7300000" lon="7.4200000"/><node id="2" lat="43.7310000" lon="7.4200000"/>
<node id="3" lat="43.7310000" lon="7.4210000"/>
<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
<way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
<way id="12"><nd ref="3"/><nd ref="1"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
</osm>`
	// 2 ──► 3       a two-way street 1–2 and a oneway 2→3→1: three
	// │    ╱        nodes, three edges, four arcs; node 1 leaves by the
	// 1 ◄─╯         street only, node 2 both ways, node 3 to 1 only.
	net, err := ImportOSM(context.Background(), strings.NewReader(xml), OSMXML, ImportConfig{Profiles: testProfiles(t, "default")})
	if err != nil {
		t.Fatal(err)
	}
	car := net.Graph("car")
	nodes, _ := car.Len()
	out := map[int]int{}
	for i := range int32(nodes) {
		out[len(car.Arcs(i, nil))]++
	}
	if nodes != 3 || out[1] != 2 || out[2] != 1 {
		t.Errorf("car graph: %d nodes, out-degrees %v, want 3 nodes, two with one arc and one with two", nodes, out)
	}
	checkArcs(t, car)
}

// TestGraphArcsMonaco checks every arc and edge of Monaco's graphs.
func TestGraphArcsMonaco(t *testing.T) {
	for _, g := range testNetwork(t, monacoPBF).Graphs {
		t.Run(g.Name, func(t *testing.T) { checkArcs(t, g) })
	}
}

// checkArcs checks that every arc of g leaves its node along an open way
// of its edge and arrives at the edge's other end, that the arcs are the
// open ways of the edges, one each, and that every edge's shape runs from
// its From node to its To node over its length.
func checkArcs(t *testing.T, g *Graph) {
	t.Helper()
	nodes, edges := g.Len()
	open := 0
	for e := range int32(edges) {
		ed := g.Edge(e)
		open += b2i(ed.FwdKPH > 0) + b2i(ed.BwdKPH > 0)
		sh := g.EdgeShape(e)
		if sh[0] != g.Node(ed.From) || sh[len(sh)-1] != g.Node(ed.To) {
			t.Errorf("edge %d: shape from %v to %v, want from node %d at %v to node %d at %v",
				e, sh[0], sh[len(sh)-1], ed.From, g.Node(ed.From), ed.To, g.Node(ed.To))
		}
		if l := shapeLength(sh); math.Abs(l-float64(ed.Length)) > lengthTolerance {
			t.Errorf("edge %d: Length %v m, want its shape's %v m", e, float64(ed.Length), l)
		}
	}
	arcs := 0
	for i := range int32(nodes) {
		for _, a := range g.Arcs(i, nil) {
			arcs++
			ed := g.Edge(a.Edge)
			from, to, kph := ed.From, ed.To, ed.FwdKPH
			if a.Back {
				from, to, kph = ed.To, ed.From, ed.BwdKPH
			}
			if from != i || to != a.To || kph <= 0 {
				t.Errorf("node %d: arc %+v along edge %+v, want it to leave %d by an open way", i, a, ed, i)
			}
		}
	}
	if arcs != open {
		t.Errorf("%d arcs, want %d (the open ways of %d edges)", arcs, open, edges)
	}
}

func shapeLength(sh orb.LineString) float64 {
	l := 0.0
	for k := 1; k < len(sh); k++ {
		l += float64(geo.Distance(sh[k-1], sh[k]))
	}
	return l
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestGraphArcsAllocatesNothing: Arcs appends into a slice large enough
// without allocating.
func TestGraphArcsAllocatesNothing(t *testing.T) {
	g := testNetwork(t, monacoPBF).Graph("car")
	nodes, _ := g.Len()
	dst := make([]Arc, 0, 64)
	allocs := testing.AllocsPerRun(10, func() {
		for i := range int32(nodes) {
			dst = g.Arcs(i, dst[:0])
		}
	})
	if allocs != 0 {
		t.Errorf("Arcs over every node: %v allocations, want 0", allocs)
	}
}
