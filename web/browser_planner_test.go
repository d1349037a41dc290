package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// plannerState is window.planner, the planner page's test hooks.
type plannerState struct {
	Ready     bool     `json:"ready"`
	Units     int      `json:"units"`
	Edits     int      `json:"edits"`
	Designs   int      `json:"designs"`
	Selected  string   `json:"selected"`
	Busy      bool     `json:"busy"`
	Errors    []string `json:"errors"`
	LastError string   `json:"lastError"`
	Ratio     float64  `json:"ratio"`
	Compare   float64  `json:"compare"`
	AreaCells int      `json:"areaCells"`
	AreaLoad  float64  `json:"areaLoad"`
}

// readPlanner reads plannerState; %q is the unit whose area's cells it counts.
const readPlanner = `(() => {
	const p = window.planner;
	if (!p) return null;
	const u = p.ready ? (p.evaluation?.areas || []).find((a) => a.unit === %q) : null;
	return {ready: p.ready, units: p.units, edits: p.edits, designs: p.designs, selected: p.selected, busy: p.busy,
		errors: p.errors, lastError: p.lastError, ratio: p.evaluation?.workload?.ratio || 0,
		compare: p.compare?.workload?.ratio || 0, areaCells: u ? u.cells : 0, areaLoad: u ? u.workload : 0};
})()`

// waitPlanner reads the planner page's hooks until done holds.
func (b *browser) waitPlanner(unit, what string, wait time.Duration, done func(*plannerState) bool) *plannerState {
	b.t.Helper()
	return waitPage(b, wait, what, fmt.Sprintf(readPlanner, unit), "planner-failed.png", func(s *plannerState) []string {
		if s == nil {
			return nil
		}
		return s.Errors
	}, done)
}

// TestBrowserPlanner walks the planner page in headless Chromium: it opens
// on the live plan compared with itself, runs a design (which balances
// the areas), gives a border cell to the touching area by two clicks on
// the map, and sees the evaluation change.
func TestBrowserPlanner(t *testing.T) {
	requireBrowser(t)
	tc := startCity(t, Access{Open: true}, false)
	b := startBrowser(t, 1600, 1000)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(tc.url+"/planner")); err != nil {
		t.Fatal(err)
	}
	st := b.waitPlanner("", "the planner page ready", pageWait, func(s *plannerState) bool { return s != nil && s.Ready })
	if st.Units != len(tc.plan.Units) || st.Ratio == 0 || st.Ratio != st.Compare {
		t.Fatalf("opened on %d units, workload max/min %v against %v; want the live plan's %d units against itself", st.Units, st.Ratio, st.Compare, len(tc.plan.Units))
	}
	before := st.Ratio
	b.shot("planner-open.png")
	if err := chromedp.Do(b.ctx, chromedp.Click("#design-run")); err != nil {
		t.Fatal(err)
	}
	st = b.waitPlanner("", "the design applied", 2*time.Minute, func(s *plannerState) bool { return s.Designs == 1 && !s.Busy })
	t.Logf("design: workload max/min %.3f against the live plan's %.3f", st.Ratio, before)
	if st.Ratio > 1.10 || st.Compare != before {
		t.Fatalf("designed workload max/min %v (the live plan's %v shown as %v), want at most 1.10", st.Ratio, before, st.Compare)
	}
	b.shot("planner-designed.png")

	mv, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]string](`window.planner.borderMove()`))
	if err != nil || mv["cell"] == "" {
		t.Fatalf("no border cell to move: %v %v", mv, err)
	}
	cell, to := mv["cell"], mv["to"]
	st = b.waitPlanner(to, "the designed plan read", 5*time.Second, func(s *plannerState) bool { return s.AreaCells > 0 })
	cellsBefore, loadBefore := st.AreaCells, st.AreaLoad
	t.Logf("giving %s from %s to %s (%d cells)", cell, mv["from"], to, cellsBefore)
	// Select the receiving unit by a click on its cell beside the moving
	// one, then give it the cell by a click in the "give cells" mode.
	b.eval(fmt.Sprintf(`window.planner.focus(%q), true`, cell))
	waitPage(b, 30*time.Second, "the map settled on the cell", `(() => { const m = window.planner.map; return m.loaded() && !m.isMoving(); })()`,
		"planner-settle-failed.png", func(bool) []string { return nil }, func(ok bool) bool { return ok })
	b.clickCell(fmt.Sprintf(`window.planner.neighbourIn(%q, %q)`, cell, to))
	b.waitPlanner(to, "the receiving unit selected", 10*time.Second, func(s *plannerState) bool { return s.Selected == to })
	if err := chromedp.Do(b.ctx, chromedp.Click("#mode-cells")); err != nil {
		t.Fatal(err)
	}
	b.clickCell(fmt.Sprintf(`%q`, cell))
	st = b.waitPlanner(to, "the cell given", 30*time.Second, func(s *plannerState) bool { return s.Edits == 1 && !s.Busy })
	if st.AreaCells != cellsBefore+1 || st.AreaLoad <= loadBefore || st.LastError != "" {
		t.Errorf("after the edit %s's area is %d cells of workload %v (was %d, %v), error %q", to, st.AreaCells, st.AreaLoad, cellsBefore, loadBefore, st.LastError)
	}
	b.shot("planner-edited.png")
}

// clickCell clicks the map at the centre of the cell that script gives.
func (b *browser) clickCell(script string) {
	b.t.Helper()
	xy, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`window.planner.screenPoint(%s)`, script)))
	if err != nil || len(xy) != 2 {
		b.t.Fatalf("cell %s on screen: %v %v", script, xy, err)
	}
	if err := chromedp.Do(b.ctx, chromedp.MouseClickXY(xy[0], xy[1])); err != nil {
		b.t.Fatalf("click at %v: %v", xy, err)
	}
}
