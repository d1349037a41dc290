package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// deviceCity serves the demo city with a device registry: the API on one
// server, the OsmAnd port on another.
type deviceCity struct {
	api, osmand string
	plan        *patrol.Plan
	city        *realtime.City
	devices     *device.Registry
	metrics     *prometheus.Registry // of the device metrics
}

func startDeviceCity(t *testing.T, access Access) deviceCity {
	t.Helper()
	return startDeviceCityWith(t, Config{Access: access})
}

// startDeviceCityWith is startDeviceCity with more of the configuration:
// its devices and metrics are the city's own.
func startDeviceCityWith(t *testing.T, cfg Config) deviceCity {
	t.Helper()
	plan, city, hub := citytest.NewDemo(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { hub.Run(ctx); done <- struct{}{} }()
	go func() { city.Run(ctx); done <- struct{}{} }()
	reg := prometheus.NewRegistry()
	metrics := device.NewMetrics(reg)
	devices := device.NewRegistry(device.Config{Metrics: metrics})
	cfg.Devices, cfg.Metrics = devices, metrics
	api := httptest.NewServer(NewHandler(city, hub, cfg))
	port := serveOsmAndPort(t, OsmAndConfig(city, cfg))
	t.Cleanup(func() {
		api.CloseClientConnections()
		cancel()
		api.Close()
		<-done
		<-done
	})
	for !city.Ready() {
		time.Sleep(time.Millisecond)
	}
	return deviceCity{api: api.URL, osmand: port, plan: plan, city: city, devices: devices, metrics: reg}
}

// call makes a request and returns the status and the decoded JSON body
// (nil when there is none). auth is a bearer token, "basic:user:pass",
// or empty.
func call(t *testing.T, method, u, auth, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user, pass, ok := strings.Cut(strings.TrimPrefix(auth, "basic:"), ":"); ok && strings.HasPrefix(auth, "basic:") {
		req.SetBasicAuth(user, pass)
	} else if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: body %q is not JSON", method, u, b)
		}
	}
	return resp.StatusCode, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// fixQuery is the OsmAnd query of a fix of device id at the post of
