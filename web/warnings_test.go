package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// TestWarningsAPI: a unit that falls silent past the lost limit raises a
// yellow warning, which a dispatcher acknowledges, hands to a station and
// closes with feedback through the API, each step attributed; a step out
// of order is 409, an unknown warning 404, a close without an outcome
// 400, and a viewer may look but not act.
func TestWarningsAPI(t *testing.T) {
	const viewer, disp, dev = "viewer-token-of-the-warning-test", "dispatcher-token-of-the-warning-test", "device-token-of-the-warning-test"
	clock := realtimetest.NewClock(time.Now())
	tc := startCityAt(t, Access{ViewerTokens: []string{viewer}, DispatcherTokens: []string{disp}, DeviceTokens: []string{dev}}, false, clock.Now)
	u := tc.plan.Units[0]
	p := geo.CellCenter(u.Post)
	fix := fmt.Sprintf(`{"fixes":[{"unit":%q,"time":%q,"lat":%v,"lon":%v}]}`, u.ID, clock.Now().UTC().Format(time.RFC3339Nano), p[1], p[0])
	if code, body := call(t, "POST", tc.url+"/api/v1/fixes", dev, "application/json", fix); code != 200 {
		t.Fatalf("POST fixes = %d %v", code, body)
	}
	clock.Set(clock.Now().Add(6 * time.Minute))
	var list struct {
		Warnings []warning.Warning
		Figures  warning.Figures
	}
	realtimetest.WaitFor(t, "the lost unit's warning", func() bool {
		getJSONAuth(t, tc.url+"/api/v1/warnings", viewer, &list)
		for _, w := range list.Warnings {
			if w.Kind == "lost" && w.Subject == u.ID {
				return true
			}
		}
		return false
	})
	var w warning.Warning
	for _, x := range list.Warnings {
		if x.Kind == "lost" && x.Subject == u.ID {
			w = x
		}
	}
	if w.Level != warning.Yellow || w.State != warning.Pushed {
		t.Fatalf("lost unit's warning = %+v, want yellow, pushed", w)
	}
	base := tc.url + "/api/v1/warnings/" + w.ID
	for _, step := range []struct {
		path, token, body string
		want              int
		code              string
	}{
		{"/acknowledge", viewer, "", 401, "unauthorized"},
		{"/handle", disp, `{"note":"x"}`, 409, "warning_state"},
		{"/acknowledge", disp, "", 200, ""},
		{"/handle", disp, `{"note":"station 3 calls the crew"}`, 200, ""},
		{"/close", disp, `{"note":"no outcome"}`, 400, "bad_feedback"},
		{"/close", disp, `{"outcome":"resolved","note":"radio flat, crew fine"}`, 200, ""},
		{"/close", disp, `{"outcome":"resolved"}`, 409, "warning_state"},
	} {
		if code, body := call(t, "POST", base+step.path, step.token, "application/json", step.body); code != step.want || errCode(body) != step.code {
			t.Errorf("POST %s = %d %v, want %d %s", step.path, code, body, step.want, step.code)
		}
	}
	if code, body := call(t, "POST", tc.url+"/api/v1/warnings/W999/acknowledge", disp, "", ""); code != 404 || errCode(body) != "unknown_warning" {
		t.Errorf("an unknown warning = %d %v, want 404 unknown_warning", code, body)
	}
	getJSONAuth(t, tc.url+"/api/v1/warnings", viewer, &list)
	if list.Figures.ThroughLoop < 1 || list.Figures.Closed < 1 {
		t.Errorf("figures = %+v, want the closed warning through the loop", list.Figures)
	}
	for _, x := range list.Warnings {
		if x.ID == w.ID && (len(x.Steps) != 4 || x.Steps[1].By != label(RoleDispatcher, disp) || x.Feedback == nil || x.Feedback.Outcome != "resolved") {
			t.Errorf("closed warning = %+v", x)
		}
	}
}
