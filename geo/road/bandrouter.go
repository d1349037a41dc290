package road

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// BandRouter is a Router whose time-of-day band follows a local
// clock: Run switches it at every hour where the band changes. Version
// counts the switches, so coverage that caches isochrones (a
// patrol.VersionedRouter) knows to recompute them. It is safe for
// concurrent use; its zero value is not usable, build one with
// NewBandRouter.
type BandRouter struct {
	base     *Router
	profiles *ProfileFile
	loc      *time.Location
	now      func() time.Time
	onSwitch func(at time.Time, band string)

	mu      sync.Mutex // orders switches and their onSwitch calls
	cur     atomic.Pointer[bandState]
	version atomic.Uint64
}

// bandState is a band and base's router in it, swapped together so that
// Band and Isochrone never disagree.
type bandState struct {
	band   string
	router *Router
}

// NewBandRouter returns base in the band of the hour now() in loc, by the
// car profile of profiles (the first profile when there is no car). loc
// and now must not be nil. onSwitch, when not nil, is called after every
// switch with the time of the switch in loc and the new band ("" for
// none), one call at a time and in order. It starts no goroutine: the
// caller runs Run.
func NewBandRouter(base *Router, profiles *ProfileFile, loc *time.Location, now func() time.Time,
	onSwitch func(at time.Time, band string)) *BandRouter {
	b := &BandRouter{base: base, profiles: profiles, loc: loc, now: now, onSwitch: onSwitch}
	band := BandAt(profiles, now().In(loc).Hour())
	b.cur.Store(&bandState{band: band, router: base.WithBand(band)})
	return b
}

// Grid returns the cells reach results are numbered by, base's grid.
func (b *BandRouter) Grid() *geo.Grid { return b.base.Grid() }

// Isochrone is Router.Isochrone in the band in force.
func (b *BandRouter) Isochrone(s *geo.Search, from orb.Point, p geo.Profile, limit time.Duration, dst []geo.Reach) ([]geo.Reach, error) {
	return b.cur.Load().router.Isochrone(s, from, p, limit, dst)
}

// ETAsTo is Router.ETAsTo in the band in force.
func (b *BandRouter) ETAsTo(s *geo.Search, to orb.Point, p geo.Profile, from []orb.Point, limit time.Duration, dst []time.Duration) ([]time.Duration, error) {
	return b.cur.Load().router.ETAsTo(s, to, p, from, limit, dst)
}

// Version counts the band switches since NewBandRouter, from 0.
func (b *BandRouter) Version() uint64 { return b.version.Load() }

// Band returns the band in force ("" for none).
func (b *BandRouter) Band() string { return b.cur.Load().band }

// follow switches to the band of the hour of t, reporting whether it
// changed.
func (b *BandRouter) follow(t time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t = t.In(b.loc)
	band := BandAt(b.profiles, t.Hour())
	if band == b.cur.Load().band {
		return false
	}
	b.cur.Store(&bandState{band: band, router: b.base.WithBand(band)})
	b.version.Add(1)
	if b.onSwitch != nil {
		b.onSwitch(t, band)
	}
	return true
}

// Run follows the clock until ctx ends, checking the band at every local
// hour (bands hold whole hours), and returns ctx.Err(). It runs in the
// caller's goroutine, which owns it; run it once per BandRouter.
func (b *BandRouter) Run(ctx context.Context) error {
	for {
		t := b.now().In(b.loc)
		next := time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, b.loc)
		timer := time.NewTimer(max(time.Second, next.Sub(t)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		b.follow(b.now())
	}
}

// BandAt returns the band a BandRouter is in at local hour h: the car
// profile's (else the first profile's), "" when none holds the hour.
func BandAt(profiles *ProfileFile, h int) string {
	p, ok := profiles.Profile(ModeCar)
	if !ok && len(profiles.Profiles) > 0 {
		p, ok = profiles.Profiles[0], true
	}
	if !ok {
		return ""
	}
	return p.BandAt(h)
}
