package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestPlanExportImport exports the demo city as GeoJSON and its areas as
// CSV, imports each back into the demo city, and gets its areas and posts
// again; import refuses to guess between two sources or none.
func TestPlanExportImport(t *testing.T) {
	dir := t.TempDir()
	want := patroltest.DemoPlan(t)
	for _, tc := range []struct{ format, flag string }{{"geojson", "--geojson"}, {"csv", "--areas"}} {
		var out, errs bytes.Buffer
		if err := run(context.Background(), []string{"plan", "export", "--format", tc.format}, &out, &errs); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "plan."+tc.format)
		if err := os.WriteFile(file, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		next := filepath.Join(dir, tc.format+".json")
		if err := run(context.Background(), []string{"plan", "import", tc.flag, file, "--out", next}, &out, &errs); err != nil {
			t.Fatalf("import %s: %v", tc.format, err)
		}
		f, err := os.Open(next)
		if err != nil {
			t.Fatal(err)
		}
		got, err := patrol.ReadPlan(f)
		f.Close()
		if err != nil {
			t.Fatalf("imported plan: %v", err)
		}
		for i, u := range want.Units {
			a, b := slices.Clone(got.Units[i].Area), slices.Clone(u.Area)
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) || got.Units[i].Post != u.Post {
				t.Fatalf("%s: unit %s: %d cells, post %v; want %d, %v", tc.format, u.ID, len(a), got.Units[i].Post, len(b), u.Post)
			}
		}
	}
	var out, errs bytes.Buffer
	for _, args := range [][]string{{"plan", "import"}, {"plan", "import", "--areas", "a.csv", "--geojson", "b.json"}} {
		if err := run(context.Background(), args, &out, &errs); err == nil || !strings.Contains(err.Error(), "one of") {
			t.Errorf("%v: error %v, want one asking for one source", args, err)
		}
	}
	if err := run(context.Background(), []string{"plan", "export", "--format", "kml"}, &out, &errs); err == nil {
		t.Errorf("export as kml: no error")
	}
}

// TestPlanDesign designs the demo city and reads the plan it writes; a
// mix naming a mechanism the plan lacks, and no --out, are refused.
func TestPlanDesign(t *testing.T) {
	out := filepath.Join(t.TempDir(), "design.json")
	var stdout, errs bytes.Buffer
	if err := run(context.Background(), []string{"plan", "design", "--out", out, "--seed", "3"}, &stdout, &errs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"100%", "designed 88 units", "workload max/min"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plan, err := patrol.ReadPlan(f)
	if err != nil || len(plan.Units) != 88 {
		t.Fatalf("designed plan: %v, %d units", err, len(plan.Units))
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"plan", "design", "--from", "demo", "--max-moved", "5%", "--out", out}, &stdout, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "redesigned 88 units") || !strings.Contains(stdout.String(), "moved to another unit") {
		t.Errorf("redesign output:\n%s", stdout.String())
	}
	for _, args := range [][]string{{"--out", out, "--mix", "horse=88"}, {}, {"--from", "demo", "--max-moved", "150%", "--out", out}} {
		if err := run(context.Background(), append([]string{"plan", "design"}, args...), &stdout, &errs); err == nil {
			t.Errorf("plan design %v: no error", args)
		}
	}
}

// TestPlanWhatIf evaluates the demo city without three vehicles and with
// one more, side by side and as JSON.
func TestPlanWhatIf(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"plan", "evaluate", "--remove", "V01,V02,V03", "--add", "vehicle@8a310eb863affff"}
	if err := run(context.Background(), args, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "what-if") || !strings.Contains(out.String(), "86 (77)") {
		t.Errorf("what-if table:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), append(args, "--format", "json"), &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"what_if"`) {
		t.Errorf("what-if JSON lacks what_if:\n%.300s", out.String())
	}
	if err := run(context.Background(), []string{"plan", "evaluate", "--remove", "X99"}, &out, &errs); err == nil {
		t.Errorf("removing an unknown unit: no error")
	}
}

