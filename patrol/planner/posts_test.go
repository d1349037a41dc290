package planner

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/uber/h3-go/v4"
)

// solveCBC solves the program of ps with CBC within limit and returns the
// posts, the status line and the time taken.
func solveCBC(t *testing.T, ps *Posts, limit time.Duration) ([]h3.Cell, string, time.Duration) {
	t.Helper()
	cbc, err := exec.LookPath("cbc")
	if err != nil {
		datatest.Missing(t, "cbc (apt-get install coinor-cbc)", err)
	}
	dir := t.TempDir()
	model, sol := filepath.Join(dir, "posts.lp"), filepath.Join(dir, "posts.sol")
	var lp bytes.Buffer
	if err := ps.WriteLP(&lp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(model, lp.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit+30*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, cbc, model, "sec", strconv.Itoa(int(limit.Seconds())), "threads", "1", "solve", "solu", sol).CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("cbc: %v\n%s", err, out)
	}
	f, err := os.Open(sol)
	if err != nil {
		t.Fatalf("cbc wrote no solution: %v\n%s", err, out)
	}
	defer f.Close()
	cells, status, err := ps.ReadSolution(f)
	if err != nil {
		t.Fatal(err)
	}
	return cells, status, took
}

// TestPostsAgainstCBC places the posts of the demo city's central units
// over their areas, a small and a medium instance, with the planner's
// greedy and interchange and exactly with CBC: the program scores posts
// as Value does, and the planner's posts are within 1% of the optimum.
func TestPostsAgainstCBC(t *testing.T) {
	plan, grid := patroltest.DemoGrid(t)
	router := geo.NewLattice(grid)
	demand := patrol.NewDemand(grid, patroltest.DemoIncidents(t))
	for _, n := range []int{6, 16} {
		ps, err := NewPosts(plan, router, demand, CentralUnits(plan, n))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		heuristic := ps.Solve(nil)
		took := time.Since(start)
		value := ps.Value()
		exact, status, cbcTook := solveCBC(t, ps, 60*time.Second)
		if !strings.HasPrefix(status, "Optimal") {
			t.Fatalf("%d units: cbc says %q", n, status)
		}
		if err := ps.Set(exact); err != nil {
			t.Fatal(err)
		}
		optimum := ps.Value()
		reported, _ := strconv.ParseFloat(status[strings.LastIndex(status, " ")+1:], 64)
		t.Logf("%d units: planner %.3f in %v, CBC %.3f (%s) in %v: %.3f%% of the optimum",
			n, value, took, optimum, status, cbcTook, 100*value/optimum)
		if math.Abs(math.Abs(reported)-optimum) > 1e-6*optimum {
			t.Errorf("%d units: CBC's objective %v, its posts score %v: the program is not Value", n, reported, optimum)
		}
		if value > optimum*(1+1e-9) {
			t.Errorf("%d units: the planner's %v beats the optimum %v", n, value, optimum)
		}
		if value < 0.99*optimum {
			t.Errorf("%d units: the planner's %v is below 99%% of the optimum %v", n, value, optimum)
		}
		_ = heuristic
	}
}
