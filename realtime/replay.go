package realtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// Moment is what the live map showed at one moment: the city's shares,
// each zone's, and the units.
type Moment struct {
	At time.Time `json:"at"`
	// City is the share of the city's cells that an available unit
	// reaches within 1, 3 and 5 minutes.
	City  [3]float64   `json:"city"`
	Zones []MomentZone `json:"zones"`
	Units []MomentUnit `json:"units"`
	// Cells, in a replay, are the cells whose coverage changed since the
	// frame before, unreached ones without eta_s; the first frame's are
	// every reached cell.
	Cells []CellView `json:"cells,omitempty"`
}

// MomentZone is a zone at one moment.
type MomentZone struct {
	ID     string `json:"id"`
	Active bool   `json:"active"` // its hours include the moment
	Met    bool   `json:"met"`    // its rule is met
	Gap    bool   `json:"gap"`    // Active && !Met
	Shares Shares `json:"shares"`
}

// MomentUnit is a unit at one moment; Lat and Lon are absent before its
// first fix.
type MomentUnit struct {
	ID     string        `json:"id"`
	Status patrol.Status `json:"status"`
	Stage  Stage         `json:"stage"`
	Lat    *float64      `json:"lat,omitempty"`
	Lon    *float64      `json:"lon,omitempty"`
}

// Moment returns what the city shows now, stale units aged to now: the
// moment of a replay frame, computed the same way.
func (c *City) Moment() Moment {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	c.expireLocked(now)
	c.flush()
	f := Moment{At: now.UTC(), Units: make([]MomentUnit, len(c.order)), Zones: []MomentZone{}}
	reached := c.cov.Reached()
	if n := c.cov.Grid().Len(); n > 0 {
		for t := range reached {
			f.City[t] = math.Round(float64(reached[t])/float64(n)*1000) / 1000
		}
	}
	for _, z := range c.cov.Zones(now) {
		v := NewZoneView(z)
		f.Zones = append(f.Zones, MomentZone{ID: v.ID, Active: v.Active, Met: v.Met, Gap: v.Gap, Shares: v.Shares})
	}
	for i, lu := range c.order {
		u := MomentUnit{ID: lu.ID, Status: lu.status, Stage: lu.stage}
		if lu.hasFix {
			lat, lon := lu.fix.Lat(), lu.fix.Lon()
			u.Lat, u.Lon = &lat, &lon
		}
		f.Units[i] = u
	}
	return f
}

// Replay limits: a window of at most MaxReplayWindow, in at most
// MaxReplayFrames frames, with the state it starts from read from up to
// ReplayLookback before it.
const (
	MaxReplayWindow = 24 * time.Hour
	MaxReplayFrames = 10_000
	ReplayLookback  = time.Hour
)

// ErrReplay is wrapped by the errors of a replay that cannot be asked
// for: a window or step out of range, a store that keeps no history.
var ErrReplay = errors.New("realtime: bad replay")

// Replay plays the store's events from ReplayLookback before from up to
// to through a new engine of the city's plan, travel times and settings,
// on a clock of its own, and returns the frame at from, at each step after
// it and at to: what the live map would have shown then.
func (c *City) Replay(ctx context.Context, from, to time.Time, step time.Duration) ([]Moment, error) {
	events, err := c.recorded(ctx, from, to, step, to)
	if err != nil {
		return nil, err
	}
	return Replay(c.plan, c.compliance.router, c.cfg, events, from, to, step)
}

// recorded checks a replay of from to to at step and returns the store's
// events from ReplayLookback before from up to until.
func (c *City) recorded(ctx context.Context, from, to time.Time, step time.Duration, until time.Time) ([]store.TimedEvent, error) {
	switch {
	case !to.After(from) || to.Sub(from) > MaxReplayWindow:
		return nil, fmt.Errorf("%w: the window must end after it starts and last at most %v", ErrReplay, MaxReplayWindow)
	case step < time.Second || to.Sub(from)/step >= MaxReplayFrames:
		return nil, fmt.Errorf("%w: the step must be a second or more and give at most %d frames", ErrReplay, MaxReplayFrames)
	}
	rec, ok := c.store.(store.Recorder)
	if !ok {
		return nil, fmt.Errorf("%w: the store keeps no history to replay", ErrReplay)
	}
	return rec.Range(ctx, from.Add(-ReplayLookback), until)
}

// Replay plays events (in the order a store took them) through a new
// engine of plan on router with cfg's settings, on a clock of its own, and
// returns the frame at from, at each step after it and at to; events
// after to are not played.
func Replay(plan *patrol.Plan, router geo.Router, cfg CityConfig, events []store.TimedEvent, from, to time.Time,
	step time.Duration) ([]Moment, error) {
	var clock time.Time
	cfg.Now, cfg.Metrics, cfg.Warnings = func() time.Time { return clock }, nil, nil // nor the live city's metrics or warnings
	c, err := NewCity(plan, router, store.NewMemory(store.MemoryConfig{}), NewHub(HubConfig{}), cfg)
	if err != nil {
		return nil, err
	}
	frames := make([]Moment, 0, to.Sub(from)/step+2)
	next := 0
	for at := from; ; at = at.Add(step) {
		if at.After(to) {
			at = to
		}
		for ; next < len(events) && !events[next].At.After(at); next++ {
			clock = events[next].At
			c.apply([]store.Event{events[next].Event})
		}
		clock = at
		m := c.Moment()
		for _, cc := range c.cov.Changes() {
			m.Cells = append(m.Cells, NewCellView(cc))
		}
		frames = append(frames, m)
		if !at.Before(to) {
			return frames, nil
		}
	}
}
