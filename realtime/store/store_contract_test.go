package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
)

// cityStore is what the contract suites test: the live state of a city
// and its plans, which every store holds.
type cityStore interface {
	Store
	Plans
}

// storeOpener opens the store of a city; opening the same city again
// gives a second store object on the same state, as a second server
// instance or a restarted one would have.
type storeOpener func(t *testing.T, city string) cityStore

// TestStoreContract runs the same tests, of the live state and of plans,
// against the memory store, one redis-server (directly and through a
// Sentinel) and a 3-master Redis Cluster, each test in its own city.
func TestStoreContract(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		var mu sync.Mutex
		stores := map[string]*Memory{}
		runContracts(t, func(t *testing.T, city string) cityStore {
			mu.Lock()
			defer mu.Unlock()
			if stores[city] == nil {
				stores[city] = NewMemory(MemoryConfig{})
			}
			return stores[city]
		})
	})
	t.Run("redis", func(t *testing.T) {
		c := redistest.Start(t).Client(NewRedisClient)
		runContracts(t, redisOpener(c))
	})
	t.Run("sentinel", func(t *testing.T) {
		c := redistest.StartSentinel(t, redistest.Start(t)).SentinelClient(NewRedisClient)
		runContracts(t, redisOpener(c))
	})
	t.Run("cluster", func(t *testing.T) {
		c := redistest.StartCluster(t, 3).Client(NewRedisClient)
		runContracts(t, redisOpener(c))
		t.Run("CitiesInDifferentSlots", func(t *testing.T) { testCitiesOnDifferentMasters(t, c) })
	})
}

// runContracts runs the store suite, and the plans suite under Plans.
func runContracts(t *testing.T, open storeOpener) {
	runStoreContract(t, open)
	t.Run("Plans", func(t *testing.T) { runPlansContract(t, open) })
	t.Run("Incidents", func(t *testing.T) { runIncidentsContract(t, open) })
}

func redisOpener(c redis.UniversalClient) storeOpener {
	return func(t *testing.T, city string) cityStore {
		s, err := NewRedis(c, RedisConfig{City: city})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// contractTest is one test of a contract suite: it runs on the stores
// open opens, in a city of its own.
type contractTest struct {
	name string
	test func(t *testing.T, open storeOpener, city string)
}

// runSuite runs each of tests as a subtest of t, in a city of its own.
func runSuite(t *testing.T, open storeOpener, tests []contractTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open, realtimetest.CityName(t)) })
	}
}

func runStoreContract(t *testing.T, open storeOpener) {
	runSuite(t, open, []contractTest{
		{"Ordering", testStoreOrdering},
		{"DeviceTakesOver", testStoreDeviceTakesOver},
		{"FixRoundTrip", testStoreFixRoundTrip},
		{"EventsInOrder", testStoreEventsInOrder},
		{"EventsReachOtherInstances", testStoreEventsReachOtherInstances},
		{"ConcurrentWriters", testStoreConcurrentWriters},
		{"UnitsAfterRestart", testStoreUnitsAfterRestart},
		{"History", testStoreHistory},
		{"Range", testStoreRange},
		{"TwoCities", testStoreTwoCities},
		{"SubscribeEnds", testStoreSubscribeEnds},
	})
}

