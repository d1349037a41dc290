package realtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// Errors of incident handling; each wraps the details.
var (
	// ErrBadIncident is a report that cannot be taken: a position outside
	// the city, a priority outside 1 to 3, an over-long kind or note.
	ErrBadIncident = errors.New("realtime: bad incident")
	// ErrIncidentState is an action the incident's state does not allow,
	// such as dispatching to a closed incident.
	ErrIncidentState = errors.New("realtime: incident state")
	// ErrUnitNotAvailable is a dispatch of a unit that is not available.
	ErrUnitNotAvailable = errors.New("realtime: unit not available")
)

// Report limits.
const (
	maxKindLen = 64
	maxNoteLen = 2000
)

// rankLimit is the longest drive time a candidate may have: units farther
// than this from an incident are not offered.
const rankLimit = 30 * time.Minute

// Report is an incident as reported: where, how urgent, what.
type Report struct {
	Lat      float64 `json:"lat"`      // degrees north, WGS 84
	Lon      float64 `json:"lon"`      // degrees east, WGS 84
	Priority int     `json:"priority"` // 1 (most urgent) to 3
	Kind     string  `json:"kind"`     // such as "theft"; at most 64 bytes
	Note     string  `json:"note"`     // free text; at most 2000 bytes
}

// check reports why r cannot be taken in the city whose grid is g.
func (r Report) check(g *geo.Grid) error {
	if math.IsNaN(r.Lat) || math.IsNaN(r.Lon) || math.Abs(r.Lat) > 90 || math.Abs(r.Lon) > 180 {
		return fmt.Errorf("%w: position (%v, %v) is not a latitude and longitude", ErrBadIncident, r.Lat, r.Lon)
	}
	if _, ok := g.Locate(orb.Point{r.Lon, r.Lat}); !ok {
		return fmt.Errorf("%w: position (%v, %v) is outside the city", ErrBadIncident, r.Lat, r.Lon)
	}
	if r.Priority < 1 || r.Priority > 3 {
		return fmt.Errorf("%w: priority %d, want 1 to 3", ErrBadIncident, r.Priority)
	}
	if len(r.Kind) > maxKindLen || len(r.Note) > maxNoteLen || !utf8.ValidString(r.Kind) || !utf8.ValidString(r.Note) {
		return fmt.Errorf("%w: kind or note too long or not UTF-8 (at most %d and %d bytes)", ErrBadIncident, maxKindLen, maxNoteLen)
	}
	return nil
}

// dispatcher ranks units for incidents and serialises the dispatches of
// one server, so that one unit is not sent twice by two requests at once.
type dispatcher struct {
	router geo.ReverseRouter
	rank   sync.Pool // of *dispatch.Ranker
	mu     sync.Mutex
	// advise weighs the cost of each candidate; advisor is not safe for
	// concurrent use.
	advise  sync.Mutex
	advisor *dispatch.Advisor
}

// Report stores a new incident reported by the credential labelled by and
// returns it with its candidates: the units that may be sent, fastest
// first.
func (c *City) Report(ctx context.Context, r Report, by string) (store.Incident, []dispatch.Assessed, error) {
	if err := r.check(c.cov.Grid()); err != nil {
		return store.Incident{}, nil, err
	}
	now := c.cfg.Now().UTC()
	inc, err := c.saveIncident(ctx, store.Incident{Lat: r.Lat, Lon: r.Lon, Priority: r.Priority, Kind: r.Kind,
		Note: r.Note, State: store.Open, Log: []store.IncidentChange{{State: store.Open, By: by, At: now}}})
	if err != nil {
		return store.Incident{}, nil, err
	}
	cands, err := c.Candidates(inc)
	return inc, cands, err
}

// Incident returns incident id from the store.
func (c *City) Incident(ctx context.Context, id string) (store.Incident, error) {
	inc, err := c.store.Incident(ctx, id)
	if err != nil {
		return store.Incident{}, fmt.Errorf("realtime: incident: %w", err)
	}
	return inc, nil
}

// ListIncidents returns every incident from the store, oldest first.
func (c *City) ListIncidents(ctx context.Context) ([]store.Incident, error) {
	list, err := c.store.ListIncidents(ctx)
	if err != nil {
		return nil, fmt.Errorf("realtime: incidents: %w", err)
	}
	return list, nil
}

// Candidates ranks the units that may be sent to inc, fastest first: the
// available units that respond, with a fix that is not lost, by drive
// time on the travel model coverage uses, within 30 minutes, each with the
// cost of sending it (see dispatch.Advisor); while CityConfig.FollowBusy
// units are busy, move-ups go to the posts of the compliance table's row
// for the units left. An incident that is not open has none.
func (c *City) Candidates(inc store.Incident) ([]dispatch.Assessed, error) {
	if inc.State != store.Open {
		return nil, nil
	}
	units, snap := c.dispatchable()
	if len(units) == 0 {
		return nil, nil
	}
	r, _ := c.dispatch.rank.Get().(*dispatch.Ranker)
	if r == nil {
		r = dispatch.NewRanker(c.dispatch.router)
	}
	defer c.dispatch.rank.Put(r)
	cands, err := r.Rank(orb.Point{inc.Lon, inc.Lat}, units, rankLimit)
	if err != nil {
		return nil, fmt.Errorf("realtime: candidates for %s: %w", inc.ID, err)
	}
	c.dispatch.advise.Lock()
	defer c.dispatch.advise.Unlock()
	out, err := c.dispatch.advisor.Assess(snap, cands, c.cfg.Now(), nil)
	if err != nil {
		return nil, fmt.Errorf("realtime: cost of candidates for %s: %w", inc.ID, err)
	}
	return out, nil
}