// unit, now, with extra parameters.
func (dc deviceCity) fixQuery(id string, unit int, extra ...string) string {
	p := geo.CellCenter(dc.plan.Units[unit].Post)
	q := url.Values{"id": {id}, "lat": {fmt.Sprint(p[1])}, "lon": {fmt.Sprint(p[0])},
		"timestamp": {fmt.Sprint(time.Now().UnixMilli())}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	time.Sleep(2 * time.Millisecond) // each fix of a unit a later time than the one before
	return q.Encode()
}

func TestDeviceAdminAPI(t *testing.T) {
	dc := startDeviceCity(t, Access{ViewerTokens: []string{"view"}, DeviceTokens: []string{"gateway"}, AdminTokens: []string{"admin"}})
	devices := dc.api + "/api/v1/devices"
	u0, u1 := dc.plan.Units[0].ID, dc.plan.Units[1].ID

	code, body := call(t, "POST", devices, "admin", "application/json", `{"id":"car-1","unit":"`+u0+`"}`)
	key, _ := body["key"].(string)
	d, _ := body["device"].(map[string]any)
	if code != 201 || len(key) != 32 || d["id"] != "car-1" || d["unit"] != u0 || d["protocol"] != "osmand" {
		t.Fatalf("POST devices = %d %v, want 201 with OsmAnd device car-1 and a 32-digit key", code, body)
	}
	code, body = call(t, "POST", devices, "admin", "application/json",
		`{"id":"term-1","unit":"`+u1+`","protocol":"jt808","phone":"013900000001","terminal":"PG00001"}`)
	d, _ = body["device"].(map[string]any)
	if _, hasKey := body["key"]; code != 201 || hasKey || d["phone"] != "13900000001" || d["terminal"] != "PG00001" || d["protocol"] != "jt808" {
		t.Fatalf("POST devices of a terminal = %d %v, want 201 with phone 13900000001, terminal PG00001 and no key", code, body)
	}
	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
		code                            string
	}{
		{"add without a token", "POST", "", "", `{"id":"x","unit":"` + u0 + `"}`, 401, "unauthorized"},
		{"add with a viewer token", "POST", "", "view", `{"id":"x","unit":"` + u0 + `"}`, 401, "unauthorized"},
		{"add with a device token", "POST", "", "gateway", `{"id":"x","unit":"` + u0 + `"}`, 401, "unauthorized"},
		{"list with a viewer token", "GET", "", "view", "", 401, "unauthorized"},
		{"revoke with a device token", "DELETE", "/car-1", "gateway", "", 401, "unauthorized"},
		{"same id", "POST", "", "admin", `{"id":"car-1","unit":"` + u1 + `"}`, 409, "device_exists"},
		{"same phone", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","phone":"13900000001","terminal":"PG00002"}`, 409, "phone_taken"},
		{"a terminal without its terminal id", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","phone":"13900000002"}`, 400, "bad_device"},
		{"a terminal with a key", "POST", "", "admin",
			`{"id":"car-2","unit":"` + u1 + `","phone":"13900000002","terminal":"PG00002","key":"0123456789abcdef0"}`, 400, "bad_device"},
		{"a phone on an OsmAnd device", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","protocol":"osmand","phone":"13900000002"}`, 400, "bad_device"},
		{"an unknown protocol", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","protocol":"gt06"}`, 400, "bad_device"},
		{"unknown unit", "POST", "", "admin", `{"id":"car-2","unit":"nobody"}`, 400, "unknown_unit"},
		{"bad id", "POST", "", "admin", `{"id":"car 2","unit":"` + u1 + `"}`, 400, "bad_device"},
		{"bad phone", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","phone":"+86139","terminal":"PG00002"}`, 400, "bad_device"},
		{"a short key", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","key":"mine"}`, 400, "bad_device"},
		{"a key with a comma", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","key":"0123456789abcdef,"}`, 400, "bad_device"},
		{"an unknown field", "POST", "", "admin", `{"id":"car-2","unit":"` + u1 + `","secret":"x"}`, 400, "bad_request"},
		{"not JSON", "POST", "", "admin", `id=car-2`, 400, "bad_request"},
		{"get unknown", "GET", "/nobody", "admin", "", 404, "unknown_device"},
		{"revoke unknown", "DELETE", "/nobody", "admin", "", 404, "unknown_device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, tc.method, devices+tc.path, tc.token, "application/json", tc.body)
			if code != tc.want || errCode(body) != tc.code {
				t.Errorf("%s %s = %d %v, want %d %s", tc.method, tc.path, code, body, tc.want, tc.code)
			}
		})
	}

	// A terminal provisioned with its key keeps it.
	code, body = call(t, "POST", devices, "admin", "application/json", `{"id":"car-3","unit":"`+u1+`","key":"provisioned-key-0042"}`)
	if got, _ := body["key"].(string); code != 201 || got != "provisioned-key-0042" {
		t.Errorf("POST devices with a key = %d %v, want 201 with that key", code, body)
	}

	// Two devices for one unit; the list shows both and no key.
	code, body = call(t, "POST", devices, "admin", "application/json", `{"id":"phone-1","unit":"`+u0+`"}`)
	key2, _ := body["key"].(string)
	if code != 201 || key2 == "" || key2 == key {
		t.Fatalf("second device of %s = %d %v", u0, code, body)
	}
	req, _ := http.NewRequest("GET", devices+"?unit="+u0, nil)
	req.Header.Set("Authorization", "Bearer admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), key2) || strings.Contains(string(raw), `"key"`) {
		t.Errorf("GET devices shows a key: %s", raw)
	}
	var list struct{ Devices []device.Device }
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Devices) != 2 || list.Devices[0].ID != "car-1" || list.Devices[1].ID != "phone-1" {
		t.Errorf("GET devices?unit=%s = %s, want car-1 and phone-1", u0, raw)
	}
	if code, body := call(t, "GET", devices+"/car-1", "admin", "", ""); code != 200 || body["device"].(map[string]any)["unit"] != u0 {
		t.Errorf("GET devices/car-1 = %d %v", code, body)
	}

	// Revocation: 200 with the time, again 200 unchanged; the key stops
	// working at once, on both OsmAnd endpoints.
	osmandAPI := dc.api + "/api/v1/osmand?"
	if code, body := call(t, "GET", osmandAPI+dc.fixQuery("car-1", 0, "key", key), "", "", ""); code != 200 {
		t.Fatalf("OsmAnd with the key before revocation = %d %v", code, body)
	}
	code, body = call(t, "DELETE", devices+"/car-1", "admin", "", "")
	if code != 200 || body["device"].(map[string]any)["revoked"] == nil {
		t.Fatalf("DELETE devices/car-1 = %d %v, want 200 with its revocation time", code, body)
	}
	for _, u := range []string{osmandAPI, dc.osmand + "/?"} {
		if code, body := call(t, "GET", u+dc.fixQuery("car-1", 0, "key", key), "", "", ""); code != 403 || errCode(body) != "device_revoked" {
			t.Errorf("OsmAnd of a revoked device at %s = %d %v, want 403 device_revoked", u, code, body)
		}
	}
	if code, body := call(t, "GET", osmandAPI+dc.fixQuery("car-1", 0), "gateway", "", ""); code != 403 {
		t.Errorf("OsmAnd of a revoked device through a gateway = %d %v, want 403", code, body)
	}
	if code, body := call(t, "GET", osmandAPI+dc.fixQuery("phone-1", 0, "key", key2), "", "", ""); code != 200 {
		t.Errorf("the unit's other device after revocation = %d %v, want 200", code, body)
	}
}

// TestOsmAndDeviceKeys: every way of showing a key, on the API and on the
// OsmAnd port, and every refusal.
func TestOsmAndDeviceKeys(t *testing.T) {
	dc := startDeviceCity(t, Access{ViewerTokens: []string{"view"}, DeviceTokens: []string{"gateway"}, AdminTokens: []string{"admin"}})
	u0 := dc.plan.Units[0].ID
	_, key, err := dc.devices.Add(context.Background(), device.Spec{ID: "car-1", Unit: u0})
	if err != nil {
		t.Fatal(err)
	}
	// An NMEA tracker's key is good on NMEA alone.
	_, nmeaKey, err := dc.devices.Add(context.Background(), device.Spec{ID: "trk-1", Unit: u0, Protocol: fix.SourceNMEA})
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{dc.api + "/api/v1/osmand", dc.osmand + "/"} {
		for _, tc := range []struct {
			name, method, query, auth, contentType, body string
			want                                         int
			code                                         string
		}{
			{"key in the query", "GET", dc.fixQuery("car-1", 0, "key", key), "", "", "", 200, ""},
			{"key by basic auth", "GET", dc.fixQuery("car-1", 0), "basic:car-1:" + key, "", "", 200, ""},
			{"key as bearer", "GET", dc.fixQuery("car-1", 0), key, "", "", 200, ""},
			{"key in a form body", "POST", "", "", "application/x-www-form-urlencoded", dc.fixQuery("car-1", 0, "key", key), 200, ""},
			{"JSON body, key in the query", "POST", "key=" + key, "", "application/json",
				fmt.Sprintf(`{"device_id":"car-1","location":{"timestamp":%q,"coords":{"latitude":%v,"longitude":%v}}}`,
					time.Now().UTC().Format(time.RFC3339Nano), geo.CellCenter(dc.plan.Units[0].Post)[1], geo.CellCenter(dc.plan.Units[0].Post)[0]),
				200, ""},
			{"gateway token, registered device", "GET", dc.fixQuery("car-1", 0), "gateway", "", "", 200, ""},
			{"gateway token, unit id", "GET", dc.fixQuery(dc.plan.Units[1].ID, 1), "gateway", "", "", 200, ""},
			{"no key", "GET", dc.fixQuery("car-1", 0), "", "", "", 401, "no_device_key"},
			{"wrong key", "GET", dc.fixQuery("car-1", 0, "key", "guess"), "", "", "", 401, "bad_device_key"},
			{"viewer token", "GET", dc.fixQuery("car-1", 0), "view", "", "", 401, "bad_device_key"},
			{"unknown device", "GET", dc.fixQuery("nobody", 0, "key", key), "", "", "", 401, "unknown_device"},
			{"an NMEA tracker's key", "GET", dc.fixQuery("trk-1", 0, "key", nmeaKey), "", "", "", 401, "bad_device_key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := call(t, tc.method, base+"?"+tc.query, tc.auth, tc.contentType, tc.body)
				if code != tc.want || errCode(body) != tc.code {
					t.Errorf("%s %s?%s = %d %v, want %d %s", tc.method, base, tc.query, code, body, tc.want, tc.code)
				}
			})
		}
	}
	var units struct{ Units []realtime.UnitView }
	getJSONAuth(t, dc.api+"/api/v1/units", "view", &units)
	if units.Units[0].Time == nil {
		t.Errorf("%s has no fix after the device's requests", u0)
	}
	if code, _ := call(t, "GET", dc.osmand+"/api/v1/units", "view", "", ""); code != 404 {
		t.Errorf("the OsmAnd port serves GET /api/v1/units: %d, want 404", code)
	}
}

// TestOsmAndOpenDemo: on an open server a request needs no key, but a key
// given must be right and a revoked device stays refused.
func TestOsmAndOpenDemo(t *testing.T) {
	dc := startDeviceCity(t, Access{Open: true})
	u0 := dc.plan.Units[0].ID
	if _, err := dc.devices.Seed(context.Background(), device.DemoSpecs(dc.plan)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		query string
		want  int
	}{
		{"no key", dc.fixQuery(u0, 0), 200},
		{"demo key", dc.fixQuery(u0, 0, "key", "demo-"+u0), 200},
		{"wrong key", dc.fixQuery(u0, 0, "key", "guess"), 401},
	} {
		if code, body := call(t, "GET", dc.osmand+"/?"+tc.query, "", "", ""); code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, body, tc.want)
		}
	}
	if code, body := call(t, "DELETE", dc.api+"/api/v1/devices/"+u0, "", "", ""); code != 200 {
		t.Fatalf("DELETE on the open demo = %d %v", code, body)
	}
	if code, _ := call(t, "GET", dc.osmand+"/?"+dc.fixQuery(u0, 0), "", "", ""); code != 403 {
		t.Errorf("revoked demo device without key = %d, want 403", code)
	}
}

func getJSONAuth(t *testing.T, u, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// serveOsmAndPort runs the OsmAnd port of cfg on a loopback port until
// the test ends and returns its URL.
func serveOsmAndPort(t testing.TB, cfg osmand.Config) string {
	t.Helper()
	return "http://" + realtimetest.ServeTCP(t, osmand.NewServer(cfg))
}

// TestOsmAndPortHTTP: the OsmAnd port answers what it cannot take with
// the API's JSON errors, and a client that stops halfway through a
// request holds up no one else.
func TestOsmAndPortHTTP(t *testing.T) {
	dc := startDeviceCity(t, Access{DeviceTokens: []string{"gateway"}})
	u0 := dc.plan.Units[0].ID

	stalled, err := net.Dial("tcp", strings.TrimPrefix(dc.osmand, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := stalled.Write([]byte("GET /?id=" + u0 + "&lat=43.6")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, method, body, ctype string
		want                      int
		code                      string
	}{
		{"PUT", "PUT", "", "", 405, "method_not_allowed"},
		{"JSON form", "POST", `{"device_id":"` + u0 + `","location":{"timestamp":"` + time.Now().UTC().Format(time.RFC3339Nano) +
			`","coords":{"latitude":43.62,"longitude":122.26}}}`, "application/json", 200, ""},
	} {
		start := time.Now()
		code, body := call(t, tc.method, dc.osmand+"/", "gateway", tc.ctype, tc.body)
		if code != tc.want || errCode(body) != tc.code {
			t.Errorf("%s: %d %v, want %d %q", tc.name, code, body, tc.want, tc.code)
		}
		if d := time.Since(start); d > 5*time.Second { // half the port's request timeout
			t.Errorf("%s took %v beside a stalled client", tc.name, d)
		}
	}

	// A connection closed before it sends anything (a health check) is
	// not counted as malformed; the oversized body and the bad HTTP below
	// are.
	hc, err := net.Dial("tcp", strings.TrimPrefix(dc.osmand, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	hc.Close()

	// Sent raw: the port answers these before reading a body, and closes
	// the connection (so no body is sent: unread bytes would reset it).
	for _, tc := range []struct {
		name, request string
		want          int
		code          string
	}{
		{"body over the limit", fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: %d\r\n\r\n", osmand.MaxBody+1), 413, "too_large"},
		{"not HTTP", "NOT HTTP\r\n\r\n", 400, "bad_request"},
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(dc.osmand, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(tc.request)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var e apiError
		if err := json.NewDecoder(resp.Body).Decode(&e); resp.StatusCode != tc.want || err != nil || e.Error.Code != tc.code {
			t.Errorf("%s: %d %+v (%v), want %d %s", tc.name, resp.StatusCode, e, err, tc.want, tc.code)
		}
		resp.Body.Close()
	}
	if got := realtimetest.Counter(t, dc.metrics, "patrolgrid_malformed_input_total", "source", "osmand"); got != 2 {
		t.Errorf("malformed OsmAnd input counted %v times, want 2", got)
	}
}
