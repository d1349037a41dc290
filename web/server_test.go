package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/demo"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

type testCity struct {
	url  string
	plan *patrol.Plan
	city *realtime.City
	now  func() time.Time // the city's clock
}

// startCity boots the real router over the embedded demo city, with a
// memory store, on httptest. With demo set the built-in simulation moves
// the units.
func startCity(t testing.TB, access Access, moving bool) testCity {
	t.Helper()
	return startCityAt(t, access, moving, time.Now)
}

// startCityAt is startCity with the city on clock now.
func startCityAt(t testing.TB, access Access, moving bool, now func() time.Time) testCity {
	t.Helper()
	return startCityWith(t, Config{Access: access}, moving, now)
}

// startCityWith is startCityAt with the server's whole configuration.
func startCityWith(t testing.TB, cfg Config, moving bool, now func() time.Time) testCity {
	t.Helper()
	plan, city, hub := citytest.NewDemoConfig(t, realtime.CityConfig{Now: now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 3)
	run := func(f func(context.Context) error) {
		go func() { f(ctx); done <- struct{}{} }()
	}
	run(hub.Run)
	run(city.Run)
	n := 2
	if moving {
		d := demo.New(plan, demo.Config{})
		run(func(ctx context.Context) error {
			return d.Run(ctx, func(ctx context.Context, fixes []fix.Fix) error {
				_, err := city.Ingest(ctx, fixes)
				return err
			})
		})
		n++
	}
	srv := httptest.NewServer(NewHandler(city, hub, cfg))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		cancel()
		srv.Close()
		for range n {
			<-done
		}
	})
	for !city.Ready() {
		time.Sleep(time.Millisecond)
	}
	return testCity{url: srv.URL, plan: plan, city: city, now: now}
}

// startDemoServer serves the demo city with its units moving, open as on
// loopback, and returns its base URL.
func startDemoServer(t *testing.T) string {
	return startCity(t, Access{Open: true}, true).url
}

func dial(t *testing.T, base, query string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/live" + query
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", u, err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readMessage(t *testing.T, conn *websocket.Conn) realtime.Message {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m realtime.Message
	if err := conn.ReadJSON(&m); err != nil {
		t.Fatalf("read live message: %v", err)
	}
	return m
}

// waitUnit reads diffs until one moves unit id to within 1e-6° of p, and
// returns the cells seen changing on the way.
func waitUnit(t *testing.T, conn *websocket.Conn, id string, p orb.Point) []realtime.CellView {
	t.Helper()
	var cells []realtime.CellView
	for {
		m := readMessage(t, conn)
		cells = append(cells, m.Cells...)
		for _, u := range m.Units {
			if u.ID == id && u.Lat != nil && abs(*u.Lat-p[1]) < 1e-6 && abs(*u.Lon-p[0]) < 1e-6 {
				return cells
			}
		}
	}
}

func abs(x float64) float64 { return max(x, -x) }

