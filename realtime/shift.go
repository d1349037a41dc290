package realtime

import (
	"context"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// ShiftReport is what happened in a past shift: the incidents with their
// response times against the 1/3/5-minute rule, the time each zone spent
// in gap, and the warnings and how they were handled.
type ShiftReport struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Incidents reported in the shift, oldest first.
	Incidents []ShiftIncident `json:"incidents"`
	// Within counts the incidents reached within 1, 3 and 5 minutes (a
	// unit on scene), Later those reached later, Unknown those whose
	// arrival was not recorded (no on_scene status of the unit sent).
	Within  [3]int `json:"within"`
	Later   int    `json:"later"`
	Unknown int    `json:"unknown"`
	// Zones are the zones with their minutes in gap in the shift (zones
	// never in gap included, at 0), as the live engine had them.
	Zones    []ShiftZone       `json:"zones"`
	Warnings []warning.Warning `json:"warnings"`
	Figures  warning.Figures   `json:"figures"`
}

// ShiftIncident is an incident of the shift.
type ShiftIncident struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind,omitempty"`
	Priority   int        `json:"priority"`
	Reported   time.Time  `json:"reported"`
	Dispatched *time.Time `json:"dispatched,omitempty"`
	Unit       string     `json:"unit,omitempty"`
	OnScene    *time.Time `json:"on_scene,omitempty"`
	// ResponseS is the time from the report to the unit on scene, in
	// seconds; absent when its arrival was not recorded.
	ResponseS *float64 `json:"response_s,omitempty"`
	State     string   `json:"state"`
}

// ShiftZone is a zone's time in gap in the shift.
type ShiftZone struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	GapMinutes float64 `json:"gap_minutes"`
}

// ShiftReport reports on from to to (at most MaxReplayWindow): the
// incidents reported then, the zones' time in gap by replaying the
// window at a minute's step, and the warnings pushed then.
func (c *City) ShiftReport(ctx context.Context, from, to time.Time) (ShiftReport, error) {
	rep := ShiftReport{From: from.UTC(), To: to.UTC(), Incidents: []ShiftIncident{}}
	events, err := c.recorded(ctx, from, to, time.Minute, to.Add(time.Hour)) // arrivals may come after the shift
	if err != nil {
		return rep, err
	}
	frames, err := Replay(c.plan, c.compliance.router, c.cfg, events, from, to, time.Minute)
	if err != nil {
		return rep, err
	}
	rep.Zones = gapMinutes(c.plan, frames)
	incidents, err := c.store.ListIncidents(ctx)
	if err != nil {
		return rep, err
	}
	for _, inc := range incidents {
		if len(inc.Log) == 0 || inc.Log[0].At.Before(from) || inc.Log[0].At.After(to) {
			continue
		}
		si := shiftIncident(inc, events)
		switch {
		case si.ResponseS == nil:
			rep.Unknown++
		case *si.ResponseS <= patrol.Limits[0].Seconds():
			rep.Within[0]++
		case *si.ResponseS <= patrol.Limits[1].Seconds():
			rep.Within[1]++
		case *si.ResponseS <= patrol.Limits[2].Seconds():
			rep.Within[2]++
		default:
			rep.Later++
		}
		rep.Incidents = append(rep.Incidents, si)
	}
	rep.Warnings = []warning.Warning{}
	for _, w := range c.cfg.Warnings.List() {
		if at := w.Steps[0].At; !at.Before(from) && !at.After(to) {
			rep.Warnings = append(rep.Warnings, w)
		}
	}
	rep.Figures = warning.Summarize(rep.Warnings)
	return rep, nil
}

// shiftIncident is inc with its dispatch and the first on_scene status of
// its unit after it, from events.
func shiftIncident(inc store.Incident, events []store.TimedEvent) ShiftIncident {
	si := ShiftIncident{ID: inc.ID, Kind: inc.Kind, Priority: inc.Priority, Reported: inc.Log[0].At, State: string(inc.State)}
	for _, ch := range inc.Log {
		if ch.State == store.Dispatched && si.Dispatched == nil {
			at := ch.At
			si.Dispatched, si.Unit = &at, ch.Unit
		}
	}
	if si.Dispatched == nil {
		return si
	}
	for _, ev := range events {
		if ev.Kind == store.StatusEvent && ev.Unit == si.Unit && ev.Change.Status == patrol.OnScene && !ev.Change.At.Before(*si.Dispatched) {
			at := ev.Change.At
			s := at.Sub(si.Reported).Seconds()
			si.OnScene, si.ResponseS = &at, &s
			break
		}
	}
	return si
}

// gapMinutes returns each zone of plan with the minutes frames, a minute
// apart, had it in gap.
func gapMinutes(plan *patrol.Plan, frames []Moment) []ShiftZone {
	out := make([]ShiftZone, len(plan.Zones))
	index := map[string]int{}
	for i, z := range plan.Zones {
		out[i], index[z.ID] = ShiftZone{ID: z.ID, Name: z.Name}, i
	}
	for k := 1; k < len(frames); k++ { // each minute counts by its end
		step := frames[k].At.Sub(frames[k-1].At).Minutes()
		for _, z := range frames[k].Zones {
			if i, ok := index[z.ID]; ok && z.Gap {
				out[i].GapMinutes += step
			}
		}
	}
	return out
}
