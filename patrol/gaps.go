package patrol

import (
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
)

// shareTolerance absorbs rounding when a share is compared with a rule.
const shareTolerance = 1e-9

type zoneCells struct {
	Zone
	cells   []int32 // grid numbers of the zone's cells inside the grid
	outside int     // zone cells beyond the grid: never reached
}

func zoneGridCells(zones []Zone, g *geo.Grid) []zoneCells {
	out := make([]zoneCells, len(zones))
	for i, z := range zones {
		out[i].Zone = z
		for _, c := range geo.PolygonCells(z.Area, g.Resolution()) {
			if j, ok := g.Index(c); ok {
				out[i].cells = append(out[i].cells, j)
			} else {
				out[i].outside++
			}
		}
		if len(out[i].cells)+out[i].outside == 0 { // smaller than a cell
			c := geo.Cell(z.Area[0][0], g.Resolution())
			if j, ok := g.Index(c); ok {
				out[i].cells = append(out[i].cells, j)
			} else {
				out[i].outside++
			}
		}
	}
	return out
}

// ZoneStatus is how a priority zone stands against its rule at one moment.
type ZoneStatus struct {
	Zone
	// Active tells whether the zone's hours include the moment.
	Active bool
	// Shares holds, per tier that the rule asks (Requirement.Asks), the
	// share (0 to 1) of the zone's cells that enough units reach within
	// the tier's limit. A tier the rule does not ask has no share and holds
	// 0 here: Share tells the two apart.
	Shares [numTiers]float64
	// Met tells whether the share of every tier the rule asks reaches the
	// rule's share.
	Met bool
	// Cells is the number of H3 cells the zone covers.
	Cells int
	// Unbacked is the number of the zone's cells that fewer than
	// BackupUnits available units reach within 3 minutes, whatever the
	// rule asks; 0 to Cells.
	Unbacked int
}

// BackupShare returns the share (0 to 1) of the zone's cells that at least
// BackupUnits available units reach within 3 minutes, whatever the rule
// asks; 0 for a zone of no cells.
func (s ZoneStatus) BackupShare() float64 {
	if s.Cells == 0 {
		return 0
	}
	return float64(s.Cells-s.Unbacked) / float64(s.Cells)
}

// Gap reports whether the zone is active and its rule is not met.
func (s ZoneStatus) Gap() bool { return s.Active && !s.Met }

// Share returns the share (0 to 1) of tier t and whether the rule asks
// for t at all; a tier it does not ask has no share (0, false).
func (s ZoneStatus) Share(t Tier) (share float64, asked bool) {
	if !s.Rule.Tiers()[t].Asks() {
		return 0, false
	}
	return s.Shares[t], true
}

// Zones evaluates every zone of the plan at instant now; zone hours are
// read in the plan's time zone.
func (cv *Coverage) Zones(now time.Time) []ZoneStatus {
	now = now.In(cv.loc)
	out := make([]ZoneStatus, len(cv.zones))
	for i, z := range cv.zones {
		out[i] = cv.evaluate(z, now)
	}
	return out
}

func (cv *Coverage) evaluate(z zoneCells, now time.Time) ZoneStatus {
	total := len(z.cells) + z.outside
	s := ZoneStatus{Zone: z.Zone, Active: z.Active(now), Met: true, Cells: total, Unbacked: cv.backup(z)}
	for t, req := range z.Rule.Tiers() {
		if !req.Asks() {
			continue
		}
		ok := 0
		for _, c := range z.cells {
			if cv.count(c, Tier(t)) >= req.Units {
				ok++
			}
		}
		if total > 0 {
			s.Shares[t] = float64(ok) / float64(total)
		}
		if s.Shares[t]+shareTolerance < req.Share {
			s.Met = false
		}
	}
	return s
}

// count returns how many units reach cell i within tier t.
func (cv *Coverage) count(i int32, t Tier) int {
	n := 0
	for _, e := range cv.cells[i] {
		if e.eta <= Limits[t] {
			n++
		}
	}
	return n
}