// dispatchable returns the units that could be sent now, and a snapshot of
// coverage to weigh sending each.
func (c *City) dispatchable() ([]dispatch.Unit, *patrol.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flush()
	snap := c.cov.Snapshot()
	now := c.cfg.Now()
	var out []dispatch.Unit
	for _, lu := range c.order {
		if lu.status == patrol.Available && lu.mech.Responds() && lu.hasFix && !c.lost(lu, now) {
			out = append(out, dispatch.Unit{ID: lu.ID, Point: lu.fix.Point, Profile: lu.profile})
		}
	}
	return out, snap
}

// Dispatch sends unit to incident id: the incident, which must be open,
// becomes dispatched to it, and the unit, which must be available, becomes
// dispatched, both recorded as done by the credential labelled by.
func (c *City) Dispatch(ctx context.Context, id, unit, by string) (store.Incident, error) {
	c.dispatch.mu.Lock()
	defer c.dispatch.mu.Unlock()
	inc, err := c.Incident(ctx, id)
	if err != nil {
		return store.Incident{}, err
	}
	if inc.State != store.Open {
		return store.Incident{}, fmt.Errorf("%w: %s is %s, only an open incident takes a unit", ErrIncidentState, id, inc.State)
	}
	if err := c.checkAvailable(unit); err != nil {
		return store.Incident{}, err
	}
	now := c.cfg.Now().UTC()
	inc.State, inc.Unit = store.Dispatched, unit
	inc.Log = append(inc.Log, store.IncidentChange{State: store.Dispatched, Unit: unit, By: by, At: now})
	if inc, err = c.saveIncident(ctx, inc); err != nil {
		return store.Incident{}, err
	}
	if err := c.SetStatus(ctx, unit, patrol.Dispatched, by); err != nil {
		return inc, err
	}
	return inc, nil
}

// checkAvailable reports why unit cannot be sent now.
func (c *City) checkAvailable(unit string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	lu, ok := c.units[unit]
	switch {
	case !ok:
		return fmt.Errorf("%w %q", fix.ErrUnknownUnit, unit)
	case lu.status != patrol.Available:
		return fmt.Errorf("%w: %s is %s", ErrUnitNotAvailable, unit, lu.status)
	case !lu.mech.Responds():
		return fmt.Errorf("%w: %s (%s) does not respond to incidents", ErrUnitNotAvailable, unit, lu.Mechanism)
	}
	return nil
}

// Close closes incident id, recorded as done by the credential labelled
// by; its unit, if still dispatched or on scene, becomes available again.
func (c *City) Close(ctx context.Context, id, by string) (store.Incident, error) {
	c.dispatch.mu.Lock()
	defer c.dispatch.mu.Unlock()
	inc, err := c.Incident(ctx, id)
	if err != nil {
		return store.Incident{}, err
	}
	if inc.State == store.Closed {
		return store.Incident{}, fmt.Errorf("%w: %s is already closed", ErrIncidentState, id)
	}
	inc.State = store.Closed
	inc.Log = append(inc.Log, store.IncidentChange{State: store.Closed, Unit: inc.Unit, By: by, At: c.cfg.Now().UTC()})
	if inc, err = c.saveIncident(ctx, inc); err != nil {
		return store.Incident{}, err
	}
	if inc.Unit != "" && c.busy(inc.Unit) {
		return inc, c.SetStatus(ctx, inc.Unit, patrol.Available, by)
	}
	return inc, nil
}

// busy reports whether unit is dispatched or on scene.
func (c *City) busy(unit string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	lu, ok := c.units[unit]
	return ok && (lu.status == patrol.Dispatched || lu.status == patrol.OnScene)
}

// saveIncident saves inc and takes it into the city's state at once, so
// that the map shows it without waiting for the store's event.
func (c *City) saveIncident(ctx context.Context, inc store.Incident) (store.Incident, error) {
	saved, err := c.store.SaveIncident(ctx, inc)
	if err != nil {
		return store.Incident{}, fmt.Errorf("realtime: save incident %s: %w", inc.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.takeIncident(saved)
	return saved, nil
}

// takeIncident takes inc into the city's state unless a later version is
// there already; c.mu is held.
func (c *City) takeIncident(inc store.Incident) {
	if old, ok := c.incidents[inc.ID]; ok && old.Version >= inc.Version {
		return
	}
	inc.Log = slices.Clone(inc.Log)
	c.incidents[inc.ID] = inc
	c.changedIncidents[inc.ID] = true
	c.snap = nil
}

// closedShown is how long a closed incident stays in snapshots.
const closedShown = time.Hour

// recentIncidents returns, oldest first, the incidents a new client is
// shown: every one not closed, and those closed within closedShown of
// now; c.mu is held.
func (c *City) recentIncidents(now time.Time) []store.Incident {
	var out []store.Incident
	for _, inc := range c.incidents {
		if inc.State != store.Closed || now.Sub(inc.Log[len(inc.Log)-1].At) < closedShown {
			out = append(out, inc)
		}
	}
	sortIncidents(out)
	return out
}

// incidentChanges returns the incidents saved since the last call, oldest
// first; c.mu is held.
func (c *City) incidentChanges() []store.Incident {
	var out []store.Incident
	for id := range c.changedIncidents {
		out = append(out, c.incidents[id])
	}
	clear(c.changedIncidents)
	sortIncidents(out)
	return out
}

// sortIncidents orders incidents by the time they were reported, then id.
func sortIncidents(list []store.Incident) {
	slices.SortFunc(list, func(a, b store.Incident) int {
		return cmp.Or(a.Log[0].At.Compare(b.Log[0].At), cmp.Compare(a.ID, b.ID))
	})
}