// testStoreDeviceTakesOver: a device's fix supersedes a simulated one
// even when it is older, in Append and in AppendBatch; after it, time
// decides again, and a simulated fix never supersedes a newer device fix.
func testStoreDeviceTakesOver(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	t0 := baseTime()
	demo := func(unit string, at time.Duration) fix.Fix {
		f := fixAt(unit, t0, at)
		f.Source = fix.SourceDemo
		return f
	}
	for _, step := range []struct {
		name   string
		f      fix.Fix
		latest bool
	}{
		{"simulated", demo("V01", 2*time.Second), true},
		{"device, older", fixAt("V01", t0, time.Second), true},
		{"device, older than the device", fixAt("V01", t0, 500*time.Millisecond), false},
		{"simulated, older than the device", demo("V01", 800*time.Millisecond), false},
		{"simulated, newer", demo("V01", 3*time.Second), true},
	} {
		if latest, err := s.Append(ctx, step.f); err != nil || latest != step.latest {
			t.Fatalf("%s: Append = %v, %v, want %v", step.name, latest, err, step.latest)
		}
	}
	if _, err := s.Append(ctx, demo("V02", 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := s.AppendBatch(ctx, []fix.Fix{fixAt("V02", t0, time.Second), fixAt("V02", t0, 2*time.Second)})
	if err != nil || len(got) != 2 || !got[0] || !got[1] {
		t.Fatalf("AppendBatch of a device's two older fixes over a simulated one = %v, %v, want both latest", got, err)
	}
	for unit, want := range map[string]fix.Fix{"V01": demo("V01", 3*time.Second), "V02": fixAt("V02", t0, 2*time.Second)} {
		if f, ok, err := s.Latest(ctx, unit); err != nil || !ok || !sameFix(f, want) {
			t.Errorf("Latest(%s) = %+v, %v, %v, want %+v", unit, f, ok, err, want)
		}
	}
}

// fixAt is a fix of unit at t0+at, east of the demo city's centre.
func fixAt(unit string, t0 time.Time, at time.Duration) fix.Fix {
	east := float64(at/time.Millisecond) * 1e-6
	return fix.Fix{Unit: unit, Time: t0.Add(at), Point: orb.Point{122.26 + east, 43.62}, SpeedMPS: 5, Heading: 90,
		Battery: -1, Source: "json"}
}

// baseTime is a recent fix time (the Redis history is read by arrival
// time, so fixes in tests are recent), whole milliseconds.
func baseTime() time.Time { return time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond) }

func sameFix(a, b fix.Fix) bool {
	return a.Unit == b.Unit && a.Time.Equal(b.Time) && a.Point == b.Point && a.SpeedMPS == b.SpeedMPS &&
		a.Heading == b.Heading && a.AccuracyM == b.AccuracyM && a.AltitudeM == b.AltitudeM &&
		a.Battery == b.Battery && a.Source == b.Source
}

// testStoreOrdering: an older fix never overwrites the latest one and
// still goes into history.
//
//	time  0s   2s   1s   2s   3s
//	      ●────●    ○    ○    ●      ● latest, ○ history only
func testStoreOrdering(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	t0 := baseTime()
	for _, tc := range []struct {
		at     time.Duration
		latest bool
	}{{0, true}, {2 * time.Second, true}, {time.Second, false}, {2 * time.Second, false}, {3 * time.Second, true}} {
		latest, err := s.Append(ctx, fixAt("V01", t0, tc.at))
		if err != nil || latest != tc.latest {
			t.Fatalf("Append(t0+%v) = %v, %v, want %v", tc.at, latest, err, tc.latest)
		}
	}
	f, ok, err := s.Latest(ctx, "V01")
	if err != nil || !ok || !sameFix(f, fixAt("V01", t0, 3*time.Second)) {
		t.Fatalf("Latest = %+v, %v, %v, want the fix at t0+3s", f, ok, err)
	}
	if _, ok, err := s.Latest(ctx, "V02"); ok || err != nil {
		t.Fatalf("Latest(V02) = %v, %v, want no fix", ok, err)
	}
	hist, err := s.History(ctx, "V01", t0)
	if err != nil || len(hist) != 5 {
		t.Fatalf("History has %d fixes (%v), want all 5, out-of-order ones too", len(hist), err)
	}
	for i := 1; i < len(hist); i++ {
		if hist[i].Time.Before(hist[i-1].Time) {
			t.Fatalf("History is not oldest first at %d", i)
		}
	}
}

func testStoreFixRoundTrip(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	t0 := baseTime().Add(123456789 * time.Nanosecond)
	for _, f := range []fix.Fix{
		{Unit: "full", Time: t0, Point: orb.Point{-73.985, 40.758}, SpeedMPS: 12.5, Heading: 359.9,
			AccuracyM: 4.2, AltitudeM: -3.5, Battery: 87, Source: "osmand"},
		{Unit: "unknowns", Time: t0, Point: orb.Point{122.2601, 43.6201}, SpeedMPS: -1, Heading: -1, Battery: -1},
		{Unit: "单元 7", Time: t0, Point: orb.Point{121.4737, 31.2304}, SpeedMPS: 0, Heading: 0, Battery: 0, Source: "jt808"},
	} {
		if _, err := s.Append(ctx, f); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Latest(ctx, f.Unit)
		if err != nil || !ok || !sameFix(got, f) {
			t.Errorf("Latest(%q) = %+v, %v, %v, want %+v", f.Unit, got, ok, err, f)
		}
		hist, err := s.History(ctx, f.Unit, t0)
		if err != nil || len(hist) != 1 || !sameFix(hist[0], f) {
			t.Errorf("History(%q) = %+v, %v, want [%+v]", f.Unit, hist, err, f)
		}
	}
}

func receive(t *testing.T, events <-chan Event, n int) []Event {
	t.Helper()
	var got []Event
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("events closed after %d of %d", len(got), n)
			}
			got = append(got, ev)
		case <-timeout:
			t.Fatalf("received %d events of %d", len(got), n)
		}
	}
	return got
}

