package dispatch

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// numTiers is the number of response tiers, len(patrol.Limits).
const numTiers = len(patrol.Limits)

// gainTolerance is how far two demand sums may differ and still be equal:
// sums of the same cells' demand taken in another order differ by
// rounding, real differences by at least a cell's demand.
const gainTolerance = 1e-9

// TierDemand is a demand (patrol.Demand units: incidents of the history)
// per tier, indexed by patrol.Tier. It reads and writes as JSON
// {"m1": ..., "m3": ..., "m5": ...}.
type TierDemand [numTiers]float64

type tierDemandJSON struct {
	M1 float64 `json:"m1"`
	M3 float64 `json:"m3"`
	M5 float64 `json:"m5"`
}

// MarshalJSON writes d as {"m1": ..., "m3": ..., "m5": ...}.
func (d TierDemand) MarshalJSON() ([]byte, error) {
	return json.Marshal(tierDemandJSON{d[patrol.Tier1], d[patrol.Tier3], d[patrol.Tier5]})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *TierDemand) UnmarshalJSON(b []byte) error {
	var v tierDemandJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("dispatch: tier demand: %w", err)
	}
	*d = TierDemand{v.M1, v.M3, v.M5}
	return nil
}

// compareGain orders gains by the move-up objective: 3-minute demand
// first, then 1-minute, then 5-minute, each equal within gainTolerance.
func compareGain(a, b TierDemand) int {
	for _, t := range [...]patrol.Tier{patrol.Tier3, patrol.Tier1, patrol.Tier5} {
		switch {
		case a[t] > b[t]+gainTolerance:
			return 1
		case a[t] < b[t]-gainTolerance:
			return -1
		}
	}
	return 0
}

// Assessed is a ranked candidate with the cost of sending it. As JSON it
// is the Candidate's fields and "cost".
type Assessed struct {
	Candidate
	Cost Cost `json:"cost"`
}

// Cost is what sending a unit takes from the city's coverage, and the move
// of another unit that wins most of it back.
type Cost struct {
	// Lost is the demand of the cells that no available unit would reach
	// within each tier's limit any more: the cells the unit alone reaches.
	Lost TierDemand `json:"lost"`
	// LostShare is Lost over the demand of the whole grid, 0 to 1.
	LostShare TierDemand `json:"lost_share"`
	// Zones are the zones, active at the moment assessed, that meet their
	// rule now and would not without the unit, in plan order; empty when
	// none.
	Zones []ZoneLoss `json:"zones"`
	// MoveUp is the best move of another unit once this one is sent; nil
	// when no move gains anything.
	MoveUp *MoveUp `json:"move_up,omitempty"`
	// Reason says the above in plain words.
	Reason string `json:"reason"`
}

// ZoneLoss is a zone that falls below its rule.
type ZoneLoss struct {
	Zone string `json:"zone"`
	Name string `json:"name"`
	// Tiers are the tiers whose share falls below the rule, in tier order.
	Tiers []ZoneTier `json:"tiers"`
}

// ZoneTier is one tier of a zone's rule: the share (0 to 1) of the zone's
// cells that enough units reach in time, before and after the dispatch,
// and the share the rule asks.
type ZoneTier struct {
	Tier     patrol.Tier `json:"-"`
	Name     string      `json:"tier"` // "m1", "m3" or "m5"
	Required float64     `json:"required"`
	Before   float64     `json:"before"`
	After    float64     `json:"after"`
}

// MoveUp is a move of an available unit to a target cell (a post, or a
// cell the caller offered) after a dispatch.
type MoveUp struct {
	Unit string `json:"unit"`
	// ToPost is the id of the unit whose post the target is, "" when the
	// target is not a post.
	ToPost string  `json:"to_post,omitempty"`
	ToCell h3.Cell `json:"to_cell"`
	// Gain is the demand the move covers again, per tier, net of what the
	// mover leaves uncovered where it is.
	Gain TierDemand `json:"gain"`
	// ETA is the mover's drive time from its position to the centre of
	// ToCell.
	ETA time.Duration `json:"-"`
	// ETAS is ETA in seconds, rounded to 0.1 s.
	ETAS float64 `json:"eta_s"`
	// Restores holds the ids of the lost zones (Cost.Zones) that meet
	// their rule again after the move, in plan order.
	Restores []string `json:"restores,omitempty"`
}

// Router is the travel model an Advisor works on: isochrones for the
// reach of a unit at a target, reverse searches for a move's drive time.
// geo.Lattice and road.Router are both.
type Router interface {
	geo.Router
	geo.ReverseRouter
}

// Units returns the units of snap that count in coverage (see
// patrol.SnapshotUnit.Counts), for Ranker.Rank: they are the ones a
// dispatch takes out of coverage and the ones that can move up.
func Units(snap *patrol.Snapshot) []Unit {
	var out []Unit
	for i := range snap.Units {
		if u := &snap.Units[i]; u.Counts() {
			out = append(out, Unit{ID: u.ID, Point: u.Point, Profile: u.Profile})
		}
	}
	return out
}
