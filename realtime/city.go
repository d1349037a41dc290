package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// CityConfig tunes a City. The zero value uses the documented defaults.
type CityConfig struct {
	Validation fix.Limits
	// Tick is the shortest time between two diffs to live clients; changes
	// within it are coalesced into one diff. Default 25 ms.
	Tick time.Duration
	// StaleAfter is how old a unit's latest fix may be before the unit
	// leaves coverage; default 5 minutes.
	StaleAfter time.Duration
	// Alerts is how many recent gap alerts a snapshot carries; default 50.
	Alerts int
	// GapHold is how long a zone must stay in gap, or out of it, before
	// an alert says its gap opened or closed, so that a unit passing a
	// zone's edge does not raise a flurry of alerts; default 10 s.
	GapHold time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives operational messages; default slog.Default().
	Logger *slog.Logger
	// Metrics records counters; nil records nothing.
	Metrics *Metrics
}

func (c CityConfig) withDefaults() CityConfig {
	c.Validation = c.Validation.WithDefaults()
	if c.Tick == 0 {
		c.Tick = 25 * time.Millisecond
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = 5 * time.Minute
	}
	if c.Alerts == 0 {
		c.Alerts = 50
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

type liveUnit struct {
	patrol.Unit
	mech   patrol.Mechanism
	fix    fix.Fix
	hasFix bool
	status patrol.Status
	stale  bool
}

// City is the live state of one city: it validates and stores fixes,
// follows the store's events into the coverage engine, and publishes
// snapshots and diffs to live clients through a Hub. Run owns the
// goroutine that applies events. A City is safe for concurrent use.
type City struct {
	plan  *patrol.Plan
	store store.Store
	hub   *Hub
	cfg   CityConfig
	ready atomic.Bool

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
	seq     int64
}

// NewCity returns a city for plan, with travel times from router, state in
// store and live clients on hub.
func NewCity(plan *patrol.Plan, router geo.Router, store store.Store, hub *Hub, cfg CityConfig) (*City, error) {
	cov, err := patrol.NewCoverage(plan, router)
	if err != nil {
		return nil, err
	}
	c := &City{plan: plan, store: store, hub: hub, cfg: cfg.withDefaults(), cov: cov,
		units: map[string]*liveUnit{}, changed: map[string]bool{}, pending: map[string]bool{}, zones: map[string]ZoneView{},
		gaps: map[string]*gapState{}}
	for _, u := range plan.Units {
		m, _ := plan.Mechanism(u.Mechanism)
		st := u.Status
		if st == "" {
			st = patrol.Available
		}
		lu := &liveUnit{Unit: u, mech: m, status: st}
		c.units[u.ID] = lu
		c.order = append(c.order, lu)
	}
	return c, nil
}

// Plan returns the city's plan; it must not be modified.
func (c *City) Plan() *patrol.Plan { return c.plan }

// Ready reports whether Run has loaded the store's state.
func (c *City) Ready() bool { return c.ready.Load() }

// Run follows the store until ctx ends: it loads the state of every unit,
// then applies the store's events to coverage and publishes diffs at most
// once per Tick, and re-checks stale units and zone hours every second.
func (c *City) Run(ctx context.Context) error {
	events, states, stop, err := c.load(ctx)
	for wait := 100 * time.Millisecond; err != nil; wait = min(2*wait, 5*time.Second) {
		c.cfg.Logger.Warn("live store not ready; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		events, states, stop, err = c.load(ctx)
	}
	defer stop()
	c.mu.Lock()
	for _, s := range states {
		c.applyState(s)
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
// hands them out so (MemoryStore), one by one otherwise. One of the two
// channels is nil.
type cityEvents struct {
	one     <-chan store.Event
	batches <-chan []store.Event
}

// batchSubscriber is a Store whose events come in batches too.
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

// load subscribes to the store's events, then reads every unit's state,
// so that no change falls between the two; stop ends the subscription.
func (c *City) load(ctx context.Context) (events cityEvents, states []store.UnitState, stop context.CancelFunc, err error) {
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
	}
	if err != nil {
		stop()
	}
	return events, states, stop, err
}

// StoreHealth reports why the live store cannot be reached now, or nil.
func (c *City) StoreHealth(ctx context.Context) error { return c.store.Ping(ctx) }

func (c *City) applyState(s store.UnitState) {
	lu, ok := c.units[s.Unit]
	if !ok {
		return
	}
	if s.Status.Valid() {
		lu.status = s.Status
	}
	if s.HasFix {
		lu.fix, lu.hasFix = s.Fix, true
	}
	c.touch(lu)
}

// apply takes store events, in order, into the units' state under one
// lock. Coverage follows at the next publish or read, once per unit
// however many of its events the batch held.
func (c *City) apply(evs []store.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range evs {
		c.applyLocked(&evs[i])
	}
}

// applyLocked takes one event; c.mu is held.
func (c *City) applyLocked(ev *store.Event) {
	lu, ok := c.units[ev.Unit]
	if !ok {
		return
	}
	switch ev.Kind {
	case store.FixEvent:
		if lu.hasFix && !ev.Fix.Time.After(lu.fix.Time) {
			return
		}
		lu.fix, lu.hasFix = ev.Fix, true
	case store.StatusEvent:
		lu.status = ev.Status
	}
	c.touch(lu)
}

// touch marks lu to be placed in coverage and reported; c.mu is held.
// Placing waits until coverage is read or published, so a unit that
// reports many fixes within one Tick costs one coverage update.
func (c *City) touch(lu *liveUnit) {
	c.changed[lu.ID] = true
	c.pending[lu.ID] = true
}

// flush places every touched unit; c.mu is held.
func (c *City) flush() {
	if len(c.pending) == 0 {
		return
	}
	for _, lu := range c.order {
		if c.pending[lu.ID] {
			c.place(lu)
		}
	}
	clear(c.pending)
	c.snap = nil
}

// place moves lu in the coverage engine; c.mu is held.
func (c *City) place(lu *liveUnit) {
	start := time.Now()
	lu.stale = lu.hasFix && c.cfg.Now().Sub(lu.fix.Time) > c.cfg.StaleAfter
	st := lu.status
	if lu.stale {
		st = patrol.OffDuty
	}
	var err error
	if lu.hasFix {
		_, err = c.cov.Move(lu.ID, lu.fix.Point, st)
	} else {
		_, err = c.cov.SetStatus(lu.ID, st)
	}
	if err != nil {
		c.cfg.Logger.Error("coverage update", "unit", lu.ID, "err", err)
	}
	c.cfg.Metrics.observeApply(time.Since(start).Seconds())
}

// expire takes units whose fixes went stale out of coverage.
func (c *City) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	for _, lu := range c.order {
		if lu.hasFix && !lu.stale && now.Sub(lu.fix.Time) > c.cfg.StaleAfter {
			c.touch(lu)
		}
	}
}

func (c *City) publish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.publishLocked()
}

// publishLocked broadcasts what changed since the last diff; c.mu is held,
// which orders diffs with the snapshots of new clients.
func (c *City) publishLocked() {
	now := c.cfg.Now()
	msg := Message{Type: "diff", Time: now}
	c.flush()
	for _, cc := range c.cov.Changes() {
		msg.Cells = append(msg.Cells, NewCellView(cc))
	}
	for _, lu := range c.order {
		if c.changed[lu.ID] {
			msg.Units = append(msg.Units, c.view(lu, now))
		}
	}
	clear(c.changed)
	msg.Zones, msg.Alerts = c.zoneChanges(now)
	if len(msg.Cells)+len(msg.Units)+len(msg.Zones)+len(msg.Alerts) == 0 {
		return
	}
	c.seq++
	msg.Seq = c.seq
	f, err := encode(msg)
	if err != nil {
		c.cfg.Logger.Error("encode diff", "err", err)
		return
	}
	c.snap = nil
	c.hub.Broadcast(f)
	c.cfg.Metrics.diff()
}

// gapState follows one zone's gap for alerts: the state now, since when,
// and the state last alerted.
type gapState struct {
	now     bool
	since   time.Time
	alerted bool
}

// zoneChanges evaluates every zone and returns those whose view changed,
// and an alert for each zone whose gap has opened or closed for GapHold;
// c.mu is held.
func (c *City) zoneChanges(now time.Time) ([]ZoneView, []Alert) {
	var zones []ZoneView
	var alerts []Alert
	for _, s := range c.cov.Zones(now) {
		v := NewZoneView(s)
		if old, seen := c.zones[v.ID]; !seen || old != v {
			zones = append(zones, v)
			c.zones[v.ID] = v
		}
		g, ok := c.gaps[v.ID]
		if !ok {
			g = &gapState{now: v.Gap, since: now}
			c.gaps[v.ID] = g
		}
		if v.Gap != g.now {
			g.now, g.since = v.Gap, now
		}
		if g.now != g.alerted && now.Sub(g.since) >= c.cfg.GapHold {
			g.alerted = g.now
			state := "closed"
			if g.now {
				state = "open"
			}
			alerts = append(alerts, Alert{Zone: v.ID, Name: v.Name, State: state, Time: g.since})
		}
	}
	c.alerts = append(c.alerts, alerts...)
	if n := len(c.alerts) - c.cfg.Alerts; n > 0 {
		c.alerts = append(c.alerts[:0], c.alerts[n:]...)
	}
	return zones, alerts
}

func (c *City) view(lu *liveUnit, now time.Time) UnitView {
	v := UnitView{ID: lu.ID, Name: lu.Name, Mechanism: lu.Mechanism, Status: lu.status, Stale: lu.stale}
	if !lu.hasFix {
		return v
	}
	f := lu.fix
	lat, lon, t := f.Lat(), f.Lon(), f.Time
	age := max(0, now.Sub(t).Seconds())
	v.Lat, v.Lon, v.Time, v.AgeS = &lat, &lon, &t, &age
	if f.Heading >= 0 {
		h := f.Heading
		v.Heading = &h
	}
	if f.SpeedMPS >= 0 {
		s := f.SpeedMPS
		v.SpeedMPS = &s
	}
	if cell, ok := c.cov.UnitCell(lu.ID); ok {
		v.Cell = &cell
	}
	v.OffNetwork = c.cov.OffNetwork(lu.ID)
	return v
}

// Units returns every unit in plan order.
func (c *City) Units() []UnitView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	now := c.cfg.Now()
	out := make([]UnitView, len(c.order))
	for i, lu := range c.order {
		out[i] = c.view(lu, now)
	}
	return out
}

// Coverage returns every reached cell.
func (c *City) Coverage() []CellView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	cells := c.cov.Cells()
	out := make([]CellView, len(cells))
	for i, cc := range cells {
		out[i] = NewCellView(cc)
	}
	return out
}

