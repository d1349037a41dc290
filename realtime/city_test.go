package realtime_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// TestCityStaleness follows a unit whose fixes stop: fresh, then stale
// (StaleAfter 30 s in citytest) with every ETA grown by its fix's age
// rounded up to 15 s, then lost (LostAfter 1 min) out of coverage with an
// alert, then found by a new fix, which closes the alert.
func TestCityStaleness(t *testing.T) {
	c := citytest.StartSquare(t, nil)
	post := c.Plan().Units[0].Post // V1
	t0 := c.Clock.Now()
	res, err := c.Ingest(context.Background(), []fix.Fix{{Unit: "V1", Time: t0, Point: geo.CellCenter(post)}})
	if err != nil || res[0].Outcome != fix.Accepted {
		t.Fatalf("Ingest = %+v, %v, want accepted", res, err)
	}
	realtimetest.WaitFor(t, "V1 to cover cells", func() bool { return len(c.Coverage()) > 100 })
	fresh := etas(c.Coverage())

	c.Clock.Set(t0.Add(40 * time.Second)) // stale: slack 45 s
	realtimetest.WaitFor(t, "V1 to go stale", func() bool { return citytest.UnitView(c.City, "V1").Stage == realtime.Stale })
	stale := etas(c.Coverage())
	want := 0
	for cell, eta := range fresh {
		if eta+45 > 300 {
			continue
		}
		want++
		if stale[cell] != eta+45 {
			t.Fatalf("stale V1: cell %v ETA %.1f s, want %.1f + 45", cell, stale[cell], eta)
		}
	}
	if len(stale) != want || want == 0 || want == len(fresh) {
		t.Fatalf("stale V1 reaches %d cells, want %d of its fresh %d", len(stale), want, len(fresh))
	}

	c.Clock.Set(t0.Add(2 * time.Minute)) // lost
	realtimetest.WaitFor(t, "V1 to be lost", func() bool {
		v := citytest.UnitView(c.City, "V1")
		return v.Stage == realtime.Lost && v.Stale && len(c.Coverage()) == 0
	})
	realtimetest.WaitFor(t, "the lost alert", func() bool { return len(c.AlertsSoFar()) > 0 })
	if a := c.AlertsSoFar()[0]; a.Kind != realtime.UnitLostAlert || a.Unit != "V1" || a.State != "open" || !a.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("alert = %+v, want V1 lost since %v", a, t0.Add(time.Minute))
	}

	res, _ = c.Ingest(context.Background(), []fix.Fix{{Unit: "V1", Time: c.Clock.Now(), Point: geo.CellCenter(post)}})
	if res[0].Outcome != fix.Accepted {
		t.Fatalf("fresh fix after being lost: %+v, want accepted", res[0])
	}
	realtimetest.WaitFor(t, "V1 to cover cells again", func() bool {
		return citytest.UnitView(c.City, "V1").Stage == realtime.Fresh && len(c.Coverage()) == len(fresh)
	})
	realtimetest.WaitFor(t, "the alert to close", func() bool { return len(c.AlertsSoFar()) == 2 })
	if a := c.AlertsSoFar()[1]; a.Kind != realtime.UnitLostAlert || a.Unit != "V1" || a.State != "closed" {
		t.Errorf("alert = %+v, want V1 found", a)
	}
}

// etas maps each covered cell to its ETA in seconds.
func etas(cells []realtime.CellView) map[h3.Cell]float64 {
	m := map[h3.Cell]float64{}
	for _, c := range cells {
		m[c.Cell] = *c.ETAS
	}
	return m
}

func TestCityStatusAndPlanDefaults(t *testing.T) {
	c := citytest.StartSquare(t, nil)
	if st := citytest.UnitView(c.City, "V2").Status; st != patrol.OffDuty {
		t.Fatalf("V2 status = %s, want the plan's off_duty", st)
	}
	ctx := context.Background()
	c.Ingest(ctx, []fix.Fix{{Unit: "V2", Time: c.Clock.Now(), Point: geo.CellCenter(c.Plan().Units[5].Post)}})
	realtimetest.WaitFor(t, "V2's fix", func() bool { return citytest.UnitView(c.City, "V2").Lat != nil })
	if n := len(c.Coverage()); n != 0 {
		t.Fatalf("an off-duty unit covers %d cells, want 0", n)
	}
	if err := c.SetStatus(ctx, "V2", patrol.Available, "test"); err != nil {
		t.Fatal(err)
	}
	realtimetest.WaitFor(t, "V2 available to cover cells", func() bool { return len(c.Coverage()) > 100 })
	if err := c.SetStatus(ctx, "V9", patrol.Dispatched, "test"); err == nil {
		t.Fatal("SetStatus(unknown unit) = nil, want an error")
	}
}

