package geo

import (
	"math"
	"slices"
	"testing"

	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

// TestCellsOutline traces a hexagon, a flower of seven, the ring of six
// around a hole, and two pieces apart: the outlines have the pieces and
// holes they should, counter-clockwise outer rings, and each piece's
// area is that of its cells.
func TestCellsOutline(t *testing.T) {
	l := demoLattice(t)
	c := l.grid.Cell(int32(l.grid.Len() / 2))
	flower := c.GridDisk(1)
	ring := slices.DeleteFunc(slices.Clone(flower), func(x h3.Cell) bool { return x == c })
	far := c.GridDisk(4)[len(c.GridDisk(4))-1]
	for _, tc := range []struct {
		name         string
		cells        []h3.Cell
		pieces       int
		holes        int
		outerPoints  int // vertices of the first outer ring, closing point included
		cellsInPiece int // cells whose area the first piece covers
	}{
		{"hexagon", []h3.Cell{c}, 1, 0, 7, 1},
		{"flower", flower, 1, 0, 19, 7},
		{"ring around a hole", ring, 1, 1, 19, 6},
		{"apart", []h3.Cell{c, far, c}, 2, 0, 7, 1},
	} {
		mp := CellsOutline(tc.cells)
		if len(mp) != tc.pieces {
			t.Errorf("%s: %d pieces, want %d", tc.name, len(mp), tc.pieces)
			continue
		}
		holes := 0
		for _, p := range mp {
			holes += len(p) - 1
			if ringOrientation(p[0]) <= 0 || !p[0].Closed() {
				t.Errorf("%s: outer ring not closed and counter-clockwise", tc.name)
			}
		}
		if holes != tc.holes || len(mp[0][0]) != tc.outerPoints {
			t.Errorf("%s: %d holes and %d outer points, want %d and %d", tc.name, holes, len(mp[0][0]), tc.holes, tc.outerPoints)
		}
		want := math.Abs(planar.Area(CellPolygon(c))) * float64(tc.cellsInPiece)
		if got := math.Abs(planar.Area(mp[0])); math.Abs(got-want) > 0.02*want {
			t.Errorf("%s: first piece's area %g, want about %g (%d cells)", tc.name, got, want, tc.cellsInPiece)
		}
	}
	if got := CellsOutline(nil); len(got) != 0 {
		t.Errorf("outline of no cells: %v", got)
	}
}
