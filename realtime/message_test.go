package realtime_test

import (
	"encoding/json"
	"testing"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime"
)

// TestZoneViewShares checks the shares object of a zone view: a number for
// each tier the rule asks, rounded to 0.001, and no key for a tier that
// asks no unit; decoding gives the same view back.
func TestZoneViewShares(t *testing.T) {
	req := func(units int, share float64) patrol.Requirement {
		return patrol.Requirement{Units: units, Share: share}
	}
	for _, tc := range []struct {
		name   string
		rule   patrol.Rule
		shares [3]float64 // as the coverage engine gives them
		want   string
	}{
		{"every tier asked", patrol.Rule{M1: req(1, 0.1), M3: req(1, 0.8), M5: req(2, 1)},
			[3]float64{0.12345, 0, 1}, `{"m1":0.123,"m3":0,"m5":1}`},
		{"m5 asks no unit", patrol.Rule{M1: req(1, 0.5), M3: req(2, 0.9)},
			[3]float64{0.5, 0.25, 0}, `{"m1":0.5,"m3":0.25}`},
		{"only m3 asked", patrol.Rule{M1: req(0, 0), M3: req(1, 1), M5: req(0, 0)},
			[3]float64{0, 0, 0}, `{"m3":0}`},
		{"units 0 with a share asks nothing", patrol.Rule{M1: req(0, 0.6)},
			[3]float64{0, 0, 0}, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := patrol.ZoneStatus{Zone: patrol.Zone{ID: "Z", Rule: tc.rule}, Shares: tc.shares}
			v := realtime.NewZoneView(s)
			b, err := json.Marshal(v.Shares)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("shares = %s, want %s", b, tc.want)
			}
			whole, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var back realtime.ZoneView
			if err := json.Unmarshal(whole, &back); err != nil {
				t.Fatal(err)
			}
			if back != v {
				t.Errorf("decoded %s = %+v, want %+v", whole, back, v)
			}
		})
	}
}

// TestShareNull checks that a share encodes as null when there is none,
// as when a Share is encoded outside Shares, and decodes null as none.
func TestShareNull(t *testing.T) {
	b, err := json.Marshal([]realtime.Share{{}, {Value: 0.5, Asked: true}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `[null,0.5]` {
		t.Errorf("shares = %s, want [null,0.5]", b)
	}
	got := realtime.Share{Value: 1, Asked: true}
	if err := json.Unmarshal([]byte(`null`), &got); err != nil || got != (realtime.Share{}) {
		t.Errorf("Unmarshal(null) = %+v, %v, want no share", got, err)
	}
}

// TestZoneViewBackupShare checks the backup share of a zone view: the
// share of its cells with backup, rounded to 0.001, always in the JSON
// object, whatever the rule asks.
func TestZoneViewBackupShare(t *testing.T) {
	for _, tc := range []struct {
		name            string
		cells, unbacked int
		want            string
	}{
		{"every cell backed", 4, 0, `1`},
		{"no cell backed", 4, 4, `0`},
		{"a third lacks backup", 3, 1, `0.667`},
		{"a zone of no cells", 0, 0, `0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := patrol.ZoneStatus{Zone: patrol.Zone{ID: "Z"}, Cells: tc.cells, Unbacked: tc.unbacked}
			b, err := json.Marshal(realtime.NewZoneView(s))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if string(got["backup_share"]) != tc.want {
				t.Errorf("backup_share of %d cells, %d unbacked = %s, want %s", tc.cells, tc.unbacked, got["backup_share"], tc.want)
			}
		})
	}
}
