package realtime

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// clock is a settable test clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type runningCity struct {
	*City
	hub   *Hub
	store *MemoryStore
	clock *clock
}

// startTestCity runs a city on the square plan with a memory store and a
// settable clock until the test ends.
func startTestCity(t *testing.T, store *MemoryStore) runningCity {
	t.Helper()
	return startPlanCity(t, demoSquarePlan(t), store)
}

// startPlanCity runs a city on plan over the lattice of its boundary.
func startPlanCity(t *testing.T, plan *patrol.Plan, store *MemoryStore) runningCity {
	t.Helper()
	return startRoutedCity(t, plan, func(l *geo.Lattice) geo.Router { return l }, store)
}

// startRoutedCity runs a city on plan with the router that route makes of
// the lattice of its boundary; a nil store is a new memory store.
func startRoutedCity(t *testing.T, plan *patrol.Plan, route func(*geo.Lattice) geo.Router, store *MemoryStore) runningCity {
	t.Helper()
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	if store == nil {
		store = NewMemoryStore(MemoryConfig{Now: clk.Now})
	}
	hub := NewHub(HubConfig{})
	city, err := NewCity(plan, route(geo.NewLattice(grid)), store, hub, CityConfig{Now: clk.Now, StaleAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); hub.Run(ctx) }()
	go func() { defer wg.Done(); city.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, "city ready", city.Ready)
	return runningCity{city, hub, store, clk}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func unitView(c *City, id string) UnitView {
	for _, u := range c.Units() {
		if u.ID == id {
			return u
		}
	}
	return UnitView{}
}

func TestCityStaleUnitsLeaveCoverage(t *testing.T) {
	c := startTestCity(t, nil)
	post := c.Plan().Units[0].Post // V1
	res, err := c.Ingest(context.Background(), []Fix{{Unit: "V1", Time: c.clock.Now(), Point: geo.CellCenter(post)}})
	if err != nil || res[0].Outcome != Accepted {
		t.Fatalf("Ingest = %+v, %v, want accepted", res, err)
	}
	waitFor(t, "V1 to cover cells", func() bool { return len(c.Coverage()) > 100 })

	c.clock.Set(c.clock.Now().Add(2 * time.Minute)) // past StaleAfter
	waitFor(t, "V1 to go stale", func() bool { return unitView(c.City, "V1").Stale && len(c.Coverage()) == 0 })

	res, _ = c.Ingest(context.Background(), []Fix{{Unit: "V1", Time: c.clock.Now(), Point: geo.CellCenter(post)}})
	if res[0].Outcome != Accepted {
		t.Fatalf("fresh fix after going stale: %+v, want accepted", res[0])
	}
	waitFor(t, "V1 to cover cells again", func() bool { return !unitView(c.City, "V1").Stale && len(c.Coverage()) > 100 })
}

func TestCityStatusAndPlanDefaults(t *testing.T) {
	c := startTestCity(t, nil)
	if st := unitView(c.City, "V2").Status; st != patrol.OffDuty {
		t.Fatalf("V2 status = %s, want the plan's off_duty", st)
	}
	ctx := context.Background()
	c.Ingest(ctx, []Fix{{Unit: "V2", Time: c.clock.Now(), Point: geo.CellCenter(c.Plan().Units[5].Post)}})
	waitFor(t, "V2's fix", func() bool { return unitView(c.City, "V2").Lat != nil })
	if n := len(c.Coverage()); n != 0 {
		t.Fatalf("an off-duty unit covers %d cells, want 0", n)
	}
	if err := c.SetStatus(ctx, "V2", patrol.Available); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "V2 available to cover cells", func() bool { return len(c.Coverage()) > 100 })
	if err := c.SetStatus(ctx, "V9", patrol.Busy); err == nil {
		t.Fatal("SetStatus(unknown unit) = nil, want an error")
	}
}