func eventString(ev Event) string {
	switch ev.Kind {
	case StatusEvent:
		return ev.Unit + " status " + string(ev.Change.Status) + " by " + ev.Change.By
	case IncidentEvent:
		return "incident " + ev.Incident.ID + " " + string(ev.Incident.State)
	}
	return ev.Unit + " fix " + ev.Fix.Time.Format("15:04:05.000")
}

func checkEvents(t *testing.T, got []Event, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = eventString(got[i])
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("event %d = %q, want %q", i, g, w)
		}
	}
}

// testStoreEventsInOrder: events come in the order the store applied the
// changes, fixes that did not become latest announce nothing.
func testStoreEventsInOrder(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	if _, err := s.Append(ctx, fixAt("V00", baseTime(), 0)); err != nil { // before Subscribe: no event
		t.Fatal(err)
	}
	events, err := s.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t0 := baseTime()
	var want []string
	for i := range 20 {
		unit := fmt.Sprintf("V%02d", 1+i%3)
		f := fixAt(unit, t0, time.Duration(i)*time.Second)
		if _, err := s.Append(ctx, f); err != nil {
			t.Fatal(err)
		}
		want = append(want, eventString(Event{Kind: FixEvent, Unit: unit, Fix: f}))
		if i%5 == 4 {
			old := fixAt(unit, t0, time.Duration(i-1)*time.Second-time.Millisecond)
			if latest, err := s.Append(ctx, old); latest || err != nil {
				t.Fatalf("Append(older) = %v, %v, want false", latest, err)
			}
			st := []patrol.Status{patrol.Dispatched, patrol.Available}[i/5%2]
			if err := s.SetStatus(ctx, unit, StatusChange{Status: st, By: "desk-" + unit}); err != nil {
				t.Fatal(err)
			}
			want = append(want, eventString(Event{Kind: StatusEvent, Unit: unit, Change: StatusChange{Status: st, By: "desk-" + unit}}))
		}
	}
	got := receive(t, events, len(want))
	checkEvents(t, got, want)
	if !sameFix(got[0].Fix, fixAt("V01", t0, 0)) {
		t.Errorf("first event fix = %+v, want %+v", got[0].Fix, fixAt("V01", t0, 0))
	}
	select {
	case ev := <-events:
		t.Errorf("extra event %q", eventString(ev))
	case <-time.After(50 * time.Millisecond):
	}
}

// testStoreEventsReachOtherInstances: a change through one store object
// reaches the subscribers of another on the same city.
func testStoreEventsReachOtherInstances(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	a, b := open(t, city), open(t, city)
	events, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := fixAt("V01", baseTime(), 0)
	start := time.Now()
	if _, err := a.Append(ctx, f); err != nil {
		t.Fatal(err)
	}
	got := receive(t, events, 1)
	if !sameFix(got[0].Fix, f) {
		t.Fatalf("event fix = %+v, want %+v", got[0].Fix, f)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("event reached the other instance after %v, want within 100 ms", d)
	}
}

