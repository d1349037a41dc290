package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// incidentClient calls one test server with one token.
type incidentClient struct {
	t     *testing.T
	base  string
	token string
}

// do sends body (JSON, or nothing when empty) and decodes the answer into
// out unless out is nil; it returns the status and the error code, if any.
func (c incidentClient) do(method, path, body string, out any) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e apiError
	if resp.StatusCode >= 400 {
		json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error.Code
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, ""
}

// placeAtPosts sends one fix per unit of the plan at its post.
func placeAtPosts(t *testing.T, tc testCity, device incidentClient) {
	t.Helper()
	var fixes []string
	now := tc.now().UTC().Format(time.RFC3339)
	for _, u := range tc.plan.Units {
		p := geo.CellCenter(u.Post)
		fixes = append(fixes, fmt.Sprintf(`{"unit":%q,"time":%q,"lat":%v,"lon":%v}`, u.ID, now, p[1], p[0]))
	}
	var out struct{ Accepted int }
	if code, _ := device.do("POST", "/api/v1/fixes", `{"fixes":[`+strings.Join(fixes, ",")+`]}`, &out); code != 200 || out.Accepted != len(fixes) {
		t.Fatalf("POST fixes = %d, %d accepted, want 200 and %d", code, out.Accepted, len(fixes))
	}
	realtimetest.WaitFor(t, "every unit placed", func() bool {
		for _, u := range tc.city.Units() {
			if u.Lat == nil {
				return false
			}
		}
		return true
	})
}

