package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
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

func TestNewRedisCity(t *testing.T) {
	for _, city := range []string{"", "a{b", "c}"} {
		if _, err := NewRedis(nil, RedisConfig{City: city}); err == nil {
			t.Errorf("NewRedis(city %q) = nil error, want one", city)
		}
	}
}

func newTestRedisStore(t *testing.T, c redis.UniversalClient, cfg RedisConfig) *Redis {
	t.Helper()
	if cfg.City == "" {
		cfg.City = realtimetest.CityName(t)
	}
	s, err := NewRedis(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newSubscribedRedisStore returns a Redis store of cfg, in a city of its
// own unless cfg names one, and a subscription to it for the test.
func newSubscribedRedisStore(t *testing.T, c redis.UniversalClient, cfg RedisConfig) (*Redis, <-chan Event) {
	t.Helper()
	s := newTestRedisStore(t, c, cfg)
	events, err := s.Subscribe(realtimetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	return s, events
}

// TestRedisStore runs the Redis-only tests on one redis-server.
func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(NewRedisClient)
	for _, tc := range []struct {
		name string
		test func(*testing.T, redis.UniversalClient)
	}{
		{"KeyLayout", testRedisKeyLayout},
		{"ScriptCacheFlushed", testRedisScriptCacheFlushed},
		{"AppendBatch", testRedisAppendBatch},
		{"AppendBatchMax", testRedisAppendBatchMax},
		{"RejectsOutsideGEO", testRedisRejectsOutsideGEO},
		{"StreamTrimmedByAge", testRedisStreamTrimmedByAge},
		{"StreamTrimmedByLength", testRedisStreamTrimmedByLength},
		{"MissedMessage", testRedisMissedMessage},
		{"SubscriberReconnects", testRedisSubscriberReconnects},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, c) })
	}
	t.Run("Outage", func(t *testing.T) { testRedisOutage(t, srv, srv.Stop) })
	t.Run("Crash", func(t *testing.T) {
		// With every write on disk before the reply, not even SIGKILL loses
		// an acknowledged fix.
		srv := redistest.Start(t, redistest.Args("--appendfsync", "always"))
		testRedisOutage(t, srv, srv.Kill)
	})
}