// testStoreConcurrentWriters: several writers on the same units; the
// latest fix is the newest of all, each unit's events come newest-last,
// and every fix is in history.
func testStoreConcurrentWriters(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	events, err := open(t, city).Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 4, 40
	t0 := baseTime()
	var wg sync.WaitGroup
	var mu sync.Mutex
	latestCount := 0
	for w := range writers {
		s := open(t, city)
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range perWriter {
				unit := fmt.Sprintf("V%d", r.IntN(2))
				at := time.Duration(r.IntN(60_000)) * time.Millisecond
				latest, err := s.Append(ctx, fixAt(unit, t0, at))
				if err != nil {
					t.Error(err)
					return
				}
				if latest {
					mu.Lock()
					latestCount++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	got := receive(t, events, latestCount)
	last := map[string]time.Time{}
	for _, ev := range got {
		if !ev.Fix.Time.After(last[ev.Unit]) {
			t.Fatalf("event %q does not follow %v", eventString(ev), last[ev.Unit])
		}
		last[ev.Unit] = ev.Fix.Time
	}
	s := open(t, city)
	total := 0
	for _, unit := range []string{"V0", "V1"} {
		hist, err := s.History(ctx, unit, t0)
		if err != nil {
			t.Fatal(err)
		}
		total += len(hist)
		f, ok, err := s.Latest(ctx, unit)
		if err != nil || !ok || len(hist) == 0 || !f.Time.Equal(hist[len(hist)-1].Time) || !f.Time.Equal(last[unit]) {
			t.Errorf("Latest(%s) = %v, %v, %v; want the newest of history and events (%v)", unit, f.Time, ok, err, last[unit])
		}
	}
	if total != writers*perWriter {
		t.Errorf("history holds %d fixes, want %d", total, writers*perWriter)
	}
}

// testStoreUnitsAfterRestart: a new store object on the same city (a
// restarted server) finds every unit's fix and status.
func testStoreUnitsAfterRestart(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	t0 := baseTime()
	want := map[string]UnitState{}
	for i, unit := range []string{"V1", "V2", "V3"} {
		f := fixAt(unit, t0, time.Duration(i)*time.Second)
		if _, err := s.Append(ctx, f); err != nil {
			t.Fatal(err)
		}
		want[unit] = UnitState{Unit: unit, Fix: f, HasFix: true}
	}
	if _, err := s.Append(ctx, fixAt("V1", t0, -time.Second)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(-time.Hour)
	for unit, st := range map[string]patrol.Status{"V2": patrol.Dispatched, "V4": patrol.OffDuty} {
		if err := s.SetStatus(ctx, unit, StatusChange{Status: st, By: "desk 3", At: at}); err != nil {
			t.Fatal(err)
		}
		w := want[unit]
		w.Unit, w.Status, w.StatusBy, w.StatusAt = unit, st, "desk 3", at
		want[unit] = w
	}
	states, err := open(t, city).Units(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != len(want) {
		t.Fatalf("Units() has %d units, want %d: %+v", len(states), len(want), states)
	}
	for _, got := range states {
		w := want[got.Unit]
		if got.HasFix != w.HasFix || got.Status != w.Status || w.HasFix && !sameFix(got.Fix, w.Fix) || got.UpdatedAt.IsZero() ||
			got.StatusBy != w.StatusBy || !got.StatusAt.Equal(w.StatusAt) {
			t.Errorf("Units()[%s] = %+v, want %+v (and an updated-at)", got.Unit, got, w)
		}
	}
}

// testStoreHistory: since bounds by fix time, other units stay out.
func testStoreHistory(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	t0 := baseTime()
	for _, at := range []int{5, 1, 3, 2, 4} {
		for _, unit := range []string{"A", "B"} {
			if _, err := s.Append(ctx, fixAt(unit, t0, time.Duration(at)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		unit  string
		since time.Duration
		want  []int
	}{
		{"A", 0, []int{1, 2, 3, 4, 5}},
		{"A", 3 * time.Second, []int{3, 4, 5}},
		{"B", 4500 * time.Millisecond, []int{5}},
		{"A", 6 * time.Second, nil},
		{"C", 0, nil},
	} {
		hist, err := s.History(ctx, tc.unit, t0.Add(tc.since))
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, f := range hist {
			if f.Unit != tc.unit {
				t.Errorf("History(%s) holds a fix of %s", tc.unit, f.Unit)
			}
			got = append(got, int(f.Time.Sub(t0)/time.Second))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("History(%s, t0+%v) = %v s, want %v", tc.unit, tc.since, got, tc.want)
		}
	}
}

// testStoreTwoCities: two cities share nothing.
func testStoreTwoCities(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	a, b := open(t, city+".a"), open(t, city+".b")
	events, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Append(ctx, fixAt("V1", baseTime(), 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, fixAt("V2", baseTime(), 0)); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, events, 1); got[0].Unit != "V2" {
		t.Fatalf("city b got the event of %s", got[0].Unit)
	}
	for name, s := range map[string]Store{"a": a, "b": b} {
		states, err := s.Units(ctx)
		if err != nil || len(states) != 1 {
			t.Errorf("city %s Units() = %+v, %v, want one unit", name, states, err)
		}
	}
}

func testStoreSubscribeEnds(t *testing.T, open storeOpener, city string) {
	ctx, cancel := context.WithCancel(realtimetest.Context(t))
	events, err := open(t, city).Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("events not closed 5 s after ctx ended")
		}
	}
}

// testCitiesOnDifferentMasters picks a city pair whose hash slots live on
// different masters and runs the two-city test on it.
func testCitiesOnDifferentMasters(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	cc := c.(*redis.ClusterClient)
	master := func(city string) string {
		node, err := cc.MasterForKey(ctx, newRedisKeys(city).pos)
		if err != nil {
			t.Fatal(err)
		}
		return node.Options().Addr
	}
	base := realtimetest.CityName(t)
	for i := range 100 {
		city := fmt.Sprintf("%s.%d", base, i)
		if master(city+".a") != master(city+".b") {
			testStoreTwoCities(t, redisOpener(c), city)
			return
		}
	}
	t.Fatal("no city pair on two masters in 100 tries")
}
