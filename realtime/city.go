package realtime

import (
	"github.com/paulmach/orb"

	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// CityConfig tunes a City. The zero value uses the documented defaults.
type CityConfig struct {
	// Validation is the limits every fix must respect; its zero value
	// uses fix.Limits' defaults.
	Validation fix.Limits
	// Tick is the shortest time between two diffs to live clients; changes
	// within it are coalesced into one diff. Default 25 ms.
	Tick time.Duration
	// StaleAfter is how old a unit's latest fix may be before the unit is
	// stale: from then on its position is uncertain and its reach shrinks,
	// every ETA growing by the fix's age (see patrol.Coverage.Place);
	// default 60 s.
	StaleAfter time.Duration
	// LostAfter is how old a unit's latest fix may be before the unit is
	// lost: it leaves coverage and an alert opens, which closes with its
	// next fix; default 5 minutes.
	LostAfter time.Duration
	// DeviceGrace is how long after a device's last fix its unit stays out
	// of the demo motion (see Live); default 1 minute.
	DeviceGrace time.Duration
	// Alerts is how many recent gap alerts a snapshot carries; default 50.
	Alerts int
	// GapHold is how long a zone must stay in gap, or out of it, before
	// an alert says its gap opened or closed, so that a unit passing a
	// zone's edge does not raise a flurry of alerts; default 10 s.
	GapHold time.Duration
	// Demand weighs cells in the cost of a dispatch (see dispatch.Advisor)
	// and in the compliance table (see City.Compliance), by the router's
	// grid numbers; nil weighs every cell alike.
	Demand patrol.Demand
	// MoveLimit is the longest drive a suggested move-up may take; default
	// dispatch.DefaultMoveLimit.
	MoveLimit time.Duration
	// FollowBusy is how many responding units must be busy before
	// move-ups follow the compliance table (see dispatch.Advisor.Follow);
	// default dispatch.DefaultFollowBusy of the plan, negative for never.
	FollowBusy int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Warnings takes a warning for every alert that opens (a zone in gap
	// past GapHold: orange; a lost unit: yellow) and escalates them once
	// a second; nil is a book of the city's own, on its clock.
	Warnings *warning.Book
	// Logger receives operational messages; default slog.Default().
	Logger *slog.Logger
	// Metrics records counters and gauges; nil records nothing.
	Metrics *Metrics
}

// withDefaults returns c with each zero field set to its default.
func (c CityConfig) withDefaults() CityConfig {
	c.Validation = c.Validation.WithDefaults()
	if c.Tick == 0 {
		c.Tick = 25 * time.Millisecond
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = time.Minute
	}
	if c.LostAfter == 0 {
		c.LostAfter = 5 * time.Minute
	}
	if c.MoveLimit == 0 {
		c.MoveLimit = dispatch.DefaultMoveLimit
	}
	if c.Alerts == 0 {
		c.Alerts = 50
	}
	if c.DeviceGrace == 0 {
		c.DeviceGrace = time.Minute
	}
	if c.GapHold == 0 {
		c.GapHold = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// liveUnit is a plan unit and its live state: the latest fix, if any, the
// status, and how fresh the fix was when it was last placed.
type liveUnit struct {
	patrol.Unit
	mech    patrol.Mechanism
	profile geo.Profile // the mechanism's; zero for one that does not respond
	fix     fix.Fix
	hasFix  bool
	status  patrol.Status
	// statusBy and statusAt tell who set status and when; empty and zero
	// for the plan's status.
	statusBy string
	statusAt time.Time
	// stage is how fresh the fix was when the unit was last placed, and
	// slack the uncertainty it was placed with.
	stage Stage
	slack time.Duration
	// deviceAt is when, by the city's clock in Unix nanoseconds, a fix of
	// a device (not the demo motion) last reached the unit; zero before
	// the first. It is atomic so that ingest marks it without c.mu.
	deviceAt atomic.Int64
}

// City is the live state of one city: it validates and stores fixes,
// follows the store's events into the coverage engine, and publishes
// snapshots and diffs to live clients through a Hub. Run owns the
// goroutine that applies events. A City is safe for concurrent use.
type City struct {
	plan  *patrol.Plan
	bound orb.Bound // of the plan's boundary, for first fixes (fix.Limits.CheckPlace)
	store store.Store
	hub   *Hub
	cfg   CityConfig
	ready atomic.Bool
	// compliance has a lock of its own, so that computing the table
	// holds up no fix.
	compliance complianceCache

	mu      sync.Mutex // guards everything below
	cov     *patrol.Coverage
	units   map[string]*liveUnit
	order   []*liveUnit         // plan order
	changed map[string]bool     // to report in the next diff
	pending map[string]bool     // to place in coverage before it is read
	snap    *Frame              // the snapshot for new clients, until the state changes
	zones   map[string]ZoneView // as last published
	gaps    map[string]*gapState
	alerts  []Alert
	// pendingAlerts are unit alerts raised since the last diff.
	pendingAlerts []Alert
	seq           int64

	incidents        map[string]store.Incident // by id, as last saved
	changedIncidents map[string]bool           // to report in the next diff
	dispatch         dispatcher
}

// NewCity returns a city for plan, with travel times from router (which
// must rank units for incidents too: a geo.ReverseRouter), state in st and
// live clients on hub.
func NewCity(plan *patrol.Plan, router geo.Router, st store.Store, hub *Hub, cfg CityConfig) (*City, error) {
	cov, err := patrol.NewCoverage(plan, router)
	if err != nil {
		return nil, err
	}
	reverse, ok := router.(dispatch.Router)
	if !ok {
		return nil, fmt.Errorf("realtime: router %T cannot rank units for incidents (no ETAsTo)", router)
	}
	cfg = cfg.withDefaults()
	if cfg.Demand == nil {
		cfg.Demand = patrol.NewDemand(router.Grid(), nil)
	}
	advisor, err := dispatch.NewAdvisor(plan, reverse, cfg.Demand)
	if err != nil {
		return nil, err
	}
	advisor.SetMoveLimit(cfg.MoveLimit)
	if cfg.FollowBusy == 0 {
		cfg.FollowBusy = dispatch.DefaultFollowBusy(plan)
	}
	if cfg.Warnings == nil {
		cfg.Warnings = warning.NewBook(warning.Config{Now: cfg.Now})
	}
	c := &City{plan: plan, bound: plan.Boundary.Bound(), store: st, hub: hub, cfg: cfg, cov: cov,
		units: map[string]*liveUnit{}, changed: map[string]bool{}, pending: map[string]bool{}, zones: map[string]ZoneView{},
		gaps: map[string]*gapState{}, incidents: map[string]store.Incident{}, changedIncidents: map[string]bool{},
		dispatch: dispatcher{router: reverse, advisor: advisor}, compliance: complianceCache{router: router}}
	advisor.Follow(c.Compliance, cfg.FollowBusy)
	for _, u := range plan.Units {
		m, _ := plan.Mechanism(u.Mechanism)
		st := u.Status
		if st == "" {
			st = patrol.Available
		}
		pr, _ := plan.Profile(m.Profile)
		lu := &liveUnit{Unit: u, mech: m, profile: pr, status: st}
		c.units[u.ID] = lu
		c.order = append(c.order, lu)
	}
	return c, nil
}

// Warnings returns the city's warnings.
func (c *City) Warnings() *warning.Book { return c.cfg.Warnings }

// Plan returns the city's plan; it must not be modified.
func (c *City) Plan() *patrol.Plan { return c.plan }

// Ready reports whether Run has loaded the store's state.
func (c *City) Ready() bool { return c.ready.Load() }

// Run follows the store until ctx ends: it loads the state of every unit,
// then applies the store's events to coverage and publishes diffs at most
// once per Tick, and re-checks stale units and zone hours every second.
func (c *City) Run(ctx context.Context) error {
	events, states, incidents, stop, err := c.load(ctx)
	for wait := 100 * time.Millisecond; err != nil; wait = min(2*wait, 5*time.Second) {
		c.cfg.Logger.Warn("live store not ready; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		events, states, incidents, stop, err = c.load(ctx)
	}
	defer stop()
	c.mu.Lock()
	for _, s := range states {
		c.applyState(s)
	}
	for _, inc := range incidents {
		c.takeIncident(inc)
	}
	c.publishLocked()
	c.mu.Unlock()
	c.ready.Store(true)

	return c.follow(ctx, events)
}

// follow applies the store's events and publishes diffs at most once per
// Tick, and re-checks stale units and zone hours every second, until ctx
// ends or the feed closes.
func (c *City) follow(ctx context.Context, events cityEvents) error {
	second := time.NewTicker(time.Second)
	defer second.Stop()
	var flush <-chan time.Time
	var last time.Time
	var batch []store.Event // of events.one
	for {
		var evs []store.Event
		ok := true
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, open := <-events.one:
			batch, ok = drainEvents(append(batch[:0], ev), events.one), open
			evs = batch
		case evs, ok = <-events.batches:
		case <-flush:
			flush = nil
			c.publish()
			last = time.Now()
		case <-second.C:
			c.expire()
			c.publish()
			c.cfg.Warnings.Escalate()
		}
		if !ok {
			return ctx.Err()
		}
		if len(evs) == 0 {
			continue
		}
		c.apply(evs)
		if flush == nil {
			if wait := c.cfg.Tick - time.Since(last); wait > 0 {
				flush = time.After(wait)
			} else {
				c.publish()
				last = time.Now()
			}
		}
	}
}

// cityEvents is a store's feed of events: in batches from a store that
// hands them out so (store.Memory), one by one otherwise. One of the two
// channels is nil.
type cityEvents struct {
	one     <-chan store.Event
	batches <-chan []store.Event
}

// batchSubscriber is a store.Store whose events come in batches too.
type batchSubscriber interface {
	SubscribeBatches(ctx context.Context) (<-chan []store.Event, error)
}

// maxDrain is how many events Run takes from a one-by-one feed at once.
const maxDrain = 1024

// drainEvents appends to evs the events ch holds now, up to maxDrain in
// all, without waiting.
func drainEvents(evs []store.Event, ch <-chan store.Event) []store.Event {
	for len(evs) < maxDrain {
		select {
		case ev, ok := <-ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		default:
			return evs
		}
	}
	return evs
}

// load subscribes to the store's events, then reads every unit's state
// and every incident, so that no change falls between the two; stop ends
// the subscription.
func (c *City) load(ctx context.Context) (events cityEvents, states []store.UnitState, incidents []store.Incident,
	stop context.CancelFunc, err error) {
	sub, stop := context.WithCancel(ctx)
	if bs, ok := c.store.(batchSubscriber); ok {
		events.batches, err = bs.SubscribeBatches(sub)
	} else {
		events.one, err = c.store.Subscribe(sub)
	}
	if err != nil {
		err = fmt.Errorf("realtime: subscribe: %w", err)
	} else if states, err = c.store.Units(ctx); err != nil {
		err = fmt.Errorf("realtime: load units: %w", err)
	} else if incidents, err = c.store.ListIncidents(ctx); err != nil {
		err = fmt.Errorf("realtime: load incidents: %w", err)
	}
	if err != nil {
		stop()
	}
	return events, states, incidents, stop, err
}

// StoreHealth reports why the live store cannot be reached now, or nil.
func (c *City) StoreHealth(ctx context.Context) error { return c.store.Ping(ctx) }
