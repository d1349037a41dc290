package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/patrolgrid/patrolgrid/realtime/access"
)

// Tokens of the login tests, each 22 characters or more.
const (
	loginViewer     = "viewer-token-of-the-login-test"
	loginDispatcher = "dispatcher-token-of-the-login-test"
	loginAdmin      = "admin-token-of-the-login-test-000"
)

// TestLogin: a browser without a credential is sent to the login page;
// its token there gives it an HttpOnly, SameSite=Strict session cookie
// that opens the pages, the API and the live feed with that token's
// roles alone; a wrong token goes back to the form; logout ends the
// session; and a session whose token the server no longer holds is
// refused, on another server of the same store too.
func TestLogin(t *testing.T) {
	mem := &access.Memory{}
	who := Access{ViewerTokens: []string{loginViewer}, DispatcherTokens: []string{loginDispatcher},
		Credentials: []Credential{{Role: RoleAdmin, Label: "admin:duty-officer", Sum: TokenSum(loginAdmin)}}}
	cfg := Config{Access: who, Sessions: mem, Audit: mem, Logger: slog.New(slog.DiscardHandler)}
	tc := startCityWith(t, cfg, false, time.Now)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}

	resp, err := browser.Get(tc.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" || !strings.Contains(string(page), `name="token"`) {
		t.Fatalf("GET / without a credential ended at %s, want the login form", resp.Request.URL)
	}
	login := func(tok string) *http.Response {
		resp, err := browser.PostForm(tc.url+"/login", url.Values{"token": {tok}, "next": {"/planner"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := login("not-a-token-of-this-server"); resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("failed") != "1" {
		t.Errorf("a wrong token ended at %s, want the login form, failed", resp.Request.URL)
	}
	cookieOf := func(resp *http.Response) *http.Cookie {
		for _, c := range resp.Request.Response.Cookies() {
			if c.Name == sessionCookie {
				return c
			}
		}
		return nil
	}
	resp = login(loginViewer)
	c := cookieOf(resp)
	if resp.Request.URL.Path != "/planner" || resp.StatusCode != 200 || c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode ||
		len(c.Value) < 43 || strings.Contains(c.Value, loginViewer) {
		t.Fatalf("login as a viewer ended at %s %d with cookie %+v, want /planner and an HttpOnly, SameSite=Strict session", resp.Request.URL,
			resp.StatusCode, c)
	}
	for path, want := range map[string]int{"/api/v1/units": 200, "/api/v1/incidents": 200, "/api/v1/audit": 401, "/style.css": 200} {
		if resp, err := browser.Get(tc.url + path); err != nil || resp.StatusCode != want {
			t.Errorf("GET %s with the viewer's session = %v %v, want %d", path, resp.StatusCode, err, want)
		}
	}
	if resp, _ := browser.Post(tc.url+"/api/v1/incidents", "application/json", strings.NewReader(`{"lat":43.62,"lon":122.26,"priority":1}`)); resp.StatusCode != 401 {
		t.Errorf("a viewer's session reports an incident: %d, want 401", resp.StatusCode)
	}
	hdr := http.Header{"Cookie": {sessionCookie + "=" + c.Value}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(tc.url, "http")+"/api/v1/live", hdr)
	if err != nil {
		t.Fatalf("the live feed with the session cookie: %v", err)
	}
	ws.Close()

	// Another server of the same store knows the session; one that no
	// longer holds the viewer token refuses it.
	other := startCityWith(t, cfg, false, time.Now)
	cfg.Access.ViewerTokens = nil
	gone := startCityWith(t, cfg, false, time.Now)
	for _, tc := range []struct {
		base string
		want int
	}{{other.url, 200}, {gone.url, 401}} {
		req, _ := http.NewRequest("GET", tc.base+"/api/v1/units", nil)
		req.AddCookie(c)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != tc.want {
			t.Errorf("the session on %s = %v %v, want %d", tc.base, resp.StatusCode, err, tc.want)
		}
	}

	if resp, err := browser.Post(tc.url+"/logout", "", nil); err != nil || resp.Request.URL.Path != "/login" {
		t.Fatalf("logout = %v, %v", resp, err)
	}
	req, _ := http.NewRequest("GET", tc.url+"/api/v1/units", nil)
	req.AddCookie(c)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("the cookie after logout = %v %v, want 401", resp.StatusCode, err)
	}

	// The audit log has both logins, the refusal and the logout, by whom
	// and from where, newest first, for admins alone.
	var audit struct{ Entries []access.AuditEntry }
	code, body := call(t, "GET", tc.url+"/api/v1/audit", loginAdmin, "", "")
	raw, _ := json.Marshal(body)
	json.Unmarshal(raw, &audit)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action+" "+e.By+" "+e.From)
	}
	want := []string{"logout viewer:" + TokenSum(loginViewer)[:8] + " 127.0.0.1", "login viewer:" + TokenSum(loginViewer)[:8] + " 127.0.0.1",
		"login.refused anonymous 127.0.0.1"}
	if code != 200 || strings.Join(actions, "; ") != strings.Join(want, "; ") {
		t.Errorf("GET audit = %d %v, want %v", code, actions, want)
	}
}

// TestAuditChanges: every change through the API is in the audit log,
// with the label of the credential that made it.
func TestAuditChanges(t *testing.T) {
	mem := &access.Memory{}
	const gateway = "device-token-of-the-login-test"
	cfg := Config{Access: Access{DispatcherTokens: []string{loginDispatcher}, AdminTokens: []string{loginAdmin}, DeviceTokens: []string{gateway}},
		Sessions: mem, Audit: mem, Logger: slog.New(slog.DiscardHandler)}
	tc := startCityWith(t, cfg, false, time.Now)
	u0, u1 := tc.plan.Units[0].ID, tc.plan.Units[1].ID
	placeAtPosts(t, tc, incidentClient{t, tc.url, gateway})
	steps := []struct{ method, path, token, body string }{
		{"PUT", "/api/v1/units/" + u1 + "/status", loginDispatcher, `{"status":"off_duty"}`},
		{"POST", "/api/v1/incidents", loginDispatcher, `{"lat":43.62,"lon":122.26,"priority":1,"kind":"theft"}`},
		{"POST", "/api/v1/incidents/I1/dispatch", loginDispatcher, `{"unit":"` + u0 + `"}`},
		{"POST", "/api/v1/incidents/I1/close", loginDispatcher, ``},
		{"POST", "/api/v1/devices", loginAdmin, `{"id":"car-9","unit":"` + u1 + `"}`},
		{"DELETE", "/api/v1/devices/car-9", loginAdmin, ``},
	}
	for _, s := range steps {
		if code, body := call(t, s.method, tc.url+s.path, s.token, "application/json", s.body); code/100 != 2 {
			t.Fatalf("%s %s = %d %v", s.method, s.path, code, body)
		}
	}
	entries, err := mem.ListAudit(t.Context(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	disp, admin := label(RoleDispatcher, loginDispatcher), label(RoleAdmin, loginAdmin)
	want := []string{"device.revoke car-9 " + admin, "device.add car-9 " + admin, "incident.close I1 " + disp,
		"incident.dispatch I1 " + disp, "incident.report I1 " + disp, "unit.status " + u1 + " " + disp}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Target+" "+e.By)
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit log = %v, want %v", got, want)
	}
}
