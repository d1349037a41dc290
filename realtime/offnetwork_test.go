package realtime_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// seaRouter is a lattice whose east of lon has no roads: an isochrone
// from there fails with geo.ErrOffNetwork, as a road.Router's does beyond
// its snapping distance.
type seaRouter struct {
	*geo.Lattice
	lon float64
}

func (r seaRouter) Isochrone(s *geo.Search, from orb.Point, p geo.Profile, limit time.Duration, dst []geo.Reach) ([]geo.Reach, error) {
	if from[0] > r.lon {
		return dst, road.ErrOffNetwork
	}
	return r.Lattice.Isochrone(s, from, p, limit, dst)
}

// TestUnitOffNetwork drives a vehicle from a street to where no road is
// near and back: the unit view says off_network, coverage drops the
// unit's cells, and ingest reports no error.
func TestUnitOffNetwork(t *testing.T) {
	c := citytest.StartRouted(t, patroltest.SquarePlan(t), func(l *geo.Lattice) geo.Router {
		return seaRouter{Lattice: l, lon: 122.262}
	}, nil)
	city, clk, ctx := c.City, c.Clock, context.Background()

	road, sea := orb.Point{122.255, 43.620}, orb.Point{122.268, 43.620}
	for i, step := range []struct {
		name string
		at   orb.Point
		off  bool
	}{
		{"on a road", road, false},
		{"off the network", sea, true},
		{"back on a road", road, false},
	} {
		clk.Set(clk.Now().Add(time.Minute))
		res, err := city.Ingest(ctx, []fix.Fix{{Unit: "V1", Time: clk.Now(), Point: step.at}})
		if err != nil || res[0].Outcome != fix.Accepted {
			t.Fatalf("%s: Ingest = %+v, %v; want accepted", step.name, res, err)
		}
		realtimetest.WaitFor(t, step.name, func() bool {
			v := citytest.UnitView(city, "V1")
			return v.Lon != nil && *v.Lon == step.at[0]
		})
		v := citytest.UnitView(city, "V1")
		b, _ := json.Marshal(v)
		if v.OffNetwork != step.off || strings.Contains(string(b), `"off_network":true`) != step.off {
			t.Errorf("step %d, %s: view %s, want off_network %v", i, step.name, b, step.off)
		}
		if covered := len(city.Coverage()) > 0; covered == step.off {
			t.Errorf("step %d, %s: %d cells covered, want covered %v", i, step.name, len(city.Coverage()), !step.off)
		}
	}
}