// testRedisKeyLayout checks the keys of DESIGN.md, Redis layout.
func testRedisKeyLayout(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s := newTestRedisStore(t, c, RedisConfig{})
	city := s.cfg.City
	raw := c.Subscribe(ctx, "pg:{"+city+"}:events")
	defer raw.Close()
	if _, err := raw.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	f := fixAt("V1", baseTime(), 0)
	if _, err := s.Append(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, "V1", StatusChange{Status: patrol.Dispatched}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SavePlan(ctx, []byte(`{"name": "test"}`), 0); err != nil {
		t.Fatal(err)
	}
	for key, typ := range map[string]string{"pos": "zset", "unit:V1": "hash", "fixes": "stream", "plan": "string"} {
		if got := c.Type(ctx, "pg:{"+city+"}:"+key).Val(); got != typ {
			t.Errorf("TYPE pg:{%s}:%s = %q, want %q", city, key, got, typ)
		}
	}
	pos := c.GeoPos(ctx, "pg:{"+city+"}:pos", "V1").Val()
	const geoTolerance = 1e-5 // degrees; GEO cells are about 0.6 m
	if len(pos) != 1 || pos[0] == nil || math.Abs(pos[0].Longitude-f.Lon()) > geoTolerance || math.Abs(pos[0].Latitude-f.Lat()) > geoTolerance {
		t.Errorf("GEOPOS V1 = %v, want (%v, %v)", pos, f.Lon(), f.Lat())
	}
	h := c.HGetAll(ctx, "pg:{"+city+"}:unit:V1").Val()
	for _, k := range []string{"lat", "lon", "time", "speed", "heading", "source", "status", "updated"} {
		if h[k] == "" {
			t.Errorf("unit hash has no %s: %v", k, h)
		}
	}
	if n := c.XLen(ctx, "pg:{"+city+"}:fixes").Val(); n != 2 {
		t.Errorf("XLEN fixes = %d, want 2 (a fix and a status)", n)
	}
	msg, err := raw.ReceiveMessage(ctx)
	if err != nil || !strings.Contains(msg.Payload, `"unit":"V1"`) {
		t.Errorf("events channel message = %v, %v, want the fix of V1", msg, err)
	}
}

// testRedisScriptCacheFlushed: EVALSHA falls back when the server lost
// its scripts (a restart, SCRIPT FLUSH, a failover).
func testRedisScriptCacheFlushed(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s := newTestRedisStore(t, c, RedisConfig{})
	t0 := baseTime()
	for i, batch := range []bool{false, true, false} {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		f := fixAt("V1", t0, time.Duration(i)*time.Second)
		var err error
		if batch {
			_, err = s.AppendBatch(ctx, []fix.Fix{f, fixAt("V2", t0, 0)})
		} else {
			_, err = s.Append(ctx, f)
		}
		if err != nil {
			t.Fatalf("append %d (batch %v) after SCRIPT FLUSH: %v", i, batch, err)
		}
		if err := s.SetStatus(ctx, "V1", StatusChange{Status: patrol.Dispatched}); err != nil {
			t.Fatalf("SetStatus after SCRIPT FLUSH: %v", err)
		}
	}
	if hist, _ := s.History(ctx, "V1", t0); len(hist) != 3 {
		t.Errorf("history of V1 has %d fixes, want 3", len(hist))
	}

	// A batch of several script calls runs each once, in order.
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	big := make([]fix.Fix, 2*s.cfg.AppendBatchMax+1)
	for i := range big {
		big[i] = fixAt("V3", t0, time.Duration(i)*time.Millisecond)
	}
	latest, err := s.AppendBatch(ctx, big)
	if err != nil || len(latest) != len(big) || slices.Contains(latest, false) {
		t.Fatalf("AppendBatch of %d rising fixes after SCRIPT FLUSH: %d results (all latest: %v), %v",
			len(big), len(latest), !slices.Contains(latest, false), err)
	}
	if hist, _ := s.History(ctx, "V3", t0); len(hist) != len(big) {
		t.Errorf("history of V3 has %d fixes, want %d", len(hist), len(big))
	}
}

// testRedisAppendBatch: a batch decides latest fix by fix as Append does.
func testRedisAppendBatch(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s, events := newSubscribedRedisStore(t, c, RedisConfig{})
	t0 := baseTime()
	ats := []int{0, 2, 1, 3, 3, 5}
	want := []bool{true, true, false, true, false, true}
	var fixes []fix.Fix
	for _, at := range ats {
		fixes = append(fixes, fixAt("V1", t0, time.Duration(at)*time.Second))
	}
	got, err := s.AppendBatch(ctx, fixes)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("AppendBatch = %v, %v, want %v", got, err, want)
	}
	checkEvents(t, receive(t, events, 4), []string{
		eventString(Event{Kind: FixEvent, Unit: "V1", Fix: fixes[0]}),
		eventString(Event{Kind: FixEvent, Unit: "V1", Fix: fixes[1]}),
		eventString(Event{Kind: FixEvent, Unit: "V1", Fix: fixes[3]}),
		eventString(Event{Kind: FixEvent, Unit: "V1", Fix: fixes[5]}),
	})
	if got, err := s.AppendBatch(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("AppendBatch(nil) = %v, %v, want nothing", got, err)
	}
}

// testRedisAppendBatchMax: a batch goes in calls of AppendBatchMax fixes,
// one stream entry each.
func testRedisAppendBatchMax(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s := newTestRedisStore(t, c, RedisConfig{AppendBatchMax: 2})
	fixes := make([]fix.Fix, 5)
	for i := range fixes {
		fixes[i] = fixAt("V1", baseTime(), time.Duration(i)*time.Second)
	}
	if latest, err := s.AppendBatch(ctx, fixes); err != nil || len(latest) != len(fixes) {
		t.Fatalf("AppendBatch of %d fixes = %v, %v, want %d results", len(fixes), latest, err, len(fixes))
	}
	if n := c.XLen(ctx, s.keys.fixes).Val(); n != 3 {
		t.Errorf("XLEN fixes = %d after 5 fixes, 2 a call; want 3", n)
	}
}

// testRedisRejectsOutsideGEO: a position Redis GEO cannot hold is refused
// before anything is written.
func testRedisRejectsOutsideGEO(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s := newTestRedisStore(t, c, RedisConfig{})
	for _, p := range []orb.Point{{0, 89}, {181, 0}, {math.NaN(), 0}} {
		f := fix.Fix{Unit: "V1", Time: baseTime(), Point: p}
		if _, err := s.Append(ctx, f); err == nil {
			t.Errorf("Append(%v) = nil error, want one", p)
		}
		if _, err := s.AppendBatch(ctx, []fix.Fix{fixAt("V2", baseTime(), 0), f}); err == nil {
			t.Errorf("AppendBatch(..., %v) = nil error, want one", p)
		}
	}
	if n := c.Exists(ctx, s.keys.fixes, s.keys.pos, s.unitKey("V1"), s.unitKey("V2")).Val(); n != 0 {
		t.Errorf("%d keys written, want none", n)
	}
}

