package realtime_test

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
)

// newRedisStore returns a Redis store of city on c.
func newRedisStore(t *testing.T, c redis.UniversalClient, city string, now func() time.Time) *store.Redis {
	t.Helper()
	s, err := store.NewRedis(c, store.RedisConfig{City: city, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startRedisCity runs a city on the square plan over its own Redis store
// object for city until the test ends, as one server instance would.
func startRedisCity(t *testing.T, c redis.UniversalClient, city string, clk *realtimetest.Clock) *realtime.City {
	t.Helper()
	plan := patroltest.SquarePlan(t)
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	hub := realtime.NewHub(realtime.HubConfig{})
	cc, err := realtime.NewCity(plan, geo.NewLattice(grid), newRedisStore(t, c, city, clk.Now), hub,
		realtime.CityConfig{Now: clk.Now, StaleAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = hub.Run(ctx) })
	wg.Go(func() { _ = cc.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	realtimetest.WaitFor(t, "city ready", cc.Ready)
	return cc
}

// TestRedisCities runs two server instances of one city on one
// redis-server: a fix ingested by A reaches B's live clients, and an
// instance started late rebuilds the same coverage, units and statuses.
func TestRedisCities(t *testing.T) {
	c := redistest.Start(t).Client(store.NewRedisClient)
	city := realtimetest.CityName(t)
	clk := realtimetest.NewClock(time.Now().UTC().Truncate(time.Second))
	a, b := startRedisCity(t, c, city, clk), startRedisCity(t, c, city, clk)
	client, err := b.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	<-client.Send() // the snapshot
	ctx := realtimetest.Context(t)
	// Each fix is in another cell: coverage follows a unit's position when
	// it enters a cell, so fixes within one cell would leave an instance
	// that saw them all and one that starts late with different reaches.
	post := geo.CellCenter(a.Plan().Units[0].Post)
	var delays []time.Duration
	for i := range 5 {
		clk.Set(clk.Now().Add(10 * time.Second))
		start := time.Now()
		at := geo.PointAt(post, 90, geo.Meters(i*150)) // 54 km/h; H3 res 10 cells are about 70 m across
		res, err := a.Ingest(ctx, []fix.Fix{{Unit: "V1", Time: clk.Now(), Point: at}})
		if err != nil || res[0].Outcome != fix.Accepted {
			t.Fatalf("A.Ingest = %+v, %v, want accepted", res, err)
		}
		delays = append(delays, waitLiveUnit(t, client, "V1", clk.Now()).Sub(start))
	}
	slices.Sort(delays)
	t.Logf("fix into A to B's live client: %v", delays)
	if delays[len(delays)/2] > 100*time.Millisecond {
		t.Errorf("median fix-to-B delay %v, want within 100 ms", delays[len(delays)/2])
	}

	if err := a.SetStatus(ctx, "E1", patrol.Dispatched, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(ctx, []fix.Fix{{Unit: "E1", Time: clk.Now(), Point: geo.CellCenter(a.Plan().Units[1].Post)}}); err != nil {
		t.Fatal(err)
	}
	realtimetest.WaitFor(t, "B to follow A", func() bool { return sameCityView(a, b) })
	late := startRedisCity(t, c, city, clk)
	if !sameCityView(a, late) {
		t.Errorf("a late instance sees other units or coverage:\n%s\nwant\n%s", cityView(late), cityView(a))
	}
}

// waitLiveUnit reads client's diffs until one shows unit's fix at, and
// returns when it came.
func waitLiveUnit(t *testing.T, client *realtime.Client, unit string, at time.Time) time.Time {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f := <-client.Send():
			var m realtime.Message
			if err := json.Unmarshal(f.Data, &m); err != nil {
				t.Fatal(err)
			}
			for _, u := range m.Units {
				if u.ID == unit && u.Time != nil && u.Time.Equal(at) {
					return time.Now()
				}
			}
		case <-timeout:
			t.Fatalf("no live diff with %s's fix at %v", unit, at)
		}
	}
}

// sameCityView reports whether a and b show the same units (but for the
// age of their fixes) and the same coverage.
func sameCityView(a, b *realtime.City) bool {
	return cityView(a) == cityView(b)
}

func cityView(c *realtime.City) string {
	units := c.Units()
	for i := range units {
		units[i].AgeS = nil
	}
	cells := c.Coverage()
	slices.SortFunc(cells, func(x, y realtime.CellView) int { return cmp.Compare(x.Cell, y.Cell) })
	b, _ := json.Marshal(struct {
		Units []realtime.UnitView
		Cells []realtime.CellView
	}{units, cells})
	return string(b)
}
