package ops

import (
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
)

// clockRouter is the router of one simulated day: the travel times in
// force at the day's clock (Config.RouterAt), or Config.Router throughout.
// It is a patrol.VersionedRouter, so the coverage engine and the advisor
// recompute their isochrones when the time-of-day band turns.
type clockRouter struct {
	at      func(time.Time) dispatch.Router // nil: cur throughout
	cur     dispatch.Router
	version uint64
}

// newClockRouter returns the router of cfg at the start of a day.
func newClockRouter(cfg Config) *clockRouter {
	return &clockRouter{at: cfg.RouterAt, cur: cfg.Router}
}

// follow sets the travel times in force at now and reports whether they
// changed.
func (c *clockRouter) follow(now time.Time) bool {
	if c.at == nil {
		return false
	}
	r := c.at(now)
	if r == nil || r == c.cur {
		return false
	}
	c.cur = r
	c.version++
	return true
}

func (c *clockRouter) Grid() *geo.Grid { return c.cur.Grid() }
func (c *clockRouter) Version() uint64 { return c.version }

func (c *clockRouter) Isochrone(s *geo.Search, from orb.Point, p geo.Profile, limit time.Duration, dst []geo.Reach) ([]geo.Reach, error) {
	return c.cur.Isochrone(s, from, p, limit, dst)
}

// MaxSpeed is the bound of the travel times in force (see geo.SpeedBound),
// 0 when they have none.
func (c *clockRouter) MaxSpeed(p geo.Profile) float64 {
	if sb, ok := c.cur.(geo.SpeedBound); ok {
		return sb.MaxSpeed(p)
	}
	return 0
}

func (c *clockRouter) ETAsTo(s *geo.Search, to orb.Point, p geo.Profile, from []orb.Point, limit time.Duration, dst []time.Duration) ([]time.Duration, error) {
	return c.cur.ETAsTo(s, to, p, from, limit, dst)
}
