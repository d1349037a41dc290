package citytest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// Start is the time a test city's clock reads when it starts.
var Start = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// City is a running city with the parts a test drives.
type City struct {
	*realtime.City
	Hub   *realtime.Hub
	Store *store.Memory
	Clock *realtimetest.Clock
}

// StartSquare runs a city on patroltest.SquarePlan until the test ends; a
// nil st is a new memory store.
func StartSquare(t testing.TB, st *store.Memory) City {
	t.Helper()
	return StartPlan(t, patroltest.SquarePlan(t), st)
}

// StartPlan runs a city on plan over the lattice of its boundary.
func StartPlan(t testing.TB, plan *patrol.Plan, st *store.Memory) City {
	t.Helper()
	return StartRouted(t, plan, func(l *geo.Lattice) geo.Router { return l }, st)
}

// StartRouted runs a city on plan with the router that route makes of the
// lattice of its boundary; a nil st is a new memory store. Units leave
// coverage a minute after their latest fix.
func StartRouted(t testing.TB, plan *patrol.Plan, route func(*geo.Lattice) geo.Router, st *store.Memory) City {
	t.Helper()
	return start(t, plan, route, st, nil)
}

// StartMetered runs a city on plan over the lattice of its boundary with
// a new memory store, as StartPlan does, recording its metrics and its
// hub's in reg.
func StartMetered(t testing.TB, plan *patrol.Plan, reg prometheus.Registerer) City {
	t.Helper()
	return start(t, plan, func(l *geo.Lattice) geo.Router { return l }, nil, reg)
}

// start runs a city as StartRouted does, recording its metrics in reg
// unless reg is nil.
func start(t testing.TB, plan *patrol.Plan, route func(*geo.Lattice) geo.Router, st *store.Memory, reg prometheus.Registerer) City {
	t.Helper()
	hub := realtime.NewHub(realtime.HubConfig{})
	cfg := realtime.CityConfig{StaleAfter: 30 * time.Second, LostAfter: time.Minute}
	if reg != nil {
		cfg.Metrics = realtime.NewMetrics(reg, hub)
	}
	return startWith(t, plan, route, st, hub, realtimetest.NewClock(Start), cfg)
}

// StartClocked runs a city on plan over the lattice of its boundary with
// cfg's settings (the package's defaults where zero), on a clock that
// starts at t0, with a memory store on the same clock, until the test
// ends.
func StartClocked(t testing.TB, plan *patrol.Plan, t0 time.Time, cfg realtime.CityConfig) City {
	t.Helper()
	return startWith(t, plan, func(l *geo.Lattice) geo.Router { return l }, nil, realtime.NewHub(realtime.HubConfig{}),
		realtimetest.NewClock(t0), cfg)
}

// startWith runs a city on plan with the router route makes of the
// lattice of its boundary, on hub and the clock clk (cfg.Now is set to
// it); a nil st is a new memory store on clk.
func startWith(t testing.TB, plan *patrol.Plan, route func(*geo.Lattice) geo.Router, st *store.Memory, hub *realtime.Hub,
	clk *realtimetest.Clock, cfg realtime.CityConfig) City {
	t.Helper()
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		st = store.NewMemory(store.MemoryConfig{Now: clk.Now})
	}
	cfg.Now = clk.Now
	city, err := realtime.NewCity(plan, route(geo.NewLattice(grid)), st, hub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run(t, city, hub)
	return City{city, hub, st, clk}
}

// StartDemo runs the embedded demo city over the lattice of its boundary,
// with a memory store and the real clock, until the test ends.
func StartDemo(t testing.TB) *realtime.City {
	t.Helper()
	return StartDemoConfig(t, realtime.CityConfig{})
}

// StartDemoConfig is StartDemo with the city configured by cfg.
func StartDemoConfig(t testing.TB, cfg realtime.CityConfig) *realtime.City {
	t.Helper()
	_, city, hub := NewDemoConfig(t, cfg)
	run(t, city, hub)
	return city
}

// NewDemo returns the embedded demo city's plan, and a city on it over the
// lattice of its boundary, with a memory store, the real clock and its
// hub, none of them running.
func NewDemo(t testing.TB) (*patrol.Plan, *realtime.City, *realtime.Hub) {
	t.Helper()
	return NewDemoConfig(t, realtime.CityConfig{})
}

// NewDemoConfig is NewDemo with the city configured by cfg (a clock of
// its own, say).
func NewDemoConfig(t testing.TB, cfg realtime.CityConfig) (*patrol.Plan, *realtime.City, *realtime.Hub) {
	t.Helper()
	plan, grid := patroltest.DemoGrid(t)
	hub := realtime.NewHub(realtime.HubConfig{})
	city, err := realtime.NewCity(plan, geo.NewLattice(grid), store.NewMemory(store.MemoryConfig{}), hub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return plan, city, hub
}

// run runs city and hub until the test ends, once the city is ready.
func run(t testing.TB, city *realtime.City, hub *realtime.Hub) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); hub.Run(ctx) }()
	go func() { defer wg.Done(); city.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	realtimetest.WaitFor(t, "city ready", city.Ready)
}

// UnitView returns the live view of unit id, or the zero view when the
// city has no such unit.
func UnitView(c *realtime.City, id string) realtime.UnitView {
	for _, u := range c.Units() {
		if u.ID == id {
			return u
		}
	}
	return realtime.UnitView{}
}

// MustAdd adds a device to r, failing the test when it cannot.
func MustAdd(t testing.TB, r *device.Registry, spec device.Spec) (device.Device, string) {
	t.Helper()
	d, key, err := r.Add(realtimetest.Context(t), spec)
	if err != nil {
		t.Fatalf("Add(%+v) = %v", spec, err)
	}
	return d, key
}
