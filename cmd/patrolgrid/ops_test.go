package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// opsReport is the JSON of simulate ops as a client reads it.
type opsReport struct {
	Days      int `json:"days"`
	Incidents int `json:"incidents"`
	Units     int `json:"units"`
	Policies  []struct {
		Name             string  `json:"name"`
		Incidents        int     `json:"incidents"`
		Within1M         float64 `json:"within_1m"`
		Within3M         float64 `json:"within_3m"`
		Within5M         float64 `json:"within_5m"`
		MeanS            float64 `json:"mean_s"`
		P90S             float64 `json:"p90_s"`
		MovesPerUnitHour float64 `json:"moves_per_unit_hour"`
		MoveUps          int     `json:"move_ups"`
	} `json:"policies"`
}

// runOpsJSON runs simulate ops with args and --format json and reads its
// report.
func runOpsJSON(t *testing.T, args ...string) opsReport {
	t.Helper()
	var out, errs bytes.Buffer
	args = append([]string{"simulate", "ops", "--format", "json"}, args...)
	if err := run(context.Background(), args, &out, &errs); err != nil {
		t.Fatalf("patrolgrid %s: %v\n%s", strings.Join(args, " "), err, errs.String())
	}
	var rep opsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	return rep
}

// checkOps holds a report to the day it replayed: every policy, every
// incident counted, shares ordered by tier, moves only with move-ups.
func checkOps(t *testing.T, rep opsReport, incidents int) {
	t.Helper()
	if rep.Days != 1 || rep.Incidents != incidents || len(rep.Policies) != 3 {
		t.Fatalf("report of %d days, %d incidents, %d policies; want 1, %d, 3", rep.Days, rep.Incidents, len(rep.Policies), incidents)
	}
	for _, p := range rep.Policies {
		if p.Incidents != incidents || !(p.Within1M <= p.Within3M && p.Within3M <= p.Within5M && p.Within5M <= 1) ||
			p.MeanS <= 0 || p.P90S < p.MeanS/2 {
			t.Errorf("policy %+v: want %d incidents, shares ordered by tier, a mean and a p90", p, incidents)
		}
	}
	if st, mu := rep.Policies[0], rep.Policies[1]; st.MoveUps != 0 || st.MovesPerUnitHour != 0 || mu.Name == st.Name {
		t.Errorf("policies %q (%d moves) and %q: want static posts without moves first", st.Name, st.MoveUps, mu.Name)
	}
}

// TestSimulateOpsDemo replays one day of the demo city's history on the
// lattice, as JSON and as a table.
func TestSimulateOpsDemo(t *testing.T) {
	rep := runOpsJSON(t, "--day", "2026-08-02")
	checkOps(t, rep, 45)
	if rep.Units != 78 {
		t.Errorf("%d responding units, want the demo city's 78", rep.Units)
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"simulate", "ops", "--day", "2026-08-02"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 days, 45 incidents, 78 responding units", "closest unit, static posts", "closest unit, move-ups", "late >3 min"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSimulateOpsRoads replays a day of incidents on Monaco's roads, from
// a plan and a history given as files, through the peak, off-peak and
// night bands of the default profiles.
func TestSimulateOpsRoads(t *testing.T) {
	net := patroltest.MonacoRoads(t)
	plan, _ := patroltest.MonacoPlan(t, net, 24)
	dir := t.TempDir()
	planFile, incFile := filepath.Join(dir, "plan.json"), filepath.Join(dir, "incidents.csv")
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(planFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	car := net.Graph("car")
	nodes, _ := car.Len()
	csv := "time,lon,lat,kind\n"
	hours := []int{3, 8, 8, 12, 18, 23} // night, peak, peak, off-peak, peak, night
	for i, h := range hours {
		p := car.Node(int32((2*i + 1) * nodes / (2 * len(hours))))
		csv += fmt.Sprintf("2026-08-01T%02d:%02d:00+02:00,%.6f,%.6f,theft\n", h, 10*i, p[0], p[1])
	}
	if err := os.WriteFile(incFile, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := runOpsJSON(t, "--plan", planFile, "--incidents", incFile, "--osm", datatest.File(t, "osm/monaco.osm.pbf"),
		"--cache-dir", t.TempDir())
	checkOps(t, rep, len(hours))
	if rep.Policies[0].Within5M < 0.5 {
		t.Errorf("%v of Monaco's incidents reached within 5 minutes by 20 responding units; want most", rep.Policies[0].Within5M)
	}
}

// TestSimulateOpsErrors gives simulate ops bad flags and files: each
// fails with an error that names what is wrong.
func TestSimulateOpsErrors(t *testing.T) {
	dir := t.TempDir()
	badCSV := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(badCSV, []byte("time,lon,lat,kind\nyesterday,1,2,theft\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, _ := json.Marshal(patroltest.SquarePlan(t))
	square := filepath.Join(dir, "square.json")
	if err := os.WriteFile(square, plan, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "xml"}, `--format "xml"`},
		{[]string{"--day", "2026-13-01"}, `--day "2026-13-01"`},
		{[]string{"--day", "2025-01-01"}, "no incident on the days"},
		{[]string{"--days", "2026-09-01..2026-08-01"}, "ends before it starts"},
		{[]string{"--days", "2026-08-01..2026-08-02", "--day", "2026-08-01"}, "give one"},
		{[]string{"--days", "2025-01-01..2025-12-31"}, "no incident on the days"},
		{[]string{"--service", "0s"}, "--service"},
		{[]string{"--moves-per-hour", "0"}, "--moves-per-hour"},
		{[]string{"--incidents", badCSV}, "line 2"},
		{[]string{"--incidents", filepath.Join(dir, "none.csv")}, "none.csv"},
		{[]string{"--plan", square}, "--incidents"},
	} {
		var out, errs bytes.Buffer
		err := run(context.Background(), append([]string{"simulate", "ops"}, tc.args...), &out, &errs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("simulate ops %v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