// TestCitySnapshotThenDiffs checks that a live client gets a snapshot and
// then every change after it, and that replaying the diffs on the
// snapshot gives the city's coverage.
func TestCitySnapshotThenDiffs(t *testing.T) {
	c := citytest.StartSquare(t, nil)
	ctx := context.Background()
	c.Ingest(ctx, []fix.Fix{{Unit: "E1", Time: c.Clock.Now(), Point: geo.CellCenter(c.Plan().Units[1].Post)}})
	realtimetest.WaitFor(t, "E1 to cover cells", func() bool { return len(c.Coverage()) > 0 })

	client, err := c.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	view := map[string]realtime.CellView{}
	read := func() realtime.Message {
		t.Helper()
		select {
		case f := <-client.Send():
			var m realtime.Message
			if err := json.Unmarshal(f.Data, &m); err != nil {
				t.Fatal(err)
			}
			for _, cv := range m.Cells {
				if cv.ETAS == nil {
					delete(view, cv.Cell.String())
				} else {
					view[cv.Cell.String()] = cv
				}
			}
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("no live message")
		}
		return realtime.Message{}
	}
	if m := read(); m.Type != "snapshot" || len(m.Units) != len(c.Plan().Units) {
		t.Fatalf("first message %s with %d units, want a snapshot of every unit", m.Type, len(m.Units))
	}
	at := geo.CellCenter(c.Plan().Units[0].Post)
	for i := range 5 {
		c.Clock.Set(c.Clock.Now().Add(10 * time.Second))
		c.Ingest(ctx, []fix.Fix{{Unit: "V1", Time: c.Clock.Now(), Point: geo.PointAt(at, 90, geo.Meters(i*50))}})
	}
	realtimetest.WaitFor(t, "diffs to match coverage", func() bool {
		for len(client.Send()) > 0 {
			read()
		}
		want := c.Coverage()
		if len(view) != len(want) {
			return false
		}
		for _, w := range want {
			if g := view[w.Cell.String()]; g.N1 != w.N1 || g.N3 != w.N3 || g.N5 != w.N5 {
				return false
			}
		}
		return true
	})
}

// TestCityGapAlertsHold checks that a gap alert is raised only once a zone
// has stayed in gap for GapHold, and that a brief change raises none: the
// hysteresis of gap alerts, and of the warnings they push.
func TestCityGapAlertsHold(t *testing.T) {
	plan := patroltest.SquarePlan(t)
	v1 := geo.CellCenter(plan.Units[0].Post)
	plan.Zones = []patrol.Zone{{ID: "Z1", Name: "square", Kind: "park", Weight: 1,
		Area: square(v1, 0.001), Rule: patrol.Rule{M5: patrol.Requirement{Units: 1, Share: 1}}}}
	c := citytest.StartPlan(t, plan, nil)
	alerts := c.AlertsSoFar
	step := func(d time.Duration) { c.Clock.Set(c.Clock.Now().Add(d)) }
	// published waits until the city has published the zone's gap state.
	published := func(gap bool) {
		t.Helper()
		realtimetest.WaitFor(t, "the zone's gap state to be published", func() bool {
			now, ok := c.PublishedGap("Z1")
			return ok && now == gap
		})
	}

	published(true)
	step(5 * time.Second)
	time.Sleep(1100 * time.Millisecond) // a tick of Run
	if a := alerts(); len(a) != 0 {
		t.Fatalf("alerts after 5 s in gap = %v, want none yet", a)
	}
	step(6 * time.Second)
	realtimetest.WaitFor(t, "the gap to be alerted", func() bool { a := alerts(); return len(a) == 1 && a[0].State == "open" })

	ctx := context.Background()
	c.Ingest(ctx, []fix.Fix{{Unit: "V1", Time: c.Clock.Now(), Point: v1}})
	realtimetest.WaitFor(t, "V1 to cover the zone", func() bool { return !c.Zones()[0].Gap })
	c.SetStatus(ctx, "V1", patrol.Dispatched, "test") // the gap reopens at once: no alert
	realtimetest.WaitFor(t, "the gap to reopen", func() bool { return c.Zones()[0].Gap })
	step(20 * time.Second)
	time.Sleep(1100 * time.Millisecond)
	if a := alerts(); len(a) != 1 {
		t.Fatalf("alerts after a brief cover = %v, want only the first", a)
	}
	c.SetStatus(ctx, "V1", patrol.Available, "test")
	published(false)
	step(11 * time.Second)
	realtimetest.WaitFor(t, "the gap to be alerted closed", func() bool { a := alerts(); return len(a) == 2 && a[1].State == "closed" })
	// One warning: pushed with the first alert, none for the brief cover;
	// it stays open for a supervisor to close once the gap has closed.
	if ws := c.Warnings().List(); len(ws) != 1 || ws[0].Kind != "gap" || ws[0].Subject != "Z1" || ws[0].Level != warning.Orange || !ws[0].Open() {
		t.Errorf("warnings = %+v, want one open orange gap warning of Z1", ws)
	}
}

