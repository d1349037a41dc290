package geo

import (
	"time"

	"github.com/paulmach/orb"
)

// Router computes bounded isochrones over a travel graph whose places are
// the cells of a Grid. Lattice is one; a road graph is another.
// Implementations are immutable and safe for concurrent use; each caller
// brings its own Search.
type Router interface {
	// Grid returns the cells reach results are numbered by.
	Grid() *Grid
	// Isochrone appends to dst every cell reachable from (lon, lat) point
	// from within limit on profile p, with its earliest arrival time. It
	// returns ErrOffGrid when from cannot be placed on the graph.
	Isochrone(s *Search, from orb.Point, p Profile, limit time.Duration, dst []Reach) ([]Reach, error)
}
