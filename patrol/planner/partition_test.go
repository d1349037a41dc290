package planner

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/uber/h3-go/v4"
)

// TestSplitDemo cuts the demo city into 88 areas by its incident demand:
// every cell in one area, every area contiguous, the heaviest within 1.10
// of the lightest, and the same partition again from the same seed.
func TestSplitDemo(t *testing.T) {
	_, grid := patroltest.DemoGrid(t)
	l := geo.NewLattice(grid)
	w := patrol.NewDemand(grid, patroltest.DemoIncidents(t))
	start := time.Now()
	p, err := Split(l, w, 88, PartitionConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("88 areas in %v: loads %.2f to %.2f, ratio %.3f", time.Since(start), slices.Min(p.Load), slices.Max(p.Load), p.Ratio())
	checkPartition(t, l, w, p, 88)
	if p.Ratio() > 1.10 {
		t.Errorf("ratio %.3f, want at most 1.10", p.Ratio())
	}
	again, err := Split(l, w, 88, PartitionConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Owner, p.Owner) {
		t.Errorf("the same seed gave another partition")
	}
}

// checkPartition holds p to k contiguous areas covering the grid, with
// the loads of their cells.
func checkPartition(t *testing.T, l *geo.Lattice, w []float64, p Partition, k int) {
	t.Helper()
	s := newSplitter(l, w)
	load := make([]float64, k)
	cells := make([][]int32, k)
	for i, u := range p.Owner {
		if u < 0 || int(u) >= k {
			t.Fatalf("cell %d in area %d", i, u)
		}
		load[u] += w[i]
		cells[u] = append(cells[u], int32(i))
	}
	for u := range k {
		if len(cells[u]) == 0 {
			t.Fatalf("area %d is empty", u)
		}
		seen := make([]bool, len(p.Owner))
		if got := s.flood(cells[u][0], seen, func(j int32) bool { return p.Owner[j] == int32(u) }); got != len(cells[u]) {
			t.Errorf("area %d: %d of its %d cells joined", u, got, len(cells[u]))
		}
		if d := load[u] - p.Load[u]; d > 1e-6 || d < -1e-6 {
			t.Errorf("area %d: load %v, its cells weigh %v", u, p.Load[u], load[u])
		}
	}
}

// TestDesignDemo redesigns the demo city with its own mix: a valid
// plan of 88 units whose areas are contiguous and within 1.10 of each
// other's workload, each post in its own area, an imbalance at least 40%
// lower than the demo plan's, and no less demand within 3 minutes.
func TestDesignDemo(t *testing.T) {
	demo, grid := patroltest.DemoGrid(t)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(t))
	start := time.Now()
	// The demo plan's own mix: 80 responding units, two of which it has
	// off duty.
	mix, err := ParseMix("vehicle=30,ebike=16,foot=14,post=12,joint=8,video=8")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Design(demo, router, demand, DesignConfig{Mix: mix, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	before, err := Evaluate(demo, router, demand)
	if err != nil {
		t.Fatal(err)
	}
	after, err := Evaluate(plan, router, demand)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("designed in %v: workload max/min %.3f (demo %.3f), 3-minute coverage %.4f (demo %.4f), backup %.4f (demo %.4f), compactness %.3f (demo %.3f), zones met %d",
		took, after.Workload.Ratio, before.Workload.Ratio, after.Coverage.M3, before.Coverage.M3, after.Backup, before.Backup,
		after.Workload.Compactness, before.Workload.Compactness, metZones(after))
	if len(plan.Units) != 88 || after.Workload.Split != 0 || after.Workload.Ratio > 1.10 {
		t.Errorf("%d units, %d areas not contiguous, workload ratio %.3f", len(plan.Units), after.Workload.Split, after.Workload.Ratio)
	}
	for _, u := range plan.Units {
		if !slices.Contains(u.Area, u.Post) {
			t.Errorf("unit %s: post %v outside its area", u.ID, u.Post)
		}
	}
	if cut := 1 - (after.Workload.Ratio-1)/(before.Workload.Ratio-1); cut < 0.4 {
		t.Errorf("imbalance cut by %.0f%%, want at least 40%%", 100*cut)
	}
	if after.Coverage.M3 < before.Coverage.M3 {
		t.Errorf("3-minute coverage %.4f below the demo plan's %.4f", after.Coverage.M3, before.Coverage.M3)
	}
}

func metZones(ev Evaluation) int {
	n := 0
	for _, z := range ev.Zones {
		if z.Met {
			n++
		}
	}
	return n
}

// TestSplitInput: one area is the whole grid; bad weights and counts are
// refused; another seed gives another partition.
func TestSplitInput(t *testing.T) {
	_, grid := patroltest.DemoGrid(t)
	l := geo.NewLattice(grid)
	w := patrol.NewDemand(grid, nil)
	one, err := Split(l, w, 1, PartitionConfig{})
	if err != nil || one.Ratio() != 1 || slices.Max(one.Owner) != 0 {
		t.Errorf("one area: ratio %v, err %v", one.Ratio(), err)
	}
	for _, k := range []int{0, grid.Len() + 1} {
		if _, err := Split(l, w, k, PartitionConfig{}); !errors.Is(err, ErrPartition) {
			t.Errorf("%d areas: error %v, want ErrPartition", k, err)
		}
	}
	if _, err := Split(l, w[1:], 5, PartitionConfig{}); !errors.Is(err, ErrPartition) {
		t.Errorf("short weights: error %v, want ErrPartition", err)
	}
	a, _ := Split(l, w, 12, PartitionConfig{Seed: 1})
	b, _ := Split(l, w, 12, PartitionConfig{Seed: 2})
	if slices.Equal(a.Owner, b.Owner) {
		t.Errorf("seeds 1 and 2 gave the same partition")
	}
	checkPartition(t, l, w, b, 12)
}

// BenchmarkDesign designs 88 units over the demo city (target ≤ 10 s,
// moonshot 2 s).
func BenchmarkDesign(b *testing.B) {
	demo, grid := patroltest.DemoGrid(b)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(b))
	for b.Loop() {
		if _, err := Design(demo, router, demand, DesignConfig{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/design")
}

// TestRedesignDemo rebalances the demo plan moving at most 10% of its
// cells: no more move, every area stays contiguous, posts stay, and the
// imbalance falls by more than half.
func TestRedesignDemo(t *testing.T) {
	demo, grid := patroltest.DemoGrid(t)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(t))
	start := time.Now()
	plan, moved, err := Redesign(demo, router, demand, 0.10, DesignConfig{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	before, _ := Evaluate(demo, router, demand)
	after, err := Evaluate(plan, router, demand)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("redesigned in %v, %d cells moved (%.1f%%): workload max/min %.3f (demo %.3f), 3-minute coverage %.4f, zones met %d, compactness %.3f",
		took, moved, 100*float64(moved)/float64(grid.Len()), after.Workload.Ratio, before.Workload.Ratio, after.Coverage.M3, metZones(after), after.Workload.Compactness)
	if moved > grid.Len()/10 || after.Workload.Split != 0 || after.Workload.Ratio > before.Workload.Ratio/2 {
		t.Errorf("%d cells moved, %d areas split, ratio %.3f", moved, after.Workload.Split, after.Workload.Ratio)
	}
	changed := 0
	for u, unit := range plan.Units {
		if unit.Post != demo.Units[u].Post || unit.ID != demo.Units[u].ID {
			t.Errorf("unit %d: %s post %v, was %s post %v", u, unit.ID, unit.Post, demo.Units[u].ID, demo.Units[u].Post)
		}
		was := map[h3.Cell]bool{}
		for _, c := range demo.Units[u].Area {
			was[c] = true
		}
		for _, c := range unit.Area {
			if !was[c] {
				changed++
			}
		}
	}
	if changed > moved {
		t.Errorf("%d cells in a new unit's area, but %d said moved", changed, moved)
	}
}
