package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
)

// TestDateRange reads the forms of --days and holds days to them.
func TestDateRange(t *testing.T) {
	for _, tc := range []struct {
		in       string
		from, to string
		err      string
	}{
		{in: "2026-08-01..2026-09-14", from: "2026-08-01", to: "2026-09-14"},
		{in: "2026-09-15..", from: "2026-09-15"},
		{in: "..2026-09-14", to: "2026-09-14"},
		{in: "2026-08-02", from: "2026-08-02", to: "2026-08-02"},
		{in: "..", err: "want FROM..TO"},
		{in: "", err: "want FROM..TO"},
		{in: "2026-08-32..", err: "want FROM..TO"},
		{in: "august", err: "want FROM..TO"},
		{in: "2026-09-14..2026-08-01", err: "ends before it starts"},
	} {
		var r dateRange
		err := r.Set(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Set(%q) = %v, want an error containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || r.from != tc.from || r.to != tc.to):
			t.Errorf("Set(%q) = %v, %+v; want from %q to %q", tc.in, err, r, tc.from, tc.to)
		}
	}
	r := dateRange{from: "2026-08-10", to: "2026-08-12"}
	for date, want := range map[string]bool{"2026-08-09": false, "2026-08-10": true, "2026-08-12": true, "2026-08-13": false} {
		if r.holds(date) != want {
			t.Errorf("%v holds %s = %v, want %v", r, date, !want, want)
		}
	}
	history := patroltest.DemoIncidents(t)
	loc := time.FixedZone("CST", 8*3600)
	got, err := r.filter(history, loc)
	if err != nil || len(got) == 0 {
		t.Fatalf("filter: %d incidents, %v", len(got), err)
	}
	for _, in := range got {
		if d := in.Time.In(loc).Format(time.DateOnly); !r.holds(d) {
			t.Errorf("incident of %s kept outside %v", d, r)
		}
	}
	if all, _ := (dateRange{}).filter(history, loc); len(all) != len(history) {
		t.Errorf("no range kept %d of %d incidents", len(all), len(history))
	}
}

// TestDaysSplit judges the demo plan on two halves of its history: the
// days of each half are replayed and weigh the cells of plan evaluate,
// and the halves add up to the whole.
func TestDaysSplit(t *testing.T) {
	first := runOpsJSON(t, "--days", "..2026-08-03")
	second := runOpsJSON(t, "--days", "2026-08-04..2026-08-05")
	both := runOpsJSON(t, "--days", "2026-08-01..2026-08-05")
	if first.Days != 3 || second.Days != 2 || both.Days != 5 || first.Incidents+second.Incidents != both.Incidents {
		t.Errorf("days %d + %d of %d, incidents %d + %d of %d: want 3 + 2 of 5 and the incidents adding up",
			first.Days, second.Days, both.Days, first.Incidents, second.Incidents, both.Incidents)
	}
	shares := map[string]float64{}
	for _, days := range []string{"", "2026-08-01..2026-09-14", "2026-09-15.."} {
		args := []string{"plan", "evaluate", "--format", "json"}
		if days != "" {
			args = append(args, "--days", days)
		}
		var out, errs bytes.Buffer
		if err := run(context.Background(), args, &out, &errs); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var ev struct {
			Coverage struct{ M3 float64 } `json:"coverage"`
		}
		if err := json.Unmarshal(out.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		shares[days] = ev.Coverage.M3
	}
	if shares[""] == shares["2026-08-01..2026-09-14"] || shares["2026-08-01..2026-09-14"] == shares["2026-09-15.."] {
		t.Errorf("3-minute shares %v: want each history weigh cells its own way", shares)
	}
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"plan", "evaluate", "--days", "2030-01-01.."}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "no incident on those days") {
		t.Errorf("plan evaluate of days without incidents: %v", err)
	}
}
