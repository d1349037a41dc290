package realtime

import (
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// gapState follows one zone's gap for alerts: the state now, since when,
// and the state last alerted.
type gapState struct {
	now     bool
	since   time.Time
	alerted bool
}

// zoneChanges evaluates every zone, records their backup coverage in the
// metrics, and returns those whose view changed, and an alert for each
// zone whose gap has opened or closed for GapHold; c.mu is held.
func (c *City) zoneChanges(now time.Time) ([]ZoneView, []Alert) {
	var zones []ZoneView
	var alerts []Alert
	statuses := c.cov.Zones(now)
	c.cfg.Metrics.zones(statuses)
	for _, s := range statuses {
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
			alerts = append(alerts, Alert{Kind: GapAlert, Zone: v.ID, Name: v.Name, State: state, Time: g.since})
		}
	}
	alerts = append(alerts, c.pendingAlerts...)
	c.pendingAlerts = c.pendingAlerts[:0]
	for _, a := range alerts {
		if a.State == "open" && a.Kind == GapAlert {
			c.cfg.Warnings.Push("gap", a.Zone, warning.Orange, "system")
		} else if a.State == "open" {
			c.cfg.Warnings.Push("lost", a.Unit, warning.Yellow, "system")
		}
	}
	c.alerts = append(c.alerts, alerts...)
	if n := len(c.alerts) - c.cfg.Alerts; n > 0 {
		c.alerts = append(c.alerts[:0], c.alerts[n:]...)
	}
	return zones, alerts
}