// Zones returns every zone evaluated now.
func (c *City) Zones() []ZoneView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	zs := c.cov.Zones(c.cfg.Now())
	out := make([]ZoneView, len(zs))
	for i, z := range zs {
		out[i] = NewZoneView(z)
	}
	return out
}

// Resolution returns the H3 resolution of coverage cells.
func (c *City) Resolution() int { return c.cov.Grid().Resolution() }

// Subscribe registers a live client whose first message is a snapshot of
// the city; every diff published after the snapshot follows it. Clients
// that connect while nothing changes share one encoded snapshot.
func (c *City) Subscribe() (*Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	if c.snap == nil {
		f, err := c.snapshot()
		if err != nil {
			return nil, err
		}
		c.snap = &f
	}
	return c.hub.Register(*c.snap), nil
}

// snapshot encodes the whole city; c.mu is held.
func (c *City) snapshot() (Frame, error) {
	now := c.cfg.Now()
	msg := Message{Type: "snapshot", Time: now, Seq: c.seq, Resolution: c.Resolution(),
		Alerts: c.alerts}
	for _, lu := range c.order {
		msg.Units = append(msg.Units, c.view(lu, now))
	}
	for _, cc := range c.cov.Cells() {
		msg.Cells = append(msg.Cells, NewCellView(cc))
	}
	for _, z := range c.cov.Zones(now) {
		msg.Zones = append(msg.Zones, NewZoneView(z))
	}
	return encode(msg)
}