// testRedisStreamTrimmedByAge: XADD MINID trims entries older than
// HistoryAge (approximately: whole stream nodes of 100 entries).
func testRedisStreamTrimmedByAge(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s := newTestRedisStore(t, c, RedisConfig{HistoryAge: time.Millisecond})
	t0 := baseTime()
	const n = 400
	for i := range n {
		if _, err := s.Append(ctx, fixAt("V1", t0, time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	if got := c.XLen(ctx, s.keys.fixes).Val(); got >= n {
		t.Errorf("XLEN = %d after %d appends with a 1 ms history, want fewer", got, n)
	}
}

// testRedisStreamTrimmedByLength writes 1,000 entries (fixes, statuses
// and incidents) to a stream capped at 100 within a day's history: it
// keeps about 100 (whole stream nodes of 100 go at once), and the latest
// fix and status stay.
func testRedisStreamTrimmedByLength(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s := newTestRedisStore(t, c, RedisConfig{HistoryEntries: 100})
	t0 := baseTime()
	const n = 1000
	for i := range n {
		var err error
		switch i % 10 {
		case 8:
			err = s.SetStatus(ctx, "V1", StatusChange{Status: patrol.Dispatched})
		case 9:
			_, err = s.SaveIncident(ctx, Incident{ID: fmt.Sprintf("I%d", i)})
		default:
			_, err = s.Append(ctx, fixAt("V1", t0, time.Duration(i)*time.Millisecond))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := c.XLen(ctx, s.keys.fixes).Val(); got < 100 || got > 200 {
		t.Errorf("XLEN = %d after %d writes capped at 100, want 100 to 200", got, n)
	}
	last := fixAt("V1", t0, (n-3)*time.Millisecond) // the last fix appended (i = 997)
	if got, ok, err := s.Latest(ctx, "V1"); err != nil || !ok || !got.Time.Equal(last.Time) {
		t.Errorf("latest fix of V1 = %v, %v; want the last one appended, %v", got.Time, err, last.Time)
	}
}

// testRedisMissedMessage: an entry whose pub/sub message never came (as
// after a lost message) is read from the stream, in order, both when the
// next message shows the gap and when the channel stays quiet.
func testRedisMissedMessage(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s, events := newSubscribedRedisStore(t, c, RedisConfig{CatchUpEvery: 100 * time.Millisecond})
	t0 := baseTime()
	silent := func(f fix.Fix) { // the stream entry of a latest fix, without its message
		t.Helper()
		d, _ := f.MarshalJSON()
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.keys.fixes,
			Values: []any{"k", "b", "f", "1", "d", string(d)}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	lost, next := fixAt("V1", t0, 0), fixAt("V2", t0, time.Second)
	silent(lost)
	if _, err := s.Append(ctx, next); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, receive(t, events, 2), []string{
		eventString(Event{Kind: FixEvent, Unit: "V1", Fix: lost}),
		eventString(Event{Kind: FixEvent, Unit: "V2", Fix: next}),
	})
	quiet := fixAt("V3", t0, 0)
	silent(quiet)
	start := time.Now()
	checkEvents(t, receive(t, events, 1), []string{eventString(Event{Kind: FixEvent, Unit: "V3", Fix: quiet})})
	if d := time.Since(start); d > time.Second {
		t.Errorf("a quiet gap was read after %v, want about CatchUpEvery (100 ms)", d)
	}
}

// testRedisSubscriberReconnects: the subscriber's connection is killed
// while fixes keep coming; after go-redis reconnects, the fixes of the gap
// come from the stream, in order, none twice.
func testRedisSubscriberReconnects(t *testing.T, c redis.UniversalClient) {
	ctx := realtimetest.Context(t)
	s, events := newSubscribedRedisStore(t, c, RedisConfig{})
	t0 := baseTime()
	var want []string
	for i := range 300 {
		if i%100 == 50 {
			if err := c.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
				t.Fatal(err)
			}
		}
		f := fixAt("V1", t0, time.Duration(i)*time.Millisecond)
		if _, err := s.Append(ctx, f); err != nil {
			t.Fatal(err)
		}
		want = append(want, eventString(Event{Kind: FixEvent, Unit: "V1", Fix: f}))
	}
	checkEvents(t, receive(t, events, len(want)), want)
	select {
	case ev := <-events:
		t.Errorf("extra event %q", eventString(ev))
	case <-time.After(100 * time.Millisecond):
	}
}

// testRedisOutage stops redis-server (with halt) in the middle of a stream
// of fixes and starts it again: appends fail while it is down (the caller
// answers 503), Ping says why, the client reconnects by itself, and every
// fix whose Append succeeded is in Redis afterwards and reached the
// subscriber, in order.
func testRedisOutage(t *testing.T, srv *redistest.Server, halt func()) {
	c := srv.Client(NewRedisClient)
	ctx := realtimetest.Context(t)
	s := newTestRedisStore(t, c, RedisConfig{})
	events, err := newTestRedisStore(t, c, RedisConfig{City: s.cfg.City}).Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t0 := baseTime()
	stop, results := startOutageWriters(ctx, s, t0)
	time.Sleep(150 * time.Millisecond)
	halt()
	pingCtx, cancel := context.WithTimeout(ctx, time.Second)
	if err := s.Ping(pingCtx); err == nil {
		t.Error("Ping() = nil with redis-server stopped, want an error")
	} else {
		t.Logf("Ping() while stopped: %v", err)
	}
	cancel()
	time.Sleep(300 * time.Millisecond)
	srv.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Ping() still fails 5 s after redis-server restarted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	stop()
	checkOutageStored(t, s, t0, results)
	checkOutageEvents(t, events, results)
}

// outageWriter is what one writer of testRedisOutage saw.
type outageWriter struct {
	ok, latest []fix.Fix // the fixes acknowledged, and those of them latest
	failed     int
	slowest    time.Duration // of the failed Appends
}

// startOutageWriters starts two writers, of units W0 and W1, that append
// rising fixes to s until stop is called; stop waits for them and returns
// what each saw.
func startOutageWriters(ctx context.Context, s *Redis, t0 time.Time) (stop func(), results []outageWriter) {
	const writers = 2
	results = make([]outageWriter, writers)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { results[w].run(ctx, s, fmt.Sprintf("W%d", w), t0, done) })
	}
	return func() { close(done); wg.Wait() }, results
}

// run appends the fixes of unit from t0 on, a millisecond apart, until
// done is closed.
func (r *outageWriter) run(ctx context.Context, s *Redis, unit string, t0 time.Time, done <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		default:
		}
		f := fixAt(unit, t0, time.Duration(i)*time.Millisecond)
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		start := time.Now()
		latest, err := s.Append(callCtx, f)
		cancel()
		if err != nil {
			r.failed++
			r.slowest = max(r.slowest, time.Since(start))
			time.Sleep(5 * time.Millisecond)
			continue
		}
		r.ok = append(r.ok, f)
		if latest {
			r.latest = append(r.latest, f)
		}
	}
}

