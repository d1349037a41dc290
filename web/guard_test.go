package web

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestGuard refuses, on the open demo server, what another site's page
// could make a browser send: a cross-origin POST of text/plain, a request
// under a name that only resolves to loopback, and a websocket from a
// page of another scheme; a page of the server itself, and a client that
// sends no Origin, go through.
func TestGuard(t *testing.T) {
	base := startCity(t, Access{Open: true}, false).url
	host := strings.TrimPrefix(base, "http://")
	send := func(method, path, origin, hostHeader, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if hostHeader != "" {
			req.Host = hostHeader
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e apiError
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error.Code
	}
	incident := `{"lat":43.62,"lon":122.26,"priority":1,"kind":"theft"}`
	for _, tc := range []struct {
		name, method, path, origin, host, code string
	}{
		{"POST from another site", "POST", "/api/v1/incidents", "http://evil.example", "", "cross_origin"},
		{"POST from the server over https", "POST", "/api/v1/incidents", "https://" + host, "", "cross_origin"},
		{"POST with a user in the origin", "POST", "/api/v1/incidents", "http://x@" + host, "", "cross_origin"},
		{"GET under a rebound name", "GET", "/api/v1/units", "", "evil.example:80", "bad_host"},
		{"POST from the server's page", "POST", "/api/v1/incidents", "http://" + host, "", ""},
		{"POST with no Origin", "POST", "/api/v1/incidents", "", "", ""},
		{"GET under localhost", "GET", "/api/v1/units", "", "localhost", ""},
		{"GET under the IPv6 loopback", "GET", "/api/v1/units", "", "[::1]:8080", ""},
	} {
		status, code := send(tc.method, tc.path, tc.origin, tc.host, incident)
		if tc.code != "" && (status != http.StatusForbidden || code != tc.code) {
			t.Errorf("%s: %d %q, want 403 %s", tc.name, status, code, tc.code)
		}
		if tc.code == "" && status == http.StatusForbidden {
			t.Errorf("%s: 403 %s, want it through", tc.name, code)
		}
	}
	ws := "ws://" + host + "/api/v1/live"
	if _, _, err := websocket.DefaultDialer.Dial(ws, http.Header{"Origin": {"https://" + host}}); err == nil {
		t.Error("websocket from an https page of the plain server: accepted, want refused")
	}
	conn, _, err := websocket.DefaultDialer.Dial(ws, http.Header{"Origin": {"http://" + host}})
	if err != nil {
		t.Fatalf("websocket from the server's page: %v", err)
	}
	conn.Close()
}

// TestAdminDoesEverything lets an admin token read and act as every role
// does, while a viewer token still only reads.
func TestAdminDoesEverything(t *testing.T) {
	base := startCity(t, Access{ViewerTokens: []string{"view-token"}, DeviceTokens: []string{"device-token"},
		AdminTokens: []string{"admin-token"}}, false).url
	do := func(method, path, tok, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	incident := `{"lat":43.62,"lon":122.26,"priority":1,"kind":"theft"}`
	for _, tc := range []struct {
		method, path, tok, body string
		want                    int
	}{
		{"GET", "/api/v1/units", "admin-token", "", http.StatusOK},
		{"GET", "/api/v1/devices", "admin-token", "", http.StatusOK},
		{"POST", "/api/v1/incidents", "admin-token", incident, http.StatusCreated},
		{"GET", "/api/v1/units", "view-token", "", http.StatusOK},
		{"POST", "/api/v1/incidents", "view-token", incident, http.StatusUnauthorized},
		{"GET", "/api/v1/devices", "view-token", "", http.StatusUnauthorized},
	} {
		if got := do(tc.method, tc.path, tc.tok, tc.body); got != tc.want {
			t.Errorf("%s %s with %s: %d, want %d", tc.method, tc.path, tc.tok, got, tc.want)
		}
	}
}

// TestOsmAndCredentialBeforeBody: requests to /api/v1/osmand whose body
// never comes are answered 401 and closed at once when they show no
// credential outside the body, or a wrong one; twenty of them stay open
// no longer than a second.
func TestOsmAndCredentialBeforeBody(t *testing.T) {
	dc := startDeviceCity(t, Access{ViewerTokens: []string{"viewer-token-of-the-guard-test"}, DeviceTokens: []string{"device-token-of-the-guard-test"}})
	heads := []string{
		"POST /api/v1/osmand?id=V01 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
		"POST /api/v1/osmand?id=V01&key=guess HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
		"POST /api/v1/osmand HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-a-gateway\r\nContent-Length: 1000\r\n\r\n{",
	}
	for _, base := range []string{dc.api, dc.osmand} { // the API, and the OsmAnd port at /
		stalledBodies(t, strings.TrimPrefix(base, "http://"), heads, base == dc.osmand)
	}
}

// stalledBodies opens 20 connections to addr, each sending one of heads
// (to / on the OsmAnd port) and no more of its body, and checks that each
// is answered 401 and closed within a second.
func stalledBodies(t *testing.T, addr string, heads []string, port bool) {
	t.Helper()
	if port {
		for i, h := range heads {
			heads[i] = strings.Replace(h, "/api/v1/osmand", "/", 1)
		}
	}
	start := time.Now()
	var conns []net.Conn
	for i := range 20 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte(heads[i%len(heads)])); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	for i, conn := range conns {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(conn)
		if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 401") {
			t.Errorf("request %d (%.40q…): read %.60q, %v; want a 401 and the connection closed", i, heads[i%len(heads)], got, err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("20 stalled bodies without a good credential held their connections %v, want under a second", d)
	}
}
