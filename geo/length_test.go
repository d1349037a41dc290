package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// lengthTolerance is how far AddLength may put length from the border a
// line crosses: an eighth of the average cell edge at resolution 10 (66 m).
const lengthTolerance = 66.0 / 8

// TestAddLength holds the length AddLength puts in cells to the line's own,
// over the tongliao box at resolution 10:
//
//	+---------------------------+
//	|  a--b        c------------+---d
//	|                           |
//	|  e-----------f            |   g--h
//	+---------------------------+
func TestAddLength(t *testing.T) {
	g, err := NewPolygonGrid(tongliao, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		line  orb.LineString
		cells int     // cells given length; -1 for any number
		tol   float64 // metres the sum may differ from the length in the grid
	}{
		{"a-b: within one cell", orb.LineString{{122.2500, 43.6200}, {122.2502, 43.6200}}, 1, 0},
		{"e-f: across cells", orb.LineString{{122.23, 43.61}, {122.25, 43.61}, {122.25, 43.62}}, -1, 1e-6},
		{"c-d: out of the grid halfway", orb.LineString{{122.29, 43.63}, {122.31, 43.63}}, -1, lengthTolerance},
		{"g-h: off the grid", orb.LineString{{122.31, 43.61}, {122.32, 43.61}}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			perCell := make([]Meters, g.Len())
			g.AddLength(perCell, tc.line)
			var got Meters
			cells := 0
			for _, m := range perCell {
				got += m
				if m > 0 {
					cells++
				}
			}
			want := inGrid(g, tc.line)
			if math.Abs(float64(got-want)) > tc.tol+1e-9*float64(want) {
				t.Errorf("AddLength put %.3f m in %d cells, want %.3f m", got, cells, want)
			}
			if tc.cells >= 0 && cells != tc.cells {
				t.Errorf("AddLength put length in %d cells, want %d", cells, tc.cells)
			}
		})
	}
}

// inGrid measures the length of line inside g on 1 m steps.
func inGrid(g *Grid, line orb.LineString) Meters {
	var sum Meters
	for i := 0; i+1 < len(line); i++ {
		a, b := line[i], line[i+1]
		d := Distance(a, b)
		n := int(math.Ceil(float64(d)))
		for j := range n {
			t := (float64(j) + 0.5) / float64(n)
			if _, ok := g.Locate(orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}); ok {
				sum += d / Meters(n)
			}
		}
	}
	return sum
}

// TestGridBound: every corner of every cell lies in the grid's bound, and
// the bound reaches no further than the cells do.
func TestGridBound(t *testing.T) {
	g, err := NewPolygonGrid(tongliao, 9)
	if err != nil {
		t.Fatal(err)
	}
	b := g.Bound()
	var corners orb.MultiPoint
	for i := range int32(g.Len()) {
		for _, p := range CellPolygon(g.Cell(i))[0] {
			if !b.Contains(p) {
				t.Fatalf("cell %v corner %v outside Bound() %v", g.Cell(i), p, b)
			}
			corners = append(corners, p)
		}
	}
	if got := corners.Bound(); got != b {
		t.Errorf("Bound() = %v, want the corners' %v", b, got)
	}
}