func encode(m Message) (Frame, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return Frame{}, fmt.Errorf("realtime: encode %s: %w", m.Type, err)
	}
	return NewFrame(b)
}

// Ingest validates and stores fixes, and returns one result per fix in
// order. A fix without a time is stamped with the clock. Each fix is
// checked against the one before it of its unit: in the batch, or else
// the latest the city has applied (the store still decides atomically
// which fix is latest). The error is non-nil only when the store fails;
// then the results cover the fixes surely stored or refused, and the rest
// must be sent again.
func (c *City) Ingest(ctx context.Context, fixes []fix.Fix) ([]fix.Result, error) {
	now := c.cfg.Now()
	out := make([]fix.Result, len(fixes))
	prev := map[string]fix.Fix{}
	keep, at := make([]fix.Fix, 0, len(fixes)), make([]int, 0, len(fixes))
	for i, f := range fixes {
		if f.Time.IsZero() {
			f.Time = now
		}
		f.Time = f.Time.UTC()
		out[i] = c.check(f, now, prev)
		if out[i].Outcome != fix.Rejected {
			keep, at = append(keep, f), append(at, i)
		}
	}
	latest, err := c.save(ctx, keep)
	for j, l := range latest {
		if r := &out[at[j]]; !l && r.Outcome == fix.Accepted {
			*r = fix.Result{Outcome: fix.Stored, Err: fix.ErrOutOfOrder}
		}
	}
	n := len(fixes)
	if err != nil {
		if len(latest) < len(at) {
			n = at[len(latest)] // from the first fix not surely stored on, results are unknown
		}
		err = fmt.Errorf("realtime: save fixes: %w", err)
	}
	for _, r := range out[:n] {
		c.cfg.Metrics.fix(r)
	}
	return out[:n], err
}

