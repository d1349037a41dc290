package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// TestDeviceRateLimit: a device that sends faster than its limit gets
// 429 rate_limited with Retry-After, on the API and on the OsmAnd port
// alike (one budget), counted; another device is not held back.
func TestDeviceRateLimit(t *testing.T) {
	limits := ingest.NewLimits(5) // 10 at once
	dc := startDeviceCityWith(t, Config{Access: Access{ViewerTokens: []string{"viewer-token-of-the-limit-test"},
		DeviceTokens: []string{"device-token-of-the-limit-test"}}, DeviceLimits: limits})
	_, key, err := dc.devices.Add(t.Context(), device.Spec{ID: "car-1", Unit: dc.plan.Units[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	_, key2, err := dc.devices.Add(t.Context(), device.Spec{ID: "car-2", Unit: dc.plan.Units[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for i := range 12 {
		base := dc.api + "/api/v1/osmand?"
		if i%2 == 1 {
			base = dc.osmand + "/?"
		}
		code, body := call(t, "GET", base+dc.fixQuery("car-1", 0, "key", key), "", "", "")
		if code == http.StatusTooManyRequests && errCode(body) != "rate_limited" {
			t.Errorf("429 with code %q, want rate_limited", errCode(body))
		}
		codes = append(codes, code)
	}
	ok, limited := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 429:
			limited++
		}
	}
	if ok < 10 || limited < 1 || ok+limited != len(codes) {
		t.Errorf("12 fixes at once of a device limited to 5 a second (10 at once): %v, want 10 or 11 taken and the rest 429", codes)
	}
	if code, _ := call(t, "GET", dc.api+"/api/v1/osmand?"+dc.fixQuery("car-2", 1, "key", key2), "", "", ""); code != 200 {
		t.Errorf("another device = %d, want 200", code)
	}
	if n := realtimetest.Counter(t, dc.metrics, "patrolgrid_rate_limited_total", "source", fix.SourceOsmAnd, "limit", "device"); n != float64(limited) {
		t.Errorf("patrolgrid_rate_limited_total{osmand,device} = %v, want %d", n, limited)
	}
}

// TestAddressRateLimit: an address past its limit gets 429 on the API,
// counted; another address and loopback are not held back.
func TestAddressRateLimit(t *testing.T) {
	const viewer = "viewer-token-of-the-limit-test"
	tc := startCity(t, Access{ViewerTokens: []string{viewer}}, false)
	h := NewHandler(tc.city, realtime.NewHub(realtime.HubConfig{}), Config{Access: Access{ViewerTokens: []string{viewer}}, AddressLimits: ingest.NewLimits(2)})
	get := func(addr string) int {
		req := httptest.NewRequest("GET", "/api/v1/units", nil)
		req.RemoteAddr = addr
		req.Header.Set("Authorization", "Bearer "+viewer)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "1" {
			t.Errorf("429 without Retry-After: 1")
		}
		return w.Code
	}
	var codes []int
	for range 5 {
		codes = append(codes, get("203.0.113.9:40000"))
	}
	if codes[3] != 200 || codes[4] != 429 {
		t.Errorf("5 requests at once from an address limited to 2 a second (4 at once) = %v, want 4 × 200 then 429", codes)
	}
	if code := get("198.51.100.7:40000"); code != 200 {
		t.Errorf("another address = %d, want 200", code)
	}
	for range 10 {
		if code := get("127.0.0.1:40000"); code != 200 {
			t.Fatalf("loopback = %d, want 200 (not limited)", code)
		}
	}
}
