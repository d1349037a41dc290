package realtime

import (
	"fmt"
	"time"
)

// Stage is how fresh a unit's latest fix is.
type Stage int

// The stages of a unit's fix, by its age: fresh up to StaleAfter, stale up
// to LostAfter, lost after; a unit with no fix yet is fresh (it is not on
// the map at all).
const (
	Fresh Stage = iota // the unit counts in coverage where it is
	Stale              // its reach shrinks as its position grows uncertain
	Lost               // it counts nowhere, and an alert is open
)

// String returns "fresh", "stale" or "lost".
func (s Stage) String() string {
	return [...]string{"fresh", "stale", "lost"}[s]
}

// MarshalText encodes the stage as its name.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// slackStep is how finely a stale unit's uncertainty grows: its reach is
// recomputed once per step, not once per second.
const slackStep = 15 * time.Second

// freshness returns lu's stage at now and the slack to place it with: for
// a stale unit the fix's age rounded up to slackStep, the time it may have
// driven away from where it was; c.mu is held.
func (c *City) freshness(lu *liveUnit, now time.Time) (Stage, time.Duration) {
	if !lu.hasFix {
		return Fresh, 0
	}
	age := now.Sub(lu.fix.Time)
	switch {
	case age > c.cfg.LostAfter:
		return Lost, 0
	case age > c.cfg.StaleAfter:
		return Stale, (age + slackStep - 1) / slackStep * slackStep
	}
	return Fresh, 0
}

// lost reports whether lu is lost at now; c.mu is held.
func (c *City) lost(lu *liveUnit, now time.Time) bool {
	stage, _ := c.freshness(lu, now)
	return stage == Lost
}

// lostAlert records that lu was lost (lost true) or found again; c.mu is
// held. It goes out with the next diff.
func (c *City) lostAlert(lu *liveUnit, lost bool) {
	a := Alert{Kind: UnitLostAlert, Unit: lu.ID, Name: lu.Name, State: "closed", Time: c.cfg.Now()}
	if lost {
		a.State, a.Time = "open", lu.fix.Time.Add(c.cfg.LostAfter)
	}
	c.pendingAlerts = append(c.pendingAlerts, a)
}

// UnmarshalText reads a stage's name.
func (s *Stage) UnmarshalText(b []byte) error {
	for st := Fresh; st <= Lost; st++ {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("realtime: unknown stage %q", b)
}
