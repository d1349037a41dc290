package patrol

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data"
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
		var r DateRange
		err := r.Set(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Set(%q) = %v, want an error containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || r.from != tc.from || r.to != tc.to):
			t.Errorf("Set(%q) = %v, %+v; want from %q to %q", tc.in, err, r, tc.from, tc.to)
		}
	}
	r := DateRange{from: "2026-08-10", to: "2026-08-12"}
	for date, want := range map[string]bool{"2026-08-09": false, "2026-08-10": true, "2026-08-12": true, "2026-08-13": false} {
		if r.Holds(date) != want {
			t.Errorf("%v holds %s = %v, want %v", r, date, !want, want)
		}
	}
	history, err := ReadIncidents(bytes.NewReader(data.TongliaoIncidents()))
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("CST", 8*3600)
	got, err := r.Filter(history, loc)
	if err != nil || len(got) == 0 {
		t.Fatalf("filter: %d incidents, %v", len(got), err)
	}
	for _, in := range got {
		if d := in.Time.In(loc).Format(time.DateOnly); !r.Holds(d) {
			t.Errorf("incident of %s kept outside %v", d, r)
		}
	}
	if all, _ := (DateRange{}).Filter(history, loc); len(all) != len(history) {
		t.Errorf("no range kept %d of %d incidents", len(all), len(history))
	}
}
