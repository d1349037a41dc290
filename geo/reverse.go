package geo

import (
	"time"

	"github.com/paulmach/orb"
)

// Unreached is the ETA a ReverseRouter gives a unit that cannot reach the
// incident within the limit, or that cannot be placed on the travel graph
// at all (off the grid, off the network). Every real ETA is 0 or more.
const Unreached time.Duration = -1

// ReverseRouter ranks units for an incident: one search over the reversed
// travel graph from the incident gives the drive time from every unit to
// it, on the same travel model as the Router's isochrones. Implementations
// are immutable and safe for concurrent use; each caller brings its own
// Search.
type ReverseRouter interface {
	// ETAsTo appends to dst, for each (lon, lat) point of from in order,
	// the drive time from it to (lon, lat) point to on profile p: the
	// time the unit's forward trip would take, or Unreached when it takes
	// longer than limit or the unit cannot be placed. It returns
	// ErrOffGrid (or an error that matches it) when to cannot be placed,
	// appending nothing. After the first call on a graph the search
	// allocates nothing but dst's growth; placing the points may (the
	// lattice's H3 lookups do, two small allocations per point).
	ETAsTo(s *Search, to orb.Point, p Profile, from []orb.Point, limit time.Duration, dst []time.Duration) ([]time.Duration, error)
}

// SpeedBound is a router that bounds its drive times from below: no trip
// on profile p from a point to the centre of a grid cell takes less than
// the straight-line distance between them at MaxSpeed(p) metres per
// second. A search for drive times within a limit may skip the points
// that lie too far for it; 0 means no bound is known.
type SpeedBound interface {
	MaxSpeed(p Profile) float64
}

// MaxSpeed is SpeedBound.MaxSpeed on the lattice: every hop and the run
// to a cell's centre go straight at the profile's speed over its detour,
// so no trip beats the straight line at that pace.
func (l *Lattice) MaxSpeed(p Profile) float64 { return p.MetersPerSecond() / p.Detour }

// CellRun is a ReverseRouter whose drive time from a point to the centre
// of a target cell is the run from the point to the centre of its own cell
// plus the time the target's Isochrone (from the target cell's centre)
// gives that cell, as ETAsTo would find it: one isochrone from a target
// then times any number of units, call after call.
type CellRun interface {
	// Run returns the grid number of from's cell and the run from from to
	// its centre on profile p; false off the grid.
	Run(from orb.Point, p Profile) (cell int32, run time.Duration, ok bool)
}

// Run is CellRun.Run on the lattice, whose hops are the same both ways.
func (l *Lattice) Run(from orb.Point, p Profile) (int32, time.Duration, bool) {
	c, ok := l.grid.Locate(from)
	if !ok {
		return -1, 0, false
	}
	return c, p.Travel(Distance(from, l.centre[c])), true
}

// ETAsTo is ReverseRouter.ETAsTo on the lattice. The lattice is symmetric,
// so it is one search from the cell of to: a unit's ETA is the straight
// run from its point to the centre of its cell, as Isochrone starts it,
// plus the hops from there to the centre of to's cell, which is what the
// unit's Isochrone reports for that cell. The search stops once every
// unit's cell is settled.
func (l *Lattice) ETAsTo(s *Search, to orb.Point, p Profile, from []orb.Point, limit time.Duration, dst []time.Duration) ([]time.Duration, error) {
	target, ok := l.grid.Locate(to)
	if !ok {
		return dst, ErrOffGrid
	}
	start := len(dst)
	for _, u := range from { // each unit's cell, for now, -1 off the grid
		c, ok := l.grid.Locate(u)
		dst = append(dst, time.Duration(c))
		if !ok {
			dst[len(dst)-1] = Unreached
		}
	}
	units := dst[start:]
	s.Reset(len(l.nbr))
	secPerMeter := p.Detour / p.MetersPerSecond()
	s.Push(target, 0)
	pending := 0 // units[:pending] are settled or off the grid
	for {
		for pending < len(units) && (units[pending] < 0 || s.Done(int32(units[pending]))) {
			pending++
		}
		node, at, ok := s.Next()
		if pending == len(units) || !ok {
			break
		}
		l.relax(s, node, at, secPerMeter, limit)
	}
	for i, c := range units {
		units[i] = Unreached
		if c < 0 || !s.Done(int32(c)) {
			continue
		}
		if eta := p.Travel(Distance(from[i], l.centre[c])) + s.ETA(int32(c)); eta <= limit {
			units[i] = eta
		}
	}
	return dst, nil
}

var (
	_ ReverseRouter = (*Lattice)(nil)
	_ SpeedBound    = (*Lattice)(nil)
	_ CellRun       = (*Lattice)(nil)
)
