package demo

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

func tongliaoPlan(t *testing.T) *patrol.Plan {
	t.Helper()
	return patroltest.DemoPlan(t)
}

func plans(t *testing.T) []struct {
	name string
	plan *patrol.Plan
} {
	return []struct {
		name string
		plan *patrol.Plan
	}{{"square", patroltest.SquarePlan(t)}, {"tongliao", tongliaoPlan(t)}}
}

// runMotion steps a new demo of plan n times by dt on a clock that starts at
// start and moves with the steps, and returns the fixes per unit.
func runMotion(plan *patrol.Plan, seed uint64, n int, dt time.Duration) (*Motion, map[string][]fix.Fix) {
	return runConfig(plan, Config{Seed: seed}, n, dt)
}

// runConfig is runMotion with the demo configured by cfg, whose Now it
// sets.
func runConfig(plan *patrol.Plan, cfg Config, n int, dt time.Duration) (*Motion, map[string][]fix.Fix) {
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }
	d := New(plan, cfg)
	byUnit := map[string][]fix.Fix{}
	for i := range n {
		step := dt
		if i == 0 {
			step = 0
		} else {
			now = now.Add(dt)
		}
		for _, f := range d.Step(step) {
			byUnit[f.Unit] = append(byUnit[f.Unit], f)
		}
	}
	return d, byUnit
}

func mechanisms(p *patrol.Plan) map[string]patrol.Mechanism {
	m := map[string]patrol.Mechanism{}
	for _, u := range p.Units {
		m[u.ID], _ = p.Mechanism(u.Mechanism)
	}
	return m
}

func moves(m patrol.Mechanism) bool { return m.Profile != "" && m.ID != "post" }

func TestDemoDeterministic(t *testing.T) {
	plan := tongliaoPlan(t)
	_, a := runMotion(plan, 7, 120, time.Second)
	_, b := runMotion(plan, 7, 120, time.Second)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two demos with seed 7 gave different fixes")
	}
	_, c := runMotion(plan, 8, 120, time.Second)
	if reflect.DeepEqual(a, c) {
		t.Errorf("demos with seeds 7 and 8 gave the same fixes")
	}
}

func TestDemoFirstStepAndOffDuty(t *testing.T) {
	for _, tc := range plans(t) {
		t.Run(tc.name, func(t *testing.T) {
			d := New(tc.plan, Config{})
			got := map[string]int{}
			for _, f := range d.Step(0) {
				got[f.Unit]++
			}
			for _, u := range tc.plan.Units {
				want := 1
				if u.Status == patrol.OffDuty {
					want = 0
				}
				if got[u.ID] != want {
					t.Errorf("first step: %d fixes of %s (%s), want %d", got[u.ID], u.ID, u.Status, want)
				}
			}
		})
	}
}

// TestDemoFixes checks every fix of ten simulated minutes: fields, place
// (inside the boundary, and for moving units inside their area give or
// take one cell) and speed (reported and implied, within the mechanism's
// limit).
func TestDemoFixes(t *testing.T) {
	for _, tc := range plans(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, byUnit := runMotion(tc.plan, 1, 600, time.Second)
			mechs := mechanisms(tc.plan)
			for _, u := range tc.plan.Units {
				near := dilate(u.Area)
				var prev fix.Fix
				for i, f := range byUnit[u.ID] {
					checkFields(t, f, mechs[u.ID])
					if !planar.PolygonContains(tc.plan.Boundary, f.Point) {
						t.Errorf("%s fix %d at %v: outside the boundary", u.ID, i, f.Point)
					}
					if moves(mechs[u.ID]) && !near[geo.Cell(f.Point, tc.plan.Resolution)] {
						t.Errorf("%s fix %d at %v: more than one cell outside its area", u.ID, i, f.Point)
					}
					if i > 0 {
						checkImplied(t, prev, f, mechs[u.ID])
					}
					prev = f
				}
			}
		})
	}
}

func checkFields(t *testing.T, f fix.Fix, m patrol.Mechanism) {
	t.Helper()
	if f.Source != "demo" || f.Battery != -1 || f.AccuracyM < 3 || f.AccuracyM > 7 {
		t.Errorf("%s: source %q battery %v accuracy %v, want \"demo\", -1, about 5", f.Unit, f.Source, f.Battery, f.AccuracyM)
	}
	if moves(m) && (f.Heading < 0 || f.Heading >= 360 || f.SpeedMPS <= 0) {
		t.Errorf("%s: heading %v speed %v, want a heading in [0, 360) and a positive speed", f.Unit, f.Heading, f.SpeedMPS)
	}
	if m.MaxSpeedKPH > 0 && f.SpeedMPS*3.6 > m.MaxSpeedKPH {
		t.Errorf("%s: speed %.1f km/h, want at most %v", f.Unit, f.SpeedMPS*3.6, m.MaxSpeedKPH)
	}
}

func checkImplied(t *testing.T, prev, f fix.Fix, m patrol.Mechanism) {
	t.Helper()
	dt := f.Time.Sub(prev.Time).Seconds()
	if dt <= 0 {
		t.Errorf("%s: fix at %v not after the previous at %v", f.Unit, f.Time, prev.Time)
		return
	}
	if kph := float64(geo.Distance(prev.Point, f.Point)) / dt * 3.6; m.MaxSpeedKPH > 0 && kph > m.MaxSpeedKPH {
		t.Errorf("%s: implied speed %.1f km/h at %v, want at most %v", f.Unit, kph, f.Time, m.MaxSpeedKPH)
	}
}

