package geo

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

// vertexTolerance is how far apart, in degrees, two cells' copies of the
// vertex they share may lie: H3 computes each cell's boundary on its own,
// so a shared vertex can differ in its last bits.
const vertexTolerance = 1e-9

// CellsOutline returns the outline of cells as polygons in (lon, lat):
// one per contiguous piece, its outer ring counter-clockwise first, then
// a ring per hole, each ring closed. (In a grid of hexagons two cells
// that share a vertex share an edge, so pieces never touch at a point.)
func CellsOutline(cells []h3.Cell) orb.MultiPolygon {
	vs := vertexSet{bucket: map[[2]int64][]int32{}}
	edges := map[[2]int32]bool{} // directed boundary edges
	for _, c := range dedupe(cells) {
		b := h3.CellToBoundary(c)
		ids := make([]int32, len(b))
		for i, ll := range b {
			ids[i] = vs.id(pointOf(ll))
		}
		for i, a := range ids {
			z := ids[(i+1)%len(ids)]
			if edges[[2]int32{z, a}] { // the neighbour's edge the other way: inside
				delete(edges, [2]int32{z, a})
				continue
			}
			edges[[2]int32{a, z}] = true
		}
	}
	next := make(map[int32]int32, len(edges))
	for e := range edges {
		next[e[0]] = e[1]
	}
	var outers, holes []orb.Ring
	for len(next) > 0 {
		start := int32(-1)
		for v := range next {
			if start < 0 || v < start { // the lowest, so that the output is the same every time
				start = v
			}
		}
		ring := orb.Ring{vs.points[start]}
		for v := start; ; {
			w, ok := next[v]
			if !ok {
				break
			}
			delete(next, v)
			ring, v = append(ring, vs.points[w]), w
			if v == start {
				break
			}
		}
		if ringOrientation(ring) > 0 {
			outers = append(outers, ring)
		} else {
			holes = append(holes, ring)
		}
	}
	out := make(orb.MultiPolygon, len(outers))
	for i, r := range outers {
		out[i] = orb.Polygon{r}
	}
	for _, h := range holes {
		for i := range out {
			if planar.RingContains(out[i][0], h[0]) {
				out[i] = append(out[i], h)
				break
			}
		}
	}
	return out
}

// ringOrientation returns twice the signed area of r: positive for a
// counter-clockwise ring in (lon, lat).
func ringOrientation(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s
}

// dedupe returns cells without repeats, in their order.
func dedupe(cells []h3.Cell) []h3.Cell {
	seen := make(map[h3.Cell]bool, len(cells))
	out := make([]h3.Cell, 0, len(cells))
	for _, c := range cells {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// vertexSet numbers points, one number for points within vertexTolerance
// of each other.
type vertexSet struct {
	points []orb.Point
	bucket map[[2]int64][]int32
}

func (vs *vertexSet) key(p orb.Point) [2]int64 {
	return [2]int64{int64(math.Floor(p[0] / (4 * vertexTolerance))), int64(math.Floor(p[1] / (4 * vertexTolerance)))}
}

// idOf returns the number of a point already in the set, -1 for none.
func (vs *vertexSet) idOf(p orb.Point) int32 {
	k := vs.key(p)
	for dx := int64(-1); dx <= 1; dx++ {
		for dy := int64(-1); dy <= 1; dy++ {
			for _, i := range vs.bucket[[2]int64{k[0] + dx, k[1] + dy}] {
				if q := vs.points[i]; math.Abs(q[0]-p[0]) <= vertexTolerance && math.Abs(q[1]-p[1]) <= vertexTolerance {
					return i
				}
			}
		}
	}
	return -1
}

// id returns the number of p, adding it when new.
func (vs *vertexSet) id(p orb.Point) int32 {
	if i := vs.idOf(p); i >= 0 {
		return i
	}
	i := int32(len(vs.points))
	vs.points = append(vs.points, p)
	k := vs.key(p)
	vs.bucket[k] = append(vs.bucket[k], i)
	return i
}

// Touches reports whether cell neighbours a cell of area (cell itself
// aside).
func Touches(area []h3.Cell, cell h3.Cell) bool {
	for _, n := range cell.GridDisk(1) {
		if n != cell && slices.Contains(area, n) {
			return true
		}
	}
	return false
}

// Contiguous reports whether cells form one piece, neighbour to
// neighbour; no cells is not one piece.
func Contiguous(cells []h3.Cell) bool {
	if len(cells) == 0 {
		return false
	}
	in := make(map[h3.Cell]bool, len(cells))
	for _, c := range cells {
		in[c] = true
	}
	seen := map[h3.Cell]bool{cells[0]: true}
	stack := []h3.Cell{cells[0]}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, n := range c.GridDisk(1) {
			if in[n] && !seen[n] {
				seen[n] = true
				stack = append(stack, n)
			}
		}
	}
	return len(seen) == len(in)
}
