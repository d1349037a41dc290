package realtime_test

import (
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// BenchmarkReplayHour replays an hour of the demo city's 88 units at
// 1 Hz, each circling near its post, at a 10 s step (361 frames), on the
// lattice: the goal is 5 s a replay (1 s the moonshot).
func BenchmarkReplayHour(b *testing.B) {
	plan, grid := patroltest.DemoGrid(b)
	router := geo.NewLattice(grid)
	from := time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)
	var events []store.TimedEvent
	for s := range 3600 {
		at := from.Add(time.Duration(s) * time.Second)
		for i, u := range plan.Units {
			p := geo.CellCenter(u.Post)
			d := float64((s+i*37)%120-60) * 2e-5 // back and forth, a few metres a second
			f := fix.Fix{Unit: u.ID, Time: at, Point: orb.Point{p[0] + d, p[1]}, SpeedMPS: -1, Heading: -1, Battery: -1, Source: fix.SourceJSON}
			events = append(events, store.TimedEvent{At: at, Event: store.Event{Kind: store.FixEvent, Unit: u.ID, Fix: f}})
		}
	}
	b.ReportAllocs()
	var frames int
	for b.Loop() {
		out, err := realtime.Replay(plan, router, realtime.CityConfig{}, events, from, from.Add(time.Hour), 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		frames = len(out)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/replay")
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
