package realtime_test

import (
	"context"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// gauges gathers the gauges called name from reg, by their zone label
// ("" for a gauge without one).
func gauges(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			zone := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "zone" {
					zone = l.GetValue()
				}
			}
			out[zone] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestMetricsBackup places units of the square plan in two zones on the
// same ground around V1's post, one active (A) and one not (B, evening
// hours), and reads the backup gauges after each step:
//
//	+--------+--------+
//	| V1 A,B |   E1   |   E1 comes over to V1's post, then turns busy
//	+--------+--------+
//	|   F1   |   P1   |
//	+--------+--------+
//
// patrolgrid_backup_cells counts the cells of active zones only; every
// zone has its patrolgrid_zone_backup_share.
func TestMetricsBackup(t *testing.T) {
	const tol = 1e-9
	plan := patroltest.SquarePlan(t)
	post := geo.CellCenter(plan.Units[0].Post) // V1's
	area := orb.Polygon{{
		{post[0] - 0.001, post[1] - 0.001}, {post[0] + 0.001, post[1] - 0.001},
		{post[0] + 0.001, post[1] + 0.001}, {post[0] - 0.001, post[1] + 0.001}, {post[0] - 0.001, post[1] - 0.001},
	}}
	plan.Zones = []patrol.Zone{
		{ID: "A", Name: "day", Kind: "park", Weight: 1, Area: area, Rule: patrol.Rule{M3: patrol.Requirement{Units: 1, Share: 1}}},
		{ID: "B", Name: "evening", Kind: "park", Weight: 1, Area: area, Hours: []patrol.Hours{{From: "18:00", To: "02:00"}}},
	}
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c := citytest.StartMetered(t, plan, reg)
	ctx := context.Background()
	cells := c.Zones()[0].Cells
	if cells == 0 {
		t.Fatal("zone A covers no cell")
	}
	at := func(unit string) func() {
		return func() {
			res, err := c.Ingest(ctx, []fix.Fix{{Unit: unit, Time: c.Clock.Now(), Point: post}})
			if err != nil || res[0].Outcome != fix.Accepted {
				t.Fatalf("Ingest(%s) = %+v, %v, want accepted", unit, res, err)
			}
			realtimetest.WaitFor(t, unit+" placed", func() bool { return citytest.UnitView(c.City, unit).Cell != nil })
		}
	}
	for _, tc := range []struct {
		name     string
		do       func()
		unbacked int     // patrolgrid_backup_cells
		share    float64 // patrolgrid_zone_backup_share of A and of B
	}{
		{"no fixes", func() {}, cells, 0},
		{"V1 alone at its post", at("V1"), cells, 0},
		{"E1 joins V1", at("E1"), 0, 1},
		{"E1 busy", func() {
			if err := c.SetStatus(ctx, "E1", patrol.Dispatched, "test"); err != nil {
				t.Fatal(err)
			}
		}, cells, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.do()
			var unbacked, shares map[string]float64
			realtimetest.WaitFor(t, "the backup gauges", func() bool {
				unbacked = gauges(t, reg, "patrolgrid_backup_cells")
				shares = gauges(t, reg, "patrolgrid_zone_backup_share")
				near := func(got, want float64) bool { return math.Abs(got-want) < tol }
				return near(unbacked[""], float64(tc.unbacked)) && near(shares["A"], tc.share) && near(shares["B"], tc.share)
			})
			if len(shares) != 2 {
				t.Errorf("patrolgrid_zone_backup_share has %d series, want one per zone: %v", len(shares), shares)
			}
		})
	}
}
