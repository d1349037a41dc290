package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/jt808"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/nmea"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
	"github.com/patrolgrid/patrolgrid/web"
)

func TestAccessFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     serveConfig
		open    bool
		wantErr bool
	}{
		{"demo on loopback", serveConfig{listen: "127.0.0.1:8080", demo: true}, true, false},
		{"demo on localhost", serveConfig{listen: "localhost:8080", demo: true}, true, false},
		{"demo on IPv6 loopback", serveConfig{listen: "[::1]:8080", demo: true}, true, false},
		{"demo on all interfaces", serveConfig{listen: ":8080", demo: true}, false, true},
		{"demo on a LAN address", serveConfig{listen: "10.1.2.3:8080", demo: true}, false, true},
		{"loopback without demo", serveConfig{listen: "127.0.0.1:8080"}, false, true},
		{"viewer token only", serveConfig{listen: ":8080", viewerTokens: viewerToken}, false, true},
		{"both tokens", serveConfig{listen: ":8080", viewerTokens: viewerToken + ", " + viewerToken + "2", deviceTokens: deviceToken}, false, false},
		{"demo on loopback with tokens", serveConfig{listen: "127.0.0.1:8080", demo: true, viewerTokens: viewerToken, deviceTokens: deviceToken}, false, false},
		{"viewer and admin tokens", serveConfig{listen: ":8080", viewerTokens: viewerToken, adminTokens: adminToken}, false, false},
		{"admin token only", serveConfig{listen: ":8080", adminTokens: adminToken}, false, false},
		{"demo on a LAN address with tokens", serveConfig{listen: "10.1.2.3:8080", demo: true, viewerTokens: viewerToken, deviceTokens: deviceToken}, false, true},
		// One 1-character token served as viewer, device and admin at once.
		{"short tokens", serveConfig{listen: ":8080", viewerTokens: "v", deviceTokens: "d"}, false, true},
		{"one token in three roles", serveConfig{listen: ":8080", viewerTokens: adminToken, deviceTokens: adminToken, adminTokens: adminToken}, false, true},
		{"a credentials file", serveConfig{listen: ":8080", credentials: credentialsFile(t, "admin duty-officer "+web.TokenSum(adminToken))}, false, false},
		{"a credentials file with a bad line", serveConfig{listen: ":8080", credentials: credentialsFile(t, "admin duty-officer 42")}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := accessFor(tc.cfg)
			if (err != nil) != tc.wantErr || a.Open != tc.open {
				t.Fatalf("accessFor = open %v, err %v; want open %v, error %v", a.Open, err, tc.open, tc.wantErr)
			}
		})
	}
}

func TestIngestAddrs(t *testing.T) {
	given := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	all := serveConfig{jt808Listen: ":5015", nmeaListen: ":5016", osmandListen: ":5055"}
	with := func(listen string, g map[string]bool, edit func(*serveConfig)) serveConfig {
		c := all
		c.listen, c.given = listen, g
		if edit != nil {
			edit(&c)
		}
		return c
	}
	for _, tc := range []struct {
		name    string
		cfg     serveConfig
		open    bool
		want    ingestListen
		wantErr string
	}{
		{"loopback demo", with("127.0.0.1:8080", nil, nil), true, ingestListen{"127.0.0.1:5015", "127.0.0.1:5016", "127.0.0.1:5055"}, ""},
		{"IPv6 loopback", with("[::1]:8080", nil, nil), true, ingestListen{"[::1]:5015", "[::1]:5016", "[::1]:5055"}, ""},
		{"all interfaces", with(":8080", nil, nil), false, ingestListen{":5015", ":5016", ":5055"}, ""},
		{"a LAN address", with("10.1.2.3:8080", nil, nil), false, ingestListen{":5015", ":5016", ":5055"}, ""},
		{"free HTTP port", with("127.0.0.1:0", nil, nil), false, ingestListen{"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"}, ""},
		{"given", with("127.0.0.1:0", given("jt808-listen", "nmea-listen", "osmand-listen"), func(c *serveConfig) {
			c.jt808Listen, c.nmeaListen, c.osmandListen = "127.0.0.1:6015", "", "0.0.0.0:80"
		}), false, ingestListen{"127.0.0.1:6015", "", "0.0.0.0:80"}, ""},
		{"open demo on all interfaces", with("127.0.0.1:8080", given("jt808-listen"), nil), true, ingestListen{},
			"refusing to open --jt808-listen :5015 beyond loopback"},
		{"open demo, one off", with("127.0.0.1:0", given("nmea-listen"), func(c *serveConfig) { c.nmeaListen = "" }), true,
			ingestListen{"127.0.0.1:0", "", "127.0.0.1:0"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ingestAddrs(tc.cfg, tc.open)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ingestAddrs = %+v, %v, want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ingestAddrs = %+v, %v, want %+v", got, err, tc.want)
			}
		})
	}
}

