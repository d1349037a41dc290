package patrol

import (
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// TestZoneShares evaluates one zone under rules that ask some tiers and
// not others, with the first n units of the test plan (two cars, then an
// e-bike) in its centre:
//
//	+-----------+
//	|           |   zone Z: a square of about 480 × 670 m
//	|   n × ●   |   around the centre of the test box
//	|           |
//	+-----------+
//
// A tier whose requirement asks no unit has no share, whatever its share
// field says, and never keeps the rule from being met.
func TestZoneShares(t *testing.T) {
	const tol = 1e-9
	type share struct {
		v     float64
		asked bool
	}
	no := share{}
	for _, tc := range []struct {
		name  string
		rule  Rule
		units int
		want  [numTiers]share
		met   bool
	}{
		{"empty rule asks nothing", Rule{}, 0, [numTiers]share{no, no, no}, true},
		{"units 0 asks nothing whatever its share", Rule{M1: Requirement{0, 1}, M3: Requirement{0, 0.5}}, 0,
			[numTiers]share{no, no, no}, true},
		{"only m3 asked, nobody there", Rule{M3: Requirement{1, 1}}, 0,
			[numTiers]share{no, {0, true}, no}, false},
		{"only m5 asked, a car in the centre", Rule{M5: Requirement{1, 1}}, 1,
			[numTiers]share{no, no, {1, true}}, true},
		{"m5 units 0 beside asked tiers", Rule{M3: Requirement{1, 0.5}, M5: Requirement{0, 0}}, 1,
			[numTiers]share{no, {1, true}, no}, true},
		{"units asked with share 0 is met with share 0", Rule{M1: Requirement{3, 0}}, 2,
			[numTiers]share{{0, true}, no, no}, true},
		{"two units asked, one there", Rule{M5: Requirement{2, 1}}, 1,
			[numTiers]share{no, no, {0, true}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, cv := zoneCoverage(t, tc.rule)
			for _, u := range plan.Units[:tc.units] {
				if _, err := cv.Move(u.ID, orb.Point{122.26, 43.62}, Available); err != nil {
					t.Fatal(err)
				}
			}
			s := cv.Zones(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))[0]
			for tier, want := range tc.want {
				v, asked := s.Share(Tier(tier))
				if asked != want.asked || math.Abs(v-want.v) > tol {
					t.Errorf("Share(%v) = (%v, %v), want (%v, %v)", Limits[tier], v, asked, want.v, want.asked)
				}
				if !asked && s.Shares[tier] != 0 {
					t.Errorf("Shares[%v] = %v for a tier not asked, want 0", Limits[tier], s.Shares[tier])
				}
			}
			if s.Met != tc.met {
				t.Errorf("Met = %v, want %v (shares %v)", s.Met, tc.met, s.Shares)
			}
		})
	}
}

// zoneCoverage returns the test plan of three units (two cars, then an
// e-bike) with one zone Z, a square of about 480 × 670 m around the centre
// of the test box under rule, and its coverage with no unit placed.
func zoneCoverage(t *testing.T, rule Rule) (*Plan, *Coverage) {
	t.Helper()
	plan := testPlan(t, 3, 1)
	plan.Zones = []Zone{{ID: "Z", Name: "zone", Kind: "park", Weight: 1,
		Area: square(122.26, 43.62, 0.003), Rule: rule}}
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	cv, err := NewCoverage(plan, testLattice(t, plan))
	if err != nil {
		t.Fatal(err)
	}
	return plan, cv
}
