package realtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// TestShiftReport runs half an hour of a shift: every unit at its post, all
// silent from minute 10 to minute 20 (lost from minute 15), an incident
// at minute 2 with V01 sent at 2:30 and on scene at 3:30, another at
// minute 25 that nobody attends. The report has the first reached within
// 3 minutes (90 s), the second unknown, the zones open all day about 9
// minutes in gap (their units' reach shrinks once stale, from minute 11,
// and is gone once lost), and the warnings the lost units and gaps pushed.
func TestShiftReport(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC) // 14:00 in the city: the night markets are closed
	lc := startLiveCity(t, t0)
	first := lc.plan.Units[0]
	p := geo.CellCenter(first.Post)
	for step := range 180 {
		at := t0.Add(time.Duration(step) * 10 * time.Second)
		lc.clock.Set(at)
		if m := at.Sub(t0); m < 10*time.Minute || m >= 20*time.Minute {
			var fixes []fix.Fix
			for i, u := range lc.plan.Units {
				q := geo.CellCenter(u.Post)
				d := float64((step+i)%4-2) * 2e-5
				fixes = append(fixes, fix.Fix{Unit: u.ID, Time: at, Point: orb.Point{q[0] + d, q[1]}, SpeedMPS: -1, Heading: -1,
					Battery: -1, Source: fix.SourceJSON})
			}
			if _, err := lc.city.Ingest(ctx, fixes); err != nil {
				t.Fatal(err)
			}
			realtimetest.WaitFor(t, "the step's fixes", func() bool {
				v := lc.city.Units()[0]
				return v.Time != nil && v.Time.Equal(at)
			})
		}
		switch at.Sub(t0) {
		case 2 * time.Minute:
			report(t, lc.city, p, "theft")
		case 150 * time.Second:
			if _, err := lc.city.Dispatch(ctx, "I1", first.ID, "dispatcher:desk-1"); err != nil {
				t.Fatal(err)
			}
		case 210 * time.Second:
			if err := lc.city.SetStatus(ctx, first.ID, patrol.OnScene, "device"); err != nil {
				t.Fatal(err)
			}
		case 25 * time.Minute:
			report(t, lc.city, p, "noise")
		}
		lc.city.Moment() // as a viewer would: alerts and warnings follow what is shown
	}
	rep, err := lc.city.ShiftReport(ctx, t0, t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Incidents) != 2 || rep.Within != [3]int{0, 1, 0} || rep.Unknown != 1 || rep.Later != 0 {
		t.Fatalf("incidents %+v, within %v, unknown %d, later %d; want I1 within 3 min, I2 unknown", rep.Incidents, rep.Within, rep.Unknown, rep.Later)
	}
	if i1 := rep.Incidents[0]; i1.ID != "I1" || i1.Unit != first.ID || i1.ResponseS == nil || *i1.ResponseS != 90 {
		t.Errorf("I1 = %+v, want %s on scene 90 s after the report", i1, first.ID)
	}
	gaps := map[string]float64{}
	for _, z := range rep.Zones {
		gaps[z.ID] = z.GapMinutes
	}
	t.Logf("gap minutes: %v; %d warnings, figures %+v", gaps, len(rep.Warnings), rep.Figures)
	for _, id := range []string{"Z10", "Z11", "Z15", "Z16"} { // open all day
		if g := gaps[id]; g < 8 || g > 10 {
			t.Errorf("zone %s %v minutes in gap, want about 9 (units stale from minute 11, lost from 15, back at 20)", id, g)
		}
	}
	if gaps["Z04"] != 0 {
		t.Errorf("the east night market, closed at 14:00, %v minutes in gap", gaps["Z04"])
	}
	if len(rep.Warnings) == 0 || rep.Figures.Warnings != len(rep.Warnings) {
		t.Errorf("%d warnings, figures %+v; want those the lost units and gaps pushed", len(rep.Warnings), rep.Figures)
	}
}

func report(t *testing.T, c *realtime.City, p orb.Point, kind string) {
	t.Helper()
	if _, _, err := c.Report(context.Background(), realtime.Report{Lat: p[1], Lon: p[0], Priority: 1, Kind: kind}, "dispatcher:desk-1"); err != nil {
		t.Fatal(err)
	}
}