func sendOsmAnd(t *testing.T, base, id string, p orb.Point, at time.Time) *http.Response {
	t.Helper()
	q := url.Values{"id": {id}, "lat": {fmt.Sprint(p[1])}, "lon": {fmt.Sprint(p[0])},
		"timestamp": {fmt.Sprint(at.Unix())}, "speed": {"5"}, "bearing": {"90"}}
	resp, err := http.Get(base + "/api/v1/osmand?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d %s", u, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// TestLiveEndToEnd sends OsmAnd fixes to the real router and watches a
// real websocket client see the unit move and the cells around it change.
func TestLiveEndToEnd(t *testing.T) {
	tc := startCity(t, Access{Open: true}, false)
	conn := dial(t, tc.url, "")
	snap := readMessage(t, conn)
	if snap.Type != "snapshot" || len(snap.Units) != len(tc.plan.Units) || len(snap.Cells) != 0 {
		t.Fatalf("snapshot: type %q, %d units, %d cells; want snapshot, %d units, 0 cells",
			snap.Type, len(snap.Units), len(snap.Cells), len(tc.plan.Units))
	}

	unit := tc.plan.Units[0] // a vehicle
	p := geo.CellCenter(unit.Post)
	now := time.Now()
	if resp := sendOsmAnd(t, tc.url, unit.ID, p, now.Add(-time.Minute)); resp.StatusCode != http.StatusOK {
		t.Fatalf("OsmAnd fix = %d, want 200", resp.StatusCode)
	}
	first := waitUnit(t, conn, unit.ID, p)
	if len(first) < 100 {
		t.Fatalf("first fix of a car changed %d cells, want its whole 5-minute reach", len(first))
	}

	q := geo.PointAt(p, 90, 600) // 600 m east, a minute later
	if resp := sendOsmAnd(t, tc.url, unit.ID, q, now); resp.StatusCode != http.StatusOK {
		t.Fatalf("OsmAnd fix = %d, want 200", resp.StatusCode)
	}
	if moved := waitUnit(t, conn, unit.ID, q); len(moved) == 0 {
		t.Fatal("moving 600 m changed no cell")
	}

	var units struct{ Units []realtime.UnitView }
	getJSON(t, tc.url+"/api/v1/units", &units)
	if u := units.Units[0]; u.ID != unit.ID || u.Lat == nil || abs(*u.Lat-q[1]) > 1e-6 || u.AgeS == nil {
		t.Fatalf("GET units: first unit %+v, want %s at %v with an age", u, unit.ID, q)
	}
	var cov struct {
		Resolution int
		Cells      []realtime.CellView
	}
	getJSON(t, tc.url+"/api/v1/coverage", &cov)
	if cov.Resolution != 10 || len(cov.Cells) < 100 {
		t.Fatalf("GET coverage: resolution %d, %d cells; want 10 and the car's reach", cov.Resolution, len(cov.Cells))
	}
	own := geo.Cell(q, 10)
	found := false
	for _, c := range cov.Cells {
		if c.Cell == own {
			found = c.ETAS != nil && *c.ETAS < 60 && c.N1 == 1
		}
	}
	if !found {
		t.Fatalf("GET coverage: the car's own cell %v is not reached within 1 minute by 1 unit", own)
	}
	var fc struct {
		Type     string
		Features []struct{ Geometry struct{ Type string } }
	}
	getJSON(t, tc.url+"/api/v1/coverage?format=geojson", &fc)
	if fc.Type != "FeatureCollection" || len(fc.Features) != len(cov.Cells) || fc.Features[0].Geometry.Type != "Polygon" {
		t.Fatalf("GET coverage?format=geojson: %s with %d features", fc.Type, len(fc.Features))
	}
	var planFC struct {
		Type     string
		Features []struct{ Properties map[string]any }
	}
	getJSON(t, tc.url+"/api/v1/plan?format=geojson", &planFC)
	if want := 1 + len(tc.plan.Zones) + len(tc.plan.Units); len(planFC.Features) != want {
		t.Fatalf("GET plan?format=geojson: %d features, want %d (boundary, zones, posts)", len(planFC.Features), want)
	}
	var gaps struct{ Zones []realtime.ZoneView }
	getJSON(t, tc.url+"/api/v1/gaps", &gaps)
	if len(gaps.Zones) != len(tc.plan.Zones) {
		t.Fatalf("GET gaps: %d zones, want %d", len(gaps.Zones), len(tc.plan.Zones))
	}
}

func TestFixBatch(t *testing.T) {
	tc := startCity(t, Access{Open: true}, false)
	now := time.Now().UTC().Truncate(time.Second)
	p := geo.CellCenter(tc.plan.Units[1].Post)
	batch := fmt.Sprintf(`{"fixes":[
		{"unit":%[1]q,"time":%[2]q,"lat":%[3]v,"lon":%[4]v},
		{"unit":%[1]q,"time":%[2]q,"lat":%[3]v,"lon":%[4]v},
		{"unit":"nobody","time":%[2]q,"lat":%[3]v,"lon":%[4]v},
		{"unit":%[1]q,"time":%[2]q,"lat":91,"lon":%[4]v},
		{"unit":%[1]q,"time":%[5]q,"lat":%[3]v,"lon":%[4]v},
		{"unit":%[1]q,"time":%[6]q,"lat":%[3]v,"lon":%[4]v}
	]}`, tc.plan.Units[1].ID, now.Format(time.RFC3339), p[1], p[0],
		now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	resp, err := http.Post(tc.url+"/api/v1/fixes", "application/json", strings.NewReader(batch))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Accepted, Stored, Rejected int
		Results                    []struct{ Status, Code string }
	}
	json.NewDecoder(resp.Body).Decode(&out)
	want := []string{"accepted", "rejected duplicate", "rejected unknown_unit", "rejected bad_coordinates",
		"stored out_of_order", "rejected future_time"}
	for i, w := range want {
		if got := strings.TrimSpace(out.Results[i].Status + " " + out.Results[i].Code); got != w {
			t.Errorf("fix %d: %q, want %q", i, got, w)
		}
	}
	if out.Accepted != 1 || out.Stored != 1 || out.Rejected != 4 {
		t.Errorf("counts accepted %d stored %d rejected %d, want 1 1 4", out.Accepted, out.Stored, out.Rejected)
	}

	for _, body := range []string{`{"fixes":`, `[]`, `{"fixes":[{"unit":3}]}`} {
		resp, _ := http.Post(tc.url+"/api/v1/fixes", "application/json", strings.NewReader(body))
		var e apiError
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || e.Error.Code != "bad_request" || e.Error.Message == "" {
			t.Errorf("POST fixes %s = %d %+v, want 400 with an error body", body, resp.StatusCode, e)
		}
	}
}

func TestAccessTokens(t *testing.T) {
	tc := startCity(t, Access{ViewerTokens: []string{"view-secret"}, DeviceTokens: []string{"dev-secret"}}, false)
	p := geo.CellCenter(tc.plan.Units[0].Post)
	fix := fmt.Sprintf(`{"fixes":[{"unit":%q,"time":%q,"lat":%v,"lon":%v}]}`,
		tc.plan.Units[0].ID, time.Now().UTC().Format(time.RFC3339), p[1], p[0])
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/healthz", "", "", 200},
		{"GET", "/api/v1/units", "", "", 401},
		{"GET", "/api/v1/units", "wrong", "", 401},
		{"GET", "/api/v1/units", "dev-secret", "", 401},
		{"GET", "/api/v1/units", "view-secret", "", 200},
		{"GET", "/api/v1/units?token=view-secret", "", "", 200},
		{"GET", "/metrics", "", "", 401},
		{"GET", "/api/v1/live", "", "", 401},
		{"POST", "/api/v1/fixes", "", fix, 401},
		{"POST", "/api/v1/fixes", "view-secret", fix, 401},
		{"POST", "/api/v1/fixes", "dev-secret", fix, 200},
		{"GET", "/api/v1/osmand?id=x&lat=1&lon=1", "", "", 401},
	} {
		req, _ := http.NewRequest(c.method, tc.url+c.path, strings.NewReader(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s with token %q = %d, want %d", c.method, c.path, c.token, resp.StatusCode, c.want)
		}
	}
	if code, where := noRedirect(t, "GET", tc.url+"/", ""); code != http.StatusSeeOther || where != "/login?next=/" {
		t.Errorf("GET / without a token = %d to %q, want 303 to the login page", code, where)
	}
	dial(t, tc.url, "?token=view-secret") // a tool may pass its token in the URL
}

// noRedirect sends a request with token (if any) without following a
// redirect, and returns the status and the Location.
func noRedirect(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func TestUnitStatus(t *testing.T) {
	tc := startCity(t, Access{Open: true}, false)
	id := tc.plan.Units[0].ID
	sendOsmAnd(t, tc.url, id, geo.CellCenter(tc.plan.Units[0].Post), time.Now())
	put := func(path, body string) int {
		req, _ := http.NewRequest("PUT", tc.url+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("/api/v1/units/"+id+"/status", `{"status":"busy"}`); code != 204 {
		t.Fatalf("PUT status busy = %d, want 204", code)
	}
	if code := put("/api/v1/units/"+id+"/status", `{"status":"asleep"}`); code != 400 {
		t.Fatalf("PUT status asleep = %d, want 400", code)
	}
	if code := put("/api/v1/units/nobody/status", `{"status":"busy"}`); code != 404 {
		t.Fatalf("PUT status of unknown unit = %d, want 404", code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var units struct{ Units []realtime.UnitView }
		getJSON(t, tc.url+"/api/v1/units", &units)
		var cov struct{ Cells []realtime.CellView }
		getJSON(t, tc.url+"/api/v1/coverage", &cov)
		if units.Units[0].Status == patrol.Dispatched && len(cov.Cells) == 0 {
			return // a busy unit covers nothing
		}
		if time.Now().After(deadline) {
			t.Fatalf("after PUT busy: status %s, %d cells covered; want busy and none", units.Units[0].Status, len(cov.Cells))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// streetsOSM is a 3 × 3 block of two-way residential streets in the middle
// of the demo city:
//
//	7 - 8 - 9
//	|   |   |
//	4 - 5 - 6
//	|   |   |
//	1 - 2 - 3
const streetsOSM = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="43.615" lon="122.250"/><node id="2" lat="43.615" lon="122.255"/><node id="3" lat="43.615" lon="122.260"/>
 <node id="4" lat="43.619" lon="122.250"/><node id="5" lat="43.619" lon="122.255"/><node id="6" lat="43.619" lon="122.260"/>
 <node id="7" lat="43.623" lon="122.250"/><node id="8" lat="43.623" lon="122.255"/><node id="9" lat="43.623" lon="122.260"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="4"/><nd ref="5"/><nd ref="6"/><tag k="highway" v="residential"/></way>
 <way id="12"><nd ref="7"/><nd ref="8"/><nd ref="9"/><tag k="highway" v="residential"/></way>
 <way id="13"><nd ref="1"/><nd ref="4"/><nd ref="7"/><tag k="highway" v="residential"/></way>
 <way id="14"><nd ref="2"/><nd ref="5"/><nd ref="8"/><tag k="highway" v="residential"/></way>
 <way id="15"><nd ref="3"/><nd ref="6"/><nd ref="9"/><tag k="highway" v="residential"/></way>
</osm>`

// roadServer serves the demo city (not running: only plan-level answers)
// with roads as Config.Roads.
func roadServer(t *testing.T, roads *road.Graph) string {
	t.Helper()
	_, city, hub := citytest.NewDemo(t)
	srv := httptest.NewServer(NewHandler(city, hub, Config{Access: Access{Open: true}, Roads: roads}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRoadsAndTravel checks GET /api/v1/config's travel and GET
// /api/v1/roads on the lattice (404) and on a road graph (its streets).
func TestRoadsAndTravel(t *testing.T) {
	pf, err := road.ReadProfileFile(bytes.NewReader(mustProfiles(t, "default")))
	if err != nil {
		t.Fatal(err)
	}
	net, err := road.ImportOSM(context.Background(), strings.NewReader(streetsOSM), road.OSMXML, road.ImportConfig{Profiles: pf})
	if err != nil {
		t.Fatal(err)
	}
	car := net.Graph("car")
	_, edges := car.Len()
	for _, tc := range []struct {
		name       string
		roads      *road.Graph
		travel     string
		roadStatus int
		lines      int
	}{
		{"lattice", nil, "lattice", http.StatusNotFound, 0},
		{"road", car, "road", http.StatusOK, edges},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := roadServer(t, tc.roads)
			var cfg struct{ Travel string }
			if code := getInto(t, base+"/api/v1/config", &cfg); code != http.StatusOK || cfg.Travel != tc.travel {
				t.Errorf("GET config = %d, travel %q; want 200, %q", code, cfg.Travel, tc.travel)
			}
			var fc struct {
				Type     string
				Features []struct {
					Geometry struct {
						Type        string
						Coordinates [][2]float64
					}
				}
				Error *struct{ Code string }
			}
			code := getInto(t, base+"/api/v1/roads", &fc)
			if code != tc.roadStatus || len(fc.Features) != tc.lines {
				t.Fatalf("GET roads = %d with %d features, want %d with %d", code, len(fc.Features), tc.roadStatus, tc.lines)
			}
			if code == http.StatusNotFound && (fc.Error == nil || fc.Error.Code != "no_roads") {
				t.Errorf("GET roads on the lattice: error %+v, want code no_roads", fc.Error)
			}
			for _, f := range fc.Features {
				if f.Geometry.Type != "LineString" || len(f.Geometry.Coordinates) < 2 {
					t.Errorf("road feature %+v, want a LineString of 2 points or more", f.Geometry)
				}
			}
		})
	}
}

func mustProfiles(t *testing.T, name string) []byte {
	t.Helper()
	b, ok := data.Profiles(name)
	if !ok {
		t.Fatalf("no embedded profile file %q", name)
	}
	return b
}

// getInto GETs url and decodes its JSON body into v, returning the status.
func getInto(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return resp.StatusCode
}

// monacoRoadCity serves a plan over Monaco on the road graph of the
// shared extract osm/monaco.osm.pbf (skipping when it is missing, failing
// under CI=true or PATROLGRID_REQUIRE=1): six units posted at car graph
// nodes, each given a fix at its post, but the last, whose fix is out at
// sea and so off the network. It returns the server's URL.
func monacoRoadCity(t *testing.T) string {
	t.Helper()
	f, err := os.Open(datatest.File(t, "osm/monaco.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := road.ReadProfileFile(bytes.NewReader(mustProfiles(t, "default")))
	if err != nil {
		t.Fatal(err)
	}
	net, err := road.ImportOSM(context.Background(), f, road.OSMPBF, road.ImportConfig{Profiles: pf})
	if err != nil {
		t.Fatal(err)
	}
	car := net.Graph("car")
	nodes, _ := car.Len()
	plan := &patrol.Plan{
		Name: "Monaco", City: "Monaco", Resolution: 10, Timezone: "Europe/Monaco",
		Boundary: orb.Polygon{{{7.409, 43.724}, {7.440, 43.724}, {7.440, 43.752}, {7.409, 43.752}, {7.409, 43.724}}},
		Profiles: []geo.Profile{{Name: "car", SpeedKPH: 30, Detour: 1.35}, {Name: "foot", SpeedKPH: 5, Detour: 1.25}},
		Mechanisms: []patrol.Mechanism{
			{ID: "vehicle", Name: "Vehicle patrol", Profile: "car", CountsResponse: true},
			{ID: "foot", Name: "Foot patrol", Profile: "foot", CountsResponse: true},
		},
	}
	var posts []orb.Point
	for i := range 6 {
		at := car.Node(int32((2*i + 1) * nodes / 12))
		posts = append(posts, at)
		plan.Units = append(plan.Units, patrol.Unit{ID: fmt.Sprintf("M%d", i+1), Name: fmt.Sprintf("Monaco %d", i+1),
			Mechanism: []string{"vehicle", "foot"}[i%2], Post: geo.Cell(at, 10)})
	}
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	posts[5] = orb.Point{7.4360, 43.7330} // at sea
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	router := road.NewRouter(net, grid, road.RouterConfig{Fallback: geo.NewLattice(grid)})
	hub := realtime.NewHub(realtime.HubConfig{})
	city, err := realtime.NewCity(plan, router, store.NewMemory(store.MemoryConfig{}), hub, realtime.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { hub.Run(ctx); done <- struct{}{} }()
	go func() { city.Run(ctx); done <- struct{}{} }()
	srv := httptest.NewServer(NewHandler(city, hub, Config{Access: Access{Open: true}, Roads: car}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		cancel()
		srv.Close()
		<-done
		<-done
	})
	for !city.Ready() {
		time.Sleep(time.Millisecond)
	}
	var fixes []fix.Fix
	for i, u := range plan.Units {
		fixes = append(fixes, fix.Fix{Unit: u.ID, Time: time.Now(), Point: posts[i], SpeedMPS: -1, Heading: -1})
	}
	if _, err := city.Ingest(ctx, fixes); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// TestBrowserRoadMap opens the map of a city on Monaco's road network in
// headless Chromium: the top bar says Road network, the streets are drawn
// under the hexagons, and the unit out at sea is listed off network.
func TestBrowserRoadMap(t *testing.T) {
	requireBrowser(t)
	base := monacoRoadCity(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1600, 1000),
		chromedp.Flag("use-angle", "swiftshader"), chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelAlloc()
	console := &consoleLog{}
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(console.listen))
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	type roadState struct {
		Ready      bool     `json:"ready"`
		Travel     string   `json:"travel"`
		Roads      int      `json:"roads"`
		OffNetwork int      `json:"offNetwork"`
		Coloured   int      `json:"colouredCells"`
		Badge      string   `json:"badge"`
		OffRows    int      `json:"offRows"`
		OffMarker  string   `json:"offMarker"`
		Errors     []string `json:"errors"`
	}
	const read = `(() => {
		const p = window.patrolgrid;
		if (!p) return null;
		return {ready: p.ready, travel: p.travel, roads: p.roads, offNetwork: p.offNetwork,
			colouredCells: p.colouredCells, errors: p.errors,
			badge: document.getElementById('travel')?.textContent || '',
			offRows: document.querySelectorAll('#unit-list tr.off-network').length,
			offMarker: (() => {
				const d = document.querySelector('#map .unit.off-network .unit-disc');
				return d ? getComputedStyle(d).backgroundColor + ' ' + getComputedStyle(d).boxShadow : '';
			})()};
	})()`
	var st *roadState
	for deadline := time.Now().Add(pageWait); ; time.Sleep(200 * time.Millisecond) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[*roadState](read))
		if err == nil && s != nil {
			st = s
			if len(s.Errors)+len(console.all()) > 0 {
				t.Fatalf("the page reported errors: %v %v", s.Errors, console.all())
			}
			if s.Ready && s.OffNetwork == 1 && s.Coloured > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the road map was not ready with one unit off network within %v: %+v (%v)", pageWait, st, err)
		}
	}
	if st.Travel != "road" || st.Badge != "Road network" || st.Roads < 500 || st.OffRows != 1 {
		t.Errorf("road map: travel %q, badge %q, %d road lines, %d rows off network; want road, Road network, ≥ 500, 1",
			st.Travel, st.Badge, st.Roads, st.OffRows)
	}
	// As README says: a dark badge (the page's background colour), circled in
	// the warning orange.
	if !strings.HasPrefix(st.OffMarker, "rgb(10, 15, 22) ") || !strings.Contains(st.OffMarker, "rgb(255, 176, 32)") {
		t.Errorf("off-network marker drawn as %q, want a dark badge rgb(10, 15, 22) circled in rgb(255, 176, 32)", st.OffMarker)
	}
	if dir := os.Getenv("PATROLGRID_ARTIFACTS"); dir != "" {
		if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			path := filepath.Join(dir, "road-map.png")
			if err := os.WriteFile(path, buf, 0o644); err != nil {
				t.Error(err)
			}
			t.Logf("screenshot: %s", path)
		}
	}
}
