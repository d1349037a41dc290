package road

import (
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/paulmach/osm/osmxml"
)

// OSMFormat is the encoding of an OSM extract.
type OSMFormat int

// The OSM extract formats ImportOSM reads.
const (
	OSMPBF    OSMFormat = iota // protocol buffer binary (.osm.pbf)
	OSMXML                     // XML (.osm)
	OSMXMLBz2                  // bzip2-compressed XML (.osm.bz2)
)

// OSMFormatOf returns the format a file name's extension says, and false
// for an extension it does not know.
func OSMFormatOf(name string) (OSMFormat, bool) {
	switch n := strings.ToLower(name); {
	case strings.HasSuffix(n, ".pbf"):
		return OSMPBF, true
	case strings.HasSuffix(n, ".osm.bz2"), strings.HasSuffix(n, ".xml.bz2"):
		return OSMXMLBz2, true
	case strings.HasSuffix(n, ".osm"), strings.HasSuffix(n, ".xml"):
		return OSMXML, true
	}
	return 0, false
}

// ImportProgress reports how far an import has come.
type ImportProgress struct {
	// Stage is "read" while the extract is read, then "build <profile>"
	// for each graph.
	Stage string
	// Nodes and Ways count the OSM objects read so far.
	Nodes, Ways int
	// Graph holds the stats of the graph just built, in a build stage.
	Graph *GraphStats
}

// ImportConfig says what ImportOSM builds.
type ImportConfig struct {
	// Profiles is the profile file: one graph is built per profile.
	Profiles *ProfileFile
	// Progress, when not nil, is called from the importing goroutine
	// every 100,000 objects read and once per graph built.
	Progress func(ImportProgress)
}

// osmWay is a highway way kept for graph building: its nodes as dense
// numbers into osmNodes (-1 for a node missing from the extract) and its
// use by each profile.
type osmWay struct {
	nodes []int32
	uses  []wayUse // by profile; both speeds 0 when unusable
}

// ImportOSM reads an OSM extract in format f from r and builds one road
// graph per profile of cfg.Profiles. Relations are ignored. Ways that
// reference nodes missing from the extract are cut at them. The reader
// is read to the end once; ctx cancels a PBF read.
func ImportOSM(ctx context.Context, r io.Reader, f OSMFormat, cfg ImportConfig) (*Network, error) {
	if cfg.Profiles == nil {
		return nil, errors.New("road: import: no profiles")
	}
	if err := cfg.Profiles.Validate(); err != nil {
		return nil, err
	}
	sc, err := newOSMScanner(ctx, r, f)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	rd := newOSMReader(cfg)
	for sc.Scan() {
		rd.add(sc.Object())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("road: import: read extract: %w", err)
	}
	return rd.build(), nil
}

// osmScanner is the part of osmpbf and osmxml scanners ImportOSM uses.
type osmScanner interface {
	Scan() bool
	Object() osm.Object
	Err() error
	Close() error
}

func newOSMScanner(ctx context.Context, r io.Reader, f OSMFormat) (osmScanner, error) {
	switch f {
	case OSMPBF:
		s := osmpbf.New(ctx, r, 2)
		s.SkipRelations = true
		return s, nil
	case OSMXML:
		return osmxml.New(ctx, r), nil
	case OSMXMLBz2:
		return osmxml.New(ctx, bzip2.NewReader(r)), nil
	}
	return nil, fmt.Errorf("road: import: unknown format %d", f)
}

// osmReader gathers what graph building needs from a stream of objects.
type osmReader struct {
	cfg      ImportConfig
	ids      []osm.NodeID // every node read, in read order
	pts      []orb.Point
	sorted   bool
	rawWays  []rawWay
	nNodes   int
	nWays    int
	profiles []Profile
}

// rawWay is a highway way before its node ids are resolved.
type rawWay struct {
	ids  []osm.NodeID
	uses []wayUse
}

func newOSMReader(cfg ImportConfig) *osmReader {
	return &osmReader{cfg: cfg, sorted: true, profiles: cfg.Profiles.Profiles}
}

