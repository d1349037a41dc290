package geo

import (
	"errors"
	"fmt"
	"slices"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// ErrOffGrid is returned for a point or cell outside a Grid.
var ErrOffGrid = errors.New("geo: outside the grid")

// Grid is a fixed set of H3 cells of one resolution, numbered densely from
// 0 in cell order, so that per-cell state can live in slices.
// A Grid is immutable and safe for concurrent use.
type Grid struct {
	res   int
	cells []h3.Cell
	index map[h3.Cell]int32
}

// NewGrid returns a grid over cells, which must be valid and of one
// resolution. Duplicates are dropped.
func NewGrid(cells []h3.Cell) (*Grid, error) {
	if len(cells) == 0 {
		return nil, errors.New("geo: empty grid")
	}
	cs := slices.Clone(cells)
	slices.Sort(cs)
	cs = slices.Compact(cs)
	res := cs[0].Resolution()
	g := &Grid{res: res, cells: cs, index: make(map[h3.Cell]int32, len(cs))}
	for i, c := range cs {
		if !c.IsValid() || c.Resolution() != res {
			return nil, fmt.Errorf("geo: grid cell %v: invalid or not at resolution %d", c, res)
		}
		g.index[c] = int32(i)
	}
	return g, nil
}

// NewPolygonGrid returns the grid of the cells at resolution res whose
// centres lie in poly.
func NewPolygonGrid(poly orb.Polygon, res int) (*Grid, error) {
	if res < 0 || res > 15 {
		return nil, fmt.Errorf("geo: resolution %d out of [0, 15]", res)
	}
	return NewGrid(PolygonCells(poly, res))
}

// Resolution returns the H3 resolution of the grid's cells.
func (g *Grid) Resolution() int { return g.res }

// Len returns the number of cells.
func (g *Grid) Len() int { return len(g.cells) }

// Cell returns the cell numbered i, 0 <= i < Len().
func (g *Grid) Cell(i int32) h3.Cell { return g.cells[i] }

// Index returns the number of c, and false when c is not in the grid.
func (g *Grid) Index(c h3.Cell) (int32, bool) {
	i, ok := g.index[c]
	return i, ok
}

// Bound returns the (lon, lat) bounding box of the grid's cells.
func (g *Grid) Bound() orb.Bound {
	b := CellPolygon(g.cells[0]).Bound()
	for _, c := range g.cells[1:] {
		b = b.Union(CellPolygon(c).Bound())
	}
	return b
}

// Locate returns the number of the cell that holds p (lon, lat), and false
// when p is outside the grid.
func (g *Grid) Locate(p orb.Point) (int32, bool) {
	if !ValidPoint(p) {
		return -1, false
	}
	return g.Index(Cell(p, g.res))
}
