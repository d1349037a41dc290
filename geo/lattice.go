package geo

import (
	"time"

	"github.com/paulmach/orb"

	"github.com/uber/h3-go/v4"
)

// Lattice is the fallback travel graph used without a road network: each
// grid cell is linked to its (up to) six neighbours in the grid, with the
// great-circle distance between their centres as the edge length. A Profile's
// detour factor turns those straight hops into road-like travel times.
// A Lattice is immutable and safe for concurrent use; searches on it need
// their own Search.
type Lattice struct {
	grid   *Grid
	nbr    [][6]int32  // neighbour numbers, -1 where the grid ends
	hop    [][6]Meters // centre-to-centre distances
	centre []orb.Point // cell centres, kept to spare H3 calls per search
}

// NewLattice links the cells of g to their neighbours.
func NewLattice(g *Grid) *Lattice {
	n := g.Len()
	l := &Lattice{grid: g, nbr: make([][6]int32, n), hop: make([][6]Meters, n), centre: make([]orb.Point, n)}
	for i := range n {
		c := g.Cell(int32(i))
		centre := CellCenter(c)
		l.centre[i] = centre
		k := 0
		for _, nc := range h3.GridDisk(c, 1) {
			if nc == c {
				continue
			}
			j, ok := g.Index(nc)
			if !ok || k == 6 {
				continue
			}
			l.nbr[i][k] = j
			l.hop[i][k] = Distance(centre, CellCenter(nc))
			k++
		}
		for ; k < 6; k++ {
			l.nbr[i][k] = -1
		}
	}
	return l
}

// Grid returns the grid the lattice is built on.
func (l *Lattice) Grid() *Grid { return l.grid }

// Neighbors returns the numbers of the cells adjacent to cell i, -1 padded.
func (l *Lattice) Neighbors(i int32) [6]int32 { return l.nbr[i] }

// Reach is a cell reached by an isochrone and the earliest time it is
// reached.
type Reach struct {
	Cell int32 // number of the cell in the grid
	ETA  time.Duration
}

// Isochrone returns, appended to dst, every cell reachable from point from
// (lon, lat) within limit on profile p, each with its earliest arrival time,
// in order of arrival. The trip starts with the straight run from from to
// the centre of its cell. It returns ErrOffGrid when from is not in the grid.
func (l *Lattice) Isochrone(s *Search, from orb.Point, p Profile, limit time.Duration, dst []Reach) ([]Reach, error) {
	origin, ok := l.grid.Locate(from)
	if !ok {
		return dst, ErrOffGrid
	}
	s.Reset(len(l.nbr))
	secPerMeter := p.Detour / p.MetersPerSecond()
	if eta := p.Travel(Distance(from, l.centre[origin])); eta <= limit {
		s.Push(origin, eta)
	}
	for {
		node, at, ok := s.Next()
		if !ok {
			break
		}
		dst = append(dst, Reach{Cell: node, ETA: at})
		l.relax(s, node, at, secPerMeter, limit)
	}
	return dst, nil
}

// relax queues the neighbours of node, settled at at, that are not
// settled yet and are reached within limit at secPerMeter.
func (l *Lattice) relax(s *Search, node int32, at time.Duration, secPerMeter float64, limit time.Duration) {
	for k, j := range l.nbr[node] {
		if j < 0 || s.Done(j) {
			continue
		}
		eta := at + time.Duration(float64(l.hop[node][k])*secPerMeter*float64(time.Second))
		if eta <= limit {
			s.Push(j, eta)
		}
	}
}
