package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// fragileUnit returns a unit of plan whose dispatch, with every unit at its
// post, puts a zone active at now in gap, and that zone; ok is false when
// there is none.
func fragileUnit(t *testing.T, plan *patrol.Plan, router geo.Router, now time.Time) (u patrol.Unit, z patrol.Zone, ok bool) {
	t.Helper()
	cv, err := patrol.NewCoverage(plan, router)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range plan.Units {
		if _, err := cv.Move(u.ID, geo.CellCenter(u.Post), patrol.Available); err != nil {
			t.Fatal(err)
		}
	}
	before := cv.Zones(now)
	for _, u := range plan.Units {
		if m, _ := plan.Mechanism(u.Mechanism); !m.Responds() {
			continue
		}
		cv.SetStatus(u.ID, patrol.Dispatched)
		for i, z := range cv.Zones(now) {
			if z.Gap() && !before[i].Gap() {
				return u, z.Zone, true
			}
		}
		cv.SetStatus(u.ID, patrol.Available)
	}
	return patrol.Unit{}, patrol.Zone{}, false
}

// fragileHour returns how far ahead of the real clock the demo city's
// clock must run for fragileUnit to find a unit: which zones are active
// depends on the time of day, and at some hours every active zone has a
// second unit near.
func fragileHour(t *testing.T) (time.Duration, patrol.Unit, patrol.Zone) {
	t.Helper()
	plan, grid := patroltest.DemoGrid(t)
	router := geo.NewLattice(grid)
	start := time.Now()
	for ahead := time.Duration(0); ahead < 24*time.Hour; ahead += 15 * time.Minute {
		if u, z, ok := fragileUnit(t, plan, router, start.Add(ahead)); ok {
			return ahead, u, z
		}
	}
	t.Fatal("at no hour of the day does one unit's dispatch open a gap")
	return 0, patrol.Unit{}, patrol.Zone{}
}

// incidentState is what the incident part of the page shows.
type incidentState struct {
	Incidents    int            `json:"incidents"`
	OpenIncident string         `json:"openIncident"`
	Candidates   int            `json:"candidates"`
	MoveUp       map[string]any `json:"moveUp"`
	Fastest      string         `json:"fastest"`
	UnitStatus   string         `json:"unitStatus"`
	Alerts       string         `json:"alerts"`
	CardText     string         `json:"cardText"`
}

// readIncidents reads incidentState for unit %q.
const readIncidents = `(() => {
	const p = window.patrolgrid;
	const row = [...document.querySelectorAll('#unit-list tr')].find((tr) => tr.children[1]?.textContent === %q);
	return {incidents: p.incidents, openIncident: p.openIncident, candidates: p.candidates, moveUp: p.moveUp,
		fastest: document.querySelector('#incident-card tr.cand.fastest')?.dataset.unit || '',
		unitStatus: row?.children[3]?.textContent || '',
		alerts: document.getElementById('alerts').textContent,
		cardText: document.getElementById('incident-card').textContent};
})()`

// TestBrowserIncidentFlow walks a dispatcher through the map: report an
// incident by clicking the map at a unit's post, see the units ranked with
// the fastest first, dispatch it, see its status change, the gap alert its
// dispatch causes and the suggested move-up drawn as an arrow.
func TestBrowserIncidentFlow(t *testing.T) {
	requireBrowser(t)
	ahead, unit, zone := fragileHour(t)
	tc := startCityAt(t, Access{Open: true}, false, func() time.Time { return time.Now().Add(ahead) })
	placeAtPosts(t, tc, incidentClient{t, tc.url, ""})
	t.Logf("with the clock %s ahead, dispatching %s opens a gap in %s (%s)", ahead, unit.ID, zone.ID, zone.Name)

	b := startBrowser(t, 1600, 1000)
	b.openStill(tc.url)
	xy := b.clearPointNear(geo.CellCenter(unit.Post))
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Click("#report-start"),
		chromedp.MouseClickXY(xy[0], xy[1]),
		chromedp.WaitVisible("#report-kind"),
		chromedp.SendKeys("#report-kind", "fight"),
		chromedp.Click("#report-submit"),
	); err != nil {
		b.shot("incident-report-failed.png")
		t.Fatalf("report an incident by a click at %v: %v", xy, err)
	}
	st := b.waitIncidents(unit.ID, "the ranked units", func(s *incidentState) bool { return s.OpenIncident == "I1" && s.Candidates > 0 })
	if st.Fastest != unit.ID {
		t.Fatalf("fastest candidate %q, want %s (the incident is beside its post)", st.Fastest, unit.ID)
	}
	b.shot("incident-candidates.png")
	if err := chromedp.Do(b.ctx, chromedp.Click(`#incident-card tr.cand.fastest button[data-action="dispatch"]`)); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	b.waitIncidents(unit.ID, "the unit dispatched", func(s *incidentState) bool {
		return s.UnitStatus == "Dispatched" && strings.Contains(s.CardText, "Unit sent")
	})
	st = b.waitIncidents(unit.ID, "the gap alert", func(s *incidentState) bool { return strings.Contains(s.Alerts, zone.Name) })
	if !strings.Contains(st.Alerts, "gap opened") {
		t.Errorf("alerts %q, want %s's gap opened", st.Alerts, zone.Name)
	}
	if st.MoveUp == nil || st.MoveUp["unit"] == unit.ID {
		t.Errorf("move-up arrow = %v, want another unit's move drawn", st.MoveUp)
	}
	b.shot("incident-dispatched.png")
}

// clearPointNear centres the map on p at zoom 15 and returns a point of
// the window near p where a click reaches the map itself: once the map
// has settled and the unit markers have been laid out for the new view,
// the first of a few points around p that no marker or label covers.
func (b *browser) clearPointNear(p orb.Point) []float64 {
	b.t.Helper()
	b.eval(fmt.Sprintf(`window.patrolgrid.map.jumpTo({center: [%v, %v], zoom: 15}), true`, p[0], p[1]))
	waitPage(b, 30*time.Second, "the map settled at the incident", `(() => {
		const map = window.patrolgrid.map;
		return map.loaded() && !map.isMoving();
	})()`, "incident-settle-failed.png", func(bool) []string { return nil }, func(ok bool) bool { return ok })
	if err := chromedp.Do(b.ctx, chromedp.Sleep(500*time.Millisecond)); err != nil { // the markers' layout frame
		b.t.Fatal(err)
	}
	xy, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
		const map = window.patrolgrid.map, canvas = map.getCanvas();
		const r = canvas.getBoundingClientRect();
		const at = map.project([%v, %v]);
		for (const [dx, dy] of [[0, 30], [30, 0], [-30, 0], [0, -30], [25, 25], [-25, 25], [25, -25], [-25, -25], [0, 45], [45, 0], [-45, 0], [0, -45]]) {
			const x = r.left + at.x + dx, y = r.top + at.y + dy;
			if (document.elementFromPoint(x, y) === canvas) return [x, y];
		}
		return [];
	})()`, p[0], p[1])))
	if err != nil || len(xy) != 2 {
		b.shot("incident-no-clear-point.png")
		b.t.Fatalf("no point near %v where a click reaches the map (%v)", p, err)
	}
	return xy
}

// waitIncidents reads incidentState (unit's row) until done holds.
func (b *browser) waitIncidents(unit, what string, done func(*incidentState) bool) *incidentState {
	b.t.Helper()
	return waitPage(b, 30*time.Second, what, fmt.Sprintf(readIncidents, unit), "incident-failed.png",
		func(*incidentState) []string { return nil }, done)
}
