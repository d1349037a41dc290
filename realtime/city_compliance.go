package realtime

import (
	"fmt"
	"sync"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
)

// complianceCache keeps a city's compliance table between calls, with the
// router version it was computed on.
type complianceCache struct {
	router geo.Router
	// mu is held while the table is computed, so that callers meanwhile
	// wait for that one computation; it is not City.mu, which ingest and
	// the live feed take.
	mu      sync.Mutex
	table   *dispatch.Table // nil until computed
	version uint64          // of a patrol.VersionedRouter, when table was computed
}

// Compliance returns the compliance table of the city's plan (see
// dispatch.Compliance): for every number k of available units, from 1 to
// the plan's responding units, the posts they should hold, on the travel
// times coverage uses, weighted by CityConfig.Demand (every cell alike
// when it is nil). The plan does not change while the city runs, so the
// table is computed on the first call (a few hundred milliseconds for the
// demo city) and again only after a patrol.VersionedRouter's version
// changed, as a road network's does at a new time-of-day band. It is safe
// for concurrent use and takes no lock that ingest or the live feed takes.
// Callers share the table's rows and must not modify them.
func (c *City) Compliance() (dispatch.Table, error) {
	cc := &c.compliance
	cc.mu.Lock()
	defer cc.mu.Unlock()
	v := routerVersion(cc.router) // before computing: a switch meanwhile makes the next call compute again
	if cc.table != nil && cc.version == v {
		return *cc.table, nil
	}
	t, err := dispatch.Compliance(c.plan, cc.router, c.cfg.Demand)
	if err != nil {
		return dispatch.Table{}, fmt.Errorf("realtime: compliance: %w", err)
	}
	cc.table, cc.version = &t, v
	return t, nil
}

// routerVersion returns r's version when it is a patrol.VersionedRouter,
// else 0: its travel times never change.
func routerVersion(r geo.Router) uint64 {
	if vr, ok := r.(patrol.VersionedRouter); ok {
		return vr.Version()
	}
	return 0
}

// Travel returns the travel times the city's coverage runs on and the
// demand that weighs its cells (CityConfig.Demand, or every cell alike):
// what plans of the city are scored on (see planner.Evaluate). Both are
// shared and must not be modified.
func (c *City) Travel() (geo.Router, patrol.Demand) { return c.compliance.router, c.cfg.Demand }
