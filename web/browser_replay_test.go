package web

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// recordedHour serves the demo city after an hour of its 88 units at
// their posts, a fix each every 10 s, recorded on a clock that ends now,
// all of them silent from minute 20 to minute 40 (lost: the zones open
// all day are in gap then); it returns the server's URL.
func recordedHour(t *testing.T) string {
	t.Helper()
	plan := patroltest.DemoPlan(t)
	end := time.Now().Truncate(10 * time.Second)
	t0 := end.Add(-time.Hour)
	c := citytest.StartClocked(t, plan, t0, realtime.CityConfig{})
	city, hub, clock, ctx := c.City, c.Hub, c.Clock, context.Background()
	for at := t0; !at.After(end); at = at.Add(10 * time.Second) {
		clock.Set(at)
		if m := at.Sub(t0); m >= 20*time.Minute && m < 40*time.Minute {
			city.Moment() // as the map would look: the silent units go stale, then lost
			continue
		}
		var fixes []fix.Fix
		for i, u := range plan.Units {
			p := geo.CellCenter(u.Post)
			d := float64((int(at.Unix()/10)+i)%6-3) * 2e-5
			fixes = append(fixes, fix.Fix{Unit: u.ID, Time: at, Point: orb.Point{p[0] + d, p[1]}, SpeedMPS: -1, Heading: -1,
				Battery: -1, Source: fix.SourceJSON})
		}
		if _, err := city.Ingest(ctx, fixes); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(NewHandler(city, hub, Config{Access: Access{Open: true}}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestBrowserReplay opens the map of a city that recorded an hour, where a
// dispatcher acknowledges one of the warnings its lost units left in the
// warnings panel, and plays the hour back in headless Chromium: the replay
// bar loads 361 frames, draws a chart per zone with
// the minutes in gap marked, plays the hour at ×600 to its end, seeks
// into the silent minutes with the slider, where the city's shares are
// nought, and goes back to the live feed.
func TestBrowserReplay(t *testing.T) {
	requireBrowser(t)
	base := recordedHour(t)
	b := startBrowser(t, 1600, 1000)
	b.openStill(base)
	// The units lost in the silent minutes left warnings open: the panel
	// lists them and a dispatcher acknowledges one from it.
	if n, _ := b.eval(`window.patrolgrid.warnings`).(float64); n < 1 {
		t.Fatalf("%v open warnings on the map, want those of the units lost", n)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(`#warnings button[data-step="acknowledge"]`)); err != nil {
		t.Fatal(err)
	}
	waitPage(b, pageWait, "a warning acknowledged", `document.querySelectorAll('#warnings .st-acknowledged').length`, "warnings.png",
		func(float64) []string { return nil }, func(n float64) bool { return n == 1 })
	if err := chromedp.Do(b.ctx, chromedp.Click("#replay-open")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(".rp-load")); err != nil {
		t.Fatal(err)
	}
	type replayState struct {
		Frames, Index int
		City          []float64
		Zones, Misses int
		Connection    string
	}
	const state = `(() => { const r = window.patrolgrid.replay; return r && {frames: r.frames, index: r.index, city: r.city,
		zones: document.querySelectorAll('.rp-zones li').length, misses: document.querySelectorAll('.rp-miss').length,
		connection: window.patrolgrid.connection}; })()`
	st := waitPage(b, pageWait, "the replay loaded", state, "replay-loaded.png", func(*replayState) []string { return nil },
		func(s *replayState) bool { return s != nil && s.Frames > 0 })
	if st.Frames < 355 || st.Zones != 16 || st.Misses == 0 {
		t.Fatalf("replay loaded %d frames, %d zone charts, %d frames in gap marked; want about 361, 16 and some", st.Frames, st.Zones, st.Misses)
	}
	b.shot("replay-start.png")
	start := time.Now()
	if err := chromedp.Do(b.ctx, chromedp.SetValue(".rp-speed", "600")); err != nil {
		t.Fatal(err)
	}
	b.eval(`document.querySelector('.rp-speed').dispatchEvent(new Event('change'))`)
	if err := chromedp.Do(b.ctx, chromedp.Click(".rp-play")); err != nil {
		t.Fatal(err)
	}
	waitPage(b, pageWait, "the hour played to its end", state, "replay-end.png", func(*replayState) []string { return nil },
		func(s *replayState) bool { return s != nil && s.Index == s.Frames-1 })
	t.Logf("an hour played at ×600 in %v (6 s due)", time.Since(start).Round(10*time.Millisecond))
	b.eval(`(() => { const s = document.querySelector('.rp-slider'); s.value = String(Math.round(s.max / 2)); s.dispatchEvent(new Event('input')); })()`)
	mid := waitPage(b, pageWait, "the middle of the hour", state, "replay-middle.png", func(*replayState) []string { return nil },
		func(s *replayState) bool { return s != nil && s.Index == s.Frames/2 })
	if mid.City[2] != 0 {
		t.Errorf("half an hour in, every unit silent for ten minutes: the city reached within 5 min %v, want 0", mid.City[2])
	}
	b.shot("replay-middle.png")
	if err := chromedp.Do(b.ctx, chromedp.Click(".rp-leave")); err != nil {
		t.Fatal(err)
	}
	b.waitState(pageWait, "live again", func(s *pageState) bool { return s != nil && s.Connection == "live" })
	if r := b.eval(`window.patrolgrid.replay`); r != nil {
		t.Errorf("replay state after going back to live: %v", r)
	}
}
