package realtime

import (
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// applyState takes a unit's state as loaded from the store; c.mu is held.
func (c *City) applyState(s store.UnitState) {
	lu, ok := c.units[s.Unit]
	if !ok {
		return
	}
	if s.Status.Valid() {
		lu.status, lu.statusBy, lu.statusAt = s.Status, s.StatusBy, s.StatusAt
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
	if ev.Kind == store.IncidentEvent {
		c.takeIncident(*ev.Incident)
		return
	}
	lu, ok := c.units[ev.Unit]
	if !ok {
		return
	}
	switch ev.Kind {
	case store.FixEvent:
		if lu.hasFix && !ev.Fix.Supersedes(lu.fix) {
			return
		}
		lu.fix, lu.hasFix = ev.Fix, true
		if !ev.Fix.Simulated() {
			lu.deviceAt.Store(c.cfg.Now().UnixNano()) // perhaps through another server of the city
		}
	case store.StatusEvent:
		lu.status, lu.statusBy, lu.statusAt = ev.Change.Status, ev.Change.By, ev.Change.At
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

// place moves lu in the coverage engine with the uncertainty of its fix's
// age; c.mu is held.
func (c *City) place(lu *liveUnit) {
	start := time.Now()
	now := c.cfg.Now()
	was := lu.stage
	lu.stage, lu.slack = c.freshness(lu, now)
	if (was == Lost) != (lu.stage == Lost) {
		c.lostAlert(lu, lu.stage == Lost)
	}
	st := lu.status
	if lu.stage == Lost {
		st = patrol.OffDuty
	}
	var err error
	if lu.hasFix {
		_, err = c.cov.Place(lu.ID, lu.fix.Point, st, lu.slack)
	} else {
		_, err = c.cov.SetStatus(lu.ID, st)
	}
	if err != nil {
		c.cfg.Logger.Error("coverage update", "unit", lu.ID, "err", err)
	}
	c.cfg.Metrics.observeApply(time.Since(start).Seconds())
}

// expire places again every unit whose fix has aged into another stage or
// a larger slack since it was placed.
func (c *City) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(c.cfg.Now())
}

// expireLocked is expire at now; c.mu is held.
func (c *City) expireLocked(now time.Time) {
	for _, lu := range c.order {
		if stage, slack := c.freshness(lu, now); stage != lu.stage || slack != lu.slack {
			c.touch(lu)
		}
	}
}
