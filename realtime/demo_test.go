package realtime

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// demoSquarePlan returns a plan over a square of about 2.4 km with its
// cells split by their centres into four areas, and two more units:
//
//	+--------+--------+
//	|   V1   |   E1   |   V2 (off duty) shares V1's area,
//	|vehicle | e-bike |   C1 (video) watches P1's area
//	+--------+--------+
//	|   F1   |   P1   |
//	|  foot  |  post  |
//	+--------+--------+
func demoSquarePlan(t *testing.T) *patrol.Plan {
	t.Helper()
	const w, e, s, n = 122.245, 122.275, 43.609, 43.631
	mid := orb.Point{(w + e) / 2, (s + n) / 2}
	boundary := orb.Polygon{{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}}
	quads := map[string][]h3.Cell{}
	for _, c := range geo.PolygonCells(boundary, 10) {
		p, key := geo.CellCenter(c), ""
		if p[1] >= mid[1] {
			key = "N"
		} else {
			key = "S"
		}
		if p[0] < mid[0] {
			key += "W"
		} else {
			key += "E"
		}
		quads[key] = append(quads[key], c)
	}
	unit := func(id, mech, quad string) patrol.Unit {
		area := quads[quad]
		return patrol.Unit{ID: id, Name: id, Mechanism: mech, Area: area, Post: demoMiddle(area)}
	}
	p := &patrol.Plan{
		Name: "square", City: "square", Resolution: 10, Timezone: "UTC", Boundary: boundary,
		Profiles: []geo.Profile{{Name: "car", SpeedKPH: 30, Detour: 1.35}, {Name: "bike", SpeedKPH: 15, Detour: 1.3},
			{Name: "foot", SpeedKPH: 5, Detour: 1.25}},
		Mechanisms: []patrol.Mechanism{
			{ID: "vehicle", Profile: "car", CountsResponse: true, MaxSpeedKPH: 130},
			{ID: "ebike", Profile: "bike", CountsResponse: true, MaxSpeedKPH: 60},
			{ID: "foot", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 15},
			{ID: "post", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 130},
			{ID: "video"},
		},
		Units: []patrol.Unit{unit("V1", "vehicle", "NW"), unit("E1", "ebike", "NE"), unit("F1", "foot", "SW"),
			unit("P1", "post", "SE"), unit("C1", "video", "SE"), unit("V2", "vehicle", "NW")},
	}
	p.Units[5].Status = patrol.OffDuty
	if err := p.Validate(); err != nil {
		t.Fatalf("square plan: %v", err)
	}
	return p
}

// demoMiddle returns the cell of area nearest the mean of its centres.
func demoMiddle(area []h3.Cell) h3.Cell {
	var mean orb.Point
	for _, c := range area {
		p := geo.CellCenter(c)
		mean[0] += p[0] / float64(len(area))
		mean[1] += p[1] / float64(len(area))
	}
	best := area[0]
	for _, c := range area {
		if geo.Distance(geo.CellCenter(c), mean) < geo.Distance(geo.CellCenter(best), mean) {
			best = c
		}
	}
	return best
}

func demoTongliaoPlan(t *testing.T) *patrol.Plan {
	t.Helper()
	p, err := patrol.ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		t.Fatalf("ReadPlan(tongliao): %v", err)
	}
	return p
}

func demoPlans(t *testing.T) []struct {
	name string
	plan *patrol.Plan
} {
	return []struct {
		name string
		plan *patrol.Plan
	}{{"square", demoSquarePlan(t)}, {"tongliao", demoTongliaoPlan(t)}}
}

// demoRun steps a new demo of plan n times by dt on a clock that starts at
// start and moves with the steps, and returns the fixes per unit.
func demoRun(plan *patrol.Plan, seed uint64, n int, dt time.Duration) (*Demo, map[string][]Fix) {
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	d := NewDemo(plan, DemoConfig{Seed: seed, Now: func() time.Time { return now }})
	byUnit := map[string][]Fix{}
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

func demoMechanisms(p *patrol.Plan) map[string]patrol.Mechanism {
	m := map[string]patrol.Mechanism{}
	for _, u := range p.Units {
		m[u.ID], _ = p.Mechanism(u.Mechanism)
	}
	return m
}

func demoMoves(m patrol.Mechanism) bool { return m.Profile != "" && m.ID != "post" }

func TestDemoDeterministic(t *testing.T) {
	plan := demoTongliaoPlan(t)
	_, a := demoRun(plan, 7, 120, time.Second)
	_, b := demoRun(plan, 7, 120, time.Second)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two demos with seed 7 gave different fixes")
	}
	_, c := demoRun(plan, 8, 120, time.Second)
	if reflect.DeepEqual(a, c) {
		t.Errorf("demos with seeds 7 and 8 gave the same fixes")
	}
}