// dilate returns area's cells and their neighbours.
func dilate(area []h3.Cell) map[h3.Cell]bool {
	out := map[h3.Cell]bool{}
	for _, c := range area {
		for _, n := range h3.GridDisk(c, 1) {
			out[n] = true
		}
	}
	return out
}

// TestDemoCruise checks that moving units travel at about their
// profile's speed.
func TestDemoCruise(t *testing.T) {
	plan := tongliaoPlan(t)
	_, byUnit := runMotion(plan, 1, 300, time.Second)
	profiles := map[string]geo.Profile{}
	for _, p := range plan.Profiles {
		profiles[p.Name] = p
	}
	sum, n := map[string]float64{}, map[string]int{}
	mechs := mechanisms(plan)
	for id, fixes := range byUnit {
		if m := mechs[id]; moves(m) {
			for _, f := range fixes {
				sum[m.Profile] += f.SpeedMPS
				n[m.Profile]++
			}
		}
	}
	for name, p := range profiles {
		if mean := sum[name] / float64(n[name]); math.Abs(mean/p.MetersPerSecond()-1) > 0.15 {
			t.Errorf("mean speed of %s units = %.2f m/s, want within 15%% of %.2f", name, mean, p.MetersPerSecond())
		}
	}
}

// TestDemoStill checks that posts and video units stay at their post,
// within 5 m, and report about every 10 s.
func TestDemoStill(t *testing.T) {
	for _, tc := range plans(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, byUnit := runMotion(tc.plan, 1, 120, time.Second)
			mechs := mechanisms(tc.plan)
			for _, u := range tc.plan.Units {
				if moves(mechs[u.ID]) || u.Status == patrol.OffDuty {
					continue
				}
				fixes := byUnit[u.ID]
				if len(fixes) < 11 || len(fixes) > 13 {
					t.Errorf("%s: %d fixes in 120 s, want one every 10 s", u.ID, len(fixes))
				}
				for _, f := range fixes {
					if d := geo.Distance(f.Point, geo.CellCenter(u.Post)); d > 5 || f.SpeedMPS != 0 {
						t.Errorf("%s: fix %v m from its post at %v m/s, want at most 5 m and 0", u.ID, float64(d), f.SpeedMPS)
					}
				}
			}
		})
	}
}

// TestDemoLoopCloses checks that every loop is a closed ring and that
// every moving unit comes back to where it started within an hour.
func TestDemoLoopCloses(t *testing.T) {
	for _, tc := range plans(t) {
		t.Run(tc.name, func(t *testing.T) {
			const dt = 2 * time.Second
			d, byUnit := runMotion(tc.plan, 1, 1800, dt)
			mechs := mechanisms(tc.plan)
			for _, u := range d.units {
				if moves := moves(mechs[u.id]); moves != (u.path != nil) {
					t.Errorf("%s: has a loop %v, want %v", u.id, u.path != nil, moves)
				}
				if u.path == nil {
					continue
				}
				if pts := u.path.pts; pts[0] != pts[len(pts)-1] {
					t.Errorf("%s: loop from %v ends at %v, want a closed ring", u.id, pts[0], pts[len(pts)-1])
				}
				checkReturns(t, byUnit[u.id], u.top*dt.Seconds())
			}
		})
	}
}

// checkReturns checks that fixes go more than 50 m from the first and
// later come back within tol metres of it.
func checkReturns(t *testing.T, fixes []fix.Fix, tol float64) {
	t.Helper()
	start, left := fixes[0].Point, false
	for _, f := range fixes[1:] {
		d := float64(geo.Distance(start, f.Point))
		if d > 50 {
			left = true
		}
		if left && d <= tol {
			return
		}
	}
	t.Errorf("%s: left %v, never back within %.0f m of its start %v in %d fixes", fixes[0].Unit, left, tol, start, len(fixes))
}

func TestDemoRun(t *testing.T) {
	plan := patroltest.SquarePlan(t)
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		fail error // returned by the third call of ingest, which otherwise cancels
		want error
	}{
		{"cancelled", nil, context.Canceled},
		{"ingest fails", errBoom, errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var batches [][]fix.Fix
			ingest := func(_ context.Context, fixes []fix.Fix) error {
				batches = append(batches, fixes)
				if len(batches) == 3 {
					if tc.fail != nil {
						return tc.fail
					}
					cancel()
				}
				return nil
			}
			d := New(plan, Config{Interval: 5 * time.Millisecond})
			if err := d.Run(ctx, ingest); !errors.Is(err, tc.want) {
				t.Errorf("Run = %v, want %v", err, tc.want)
			}
			if len(batches) != 3 {
				t.Fatalf("ingest called %d times, want 3", len(batches))
			}
			if got, want := len(batches[0]), len(plan.Units)-1; got != want {
				t.Errorf("first batch has %d fixes, want %d (every unit on duty)", got, want)
			}
		})
	}
}

// TestMotionHold: a held unit gets no fix while it is held, and its fixes
// resume when it is not; the other units are not disturbed.
func TestMotionHold(t *testing.T) {
	plan := patroltest.SquarePlan(t)
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	held := true
	d := New(plan, Config{Now: func() time.Time { return now }, Hold: func(unit string) bool { return held && unit == "V1" }})
	count := func(steps int) map[string]int {
		n := map[string]int{}
		for range steps {
			now = now.Add(time.Second)
			for _, f := range d.Step(time.Second) {
				n[f.Unit]++
			}
		}
		return n
	}
	if n := count(20); n["V1"] != 0 || n["E1"] == 0 {
		t.Fatalf("fixes while V1 is held: %v, want none of V1 and some of E1", n)
	}
	held = false
	if n := count(5); n["V1"] == 0 {
		t.Fatalf("fixes once V1 is no longer held: %v, want some of V1", n)
	}
}