func (rd *osmReader) add(o osm.Object) {
	switch o := o.(type) {
	case *osm.Node:
		rd.nNodes++
		if !geo.ValidPoint(orb.Point{o.Lon, o.Lat}) {
			break // a way through it is cut there, as at the extract's edge
		}
		if n := len(rd.ids); n > 0 && rd.ids[n-1] >= o.ID {
			rd.sorted = false
		}
		rd.ids = append(rd.ids, o.ID)
		rd.pts = append(rd.pts, quantize(orb.Point{o.Lon, o.Lat}))
	case *osm.Way:
		rd.nWays++
		rd.addWay(o)
	default:
		return
	}
	if (rd.nNodes+rd.nWays)%100_000 == 0 && rd.cfg.Progress != nil {
		rd.cfg.Progress(ImportProgress{Stage: "read", Nodes: rd.nNodes, Ways: rd.nWays})
	}
}

func (rd *osmReader) addWay(w *osm.Way) {
	if len(w.Nodes) < 2 || w.Tags.Find("highway") == "" {
		return
	}
	tag := tagger(w.Tags.Find)
	uses := make([]wayUse, len(rd.profiles))
	any := false
	for i := range rd.profiles {
		if u, ok := rd.profiles[i].use(tag, rd.cfg.Profiles.Zones); ok {
			uses[i], any = u, true
		}
	}
	if !any {
		return
	}
	ids := make([]osm.NodeID, len(w.Nodes))
	for i, n := range w.Nodes {
		ids[i] = n.ID
	}
	rd.rawWays = append(rd.rawWays, rawWay{ids: ids, uses: uses})
}

// quantize rounds p to the 1e-7 degree grid OSM and the graph file use,
// so a graph read back from its file equals the imported one.
func quantize(p orb.Point) orb.Point {
	return orb.Point{math.Round(p[0]*1e7) / 1e7, math.Round(p[1]*1e7) / 1e7}
}

// resolve numbers the nodes the kept ways use densely and returns their
// positions and the ways in those numbers.
func (rd *osmReader) resolve() ([]orb.Point, []osmWay) {
	if !rd.sorted {
		idx := make([]int, len(rd.ids))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return int(rd.ids[a] - rd.ids[b]) })
		ids, pts := make([]osm.NodeID, len(idx)), make([]orb.Point, len(idx))
		for i, j := range idx {
			ids[i], pts[i] = rd.ids[j], rd.pts[j]
		}
		rd.ids, rd.pts = ids, pts
	}
	dense := make(map[osm.NodeID]int32)
	var pos []orb.Point
	ways := make([]osmWay, len(rd.rawWays))
	for i, rw := range rd.rawWays {
		ns := make([]int32, len(rw.ids))
		for k, id := range rw.ids {
			d, ok := dense[id]
			if !ok {
				j, found := slices.BinarySearch(rd.ids, id)
				if !found {
					ns[k] = -1
					continue
				}
				d = int32(len(pos))
				dense[id] = d
				pos = append(pos, rd.pts[j])
			}
			ns[k] = d
		}
		ways[i] = osmWay{nodes: ns, uses: rw.uses}
	}
	rd.ids, rd.pts, rd.rawWays = nil, nil, nil
	return pos, ways
}

func (rd *osmReader) build() *Network {
	pos, ways := rd.resolve()
	net := &Network{}
	for i, p := range rd.profiles {
		g := buildGraph(p, i, pos, ways)
		net.Graphs = append(net.Graphs, g)
		if rd.cfg.Progress != nil {
			st := g.Stats
			rd.cfg.Progress(ImportProgress{Stage: "build " + p.Name, Nodes: rd.nNodes, Ways: rd.nWays, Graph: &st})
		}
	}
	return net
}

