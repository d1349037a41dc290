package patrol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data"
)

func TestPlanRoundTrip(t *testing.T) {
	p, err := ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		t.Fatalf("ReadPlan(demo city): %v", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ReadPlan(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ReadPlan(written plan): %v", err)
	}
	b2, _ := json.Marshal(q)
	if !bytes.Equal(b, b2) {
		t.Fatal("plan JSON changes on a second round trip")
	}
	if len(q.Units) != 88 || len(q.Boundary[0]) != len(p.Boundary[0]) || q.Zones[0].Area[0][1] != p.Zones[0].Area[0][1] {
		t.Fatalf("round trip lost units or geometry")
	}
	fc := p.GeoJSON()
	if got, want := len(fc.Features), 1+len(p.Zones)+len(p.Units); got != want {
		t.Fatalf("GeoJSON has %d features, want %d", got, want)
	}
}

func TestReadPlanErrors(t *testing.T) {
	good := string(data.TongliaoPlan())
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown field", `"name":`, `"nmae":"x","name":`, "unknown field"},
		{"bad timezone", `"timezone":"Asia/Shanghai"`, `"timezone":"Mars/Base"`, "timezone"},
		{"unknown mechanism", `"mechanism":"vehicle"`, `"mechanism":"tank"`, "unknown mechanism"},
		{"bad resolution", `"resolution":10`, `"resolution":16`, "resolution"},
		{"not json", `{`, `[`, "read plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPlan(strings.NewReader(strings.Replace(good, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadPlan = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestZoneActive(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := func(h, m int) time.Time { return time.Date(2026, 11, 28, h, m, 0, 0, loc) }
	for _, tc := range []struct {
		name  string
		hours []Hours
		t     time.Time
		want  bool
	}{
		{"always", nil, at(3, 0), true},
		{"night market at 23:00", []Hours{{"18:00", "02:00"}}, at(23, 0), true},
		{"night market at 01:59", []Hours{{"18:00", "02:00"}}, at(1, 59), true},
		{"night market at 02:00", []Hours{{"18:00", "02:00"}}, at(2, 0), false},
		{"night market at noon", []Hours{{"18:00", "02:00"}}, at(12, 0), false},
		{"whole day", []Hours{{"00:00", "24:00"}}, at(23, 59), true},
		{"school morning", []Hours{{"07:00", "08:30"}, {"16:00", "18:00"}}, at(8, 15), true},
		{"school midday", []Hours{{"07:00", "08:30"}, {"16:00", "18:00"}}, at(12, 0), false},
		{"school afternoon", []Hours{{"07:00", "08:30"}, {"16:00", "18:00"}}, at(17, 0), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Zone{Hours: tc.hours}).Active(tc.t); got != tc.want {
				t.Fatalf("Active(%s) = %v, want %v", tc.t.Format("15:04"), got, tc.want)
			}
		})
	}
}

func TestClock(t *testing.T) {
	for _, s := range []string{"7:00", "25:00", "12:60", "24:01", "ab:cd", "12:00x"} {
		if _, err := clock(s); err == nil {
			t.Errorf("clock(%q) = nil error, want one", s)
		}
	}
	if m, err := clock("24:00"); err != nil || m != 1440 {
		t.Errorf("clock(24:00) = %d, %v, want 1440", m, err)
	}
}

// TestStatus: the four statuses are valid; the former "busy" is read as
// dispatched from JSON and by Canonical, and is not valid as written.
func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		json  string
		want  Status
		valid bool
	}{
		{`"available"`, Available, true},
		{`"dispatched"`, Dispatched, true},
		{`"on_scene"`, OnScene, true},
		{`"off_duty"`, OffDuty, true},
		{`"busy"`, Dispatched, true},
		{`"asleep"`, "asleep", false},
	} {
		var s Status
		if err := json.Unmarshal([]byte(tc.json), &s); err != nil || s != tc.want || s.Valid() != tc.valid {
			t.Errorf("Unmarshal(%s) = %q (valid %v), %v; want %q (valid %v)", tc.json, s, s.Valid(), err, tc.want, tc.valid)
		}
	}
	if Busy.Valid() || Busy.Canonical() != Dispatched {
		t.Errorf("Busy: valid %v, canonical %q; want not valid, dispatched", Busy.Valid(), Busy.Canonical())
	}
	var s Status
	if err := json.Unmarshal([]byte(`3`), &s); err == nil {
		t.Error("Unmarshal(3) = nil error, want one")
	}
}