// TestCitySnapshotThenDiffs checks that a live client gets a snapshot and
// then every change after it, and that replaying the diffs on the
// snapshot gives the city's coverage.
func TestCitySnapshotThenDiffs(t *testing.T) {
	c := startTestCity(t, nil)
	ctx := context.Background()
	c.Ingest(ctx, []Fix{{Unit: "E1", Time: c.clock.Now(), Point: geo.CellCenter(c.Plan().Units[1].Post)}})
	waitFor(t, "E1 to cover cells", func() bool { return len(c.Coverage()) > 0 })

	client, err := c.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	view := map[string]CellView{}
	read := func() Message {
		t.Helper()
		select {
		case f := <-client.Send():
			var m Message
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
		return Message{}
	}
	if m := read(); m.Type != "snapshot" || len(m.Units) != len(c.Plan().Units) {
		t.Fatalf("first message %s with %d units, want a snapshot of every unit", m.Type, len(m.Units))
	}
	at := geo.CellCenter(c.Plan().Units[0].Post)
	for i := range 5 {
		c.clock.Set(c.clock.Now().Add(10 * time.Second))
		c.Ingest(ctx, []Fix{{Unit: "V1", Time: c.clock.Now(), Point: geo.PointAt(at, 90, geo.Meters(i*50))}})
	}
	waitFor(t, "diffs to match coverage", func() bool {
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
// has stayed in gap for GapHold, and that a brief change raises none.
func TestCityGapAlertsHold(t *testing.T) {
	plan := demoSquarePlan(t)
	v1 := geo.CellCenter(plan.Units[0].Post)
	plan.Zones = []patrol.Zone{{ID: "Z1", Name: "square", Kind: "park", Weight: 1,
		Area: square(v1, 0.001), Rule: patrol.Rule{M5: patrol.Requirement{Units: 1, Share: 1}}}}
	c := startPlanCity(t, plan, nil)
	alerts := func() []Alert {
		c.mu.Lock()
		defer c.mu.Unlock()
		return append([]Alert(nil), c.alerts...)
	}
	step := func(d time.Duration) { c.clock.Set(c.clock.Now().Add(d)) }
	// published waits until the city has published the zone's gap state.
	published := func(gap bool) {
		t.Helper()
		waitFor(t, "the zone's gap state to be published", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			g, ok := c.gaps["Z1"]
			return ok && g.now == gap
		})
	}

	published(true)
	step(5 * time.Second)
	time.Sleep(1100 * time.Millisecond) // a tick of Run
	if a := alerts(); len(a) != 0 {
		t.Fatalf("alerts after 5 s in gap = %v, want none yet", a)
	}
	step(6 * time.Second)
	waitFor(t, "the gap to be alerted", func() bool { a := alerts(); return len(a) == 1 && a[0].State == "open" })

	ctx := context.Background()
	c.Ingest(ctx, []Fix{{Unit: "V1", Time: c.clock.Now(), Point: v1}})
	waitFor(t, "V1 to cover the zone", func() bool { return !c.Zones()[0].Gap })
	c.SetStatus(ctx, "V1", patrol.Busy) // the gap reopens at once: no alert
	waitFor(t, "the gap to reopen", func() bool { return c.Zones()[0].Gap })
	step(20 * time.Second)
	time.Sleep(1100 * time.Millisecond)
	if a := alerts(); len(a) != 1 {
		t.Fatalf("alerts after a brief cover = %v, want only the first", a)
	}
	c.SetStatus(ctx, "V1", patrol.Available)
	published(false)
	step(11 * time.Second)
	waitFor(t, "the gap to be alerted closed", func() bool { a := alerts(); return len(a) == 2 && a[1].State == "closed" })
}

func square(p orb.Point, half float64) orb.Polygon {
	return orb.Polygon{{{p[0] - half, p[1] - half}, {p[0] + half, p[1] - half}, {p[0] + half, p[1] + half},
		{p[0] - half, p[1] + half}, {p[0] - half, p[1] - half}}}
}

// oneByOneStore hides MemoryStore.SubscribeBatches: its events come one by
// one, as a store without batches hands them out.
type oneByOneStore struct{ Store }

// TestCityFollowsEitherFeed: a city follows a store whose events come in
// batches and one whose events come one by one to the same state, however
// many events arrive at once.
func TestCityFollowsEitherFeed(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*MemoryStore) Store
	}{
		{"batches", func(s *MemoryStore) Store { return s }},
		{"one by one", func(s *MemoryStore) Store { return oneByOneStore{s} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.wrap(NewMemoryStore(MemoryConfig{})).(batchSubscriber); ok != (tc.name == "batches") {
				t.Fatalf("store hands out batches: %v", ok)
			}
			plan := demoSquarePlan(t)
			grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
			if err != nil {
				t.Fatal(err)
			}
			clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
			store := NewMemoryStore(MemoryConfig{Now: clk.Now})
			city, err := NewCity(plan, geo.NewLattice(grid), tc.wrap(store), NewHub(HubConfig{}), CityConfig{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- city.Run(ctx) }()
			defer func() { cancel(); <-done }()
			waitFor(t, "city ready", city.Ready)

			posts := []orb.Point{geo.CellCenter(plan.Units[0].Post), geo.CellCenter(plan.Units[1].Post)}
			const n = 3000
			t0 := clk.Now().Add(-n * time.Second)
			for i := range n {
				at := t0.Add(time.Duration(i+1) * time.Second)
				fixes := []Fix{{Unit: "V1", Time: at, Point: posts[i%2]}, {Unit: "E1", Time: at, Point: posts[(i+1)%2]}}
				if _, err := store.AppendBatch(ctx, fixes[:1+i%2]); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.SetStatus(ctx, "V2", patrol.Busy); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the last events", func() bool { return unitView(city, "V2").Status == patrol.Busy })
			for _, want := range []struct {
				unit string
				at   time.Time
				p    orb.Point
			}{{"V1", t0.Add(n * time.Second), posts[1]}, {"E1", t0.Add(n * time.Second), posts[0]}} {
				v := unitView(city, want.unit)
				if v.Time == nil || !v.Time.Equal(want.at) || *v.Lon != want.p[0] || *v.Lat != want.p[1] {
					t.Errorf("%s at %v (%v, %v), want %v %v", want.unit, v.Time, v.Lon, v.Lat, want.at, want.p)
				}
			}
		})
	}
}