// buildGraph builds the graph of profile p (number pi in each way's uses)
// over nodes at pos, keeping its largest strongly connected component.
func buildGraph(p Profile, pi int, pos []orb.Point, ways []osmWay) *Graph {
	refs := make([]uint8, len(pos)) // uses by this profile's ways, saturating at 2
	nways := 0
	for _, w := range ways {
		if u := w.uses[pi]; u.fwd == 0 && u.bwd == 0 {
			continue
		}
		nways++
		forPieces(w.nodes, func(piece []int32) {
			for k, n := range piece {
				if k == 0 || k == len(piece)-1 {
					refs[n] = 2 // ends of a way or of a piece cut at missing nodes
				} else if refs[n] < 2 {
					refs[n]++
				}
			}
		})
	}
	b := graphBuilder{g: &Graph{Name: p.Name, Mode: p.Mode, Bands: p.Bands}, node: make([]int32, len(pos)), pos: pos}
	for i := range b.node {
		b.node[i] = -1
	}
	for _, w := range ways {
		if u := w.uses[pi]; u.fwd != 0 || u.bwd != 0 {
			b.addWay(w.nodes, u, refs)
		}
	}
	g := b.g
	g.Stats.Ways = nways
	pruneToLargestSCC(g, !p.KeepFragments)
	g.finish()
	return g
}

// graphBuilder turns ways into contracted edges between the nodes at
// which roads meet.
type graphBuilder struct {
	g    *Graph
	node []int32 // graph node of each dense OSM node, -1 when none yet
	pos  []orb.Point
}

func (b *graphBuilder) nodeOf(n int32) int32 {
	if b.node[n] < 0 {
		b.node[n] = int32(len(b.g.nodes))
		b.g.nodes = append(b.g.nodes, b.pos[n])
	}
	return b.node[n]
}

// addWay cuts a way into edges at every node where roads meet (refs >= 2).
func (b *graphBuilder) addWay(nodes []int32, u wayUse, refs []uint8) {
	forPieces(nodes, func(piece []int32) {
		start := 0
		for k := 1; k < len(piece); k++ {
			if refs[piece[k]] >= 2 || k == len(piece)-1 {
				b.addEdge(piece[start:k+1], u)
				start = k
			}
		}
	})
}

// forPieces calls fn with every run of at least two nodes of a way that
// are present in the extract (not -1).
func forPieces(nodes []int32, fn func(piece []int32)) {
	start := 0
	for k := 0; k <= len(nodes); k++ {
		if k == len(nodes) || nodes[k] < 0 {
			if k-start >= 2 {
				fn(nodes[start:k])
			}
			start = k + 1
		}
	}
}

func (b *graphBuilder) addEdge(nodes []int32, u wayUse) {
	g := b.g
	s0 := int32(len(g.shape))
	length := 0.0
	for k, n := range nodes {
		if k > 0 {
			length += float64(geo.Distance(b.pos[nodes[k-1]], b.pos[n]))
		}
		g.shape = append(g.shape, b.pos[n])
	}
	g.edges = append(g.edges, roadEdge{
		from: b.nodeOf(nodes[0]), to: b.nodeOf(nodes[len(nodes)-1]),
		shape0: s0, shape1: int32(len(g.shape)),
		length: float32(length), fwdKPH: float32(u.fwd), bwdKPH: float32(u.bwd),
	})
}

// pruneToLargestSCC drops the nodes and edges outside the largest
// strongly connected component and records what it dropped; when prune
// is false it keeps them all and only counts the components.
func pruneToLargestSCC(g *Graph, prune bool) {
	keep, comps := largestSCC(len(g.nodes), g.edges)
	if !prune {
		for i := range keep {
			keep[i] = true
		}
	}
	renum := make([]int32, len(g.nodes))
	var nodes []orb.Point
	for i, k := range keep {
		renum[i] = -1
		if k {
			renum[i] = int32(len(nodes))
			nodes = append(nodes, g.nodes[i])
		}
	}
	st := &g.Stats
	st.Components = comps
	st.DroppedNodes = len(g.nodes) - len(nodes)
	var edges []roadEdge
	var shape []orb.Point
	for _, e := range g.edges {
		if !keep[e.from] || !keep[e.to] {
			st.DroppedEdges++
			st.DroppedKm += float64(e.length) / 1000
			continue
		}
		s0 := int32(len(shape))
		shape = append(shape, g.shape[e.shape0:e.shape1]...)
		e.from, e.to = renum[e.from], renum[e.to]
		e.shape0, e.shape1 = s0, int32(len(shape))
		edges = append(edges, e)
		st.KeptKm += float64(e.length) / 1000
	}
	g.nodes, g.edges, g.shape = nodes, edges, shape
	st.Nodes, st.Edges = len(nodes), len(edges)
}