// TestServeDemo runs `serve --demo` on a free loopback port and checks that
// it answers with moving units, then stops cleanly on cancel.
func TestServeDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out realtimetest.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--demo", "--listen", "127.0.0.1:0"}, &out, io.Discard) }()

	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = "http://" + m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve printed no address: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "Illustrative") {
		t.Errorf("serve output does not say the demo data is illustrative: %q", out.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(base + "/api/v1/units")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(b, []byte(`"lat"`)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no unit has a position 10 s after start (last error %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of cancel")
	}
}

func TestServeRefusesOpenNetwork(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--listen", "0.0.0.0:0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--viewer-token") {
		t.Fatalf("serve on 0.0.0.0 without tokens = %v, want a refusal naming --viewer-token", err)
	}
}

// monacoPosts are 12 points (lat, lon) on Monaco's streets.
var monacoPosts = [][2]float64{
	{43.7393, 7.4277}, {43.7365, 7.4225}, {43.7312, 7.4199}, {43.7300, 7.4165},
	{43.7420, 7.4290}, {43.7450, 7.4330}, {43.7468, 7.4355}, {43.7380, 7.4210},
	{43.7335, 7.4175}, {43.7405, 7.4245}, {43.7430, 7.4260}, {43.7355, 7.4190},
}

// writeMonacoPlan writes a plan over Monaco to a file in dir and returns
// its path: a box around the city, 12 units (vehicles, e-bikes, foot
// patrols and a video patrol) posted on its streets, 2 zones.
//
//	7.409                      7.440
//	  +--------------------------+ 43.752
//	  |        Larvotto  [Z2]    |
//	  |   Casino [Z1]            |
//	  |  Port        (sea)       |
//	  | Rocher                   |
//	  +--------------------------+ 43.724
func writeMonacoPlan(t *testing.T, dir string) string {
	t.Helper()
	box := func(lon0, lat0, lon1, lat1 float64) orb.Polygon {
		return orb.Polygon{{{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0}}}
	}
	p := patrol.Plan{
		Name: "Monaco test", City: "Monaco", Resolution: 10, Timezone: "Europe/Monaco",
		Boundary: box(7.409, 43.724, 7.440, 43.752),
		Profiles: []geo.Profile{
			{Name: "car", SpeedKPH: 30, Detour: 1.35},
			{Name: "bike", SpeedKPH: 15, Detour: 1.3},
			{Name: "foot", SpeedKPH: 5, Detour: 1.25},
		},
		Mechanisms: []patrol.Mechanism{
			{ID: "vehicle", Name: "Vehicle patrol", Profile: "car", CountsResponse: true, MaxSpeedKPH: 130},
			{ID: "ebike", Name: "E-bike patrol", Profile: "bike", CountsResponse: true, MaxSpeedKPH: 60},
			{ID: "foot", Name: "Foot patrol", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 15},
			{ID: "video", Name: "Video patrol"},
		},
		Zones: []patrol.Zone{
			{ID: "Z1", Name: "Casino", Kind: "commercial", Weight: 3, Area: box(7.4265, 43.7385, 7.4290, 43.7400),
				Rule: patrol.Rule{M1: patrol.Requirement{Units: 1, Share: 0.5}, M3: patrol.Requirement{Units: 2, Share: 0.9}}},
			{ID: "Z2", Name: "Larvotto", Kind: "park", Weight: 2, Area: box(7.4330, 43.7440, 7.4370, 43.7475),
				Rule: patrol.Rule{M3: patrol.Requirement{Units: 1, Share: 1}}},
		},
	}
	mechs := []string{"vehicle", "vehicle", "ebike", "foot", "vehicle", "video"}
	for i, ll := range monacoPosts {
		p.Units = append(p.Units, patrol.Unit{ID: fmt.Sprintf("M%02d", i+1), Name: fmt.Sprintf("Monaco %d", i+1),
			Mechanism: mechs[i%len(mechs)], Post: geo.Cell(orb.Point{ll[1], ll[0]}, 10)})
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Monaco plan: %v", err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "monaco-plan.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServe runs serve with args on a free loopback port and returns its
// base URL, its output so far and a stop function that cancels it and
// checks it ends cleanly.
func startServe(t *testing.T, args ...string) (base string, out *realtimetest.SyncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &realtimetest.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), out, io.Discard)
	}()
	addr := regexp.MustCompile(`map and API on (https?://127\.0\.0\.1:\d+)/`)
	for deadline := time.Now().Add(30 * time.Second); base == ""; {
		select {
		case err := <-done:
			t.Fatalf("serve %v ended before serving: %v; output %q", args, err, out.String())
		default:
		}
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve printed no address: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return base, out, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop within 10 s of cancel")
		}
	}
}

