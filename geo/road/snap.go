package road

import (
	"math"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// earthRadius is the mean Earth radius in metres, as orb/geo uses it.
const earthRadius = 6378137.0

// snapBucket is the side of a snap index bucket in metres, doubled as
// often as needed to keep the number of buckets near the number of
// shape points over a large extract.
const snapBucket = 100.0

// snapIndex finds the shape segments near a point: a regular grid of
// square buckets over the graph's bounding box, in a local equirectangular
// projection (metres east and north of its south-west corner), each
// bucket listing the segments whose bounding box touches it.
type snapIndex struct {
	lon0, lat0 float64      // south-west corner, degrees
	mx, my     float64      // metres per degree of longitude and latitude
	nx, ny     int          // buckets east and north
	size       float64      // bucket side in metres
	first      []int32      // segments of bucket b are segs[first[b]:first[b+1]]
	segs       []int32      // shape index i: the segment shape[i] → shape[i+1]
	segEdge    []int32      // edge of each shape index (of its segment's start)
	xy         [][2]float64 // projected shape points
}

func newSnapIndex(g *Graph) snapIndex {
	if len(g.shape) == 0 {
		return snapIndex{}
	}
	bound := orb.MultiPoint(g.shape).Bound()
	mid := (bound.Min[1] + bound.Max[1]) / 2
	ix := snapIndex{
		lon0: bound.Min[0], lat0: bound.Min[1],
		my: earthRadius * math.Pi / 180,
	}
	ix.mx = ix.my * math.Cos(mid*math.Pi/180)
	w, h := (bound.Max[0]-bound.Min[0])*ix.mx, (bound.Max[1]-bound.Min[1])*ix.my
	most := max(1<<12, 4*len(g.shape))
	for ix.size = snapBucket; (w/ix.size+1)*(h/ix.size+1) > float64(most); ix.size *= 2 {
	}
	ix.nx = int(w/ix.size) + 1
	ix.ny = int(h/ix.size) + 1
	ix.segEdge = make([]int32, len(g.shape))
	ix.xy = make([][2]float64, len(g.shape))
	for i, p := range g.shape {
		ix.xy[i][0], ix.xy[i][1] = ix.project(p)
	}
	counts := make([]int32, ix.nx*ix.ny+1)
	ix.eachSegment(g, func(_, b int) { counts[b+1]++ })
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	ix.first = counts
	ix.segs = make([]int32, counts[len(counts)-1])
	next := append([]int32(nil), counts[:len(counts)-1]...)
	ix.eachSegment(g, func(s, b int) {
		ix.segs[next[b]] = int32(s)
		next[b]++
	})
	for e, ed := range g.edges {
		for s := ed.shape0; s < ed.shape1; s++ {
			ix.segEdge[s] = int32(e)
		}
	}
	return ix
}

// eachSegment calls fn with every segment's start index and every bucket
// its bounding box touches.
func (ix *snapIndex) eachSegment(g *Graph, fn func(seg, bucket int)) {
	for _, ed := range g.edges {
		for s := ed.shape0; s+1 < ed.shape1; s++ {
			ax, ay := ix.xy[s][0], ix.xy[s][1]
			bx, by := ix.xy[s+1][0], ix.xy[s+1][1]
			x0, x1 := ix.clampX(min(ax, bx)), ix.clampX(max(ax, bx))
			y0, y1 := ix.clampY(min(ay, by)), ix.clampY(max(ay, by))
			for y := y0; y <= y1; y++ {
				for x := x0; x <= x1; x++ {
					fn(int(s), y*ix.nx+x)
				}
			}
		}
	}
}

// project returns p in metres east and north of the index's corner.
func (ix *snapIndex) project(p orb.Point) (x, y float64) {
	return (p[0] - ix.lon0) * ix.mx, (p[1] - ix.lat0) * ix.my
}

func (ix *snapIndex) clampX(x float64) int {
	return max(0, min(ix.nx-1, int(x/ix.size)))
}

func (ix *snapIndex) clampY(y float64) int {
	return max(0, min(ix.ny-1, int(y/ix.size)))
}

// Snap is a point placed on a road graph.
type Snap struct {
	// Edge is the number of the edge the point lies on.
	Edge int32
	// Along is the distance from the edge's first node to the point,
	// measured along the edge's shape, in [0, edge length].
	Along geo.Meters
	// Fraction is Along over the edge's length, in [0, 1].
	Fraction float64
	// Point is the (lon, lat) position on the edge.
	Point orb.Point
	// Off is the distance from the snapped point to Point.
	Off geo.Meters
}

// snapNear is the first search radius of Snap: most points lie this
// close to a road, and a small square has few segments to check.
const snapNear = 40.0

// Snap places p (lon, lat) on the nearest edge of g within radius, and
// returns false when no edge is that close.
func (g *Graph) Snap(p orb.Point, radius geo.Meters) (Snap, bool) {
	ix := &g.snap
	if ix.nx == 0 || !geo.ValidPoint(p) {
		return Snap{}, false
	}
	px, py := ix.project(p)
	// A segment within r of p passes through the square p ± r, so the
	// nearest one within the near radius is the nearest of all.
	best, t := ix.nearest(px, py, min(snapNear, float64(radius)))
	if best < 0 && float64(radius) > snapNear {
		best, t = ix.nearest(px, py, float64(radius))
	}
	if best < 0 {
		return Snap{}, false
	}
	return g.snapAt(ix.segEdge[best], best, t, p), true
}

// nearest returns the segment nearest to (px, py) within r and the
// fraction of it at the nearest point, or -1 when none is that close.
func (ix *snapIndex) nearest(px, py, r float64) (int32, float64) {
	x0, x1 := int(math.Floor((px-r)/ix.size)), int(math.Floor((px+r)/ix.size))
	y0, y1 := int(math.Floor((py-r)/ix.size)), int(math.Floor((py+r)/ix.size))
	x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, ix.nx-1), min(y1, ix.ny-1)
	best, bestD2, bestT := int32(-1), r*r, 0.0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			b := y*ix.nx + x
			for _, s := range ix.segs[ix.first[b]:ix.first[b+1]] {
				d2, t := ix.segDist2(s, px, py)
				if d2 < bestD2 || d2 == bestD2 && s < best {
					best, bestD2, bestT = s, d2, t
				}
			}
		}
	}
	return best, bestT
}

// segDist2 returns the squared planar distance from (px, py) to segment
// s and the fraction t in [0, 1] of the segment at the nearest point.
func (ix *snapIndex) segDist2(s int32, px, py float64) (d2, t float64) {
	ax, ay := ix.xy[s][0], ix.xy[s][1]
	bx, by := ix.xy[s+1][0], ix.xy[s+1][1]
	dx, dy := bx-ax, by-ay
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = max(0, min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
	}
	ex, ey := ax+t*dx-px, ay+t*dy-py
	return ex*ex + ey*ey, t
}

// snapAt builds the Snap of p at fraction t of segment s of edge e.
func (g *Graph) snapAt(e, s int32, t float64, p orb.Point) Snap {
	ed := g.edges[e]
	along := 0.0
	for k := ed.shape0; k < s; k++ {
		along += float64(geo.Distance(g.shape[k], g.shape[k+1]))
	}
	a, b := g.shape[s], g.shape[s+1]
	on := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
	along += float64(geo.Distance(a, on))
	along = min(along, float64(ed.length))
	frac := 0.0
	if ed.length > 0 {
		frac = along / float64(ed.length)
	}
	return Snap{Edge: e, Along: geo.Meters(along), Fraction: frac, Point: on, Off: geo.Distance(p, on)}
}
