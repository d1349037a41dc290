package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

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
	if err == nil || !strings.Contains(err.Error(), "no incident on the days") {
		t.Errorf("plan evaluate of days without incidents: %v", err)
	}
}