// getJSON GETs base+path with a bearer token and decodes the answer into v,
// returning the status.
func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
	}
	return resp.StatusCode
}

// TestServeOSM serves a plan over Monaco on its road network: the road
// graph is imported once into the cache folder and loaded from it on the
// next start; a unit on a street covers cells, one out at sea is off the
// network; the API says the travel times are the road's and serves the
// streets.
func TestServeOSM(t *testing.T) {
	osm := osmTestData(t, "monaco.osm.pbf")
	dir := t.TempDir()
	plan := writeMonacoPlan(t, dir)
	cache := filepath.Join(dir, "cache")
	args := []string{"--plan", plan, "--osm", osm, "--cache-dir", cache, "--viewer-token", viewerToken, "--device-token", deviceToken}

	base, out, stop := startServe(t, args...)
	for _, want := range []string{"(road travel times)", "road travel times for car, bike, foot", "imported " + osm, "wrote " + cache} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("first start output lacks %q: %q", want, out.String())
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	batch := fmt.Sprintf(`{"fixes":[{"unit":"M01","time":%q,"lat":43.7393,"lon":7.4277},
		{"unit":"M02","time":%q,"lat":43.7330,"lon":7.4360}]}`, now, now)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/fixes", strings.NewReader(batch))
	req.Header.Set("Authorization", "Bearer "+deviceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST fixes = %v, %v; want 200", resp, err)
	}
	resp.Body.Close()

	var units struct {
		Units []struct {
			ID         string   `json:"id"`
			Lat        *float64 `json:"lat"`
			OffNetwork bool     `json:"off_network"`
		} `json:"units"`
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		getJSON(t, base+"/api/v1/units", viewerToken, &units)
		if units.Units[0].Lat != nil && units.Units[1].Lat != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("units have no positions 5 s after the fixes: %+v", units.Units[:2])
		}
	}
	if got := [2]bool{units.Units[0].OffNetwork, units.Units[1].OffNetwork}; got != [2]bool{false, true} {
		t.Errorf("off_network of M01 (on a street), M02 (at sea) = %v, want [false true]", got)
	}
	var cov struct {
		Cells []struct{ N5 int } `json:"cells"`
	}
	getJSON(t, base+"/api/v1/coverage", viewerToken, &cov)
	if len(cov.Cells) == 0 {
		t.Error("no cell is covered by the unit on a street")
	}
	var cfg struct{ Travel string }
	getJSON(t, base+"/api/v1/config", viewerToken, &cfg)
	if cfg.Travel != "road" {
		t.Errorf("config travel = %q, want road", cfg.Travel)
	}
	var roads struct {
		Type     string
		Features []struct{ Geometry struct{ Type string } }
	}
	if code := getJSON(t, base+"/api/v1/roads", viewerToken, &roads); code != http.StatusOK || len(roads.Features) < 500 ||
		roads.Features[0].Geometry.Type != "LineString" {
		t.Errorf("GET roads = %d with %d features (first %+v), want 200 with Monaco's streets as LineStrings",
			code, len(roads.Features), roads.Features[:min(1, len(roads.Features))])
	}
	stop()

	_, out, stop = startServe(t, args...)
	stop()
	if !strings.Contains(out.String(), "loaded graph file "+cache) {
		t.Errorf("second start did not load the graph file from %s: %q", cache, out.String())
	}
}

