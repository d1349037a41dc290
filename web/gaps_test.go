package web

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
)

// wireZone is a zone as GET gaps and the live feed send it, with the keys
// of its shares object as they are on the wire.
type wireZone struct {
	ID     string             `json:"id"`
	Met    bool               `json:"met"`
	Gap    bool               `json:"gap"`
	Shares map[string]float64 `json:"shares"`
}

// TestGapsTiersNotAsked serves the square plan with zones whose rules ask
// some tiers and not others, before any fix, and reads the zones from GET
// gaps and from the live snapshot: each has a share for the tiers its rule
// asks (units >= 1) and none for a tier of 0 units, which never makes a gap.
func TestGapsTiersNotAsked(t *testing.T) {
	req := func(units int, share float64) patrol.Requirement {
		return patrol.Requirement{Units: units, Share: share}
	}
	cases := []struct {
		zone string
		rule patrol.Rule
		keys []string // of shares, sorted
		gap  bool
	}{
		{"Z1", patrol.Rule{M1: req(1, 0.5), M3: req(2, 0.9), M5: req(0, 0)}, []string{"m1", "m3"}, true},
		{"Z2", patrol.Rule{M3: req(1, 1)}, []string{"m3"}, true},
		{"Z3", patrol.Rule{}, []string{}, false},
		{"Z4", patrol.Rule{M1: req(0, 0.6), M5: req(1, 0)}, []string{"m5"}, false},
	}
	plan := patroltest.SquarePlan(t)
	p := geo.CellCenter(plan.Units[0].Post)
	for _, tc := range cases {
		plan.Zones = append(plan.Zones, patrol.Zone{ID: tc.zone, Name: tc.zone, Kind: "park", Weight: 1,
			Area: orb.Polygon{{{p[0] - 0.002, p[1] - 0.002}, {p[0] + 0.002, p[1] - 0.002},
				{p[0] + 0.002, p[1] + 0.002}, {p[0] - 0.002, p[1] + 0.002}, {p[0] - 0.002, p[1] - 0.002}}},
			Rule: tc.rule})
	}
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	c := citytest.StartPlan(t, plan, nil)
	srv := httptest.NewServer(NewHandler(c.City, c.Hub, Config{Access: Access{Open: true}}))
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })

	var gaps struct{ Zones []wireZone }
	getJSON(t, srv.URL+"/api/v1/gaps", &gaps)
	conn := dial(t, srv.URL, "")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var snap struct {
		Type  string
		Zones []wireZone
	}
	if err := conn.ReadJSON(&snap); err != nil || snap.Type != "snapshot" {
		t.Fatalf("live: %q message, %v; want a snapshot", snap.Type, err)
	}
	for _, src := range []struct {
		name  string
		zones []wireZone
	}{{"GET gaps", gaps.Zones}, {"live snapshot", snap.Zones}} {
		if len(src.zones) != len(cases) {
			t.Fatalf("%s: %d zones, want %d", src.name, len(src.zones), len(cases))
		}
		for i, tc := range cases {
			t.Run(src.name+"/"+tc.zone, func(t *testing.T) {
				z := src.zones[i]
				keys := make([]string, 0, len(z.Shares))
				for k := range z.Shares {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if z.ID != tc.zone || !slices.Equal(keys, tc.keys) || z.Gap != tc.gap || z.Met == tc.gap {
					t.Errorf("zone %s: shares %v, met %v, gap %v; want zone %s with shares of %v, gap %v",
						z.ID, z.Shares, z.Met, z.Gap, tc.zone, tc.keys, tc.gap)
				}
			})
		}
	}
}
