package patrol

import (
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// TestZoneBackupShare evaluates the backup share of one zone with units of
// the test plan (two cars, then an e-bike) placed around it:
//
//	   +-----------+
//	   |           |   zone Z: a square of about 480 × 670 m
//	W  |   C       |   around the centre C of the test box;
//	   |           |   W 1.3 km west of it, F 3 km east
//	   +-----------+          F
//
// A cell has backup when two units reach it within 3 minutes, whatever the
// zone's rule asks.
func TestZoneBackupShare(t *testing.T) {
	const tol = 1e-9
	centre := orb.Point{122.26, 43.62}
	west := orb.Point{122.244, 43.62}
	far := orb.Point{122.297, 43.605}
	for _, tc := range []struct {
		name   string
		rule   Rule
		at     []orb.Point // where units 0, 1, ... of the plan stand
		status Status      // of every placed unit
		min    float64     // the share reaches at least min
		max    float64     // and at most max
	}{
		{"nobody", Rule{}, nil, Available, 0, 0},
		{"one car in the centre", Rule{M3: Requirement{1, 1}}, []orb.Point{centre}, Available, 0, 0},
		{"two cars in the centre", Rule{}, []orb.Point{centre, centre}, Available, 1, 1},
		{"two cars, rule asks one unit", Rule{M1: Requirement{1, 1}}, []orb.Point{centre, centre}, Available, 1, 1},
		{"two cars in the centre, busy", Rule{}, []orb.Point{centre, centre}, Dispatched, 0, 0},
		{"one car in the centre, one far east", Rule{}, []orb.Point{centre, far}, Available, 0, 0},
		{"one car in the centre, one 1.3 km west", Rule{}, []orb.Point{centre, west}, Available, 0.01, 0.99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, cv := zoneCoverage(t, tc.rule)
			for i, p := range tc.at {
				if _, err := cv.Move(plan.Units[i].ID, p, tc.status); err != nil {
					t.Fatal(err)
				}
			}
			s := cv.Zones(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))[0]
			got := s.BackupShare()
			if got < tc.min-tol || got > tc.max+tol {
				t.Errorf("BackupShare() = %v, want %v to %v", got, tc.min, tc.max)
			}
			backed := 0
			for _, c := range cv.Cells() {
				if j, ok := cv.Grid().Index(c.Cell); ok && c.Backed() && slices.Contains(cv.zones[0].cells, j) {
					backed++
				}
			}
			if want := s.Cells - backed; s.Unbacked != want {
				t.Errorf("Unbacked = %d, want %d of %d cells (from the cells' counts)", s.Unbacked, want, s.Cells)
			}
			t.Logf("backup share %.3f, %d of %d cells unbacked", got, s.Unbacked, s.Cells)
		})
	}
}
