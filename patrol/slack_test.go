package patrol

import (
	"testing"
	"time"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
)

// TestPlaceSlack: a unit placed with slack reaches the cells it reaches
// from the same point within 5 minutes less the slack, each slack later;
// slack of 5 minutes or more, none; slack back to 0, its full reach.
func TestPlaceSlack(t *testing.T) {
	plan := testPlan(t, 1, 7)
	lat := testLattice(t, plan)
	cv, err := NewCoverage(plan, lat)
	if err != nil {
		t.Fatal(err)
	}
	id := plan.Units[0].ID
	p := geo.CellCenter(lat.Grid().Cell(int32(lat.Grid().Len() / 2)))
	if _, err := cv.Move(id, p, Available); err != nil {
		t.Fatal(err)
	}
	full := map[h3.Cell]time.Duration{}
	for _, c := range cv.Cells() {
		full[c.Cell] = c.ETA
	}
	for _, slack := range []time.Duration{90 * time.Second, 4 * time.Minute, 5 * time.Minute, 0} {
		if _, err := cv.Place(id, p, Available, slack); err != nil {
			t.Fatal(err)
		}
		got := map[h3.Cell]time.Duration{}
		for _, c := range cv.Cells() {
			got[c.Cell] = c.ETA
		}
		want := 0
		for cell, eta := range full {
			if eta+slack > Limits[Tier5] {
				continue
			}
			want++
			if got[cell] != eta+slack {
				t.Fatalf("slack %v: cell %v ETA %v, want %v", slack, cell, got[cell], eta+slack)
			}
		}
		if len(got) != want {
			t.Errorf("slack %v: %d cells reached, want %d", slack, len(got), want)
		}
	}
}