func (c *City) save(ctx context.Context, fixes []fix.Fix) ([]bool, error) {
	switch len(fixes) {
	case 0:
		return nil, nil
	case 1:
		latest, err := c.store.Append(ctx, fixes[0])
		if err != nil {
			return nil, err
		}
		return []bool{latest}, nil
	}
	return c.store.AppendBatch(ctx, fixes)
}

// check validates f against the fix before it of its unit: prev, which it
// updates, or the latest applied.
func (c *City) check(f fix.Fix, now time.Time, prev map[string]fix.Fix) fix.Result {
	lu, ok := c.units[f.Unit] // the map is fixed after NewCity
	if !ok {
		return fix.Result{Outcome: fix.Rejected, Err: fmt.Errorf("%w %q", fix.ErrUnknownUnit, f.Unit)}
	}
	if err := c.cfg.Validation.Check(f, now); err != nil {
		return fix.Result{Outcome: fix.Rejected, Err: err}
	}
	p, has := prev[f.Unit]
	if !has {
		c.mu.Lock()
		p, has = lu.fix, lu.hasFix
		c.mu.Unlock()
	}
	if has {
		switch err := c.cfg.Validation.CheckAfter(f, p, lu.mech.MaxSpeedKPH); {
		case errors.Is(err, fix.ErrOutOfOrder):
			return fix.Result{Outcome: fix.Stored, Err: err}
		case err != nil:
			return fix.Result{Outcome: fix.Rejected, Err: err}
		}
	}
	prev[f.Unit] = f
	return fix.Result{Outcome: fix.Accepted}
}

// SetStatus changes a unit's status.
func (c *City) SetStatus(ctx context.Context, unit string, st patrol.Status) error {
	if _, ok := c.units[unit]; !ok {
		return fmt.Errorf("%w %q", fix.ErrUnknownUnit, unit)
	}
	if !st.Valid() {
		return fmt.Errorf("realtime: unknown status %q", st)
	}
	if err := c.store.SetStatus(ctx, unit, st); err != nil {
		return fmt.Errorf("realtime: set status of %s: %w", unit, err)
	}
	return nil
}
