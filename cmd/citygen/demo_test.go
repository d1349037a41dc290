package main

import (
	"slices"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/demo"
)

// TestDemoMostlyMet runs the demo city's units as serve --demo moves them
// (realtime.Demo) through a window around four times of day, with the
// coverage engine on the lattice, and checks that the deployment is well
// designed but not perfect: at three of the four times at least, the
// typical moment (the median of the window's samples, a minute apart) has
// at least one active zone in gap and no more than half of them. The demo
// and the engine are deterministic; the bounds leave room on both sides.
func TestDemoMostlyMet(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 80 minutes of the demo city")
	}
	const (
		window = 20 * time.Minute // simulated around each time of day
		step   = 3 * time.Second  // between two demo steps
		sample = time.Minute      // between two looks at the zones
	)
	p := readPlan(t)
	grid, err := geo.NewPolygonGrid(p.Boundary, p.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := patrol.NewCoverage(p, geo.NewLattice(grid))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := p.Location()
	if err != nil {
		t.Fatal(err)
	}
	var now time.Time
	demo := demo.New(p, demo.Config{Interval: step, Now: func() time.Time { return now }})
	times := []string{"03:00", "10:00", "17:30", "21:00"}
	passed := 0
	for _, hhmm := range times {
		at, err := time.ParseInLocation("2006-01-02 15:04", "2026-09-01 "+hhmm, loc)
		if err != nil {
			t.Fatal(err)
		}
		var gaps []int
		active, sum := 0, 0
		for now = at.Add(-window / 2); now.Before(at.Add(window / 2)); now = now.Add(step) {
			for _, f := range demo.Step(step) {
				if _, err := cv.Move(f.Unit, f.Point, patrol.Available); err != nil {
					t.Fatal(err)
				}
			}
			if now.Sub(at)%sample == 0 {
				n, a := gapCount(cv.Zones(now))
				gaps, active, sum = append(gaps, n), a, sum+n
			}
		}
		slices.Sort(gaps)
		typical := gaps[len(gaps)/2]
		ok := typical >= 1 && 2*typical <= active
		if ok {
			passed++
		}
		t.Logf("%s: %d active zones, in gap %v: typical %d, mean share %.2f (ok %v)",
			hhmm, active, gaps, typical, float64(sum)/float64(len(gaps)*active), ok)
	}
	if passed < 3 {
		t.Errorf("typical moment with between 1 and half of the active zones in gap at %d of %d times of day, want at least 3",
			passed, len(times))
	}
}

// gapCount returns how many zones are in gap and how many are active.
func gapCount(zones []patrol.ZoneStatus) (gaps, active int) {
	for _, z := range zones {
		if z.Active {
			active++
		}
		if z.Gap() {
			gaps++
		}
	}
	return gaps, active
}