// TestServeLatticeSaysSo checks that without --osm the startup line names
// lattice travel times.
func TestServeLatticeSaysSo(t *testing.T) {
	_, out, stop := startServe(t, "--demo")
	stop()
	if !strings.Contains(out.String(), "(lattice travel times)") {
		t.Errorf("serve without --osm does not say lattice travel times: %q", out.String())
	}
}

// TestServeOSMElsewhere refuses an extract whose roads miss the plan.
func TestServeOSMElsewhere(t *testing.T) {
	osm := osmTestData(t, "monaco.osm.pbf")
	err := run(context.Background(), []string{"serve", "--demo", "--listen", "127.0.0.1:0", "--osm", osm, "--cache-dir", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "off the network") {
		t.Fatalf("serve of the demo city on Monaco's roads = %v, want a refusal", err)
	}
}

// TestServeOSMBadCache re-imports the extract when the cached graph file
// cannot be read (a crash mid-copy, a graph file format of another
// version), and writes a good one again.
func TestServeOSMBadCache(t *testing.T) {
	osm := osmTestData(t, "monaco.osm.pbf")
	dir := t.TempDir()
	plan := writeMonacoPlan(t, dir)
	cache := filepath.Join(dir, "cache")
	profiles, err := loadProfileFile("default")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	graph, err := road.GraphCachePath(cache, osm, profiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(graph, []byte("not a graph file"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--plan", plan, "--osm", osm, "--cache-dir", cache, "--viewer-token", viewerToken, "--device-token", deviceToken}
	_, out, stop := startServe(t, args...)
	stop()
	for _, want := range []string{"unreadable", "imported " + osm, "wrote " + graph} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("start on a bad graph file: output lacks %q: %q", want, out.String())
		}
	}
	_, out, stop = startServe(t, args...)
	stop()
	if !strings.Contains(out.String(), "loaded graph file "+graph) {
		t.Errorf("next start did not load the rewritten graph file: %q", out.String())
	}
}

// TestServeDemoDevices drives the demo's ingest ports as a terminal, a
// tracker and a phone would, with the demo devices' credentials, then
// revokes one through the admin API and sees its connection closed.
func TestServeDemoDevices(t *testing.T) {
	base, out, stop := startServe(t, "--demo")
	defer stop()
	find := func(re string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("serve printed no %s: %q", re, out.String())
		}
		return m[1]
	}
	jtAddr := find(`JT/T 808 terminals on tcp://(127\.0\.0\.1:\d+)`)
	nmeaAddr := find(`NMEA trackers on tcp://(127\.0\.0\.1:\d+)`)
	osmandURL := find(`OsmAnd \(Traccar Client\) on (http://127\.0\.0\.1:\d+/)`)
	plan, err := loadPlan("", 0)
	if err != nil {
		t.Fatal(err)
	}
	u0, u1, u2 := plan.Units[0], plan.Units[1], plan.Units[2]

	var list struct{ Devices []device.Device }
	if code := getJSON(t, base+"/api/v1/devices", "", &list); code != 200 || len(list.Devices) != 3*len(plan.Units) {
		t.Fatalf("GET devices = %d, %d devices, want %d", code, len(list.Devices), 3*len(plan.Units))
	}

	// JT/T 808: register as the first unit's terminal, authenticate with
	// the code it hands out, report a location.
	term := dialTerminal(t, jtAddr, "013900000001")
	ans := term.send(jt808.MsgRegister, registerBody(u0.ID))
	if ans.Header.ID != jt808.MsgRegisterAnswer || len(ans.Body) != 3+32 || ans.Body[2] != jt808.Success {
		t.Fatalf("register of 013900000001 = 0x%04x %q, want success with a code", ans.Header.ID, ans.Body)
	}
	if got := term.result(jt808.MsgAuthenticate, ans.Body[3:]); got != jt808.Success {
		t.Fatalf("authenticate: result %d", got)
	}
	p := geo.CellCenter(u0.Post)
	loc := jt808.AppendLocation(nil, jt808.Location{Status: 2, Point: p, SpeedKPH: 20,
		Time: time.Now().Truncate(time.Second), MileageKM: -1, Satellites: -1, Signal: -1})
	if got := term.result(jt808.MsgLocation, loc); got != jt808.Success {
		t.Fatalf("location: result %d", got)
	}

	// NMEA: a login with the second unit's key stays open; a wrong key
	// is shown the door.
	tracker, err := net.Dial("tcp", nmeaAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer tracker.Close()
	fmt.Fprintf(tracker, "$PGID,%s.nmea,demo-%s.nmea\r\n", u1.ID, u1.ID)
	tracker.Write(nmea.Append(nil, nmea.Sentence{Kind: nmea.RMC, TimeOfDay: 0, Date: time.Now().UTC().Truncate(24 * time.Hour),
		Valid: true, Point: geo.CellCenter(u1.Post), SpeedKnots: 1, Course: 0}))
	tracker.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := tracker.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("NMEA connection after a good login: %v, want it left open", err)
	}
	bad, err := net.Dial("tcp", nmeaAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	fmt.Fprintf(bad, "$PGID,%s.nmea,demo-%s\r\n", u1.ID, u1.ID) // the OsmAnd device's key
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bad.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("NMEA connection with the key of another protocol: %v, want EOF", err)
	}

	// OsmAnd on its own port, at /, where the demo motion last put the
	// unit (elsewhere the fix could be an implausible jump).
	at := geo.CellCenter(u2.Post)
	for _, u := range unitsOf(t, base) {
		if u.ID == u2.ID && u.Time != "" {
			at = orb.Point{u.Lon, u.Lat}
		}
	}
	q := url.Values{"id": {u2.ID}, "key": {"demo-" + u2.ID}, "lat": {fmt.Sprint(at[1])},
		"lon": {fmt.Sprint(at[0])}, "timestamp": {fmt.Sprint(time.Now().Unix())}}
	if code := getJSON(t, osmandURL+"?"+q.Encode(), "", nil); code != 200 {
		t.Errorf("OsmAnd port with the demo key = %d, want 200", code)
	}
	q.Set("key", "guess")
	if code := getJSON(t, osmandURL+"?"+q.Encode(), "", nil); code != 401 {
		t.Errorf("OsmAnd port with a wrong key = %d, want 401", code)
	}

	// What cannot be read is counted, per protocol: a JT/T 808 frame with
	// a wrong checksum, an NMEA line with one, an OsmAnd latitude that is
	// not a number.
	junk, err := net.Dial("tcp", jtAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	junk.Write([]byte{0x7e, 0x00, 0x02, 0x00, 0x00, 0x01, 0x7e})
	fmt.Fprintf(tracker, "$GPRMC,000000.00,A,4337.2,N,12215.6,E,0,0,281126,,,A*00\r\n")
	q.Set("key", "demo-"+u2.ID)
	q.Set("lat", "north")
	if code := getJSON(t, osmandURL+"?"+q.Encode(), "", nil); code != 400 {
		t.Errorf("OsmAnd port with lat=north = %d, want 400", code)
	}
	want := map[string]float64{"jt808": 1, "nmea": 1, "osmand": 1}
	var got map[string]float64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = malformedCounts(t, base); maps.Equal(got, want) {
			break
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("patrolgrid_malformed_input_total = %v, want %v", got, want)
	}

	// Revoking the first unit's device closes its terminal's connection
	// at its next message.
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/devices/"+u0.ID+".jt808", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("DELETE devices/%s = %d", u0.ID, resp.StatusCode)
	}
	term.write(jt808.MsgHeartbeat, nil)
	term.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := term.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("terminal connection after its device was revoked: %v, want EOF", err)
	}
}

