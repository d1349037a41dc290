package patrol

import (
	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
)

// ShareTolerance absorbs rounding when a zone's share is compared with its
// rule, as Coverage.Zones compares them: a share s meets a rule's share r
// when s+ShareTolerance >= r.
const ShareTolerance = shareTolerance

// Snapshot is a copy of a Coverage's units at one moment: what a reader
// needs to weigh coverage (the cost of a dispatch, say) without holding
// the engine. Nothing in it is shared with the engine, so it stays valid
// while the engine moves on; it is meant to be read, not modified, and is
// then safe for concurrent use.
type Snapshot struct {
	// Grid numbers the cells of every Reach.
	Grid *geo.Grid
	// Version is the VersionedRouter's version the reaches were computed
	// at, 0 on another router.
	Version uint64
	// Units holds every unit of the plan, in plan order.
	Units []SnapshotUnit
}

// SnapshotUnit is one unit of a Snapshot.
type SnapshotUnit struct {
	ID        string
	Mechanism string
	// Profile is the travel profile of the unit's mechanism; the zero
	// Profile for a mechanism that does not travel.
	Profile geo.Profile
	Status  Status
	// Point is the last position the unit was placed at, (lon, lat); the
	// zero Point when it never was.
	Point orb.Point
	// Placed tells whether Point lies on the grid.
	Placed bool
	// OffNetwork is Coverage.OffNetwork for the unit.
	OffNetwork bool
	// Reach is what the unit adds to coverage: every cell it reaches
	// within Limits[Tier5] with its ETA, empty when it does not count
	// (not available, not placed, off the network, not responding). It is
	// the engine's reach as the engine holds it, copied.
	Reach []geo.Reach
}

// Counts reports whether the unit counts in coverage: it reaches a cell.
func (u *SnapshotUnit) Counts() bool { return len(u.Reach) > 0 }

// Snapshot returns a copy of the engine's units and their reach. It costs
// one allocation for the units and one for all reaches together, and does
// not follow a VersionedRouter's new version (Changes does): the reaches
// are those the engine holds.
func (cv *Coverage) Snapshot() *Snapshot {
	n := 0
	for _, u := range cv.slots {
		n += len(u.reach)
	}
	reach := make([]geo.Reach, 0, n)
	s := &Snapshot{Grid: cv.grid, Version: cv.version, Units: make([]SnapshotUnit, len(cv.slots))}
	for i, u := range cv.slots {
		start := len(reach)
		reach = append(reach, u.reach...)
		s.Units[i] = SnapshotUnit{ID: u.ID, Mechanism: u.Mechanism, Profile: u.profile, Status: u.status,
			Point: u.at, Placed: u.cell >= 0, OffNetwork: u.offNetwork, Reach: reach[start:len(reach):len(reach)]}
	}
	return s
}

// ZoneCells returns the cells a Coverage evaluates zone z on over grid g:
// the grid numbers of its cells inside g, and how many of its cells lie
// beyond g (they count as never reached). A zone smaller than a cell has
// the cell of its outline's first point.
func ZoneCells(z Zone, g *geo.Grid) (cells []int32, outside int) {
	zc := zoneGridCells([]Zone{z}, g)[0]
	return zc.cells, zc.outside
}
