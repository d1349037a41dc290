package geo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// AddLength adds to perCell, which holds one entry per cell of the grid by
// cell number, the length of line (lon, lat) inside each cell. Each segment
// is cut into pieces of at most a quarter of the cells' average edge, and a
// piece counts whole in the cell that holds its midpoint, so length is put
// within an eighth of an edge of where the line crosses from one cell into
// the next. Length outside the grid counts nowhere.
func (g *Grid) AddLength(perCell []Meters, line orb.LineString) {
	step := h3.HexagonEdgeLengthAvgM(g.res) / 4
	for i := 0; i+1 < len(line); i++ {
		a, b := line[i], line[i+1]
		d := float64(Distance(a, b))
		k := max(1, int(math.Ceil(d/step)))
		for j := range k {
			t := (float64(j) + 0.5) / float64(k)
			if c, ok := g.Locate(orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}); ok {
				perCell[c] += Meters(d / float64(k))
			}
		}
	}
}