// registerBody returns a 2013 registration (0x0100) of terminal id.
func registerBody(terminal string) []byte {
	return jt808.AppendRegister(nil, false, jt808.Register{Maker: "PGRID", Model: "test", TerminalID: terminal}, "TEST")
}

// malformedCounts reads patrolgrid_malformed_input_total by source from
// the /metrics of the server at base.
func malformedCounts(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	re := regexp.MustCompile(`(?m)^patrolgrid_malformed_input_total\{source="(\w+)"\} (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[m[1]] = v
	}
	return out
}

// terminal is a bare JT/T 808 terminal for serve tests.
type terminal struct {
	t      *testing.T
	conn   net.Conn
	r      *bufio.Reader
	phone  string
	serial uint16
}

func dialTerminal(t *testing.T, addr, phone string) *terminal {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &terminal{t: t, conn: conn, r: bufio.NewReader(conn), phone: phone}
}

func (c *terminal) write(id uint16, body []byte) {
	c.t.Helper()
	c.serial++
	b, err := jt808.AppendFrame(nil, jt808.Header{ID: id, Phone: c.phone, Serial: c.serial}, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// send writes message id and returns the server's answer.
func (c *terminal) send(id uint16, body []byte) jt808.Message {
	c.t.Helper()
	c.write(id, body)
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		b, err := c.r.ReadSlice(0x7e)
		if err != nil {
			c.t.Fatalf("read answer to 0x%04x: %v", id, err)
		}
		if len(b) == 1 {
			continue
		}
		m, err := jt808.DecodeFrame(b)
		if err != nil {
			c.t.Fatalf("answer % x: %v", b, err)
		}
		return m
	}
}

// result sends id and returns the result of the general reply.
func (c *terminal) result(id uint16, body []byte) byte {
	c.t.Helper()
	m := c.send(id, body)
	if m.Header.ID != jt808.MsgPlatformReply || len(m.Body) != 5 {
		c.t.Fatalf("answer to 0x%04x = 0x%04x % x, want a general reply", id, m.Header.ID, m.Body)
	}
	return m.Body[4]
}

// TestServeRedisDevices runs two servers of one city on one Redis: a
// device added through one is known to the other, and revoking it
// through the first closes its terminal's connection on the second
// within a moment.
func TestServeRedisDevices(t *testing.T) {
	redisURL := redistest.Start(t).URL()
	args := []string{"--redis", redisURL, "--redis-city", "devices-test", "--viewer-token", viewerToken, "--admin-token", adminToken}
	baseA, _, stopA := startServe(t, args...)
	defer stopA()
	baseB, outB, stopB := startServe(t, args...)
	defer stopB()
	jtB := regexp.MustCompile(`JT/T 808 terminals on tcp://(127\.0\.0\.1:\d+)`).FindStringSubmatch(outB.String())
	if jtB == nil {
		t.Fatalf("second server printed no JT/T 808 address: %q", outB.String())
	}

	req, _ := http.NewRequest(http.MethodPost, baseA+"/api/v1/devices", strings.NewReader(`{"id":"car-1","unit":"V01","phone":"13800000001","terminal":"CAR0001"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST devices on the first server = %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(5 * time.Second); getJSON(t, baseB+"/api/v1/devices/car-1", adminToken, nil) != 200; {
		if time.Now().After(deadline) {
			t.Fatal("the second server does not know car-1 5 s after it was added")
		}
		time.Sleep(5 * time.Millisecond)
	}

	term := dialTerminal(t, jtB[1], "013800000001")
	ans := term.send(jt808.MsgRegister, registerBody("CAR0001"))
	if len(ans.Body) != 3+32 || ans.Body[2] != jt808.Success {
		t.Fatalf("register on the second server = % x, want success with a code", ans.Body)
	}
	if got := term.result(jt808.MsgAuthenticate, ans.Body[3:]); got != jt808.Success {
		t.Fatalf("authenticate on the second server: result %d", got)
	}

	req, _ = http.NewRequest(http.MethodDelete, baseA+"/api/v1/devices/car-1", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	revoked := time.Now()
	if resp.StatusCode != 200 {
		t.Fatalf("DELETE devices/car-1 on the first server = %d", resp.StatusCode)
	}
	// Heartbeats until the second server closes the connection.
	for {
		term.write(jt808.MsgHeartbeat, nil)
		term.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := term.r.ReadSlice(0x7e)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("heartbeat after revocation: %v", err)
		}
		for len(b) == 1 { // the opening flag of the reply
			b, _ = term.r.ReadSlice(0x7e)
		}
		if time.Since(revoked) > time.Second {
			t.Fatal("the second server still answers the revoked terminal 1 s after the revocation")
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("revocation on one server closed the terminal's connection on the other after %v", time.Since(revoked))
}

// TestServeTimeouts holds a client that stalls in its request body to
// --read-timeout and an idle connection to --idle-timeout, while a live
// websocket outlasts --write-timeout.
func TestServeTimeouts(t *testing.T) {
	base, _, stop := startServe(t, "--demo", "--read-timeout", "500ms", "--write-timeout", "1s", "--idle-timeout", "1s")
	defer stop()
	closedWithin := func(what, request string, limit time.Duration) {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, request); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		conn.SetReadDeadline(start.Add(10 * time.Second))
		_, err = io.Copy(io.Discard, conn)
		if took := time.Since(start); err != nil || took > limit {
			t.Errorf("%s: closed after %v (%v), want within %v", what, took.Round(time.Millisecond), err, limit)
		}
	}
	closedWithin("a body that never comes", "POST /api/v1/osmand HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 1000\r\n\r\nid=V01", 3*time.Second)
	closedWithin("an idle connection after a request", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 4*time.Second)
	live := dialLive(t, base)
	past := time.Now().Add(1500 * time.Millisecond)   // past the write timeout
	for live.next(t, 5*time.Second).at.Before(past) { // read until a message comes after it
	}
}

// TestServeDemoStaysOnLoopback refuses a demo, whose devices' keys are
// public, an ingest port beyond loopback even with tokens set.
func TestServeDemoStaysOnLoopback(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--demo", "--listen", "127.0.0.1:0", "--viewer-token", viewerToken,
		"--device-token", deviceToken, "--jt808-listen", "0.0.0.0:0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "refusing to open --jt808-listen 0.0.0.0:0 beyond loopback") {
		t.Errorf("serve --demo with tokens and a JT/T 808 port on every interface: %v, want refused", err)
	}
}

// credentialsFile writes a credentials file of lines and returns its path.
func credentialsFile(t *testing.T, lines ...string) string {
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
