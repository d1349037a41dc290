package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// liveCity is a running city of the demo plan on a clock of the test's,
// its memory store on the same clock.
type liveCity struct {
	plan  *patrol.Plan
	city  *realtime.City
	clock *realtimetest.Clock
}

func startLiveCity(t testing.TB, t0 time.Time) liveCity {
	c := citytest.StartClocked(t, patroltest.DemoPlan(t), t0, realtime.CityConfig{})
	return liveCity{plan: c.Plan(), city: c.City, clock: c.Clock}
}

// play drives lc for minutes at a 10 s step from its clock's time, each
// step some units reporting near their posts (now and then a fix older
// than their latest, which the store does not take), some changing
// status, the others falling silent, stale then lost; it returns the
// moment the live engine showed at each step once it had taken the
// step's changes, and the cells it showed reached.
func (lc liveCity) play(t *testing.T, rng *rand.Rand, minutes int) ([]realtime.Moment, [][]realtime.CellView) {
	ctx := context.Background()
	latest := map[string]time.Time{}
	var moments []realtime.Moment
	var cells [][]realtime.CellView
	statuses := []patrol.Status{patrol.Available, patrol.Dispatched, patrol.OnScene, patrol.OffDuty}
	for step := range minutes * 6 {
		now := lc.clock.Now()
		var fixes []fix.Fix
		for i, u := range lc.plan.Units {
			if (i+step/36)%5 == 0 || rng.IntN(3) == 0 { // a fifth of the units silent for six minutes at a time
				continue
			}
			p := geo.CellCenter(u.Post)
			at := now.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond).Truncate(time.Millisecond)
			if !at.After(latest[u.ID]) {
				continue
			}
			pt := orb.Point{p[0] + (rng.Float64()-0.5)*0.0002, p[1] + (rng.Float64()-0.5)*0.0002}
			fixes = append(fixes, fix.Fix{Unit: u.ID, Time: at, Point: pt, SpeedMPS: -1, Heading: -1, Battery: -1, Source: fix.SourceJSON})
			latest[u.ID] = at
			if rng.IntN(8) == 0 && step > 0 { // an older one, which becomes no one's latest
				fixes = append(fixes, fix.Fix{Unit: u.ID, Time: at.Add(-20 * time.Second), Point: pt, SpeedMPS: -1, Heading: -1,
					Battery: -1, Source: fix.SourceJSON})
			}
		}
		results, err := lc.city.Ingest(ctx, fixes)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.Outcome == fix.Rejected {
				t.Fatalf("step %d: fix %+v rejected: %v", step, fixes[i], r.Err)
			}
		}
		if rng.IntN(3) == 0 {
			u := lc.plan.Units[rng.IntN(len(lc.plan.Units))].ID
			if err := lc.city.SetStatus(ctx, u, statuses[rng.IntN(len(statuses))], "desk"); err != nil {
				t.Fatal(err)
			}
		}
		realtimetest.WaitFor(t, "the city to take the step's fixes", func() bool {
			for _, v := range lc.city.Units() {
				if at, ok := latest[v.ID]; ok && (v.Time == nil || !v.Time.Equal(at)) {
					return false
				}
			}
			return true
		})
		moments = append(moments, lc.city.Moment())
		cells = append(cells, lc.city.Coverage())
		lc.clock.Set(now.Add(10 * time.Second))
	}
	return moments, cells
}

// TestReplayEqualsLive plays random fixes and statuses through a running
// city for 20 minutes, three times over with different seeds, and
// replays the window from the store: every frame equals what the live
// engine showed at that moment, units, zones and the city's shares alike.
func TestReplayEqualsLive(t *testing.T) {
	for seed := range uint64(3) {
		t0 := time.Date(2026, 12, 4, 1, 50, 0, 0, time.UTC) // the small hours: the night market's rule is on
		lc := startLiveCity(t, t0)
		live, liveCells := lc.play(t, rand.New(rand.NewPCG(seed, 42)), 20)
		from := t0
		to := from.Add(time.Duration(len(live)-1) * 10 * time.Second)
		replay, err := lc.city.Replay(context.Background(), from, to, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(replay) != len(live) {
			t.Fatalf("seed %d: %d frames, want %d", seed, len(replay), len(live))
		}
		gaps, lost := 0, 0
		reached := map[string]realtime.CellView{}
		for i := range live {
			for _, c := range replay[i].Cells {
				if c.ETAS == nil {
					delete(reached, c.Cell.String())
				} else {
					reached[c.Cell.String()] = c
				}
			}
			if d := diffCellViews(liveCells[i], reached); d != "" {
				t.Fatalf("seed %d, frame %d: the replay's cells differ from the live ones: %s", seed, i, d)
			}
			replay[i].Cells = nil
			a, _ := json.Marshal(live[i])
			b, _ := json.Marshal(replay[i])
			if string(a) != string(b) {
				t.Fatalf("seed %d, frame %d at %v:\n live   %.600s\n replay %.600s", seed, i, live[i].At, a, b)
			}
			for _, z := range live[i].Zones {
				if z.Active && !z.Met {
					gaps++
				}
			}
			for _, u := range live[i].Units {
				if u.Stage == realtime.Lost {
					lost++
				}
			}
		}
		t.Logf("seed %d: %d frames equal; %d zone-frames in gap, %d unit-frames lost", seed, len(live), gaps, lost)
		if gaps == 0 || lost == 0 {
			t.Errorf("seed %d: the run shows no gap (%d) or no lost unit (%d): it tests too little", seed, gaps, lost)
		}
	}
}

// TestReplayRefusals: windows and steps out of range are refused.
func TestReplayRefusals(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)
	lc := startLiveCity(t, t0)
	for _, tc := range []struct {
		name     string
		from, to time.Time
		step     time.Duration
	}{
		{"empty window", t0, t0, time.Minute},
		{"two days", t0, t0.Add(48 * time.Hour), time.Minute},
		{"sub-second step", t0, t0.Add(time.Hour), time.Millisecond},
		{"too many frames", t0, t0.Add(24 * time.Hour), time.Second},
	} {
		if _, err := lc.city.Replay(context.Background(), tc.from, tc.to, tc.step); !errors.Is(err, realtime.ErrReplay) {
			t.Errorf("%s: %v, want ErrReplay", tc.name, err)
		}
	}
}

// diffCellViews says how live's reached cells differ from reached, "" when
// they are the same: the same unit counts within each tier, which give
// the tier (a replay's cells, as the live feed's diffs, change when those
// do; their ETAs may have moved within the tier).
func diffCellViews(live []realtime.CellView, reached map[string]realtime.CellView) string {
	if len(live) != len(reached) {
		return fmt.Sprintf("%d cells live, %d replayed", len(live), len(reached))
	}
	for _, c := range live {
		r, ok := reached[c.Cell.String()]
		if !ok || r.N1 != c.N1 || r.N3 != c.N3 || r.N5 != c.N5 {
			return fmt.Sprintf("cell %s: live eta %v n %d %d %d, replayed eta %v n %d %d %d (%v)", c.Cell, *c.ETAS, c.N1, c.N3, c.N5, *r.ETAS, r.N1, r.N3, r.N5, ok)
		}
	}
	return ""
}