// checkOutageStored checks that each writer saw failures and successes,
// and that every acknowledged fix is in Redis.
func checkOutageStored(t *testing.T, s *Redis, t0 time.Time, results []outageWriter) {
	ctx := realtimetest.Context(t)
	for w, r := range results {
		t.Logf("writer %d: %d appends succeeded, %d failed (slowest failure %v)", w, len(r.ok), r.failed, r.slowest)
		if r.failed == 0 || len(r.ok) == 0 {
			t.Errorf("writer %d: %d succeeded, %d failed; want both during an outage", w, len(r.ok), r.failed)
		}
		hist, err := s.History(ctx, fmt.Sprintf("W%d", w), t0)
		if err != nil {
			t.Fatal(err)
		}
		stored := map[time.Time]bool{}
		for _, f := range hist {
			stored[f.Time] = true
		}
		for _, f := range r.ok {
			if !stored[f.Time] {
				t.Fatalf("writer %d: fix at %v was acknowledged but is not in Redis", w, f.Time)
			}
		}
	}
}

// checkOutageEvents checks that every acknowledged latest fix reaches the
// subscriber, each unit's in time order; a fix whose reply was lost may
// add an event.
func checkOutageEvents(t *testing.T, events <-chan Event, results []outageWriter) {
	var wantEvents int
	for _, r := range results {
		wantEvents += len(r.latest)
	}
	seen := map[string]map[time.Time]bool{"W0": {}, "W1": {}}
	last := map[string]time.Time{}
	timeout := time.After(10 * time.Second)
	for missing := wantEvents; missing > 0; {
		select {
		case ev := <-events:
			if !ev.Fix.Time.After(last[ev.Unit]) {
				t.Fatalf("event %q after %v: out of order", eventString(ev), last[ev.Unit])
			}
			last[ev.Unit] = ev.Fix.Time
			seen[ev.Unit][ev.Fix.Time] = true
			missing = wantEvents
			for w, r := range results {
				for _, f := range r.latest {
					if seen[fmt.Sprintf("W%d", w)][f.Time] {
						missing--
					}
				}
			}
		case <-timeout:
			t.Fatalf("%d acknowledged latest fixes never reached the subscriber", missing)
		}
	}
}
