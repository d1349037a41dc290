package planner

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestEvaluateDemo scores the demo city and holds the figures to a count
// of its own: one isochrone per counting unit, the demand of the cells
// each tier reaches, and the demand of each unit's area.
func TestEvaluateDemo(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(t))
	ev, err := Evaluate(plan, router, demand)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("coverage %+v backup %v mean %v s beyond %v; workload %+v", ev.Coverage, ev.Backup, ev.MeanETAS, ev.Beyond5M, ev.Workload)
	if ev.Units != 88 || ev.Responding != 78 || len(ev.Zones) != len(plan.Zones) || len(ev.Areas) != 88 {
		t.Fatalf("%d units, %d responding, %d zones, %d areas; want 88, 78, %d, 88", ev.Units, ev.Responding, len(ev.Zones), len(ev.Areas), len(plan.Zones))
	}
	want := bruteShares(t, plan, router, demand)
	got := [3]float64{ev.Coverage.M1, ev.Coverage.M3, ev.Coverage.M5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-4 {
			t.Errorf("tier %d: %v of demand reached, a count per unit says %v", i, got[i], want[i])
		}
	}
	if !(ev.Backup <= ev.Coverage.M3 && ev.Coverage.M5+ev.Beyond5M > 0.9999 && ev.MeanETAS > 0 && ev.MeanETAS < 300) {
		t.Errorf("backup %v, beyond 5 min %v, mean %v s: inconsistent with coverage %+v", ev.Backup, ev.Beyond5M, ev.MeanETAS, ev.Coverage)
	}
	for i, a := range ev.Areas {
		var w float64
		for _, c := range plan.Units[i].Area {
			j, _ := grid.Index(c)
			w += demand[j]
		}
		if math.Abs(a.Workload-w) > 0.006 || a.Parts != 1 || a.Compactness <= 0 || a.Compactness > 0.907 {
			t.Errorf("area of %s: workload %v (count %v), %d parts, compactness %v", a.Unit, a.Workload, w, a.Parts, a.Compactness)
		}
	}
	if b := ev.Workload; b.Ratio < 1 || b.Min > b.Max || math.Abs(b.Ratio-b.Max/b.Min) > 1e-3 {
		t.Errorf("workload %+v", b)
	}
}

// bruteShares returns the share of demand that at least one counting
// unit of plan, at its post, reaches within each tier.
func bruteShares(t *testing.T, plan *patrol.Plan, router geo.Router, demand patrol.Demand) [3]float64 {
	t.Helper()
	best := map[int32]float64{}
	var s geo.Search
	for _, u := range plan.Units {
		m, _ := plan.Mechanism(u.Mechanism)
		if !m.CountsResponse || (u.Status != "" && u.Status != patrol.Available) {
			continue
		}
		p, _ := plan.Profile(m.Profile)
		reach, err := router.Isochrone(&s, geo.CellCenter(u.Post), p, patrol.Limits[patrol.Tier5], nil)
		if err != nil {
			continue
		}
		for _, r := range reach {
			if e, ok := best[r.Cell]; !ok || r.ETA.Seconds() < e {
				best[r.Cell] = r.ETA.Seconds()
			}
		}
	}
	var out [3]float64
	for c, eta := range best {
		for i, limit := range patrol.Limits {
			if eta <= limit.Seconds() {
				out[i] += demand[c]
			}
		}
	}
	for i := range out {
		out[i] /= demand.Total()
	}
	return out
}

// TestShape: a hexagon, a flower of seven and a line of three; two cells
// apart are two parts.
func TestShape(t *testing.T) {
	c := geo.Cell(patroltest.DemoPlan(t).Boundary[0][0], 10)
	flower := c.GridDisk(1)
	var line []h3.Cell
	for _, n := range flower {
		if n != c && len(line) == 0 {
			line = append(line, n, c)
		}
	}
	for _, n := range flower { // the neighbour of c opposite line[0]
		if n != c && h3.GridDistance(n, line[0]) == 2 && len(line) == 2 {
			line = append(line, n)
		}
	}
	far := c.GridDisk(3)[30]
	for _, tc := range []struct {
		name  string
		cells []h3.Cell
		parts int
		want  float64
	}{
		{"hexagon", []h3.Cell{c}, 1, 6 * math.Sqrt(3) * math.Pi / 36},
		{"flower", flower, 1, 6 * math.Sqrt(3) * math.Pi * 7 / (18 * 18)},
		{"line", line, 1, 6 * math.Sqrt(3) * math.Pi * 3 / (14 * 14)},
		{"apart", []h3.Cell{c, far}, 2, 6 * math.Sqrt(3) * math.Pi * 2 / (12 * 12)},
	} {
		parts, got := shape(tc.cells)
		if parts != tc.parts || math.Abs(got-tc.want) > 1e-4 {
			t.Errorf("%s: %d parts, compactness %v; want %d, %.4f", tc.name, parts, got, tc.parts, tc.want)
		}
	}
}

// BenchmarkEvaluate scores the demo city on the lattice (target ≤ 50 ms).
func BenchmarkEvaluate(b *testing.B) {
	plan, grid := patroltest.DemoGrid(b)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(b))
	for b.Loop() {
		if _, err := Evaluate(plan, router, demand); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/plan")
}

// TestEvaluateNoZones scores a plan without zones: its zones are an empty
// list, which pages read as none, not null.
func TestEvaluateNoZones(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	q := *plan
	q.Zones = nil
	ev, err := Evaluate(&q, geo.NewLattice(grid), patrol.NewDemand(grid, nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ev)
	if err != nil || !strings.Contains(string(b), `"zones":[]`) {
		t.Errorf("evaluation of a plan without zones: %.200s… %v", b, err)
	}
}