// TestPlanEvaluate scores the demo city as JSON and as text, and refuses
// a bad format.
func TestPlanEvaluate(t *testing.T) {
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"plan", "evaluate", "--format", "json"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Units    int                `json:"units"`
		Coverage map[string]float64 `json:"coverage"`
		Zones    []json.RawMessage  `json:"zones"`
		Workload struct {
			Ratio float64 `json:"ratio"`
		} `json:"workload"`
	}
	if err := json.Unmarshal(out.Bytes(), &ev); err != nil {
		t.Fatalf("evaluation is not JSON: %v\n%s", err, out.String())
	}
	if ev.Units != 88 || len(ev.Zones) != 16 || ev.Coverage["m3"] <= 0 || ev.Workload.Ratio < 1 {
		t.Errorf("evaluation of the demo city: %+v", ev)
	}
	out.Reset()
	if err := run(context.Background(), []string{"plan", "evaluate"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"88 units, 78 responding", "demand reached within 1 / 3 / 5 min", "East night market", "max/min"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(context.Background(), []string{"plan", "evaluate", "--format", "xml"}, &out, &errs); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("--format xml: error %v, want one naming the format", err)
	}
	if err := run(context.Background(), []string{"plan", "design"}, &out, &errs); err == nil {
		t.Errorf("plan design: no error, want an unknown subcommand")
	}
}

// TestPlanCompare compares the demo city with itself less its first ten
// units: both are scored side by side and both pictures are written.
func TestPlanCompare(t *testing.T) {
	plan := patroltest.DemoPlan(t)
	plan.Name, plan.Units = "Fewer units", plan.Units[10:]
	dir := t.TempDir()
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	fewer := filepath.Join(dir, "fewer.json")
	if err := os.WriteFile(fewer, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"plan", "compare", "demo", fewer, "--pictures", dir}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A: demo", "B: " + fewer, "Horqin demo city", "Fewer units", "88 (78)", "demand within 3 min", "workload max/min"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, out.String())
		}
	}
	for _, f := range []string{"demo.svg", "fewer.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() < 1000 {
			t.Errorf("picture %s: %v", f, err)
		}
	}
	if err := run(context.Background(), []string{"plan", "compare", "demo"}, &out, &errs); err == nil {
		t.Errorf("compare of one plan: no error")
	}
}

// TestPlanExportLP writes the post placement of the demo city's six
// central units as an LP file, scores a solution of it (every unit at its
// first candidate, which the planner's posts cover at least as well), and
// refuses flags that contradict each other or name no unit of the plan.
func TestPlanExportLP(t *testing.T) {
	dir := t.TempDir()
	lp := filepath.Join(dir, "posts.lp")
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"plan", "export-lp", "--units", "6", "--out", lp}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(lp)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`\ post placement: 6 units`, "\nMaximize\n", "\nSubject To\n u0: x0_0 + x0_1", "\nBinaries\n x0_0\n", "\n x5_0\n", "\nEnd\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("LP lacks %q", want)
		}
	}
	sol := filepath.Join(dir, "posts.sol")
	var lines strings.Builder
	lines.WriteString("Optimal - objective value 1\n")
	for u := range 6 {
		fmt.Fprintf(&lines, "%7d x%d_0 1 0\n", u, u)
	}
	if err := os.WriteFile(sol, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"plan", "export-lp", "--units", "6", "--solution", sol}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	var pct float64
	if _, at, ok := strings.Cut(out.String(), "the planner at "); !ok {
		t.Errorf("score of a solution: %s", out.String())
	} else if _, err := fmt.Sscanf(at, "%f%%", &pct); err != nil || pct < 100 {
		t.Errorf("the planner at %v%% of the first candidates (%v): %s", pct, err, out.String())
	}
	for _, args := range [][]string{{"--units", "3", "--unit-ids", "V01"}, {"--unit-ids", "V01,NOPE"}, {"--units", "-1"}} {
		if err := run(context.Background(), append([]string{"plan", "export-lp"}, args...), io.Discard, io.Discard); err == nil {
			t.Errorf("export-lp %v: no error", args)
		}
	}
}

// TestPlanShiftWhatIf scores the demo city at 03:00, when its day shift
// is off duty, and with two day-shift e-bikes moved to nights.
func TestPlanShiftWhatIf(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"plan", "evaluate", "--at", "03:00"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "at 03:00") || !strings.Contains(out.String(), "88 (56)") || !strings.Contains(out.String(), "of 4 active") {
		t.Errorf("at 03:00:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"plan", "evaluate", "--at", "03:00", "--set-shift", "E01=night,E03=22:00-06:00"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "what-if at 03:00") || !strings.Contains(out.String(), "88 (58)") {
		t.Errorf("shift what-if:\n%s", out.String())
	}
	for _, args := range [][]string{{"--at", "3am"}, {"--set-shift", "E01=evenings"}, {"--set-shift", "E01"}} {
		if err := run(context.Background(), append([]string{"plan", "evaluate"}, args...), io.Discard, io.Discard); err == nil {
			t.Errorf("plan evaluate %v: no error", args)
		}
	}
}
