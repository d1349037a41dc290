package realtime_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// tableCSV returns tab as CSV (dispatch.Table.WriteCSV): every row's
// posts in order, shares to 4 decimals.
func tableCSV(t *testing.T, tab dispatch.Table) string {
	t.Helper()
	var b bytes.Buffer
	if err := tab.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// sameRows reports whether a and b share one slice of rows: one table
// computed once.
func sameRows(a, b dispatch.Table) bool {
	return len(a.Rows) > 0 && len(a.Rows) == len(b.Rows) && &a.Rows[0] == &b.Rows[0]
}

// TestCityComplianceCached asks the running demo city, which has no
// demand configured, for its compliance table from several goroutines at
// once: all get the one table, computed once, which is the table of the
// plan on the lattice with every cell alike; a later call returns it
// again without computing.
func TestCityComplianceCached(t *testing.T) {
	city := citytest.StartDemo(t)
	plan, grid := patroltest.DemoGrid(t)
	want, err := dispatch.Compliance(plan, geo.NewLattice(grid), patrol.NewDemand(grid, nil))
	if err != nil {
		t.Fatal(err)
	}

	const callers = 4
	tables := make([]dispatch.Table, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range callers {
		wg.Go(func() { tables[i], errs[i] = city.Compliance() })
	}
	wg.Wait()
	first := time.Since(start)
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("Compliance() = %v", errs[i])
		}
		if !sameRows(tables[i], tables[0]) {
			t.Errorf("caller %d got a table of its own, want the one computed for all", i)
		}
	}
	if got := tableCSV(t, tables[0]); got != tableCSV(t, want) || len(tables[0].Rows) != 78 {
		t.Errorf("Compliance() has %d rows, want the 78 of dispatch.Compliance with every cell alike:\n%.300s\nwant\n%.300s",
			len(tables[0].Rows), got, tableCSV(t, want))
	}

	start = time.Now()
	again, err := city.Compliance()
	if err != nil || !sameRows(again, tables[0]) {
		t.Errorf("Compliance() again = %v, computed anew: %v; want the table of the first call", err, !sameRows(again, tables[0]))
	}
	t.Logf("first calls %v, the next %v", first, time.Since(start))
}

// TestCityComplianceFollowsBand serves a Monaco plan on the road network
// through a road.BandRouter whose clock reads 08:59:59.5, in the peak
// band: the table is that of peak travel times and is kept while the band
// holds; once the clock reads 09:59:59.5 the router's Run switches to
// off-peak, and the next call computes the table of off-peak travel
// times.
func TestCityComplianceFollowsBand(t *testing.T) {
	net := patroltest.MonacoRoads(t)
	plan, _ := patroltest.MonacoPlan(t, net, 20)
	base := patroltest.RoadRouter(t, net, plan)
	b, _ := data.Profiles("default")
	profiles, err := road.ReadProfileFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 59, 5e8, time.UTC) }
	clock := realtimetest.NewClock(at(8, 59))
	br := road.NewBandRouter(base, profiles, time.UTC, clock.Now, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	c := citytest.StartRouted(t, plan, func(*geo.Lattice) geo.Router { return br }, nil)

	want := func(band string) string {
		tab, err := dispatch.Compliance(plan, base.WithBand(band), patrol.NewDemand(base.Grid(), nil))
		if err != nil {
			t.Fatal(err)
		}
		return tableCSV(t, tab)
	}
	peak, offPeak := want("peak"), want("off-peak")
	if peak == offPeak {
		t.Fatalf("the tables of peak and off-peak are alike; the test cannot tell them apart")
	}

	first := compliance(t, c.City)
	if got := tableCSV(t, first); br.Band() != "peak" || got != peak {
		t.Fatalf("Compliance() in band %q =\n%.300s\nwant the peak table\n%.300s", br.Band(), got, peak)
	}
	if again := compliance(t, c.City); !sameRows(again, first) {
		t.Errorf("Compliance() again in the same band computed a new table, want the first")
	}

	clock.Set(at(9, 59))
	realtimetest.WaitFor(t, "the switch to off-peak", func() bool { return br.Version() == 1 })
	switched := compliance(t, c.City)
	if got := tableCSV(t, switched); sameRows(switched, first) || got != offPeak {
		t.Errorf("Compliance() after the switch to %q =\n%.300s\nwant the off-peak table\n%.300s", br.Band(), got, offPeak)
	}
	if again := compliance(t, c.City); !sameRows(again, switched) {
		t.Errorf("Compliance() again after the switch computed a new table, want the one of the switch")
	}
}

// compliance returns city's compliance table, failing the test on an
// error.
func compliance(t *testing.T, city *realtime.City) dispatch.Table {
	t.Helper()
	tab, err := city.Compliance()
	if err != nil {
		t.Fatalf("Compliance() = %v", err)
	}
	return tab
}

// TestCityMoveUpsFollowCompliance runs the demo city with every unit at
// its post and four responding units dispatched, following the compliance
// table from three busy: every move-up of an incident's candidates goes to
// a post of the table's row for the units left once the candidate is sent.
func TestCityMoveUpsFollowCompliance(t *testing.T) {
	city := citytest.StartDemoConfig(t, realtime.CityConfig{FollowBusy: 3})
	ctx := context.Background()
	plan := city.Plan()
	var fixes []fix.Fix
	for _, u := range plan.Units {
		fixes = append(fixes, fix.Fix{Unit: u.ID, Time: time.Now(), Point: geo.CellCenter(u.Post), SpeedMPS: -1, Heading: -1})
	}
	if _, err := city.Ingest(ctx, fixes); err != nil {
		t.Fatal(err)
	}
	responding := dispatch.Responding(plan)
	for _, p := range responding[:4] {
		if err := city.SetStatus(ctx, p.Unit, patrol.Dispatched, "test"); err != nil {
			t.Fatal(err)
		}
	}
	table, err := city.Compliance()
	if err != nil {
		t.Fatal(err)
	}
	_, cands, err := city.Report(ctx, realtime.Report{Lat: 43.62, Lon: 122.26, Priority: 1, Kind: "theft"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	row, _ := table.Row(len(responding) - 4 - 1)
	moved := 0
	for _, c := range cands {
		mv := c.Cost.MoveUp
		if mv == nil {
			continue
		}
		moved++
		if !slices.ContainsFunc(row.Posts, func(p dispatch.Post) bool { return p.Cell == mv.ToCell }) {
			t.Errorf("sending %s moves %s to %v, not a post of row %d", c.Unit, mv.Unit, mv.ToCell, row.K)
		}
	}
	if len(cands) == 0 || moved == 0 {
		t.Fatalf("%d candidates, %d with a move-up; want some of each", len(cands), moved)
	}
}