func square(p orb.Point, half float64) orb.Polygon {
	return orb.Polygon{{{p[0] - half, p[1] - half}, {p[0] + half, p[1] - half}, {p[0] + half, p[1] + half},
		{p[0] - half, p[1] + half}, {p[0] - half, p[1] - half}}}
}

// oneByOneStore hides store.Memory's SubscribeBatches: its events come one by
// one, as a store without batches hands them out.
type oneByOneStore struct{ store.Store }

// TestCityFollowsEitherFeed: a city follows a store whose events come in
// batches and one whose events come one by one to the same state, however
// many events arrive at once.
func TestCityFollowsEitherFeed(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*store.Memory) store.Store
	}{
		{"batches", func(s *store.Memory) store.Store { return s }},
		{"one by one", func(s *store.Memory) store.Store { return oneByOneStore{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.wrap(store.NewMemory(store.MemoryConfig{})).(realtime.BatchSubscriber); ok != (tc.name == "batches") {
				t.Fatalf("store hands out batches: %v", ok)
			}
			plan := patroltest.SquarePlan(t)
			grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
			if err != nil {
				t.Fatal(err)
			}
			clk := realtimetest.NewClock(citytest.Start)
			mem := store.NewMemory(store.MemoryConfig{Now: clk.Now})
			city, err := realtime.NewCity(plan, geo.NewLattice(grid), tc.wrap(mem), realtime.NewHub(realtime.HubConfig{}), realtime.CityConfig{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- city.Run(ctx) }()
			defer func() { cancel(); <-done }()
			realtimetest.WaitFor(t, "city ready", city.Ready)

			posts := []orb.Point{geo.CellCenter(plan.Units[0].Post), geo.CellCenter(plan.Units[1].Post)}
			const n = 3000
			t0 := clk.Now().Add(-n * time.Second)
			for i := range n {
				at := t0.Add(time.Duration(i+1) * time.Second)
				fixes := []fix.Fix{{Unit: "V1", Time: at, Point: posts[i%2]}, {Unit: "E1", Time: at, Point: posts[(i+1)%2]}}
				if _, err := mem.AppendBatch(ctx, fixes[:1+i%2]); err != nil {
					t.Fatal(err)
				}
			}
			if err := mem.SetStatus(ctx, "V2", store.StatusChange{Status: patrol.Dispatched}); err != nil {
				t.Fatal(err)
			}
			realtimetest.WaitFor(t, "the last events", func() bool { return citytest.UnitView(city, "V2").Status == patrol.Dispatched })
			for _, want := range []struct {
				unit string
				at   time.Time
				p    orb.Point
			}{{"V1", t0.Add(n * time.Second), posts[1]}, {"E1", t0.Add(n * time.Second), posts[0]}} {
				v := citytest.UnitView(city, want.unit)
				if v.Time == nil || !v.Time.Equal(want.at) || *v.Lon != want.p[0] || *v.Lat != want.p[1] {
					t.Errorf("%s at %v (%v, %v), want %v %v", want.unit, v.Time, v.Lon, v.Lat, want.at, want.p)
				}
			}
		})
	}
}

// TestCityDeviceTakesOverFromDemo: a device's fix takes a unit over from
// the demo motion even when its clock is a little behind and its position
// far from the simulated one; the city then refuses the motion's fixes of
// that unit (without a rejection code or a metric: they are no client's)
// until the device has been silent for DeviceGrace, when the motion takes
// it back, again without a jump check against the device's position.
func TestCityDeviceTakesOverFromDemo(t *testing.T) {
	c := citytest.StartSquare(t, nil)
	post := geo.CellCenter(c.Plan().Units[0].Post) // V1
	far := geo.PointAt(post, 90, 1500)
	now := c.Clock.Now()
	if r := ingestV1(t, c.City, fix.SourceDemo, now, post); r.Outcome != fix.Accepted {
		t.Fatalf("simulated fix: %+v, want accepted", r)
	}
	if c.Live("V1") {
		t.Fatal("V1 is live with only simulated fixes")
	}
	if r := ingestV1(t, c.City, fix.SourceOsmAnd, now.Add(-800*time.Millisecond), far); r.Outcome != fix.Accepted {
		t.Fatalf("device fix 0.8 s older and 1.5 km from the simulated one: %+v, want accepted", r)
	}
	if !c.Live("V1") {
		t.Fatal("V1 is not live after its device's fix")
	}
	realtimetest.WaitFor(t, "V1 at its device's position", func() bool {
		v := citytest.UnitView(c.City, "V1")
		return v.Lat != nil && *v.Lon == far[0] && !v.Simulated && v.Source == fix.SourceOsmAnd
	})
	if r := ingestV1(t, c.City, fix.SourceDemo, now.Add(time.Second), post); r.Outcome != fix.Rejected || fix.Code(r.Err) != "" {
		t.Fatalf("simulated fix of a live unit: %+v, want refused without a code", r)
	}
	c.Clock.Set(now.Add(2 * time.Minute)) // past DeviceGrace
	if c.Live("V1") {
		t.Fatal("V1 is still live 2 minutes after its device's last fix")
	}
	if r := ingestV1(t, c.City, fix.SourceDemo, now.Add(2*time.Minute), post); r.Outcome != fix.Accepted {
		t.Fatalf("simulated fix after the grace, 1.5 km from the device's: %+v, want accepted", r)
	}
	realtimetest.WaitFor(t, "V1 simulated again", func() bool { return citytest.UnitView(c.City, "V1").Simulated })
}

// TestCityFirstFixOutside refuses a unit's first fix far from the city,
// as it does a device's first fix after the demo motion's, and takes
// one in the city; the fixes after it are held to it, not to the city.
func TestCityFirstFixOutside(t *testing.T) {
	c := citytest.StartSquare(t, nil)
	post := geo.CellCenter(c.Plan().Units[0].Post) // V1
	away := geo.PointAt(post, 0, 300e3)            // 300 km north
	now := c.Clock.Now()
	if r := ingestV1(t, c.City, fix.SourceJSON, now, away); r.Outcome != fix.Rejected || fix.Code(r.Err) != "outside_city" {
		t.Fatalf("first fix 300 km away: %+v, want refused as outside_city", r)
	}
	if r := ingestV1(t, c.City, fix.SourceDemo, now, post); r.Outcome != fix.Accepted {
		t.Fatalf("simulated fix at the post: %+v, want accepted", r)
	}
	if r := ingestV1(t, c.City, fix.SourceOsmAnd, now.Add(time.Second), away); r.Outcome != fix.Rejected || fix.Code(r.Err) != "outside_city" {
		t.Fatalf("a device's first fix after the motion's, 300 km away: %+v, want refused as outside_city", r)
	}
	if r := ingestV1(t, c.City, fix.SourceOsmAnd, now.Add(2*time.Second), post); r.Outcome != fix.Accepted {
		t.Fatalf("a device's fix at the post: %+v, want accepted", r)
	}
}

// ingestV1 ingests one fix of unit V1 from source and returns its result.
func ingestV1(t *testing.T, c *realtime.City, source string, at time.Time, p orb.Point) fix.Result {
	t.Helper()
	res, err := c.Ingest(context.Background(), []fix.Fix{{Unit: "V1", Time: at, Point: p, Source: source}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}
