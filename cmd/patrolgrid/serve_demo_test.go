package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/simulate"
)

// demoUnit returns the live view of unit id from a running server.
func demoUnit(t *testing.T, base, id string) realtime.UnitView {
	t.Helper()
	var units struct{ Units []realtime.UnitView }
	if code := getJSON(t, base+"/api/v1/units", "", &units); code != http.StatusOK {
		t.Fatalf("GET units = %d", code)
	}
	for _, u := range units.Units {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("GET units has no %s", id)
	return realtime.UnitView{}
}

// printed returns the first group of re in serve's output.
func printed(t *testing.T, out *realtimetest.SyncBuffer, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve printed no %s: %q", re, out.String())
	}
	return m[1]
}

// TestServeDemoDeviceTakesOver sends the README's OsmAnd example to a real
// `serve --demo`: its fix (whole-second timestamp, so a little older than
// the demo motion's latest) moves V01 there at once, the unit is live, not
// simulated, and the demo motion leaves it there.
func TestServeDemoDeviceTakesOver(t *testing.T) {
	base, out, stop := startServe(t, "--demo")
	defer stop()
	osmandURL := printed(t, out, `OsmAnd \(Traccar Client\) on (http://127\.0\.0\.1:\d+/)`)
	for deadline := time.Now().Add(10 * time.Second); !demoUnit(t, base, "V01").Simulated; {
		if time.Now().After(deadline) {
			t.Fatal("V01 has no simulated fix 10 s after start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	const lat, lon = 43.62, 122.26
	send := func(at time.Time) {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("%s?id=V01&key=demo-V01&lat=%v&lon=%v&timestamp=%d", osmandURL, lat, lon, at.Unix()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("OsmAnd fix of V01 = %d %s, want 200", resp.StatusCode, body)
		}
	}
	at := func(v realtime.UnitView, want time.Time) bool {
		return v.Lat != nil && *v.Lat == lat && *v.Lon == lon && v.Time.Equal(want.Truncate(time.Second))
	}
	first := time.Now()
	send(first)
	for deadline := time.Now().Add(2 * time.Second); !at(demoUnit(t, base, "V01"), first); {
		if time.Now().After(deadline) {
			t.Fatalf("V01 = %+v 2 s after its device's fix, want it at %v,%v", demoUnit(t, base, "V01"), lat, lon)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := demoUnit(t, base, "V01"); v.Simulated || v.Source != "osmand" {
		t.Errorf("V01 after its device's fix: simulated %v, source %q, want live from osmand", v.Simulated, v.Source)
	}
	time.Sleep(2500 * time.Millisecond) // more than two steps of the demo motion
	if v := demoUnit(t, base, "V01"); !at(v, first) {
		t.Errorf("V01 = %v,%v from %q 2.5 s after its device's fix, want the demo to leave it at %v,%v", *v.Lat, *v.Lon, v.Source, lat, lon)
	}
	second := time.Now()
	send(second) // a second later, from the same place: no jump from a simulated position
	for deadline := time.Now().Add(2 * time.Second); !at(demoUnit(t, base, "V01"), second); {
		if time.Now().After(deadline) {
			t.Fatalf("V01 = %+v after its device's second fix", demoUnit(t, base, "V01"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSimulateAgainstDemo runs `simulate` against a real `serve --demo`
// over every protocol in turn, 20 units at 1 Hz: the units it drives leave
// the demo motion, and the server refuses none of their fixes.
func TestSimulateAgainstDemo(t *testing.T) {
	base, out, stop := startServe(t, "--demo")
	defer stop()
	jt808Addr := printed(t, out, `JT/T 808 terminals on tcp://(127\.0\.0\.1:\d+)`)
	nmeaAddr := printed(t, out, `NMEA trackers on tcp://(127\.0\.0\.1:\d+)`)
	for _, tc := range []struct {
		protocol simulate.Protocol
		duration time.Duration
	}{{simulate.OsmAnd, 10 * time.Second}, {simulate.JSON, 4 * time.Second}, {simulate.JT808, 4 * time.Second}, {simulate.NMEA, 4 * time.Second}} {
		t.Run(string(tc.protocol), func(t *testing.T) {
			cfg := simulate.Config{Server: base, Protocol: tc.protocol, Units: 20, Rate: 1, Duration: tc.duration,
				JT808Addr: jt808Addr, NMEAAddr: nmeaAddr}
			ctx, cancel := context.WithTimeout(context.Background(), tc.duration+30*time.Second)
			defer cancel()
			sum, err := simulate.Run(ctx, cfg, io.Discard)
			if err != nil {
				t.Fatalf("simulate: %v", err)
			}
			if sum.Sent == 0 || sum.Rejected != 0 || sum.Failed != 0 {
				t.Errorf("simulate %s: sent %d, rejected %d %v, failed %d %v; want every fix taken",
					tc.protocol, sum.Sent, sum.Rejected, sum.Rejections, sum.Failed, sum.Failures)
			}
			if s := sum.Server; s != nil && s.Rejected != 0 {
				t.Errorf("simulate %s: the server refused %d fixes %v, want none", tc.protocol, s.Rejected, s.Rejections)
			}
		})
	}
}

// TestServeOSMDemo serves the demo on Monaco's roads for a few seconds:
// every simulated unit that moves stands on a road of its profile's graph
// (within 2 m by the graph's own snapping), none is off the network, and
// every one of them moves.
func TestServeOSMDemo(t *testing.T) {
	osm := osmTestData(t, "monaco.osm.pbf")
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	base, _, stop := startServe(t, "--demo", "--plan", writeMonacoPlan(t, dir), "--osm", osm, "--cache-dir", cache)
	defer stop()
	profiles, err := loadProfileFile("default")
	if err != nil {
		t.Fatal(err)
	}
	net, err := road.OpenNetwork(context.Background(), osm, cache, profiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	graphs := map[string]*road.Graph{"vehicle": net.Graph("car"), "ebike": net.Graph("bike"), "foot": net.Graph("foot")}
	first, moved := map[string]orb.Point{}, map[string]bool{}
	for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var units struct{ Units []realtime.UnitView }
		getJSON(t, base+"/api/v1/units", "", &units)
		for _, u := range units.Units {
			g := graphs[u.Mechanism]
			if g == nil || u.Lat == nil {
				continue
			}
			p := orb.Point{*u.Lon, *u.Lat}
			if _, ok := g.Snap(p, 2); !ok || u.OffNetwork {
				t.Errorf("%s (%s) at %v: off the network %v, on a %s road within 2 m %v, want on one", u.ID, u.Mechanism, p, u.OffNetwork, g.Name, ok)
			}
			if f, seen := first[u.ID]; !seen {
				first[u.ID] = p
			} else if geo.Distance(f, p) > 1 {
				moved[u.ID] = true
			}
		}
	}
	if len(first) != 10 || len(moved) != len(first) {
		t.Errorf("%d units moving on the roads, %d of them moved in 4 s; want 10 and all", len(first), len(moved))
	}
}
