package road

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Monaco on machines without tzdata

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/paulmach/orb"
)

// TestBandRouter follows the default car bands (peak 7–9 h, off-peak 9–17
// h, night 22–7 h) through a Monaco day: each switch bumps the version,
// is reported, and slows or speeds the drives; Run switches at the hour.
func TestBandRouter(t *testing.T) {
	profiles := testProfiles(t, "default")
	net := testNetwork(t, monacoPBF)
	box := orb.Polygon{{{7.409, 43.724}, {7.440, 43.724}, {7.440, 43.752}, {7.409, 43.752}, {7.409, 43.724}}}
	grid, err := geo.NewPolygonGrid(box, 10)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Monaco")
	if err != nil {
		t.Fatal(err)
	}
	base := NewRouter(net, grid, RouterConfig{})
	at := func(h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 0, 0, loc) }
	var switches []string
	onSwitch := func(t time.Time, band string) { switches = append(switches, t.Format("15:04 MST ")+band) }
	br := NewBandRouter(base, profiles, loc, func() time.Time { return at(8, 30) }, onSwitch)
	casino := orb.Point{7.4277, 43.7393}
	etaSum := func() time.Duration {
		var s geo.Search
		reach, err := br.Isochrone(&s, casino, geo.Profile{Name: "car"}, 5*time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sum time.Duration
		for _, r := range reach {
			sum += r.ETA
		}
		return sum / time.Duration(len(reach))
	}
	if br.Band() != "peak" {
		t.Fatalf("band at 08:30 = %q, want peak", br.Band())
	}
	peak := etaSum()
	for _, step := range []struct {
		t       time.Time
		changed bool
		band    string
		version uint64
	}{
		{at(10, 0), true, "off-peak", 1},
		{at(16, 59), false, "off-peak", 1},
		{at(23, 0), true, "night", 2},
	} {
		if got := br.follow(step.t); got != step.changed || br.Band() != step.band || br.Version() != step.version {
			t.Errorf("follow(%v) = %v, band %q, version %d; want %v, %q, %d",
				step.t.Format("15:04"), got, br.Band(), br.Version(), step.changed, step.band, step.version)
		}
		if step.band == "off-peak" && etaSum() >= peak {
			t.Errorf("mean ETA off-peak %v, want below peak's %v", etaSum(), peak)
		}
	}
	if want := []string{"10:00 CET off-peak", "23:00 CET night"}; !slices.Equal(switches, want) {
		t.Errorf("switches reported = %q, want %q", switches, want)
	}

	start := time.Now()
	clock := func() time.Time { return at(8, 59).Add(59*time.Second + 500*time.Millisecond + time.Since(start)) }
	br = NewBandRouter(base, profiles, loc, clock, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); br.Version() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Run did not switch at 09:00 (band %q)", br.Band())
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || br.Band() != "off-peak" {
		t.Errorf("Run = %v, band %q; want context.Canceled, off-peak", err, br.Band())
	}
}