func unitView(t *testing.T, tc testCity, id string) realtime.UnitView {
	t.Helper()
	for _, u := range tc.city.Units() {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("no unit %s", id)
	return realtime.UnitView{}
}

// TestIncidentFlow reports an incident at a vehicle's post, dispatches its
// fastest unit and closes it, through the API as a dispatcher would, and
// checks who may do what and the answers to bad requests.
func TestIncidentFlow(t *testing.T) {
	const viewTok, devTok, dispTok = "view-secret", "dev-secret", "disp-secret"
	tc := startCity(t, Access{ViewerTokens: []string{viewTok}, DeviceTokens: []string{devTok}, DispatcherTokens: []string{dispTok}}, false)
	viewer := incidentClient{t, tc.url, viewTok}
	device := incidentClient{t, tc.url, devTok}
	disp := incidentClient{t, tc.url, dispTok}
	placeAtPosts(t, tc, device)

	target := tc.plan.Units[0] // V01, a vehicle
	p := geo.CellCenter(target.Post)
	report := fmt.Sprintf(`{"lat":%v,"lon":%v,"priority":1,"kind":"theft","note":"bag snatched"}`, p[1], p[0])
	for _, c := range []struct{ name, token, body, code string }{
		{"viewer", viewTok, report, "unauthorized"},
		{"device", devTok, report, "unauthorized"},
		{"priority 5", dispTok, strings.Replace(report, `"priority":1`, `"priority":5`, 1), "bad_incident"},
		{"outside the city", dispTok, `{"lat":43.0,"lon":120.0,"priority":1}`, "bad_incident"},
		{"not a latitude", dispTok, `{"lat":91,"lon":120.0,"priority":1}`, "bad_incident"},
		{"unknown field", dispTok, `{"lat":43.6,"lon":122.2,"priority":1,"units":3}`, "bad_request"},
		{"not JSON", dispTok, `lat=43`, "bad_request"},
	} {
		if _, code := (incidentClient{t, tc.url, c.token}).do("POST", "/api/v1/incidents", c.body, nil); code != c.code {
			t.Errorf("POST incident (%s) = error %q, want %q", c.name, code, c.code)
		}
	}

	var inc incidentAnswer
	if code, _ := disp.do("POST", "/api/v1/incidents", report, &inc); code != http.StatusCreated {
		t.Fatalf("POST incident = %d, want 201", code)
	}
	if inc.ID != "I1" || inc.State != store.Open || inc.Priority != 1 || inc.Note != "bag snatched" || len(inc.Log) != 1 ||
		inc.Log[0].By != label("dispatcher", dispTok) {
		t.Fatalf("reported incident = %+v", inc.Incident)
	}
	if len(inc.Candidates) < 10 || inc.Candidates[0].Unit != target.ID || inc.Candidates[0].ETAS > 60 {
		t.Fatalf("candidates = %+v, want %s first within a minute, and many more", inc.Candidates[:min(3, len(inc.Candidates))], target.ID)
	}
	if !slices.IsSortedFunc(inc.Candidates, func(a, b dispatch.Assessed) int { return cmp.Compare(a.ETAS, b.ETAS) }) {
		t.Errorf("candidates not fastest first: %+v", inc.Candidates)
	}

	var sent incidentAnswer
	if code, _ := disp.do("POST", "/api/v1/incidents/I1/dispatch", `{"unit":"`+target.ID+`"}`, &sent); code != 200 ||
		sent.State != store.Dispatched || sent.Unit != target.ID || sent.Version != 2 {
		t.Fatalf("dispatch = %d %+v, want dispatched to %s at version 2", code, sent.Incident, target.ID)
	}
	realtimetest.WaitFor(t, "the unit dispatched", func() bool { return unitView(t, tc, target.ID).Status == patrol.Dispatched })
	if u := unitView(t, tc, target.ID); u.StatusBy != label("dispatcher", dispTok) || u.StatusAt == nil {
		t.Errorf("dispatched unit = %+v, want status by %s with a time", u, label("dispatcher", dispTok))
	}
	if slices.ContainsFunc(sent.Candidates, func(c dispatch.Assessed) bool { return c.Unit == target.ID }) {
		t.Errorf("the dispatched unit is still a candidate")
	}

	var second incidentAnswer
	disp.do("POST", "/api/v1/incidents", report, &second)
	for _, c := range []struct{ name, path, body, code string }{
		{"twice", "/api/v1/incidents/I1/dispatch", `{"unit":"V02"}`, "incident_state"},
		{"a busy unit", "/api/v1/incidents/I2/dispatch", `{"unit":"` + target.ID + `"}`, "unit_not_available"},
		{"an unknown unit", "/api/v1/incidents/I2/dispatch", `{"unit":"V999"}`, "unknown_unit"},
		{"to an unknown incident", "/api/v1/incidents/I9/dispatch", `{"unit":"V02"}`, "unknown_incident"},
		{"as a viewer", "/api/v1/incidents/I2/dispatch", `{"unit":"V02"}`, "unauthorized"},
	} {
		client := disp
		if c.name == "as a viewer" {
			client = viewer
		}
		if _, code := client.do("POST", c.path, c.body, nil); code != c.code {
			t.Errorf("dispatch %s = error %q, want %q", c.name, code, c.code)
		}
	}

	var closed incidentAnswer
	if code, _ := disp.do("POST", "/api/v1/incidents/I1/close", "", &closed); code != 200 || closed.State != store.Closed ||
		len(closed.Candidates) != 0 || len(closed.Log) != 3 {
		t.Fatalf("close = %d %+v, want closed with 3 log entries and no candidates", code, closed)
	}
	realtimetest.WaitFor(t, "the unit available again", func() bool { return unitView(t, tc, target.ID).Status == patrol.Available })
	if _, code := disp.do("POST", "/api/v1/incidents/I1/close", "", nil); code != "incident_state" {
		t.Errorf("close twice = %q, want incident_state", code)
	}

	var list struct{ Incidents []store.Incident }
	viewer.do("GET", "/api/v1/incidents", "", &list)
	if len(list.Incidents) != 2 || list.Incidents[0].State != store.Closed || list.Incidents[1].State != store.Open {
		t.Errorf("GET incidents = %+v, want I1 closed and I2 open", list.Incidents)
	}
	var got incidentAnswer
	if code, _ := viewer.do("GET", "/api/v1/incidents/I2", "", &got); code != 200 || got.ID != "I2" || len(got.Candidates) == 0 {
		t.Errorf("GET I2 = %d %+v, want it with candidates", code, got)
	}
	if _, code := viewer.do("GET", "/api/v1/incidents/nope", "", nil); code != "unknown_incident" {
		t.Errorf("GET unknown incident = %q, want unknown_incident", code)
	}

	snap := readMessage(t, dial(t, tc.url, "?token="+viewTok))
	if len(snap.Incidents) != 2 {
		t.Errorf("live snapshot holds %d incidents, want 2", len(snap.Incidents))
	}
}