func TestDemoFirstStepAndOffDuty(t *testing.T) {
	for _, tc := range demoPlans(t) {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDemo(tc.plan, DemoConfig{})
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
	for _, tc := range demoPlans(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, byUnit := demoRun(tc.plan, 1, 600, time.Second)
			mechs := demoMechanisms(tc.plan)
			for _, u := range tc.plan.Units {
				near := demoDilate(u.Area)
				var prev Fix
				for i, f := range byUnit[u.ID] {
					demoCheckFields(t, f, mechs[u.ID])
					if !planar.PolygonContains(tc.plan.Boundary, f.Point) {
						t.Errorf("%s fix %d at %v: outside the boundary", u.ID, i, f.Point)
					}
					if demoMoves(mechs[u.ID]) && !near[geo.Cell(f.Point, tc.plan.Resolution)] {
						t.Errorf("%s fix %d at %v: more than one cell outside its area", u.ID, i, f.Point)
					}
					if i > 0 {
						demoCheckImplied(t, prev, f, mechs[u.ID])
					}
					prev = f
				}
			}
		})
	}
}

func demoCheckFields(t *testing.T, f Fix, m patrol.Mechanism) {
	t.Helper()
	if f.Source != "demo" || f.Battery != -1 || f.AccuracyM < 3 || f.AccuracyM > 7 {
		t.Errorf("%s: source %q battery %v accuracy %v, want \"demo\", -1, about 5", f.Unit, f.Source, f.Battery, f.AccuracyM)
	}
	if demoMoves(m) && (f.Heading < 0 || f.Heading >= 360 || f.SpeedMPS <= 0) {
		t.Errorf("%s: heading %v speed %v, want a heading in [0, 360) and a positive speed", f.Unit, f.Heading, f.SpeedMPS)
	}
	if m.MaxSpeedKPH > 0 && f.SpeedMPS*3.6 > m.MaxSpeedKPH {
		t.Errorf("%s: speed %.1f km/h, want at most %v", f.Unit, f.SpeedMPS*3.6, m.MaxSpeedKPH)
	}
}

func demoCheckImplied(t *testing.T, prev, f Fix, m patrol.Mechanism) {
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

// demoDilate returns area's cells and their neighbours.
func demoDilate(area []h3.Cell) map[h3.Cell]bool {
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
	plan := demoTongliaoPlan(t)
	_, byUnit := demoRun(plan, 1, 300, time.Second)
	profiles := map[string]geo.Profile{}
	for _, p := range plan.Profiles {
		profiles[p.Name] = p
	}
	sum, n := map[string]float64{}, map[string]int{}
	mechs := demoMechanisms(plan)
	for id, fixes := range byUnit {
		if m := mechs[id]; demoMoves(m) {
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
	for _, tc := range demoPlans(t) {
		t.Run(tc.name, func(t *testing.T) {
			_, byUnit := demoRun(tc.plan, 1, 120, time.Second)
			mechs := demoMechanisms(tc.plan)
			for _, u := range tc.plan.Units {
				if demoMoves(mechs[u.ID]) || u.Status == patrol.OffDuty {
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
	for _, tc := range demoPlans(t) {
		t.Run(tc.name, func(t *testing.T) {
			const dt = 2 * time.Second
			d, byUnit := demoRun(tc.plan, 1, 1800, dt)
			mechs := demoMechanisms(tc.plan)
			for _, u := range d.units {
				if moves := demoMoves(mechs[u.id]); moves != (u.path != nil) {
					t.Errorf("%s: has a loop %v, want %v", u.id, u.path != nil, moves)
				}
				if u.path == nil {
					continue
				}
				if pts := u.path.pts; pts[0] != pts[len(pts)-1] {
					t.Errorf("%s: loop from %v ends at %v, want a closed ring", u.id, pts[0], pts[len(pts)-1])
				}
				demoCheckReturns(t, byUnit[u.id], u.top*dt.Seconds())
			}
		})
	}
}

// demoCheckReturns checks that fixes go more than 50 m from the first and
// later come back within tol metres of it.
func demoCheckReturns(t *testing.T, fixes []Fix, tol float64) {
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
	plan := demoSquarePlan(t)
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
			var batches [][]Fix
			ingest := func(_ context.Context, fixes []Fix) error {
				batches = append(batches, fixes)
				if len(batches) == 3 {
					if tc.fail != nil {
						return tc.fail
					}
					cancel()
				}
				return nil
			}
			d := NewDemo(plan, DemoConfig{Interval: 5 * time.Millisecond})
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
