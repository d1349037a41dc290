package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// plannerReply is the answer of the planner's endpoints that give a plan.
type plannerReply struct {
	Plan       *patrol.Plan       `json:"plan"`
	Evaluation planner.Evaluation `json:"evaluation"`
	TookMS     float64            `json:"took_ms"`
	Moved      int                `json:"moved"`
}

// borderMove returns a cell of plan and a unit whose area it may join,
// both areas staying whole.
func borderMove(t *testing.T, plan *patrol.Plan) (h3.Cell, string) {
	t.Helper()
	owner := map[h3.Cell]string{}
	for _, u := range plan.Units {
		for _, c := range u.Area {
			owner[c] = u.ID
		}
	}
	for _, u := range plan.Units {
		for _, c := range u.Area {
			for _, n := range c.GridDisk(1) {
				if to, ok := owner[n]; ok && to != u.ID {
					if _, err := planner.MoveCell(plan, c, to); err == nil {
						return c, to
					}
				}
			}
		}
	}
	t.Fatal("no cell of the plan may change area")
	return 0, ""
}

// TestPlannerAPI walks the planner's endpoints on the demo city: the live
// plan evaluated for a viewer, edits and designs for a planner only, a
// cell moved and a post moved with the plan re-evaluated, edits that
// would break an area refused, and named versions saved, listed and read
// back.
func TestPlannerAPI(t *testing.T) {
	tc := startCity(t, Access{ViewerTokens: []string{"v"}, PlannerTokens: []string{"p"}, DeviceTokens: []string{"d"}}, false)
	viewer := incidentClient{t, tc.url, "v"}
	pl := incidentClient{t, tc.url, "p"}
	for _, tok := range []string{"v", "p"} {
		if code, _ := (incidentClient{t, tc.url, tok}).do("GET", "/planner", "", nil); code != 200 {
			t.Errorf("the planner page for token %s: %d", tok, code)
		}
	}
	if code, where := noRedirect(t, "GET", tc.url+"/planner", ""); code != http.StatusSeeOther || where != "/login?next=/planner" {
		t.Errorf("the planner page without a token: %d to %q, want 303 to the login page", code, where)
	}
	var live plannerReply
	if code, _ := viewer.do("GET", "/api/v1/planner/evaluate", "", &live); code != 200 || live.Evaluation.Units != len(tc.plan.Units) {
		t.Fatalf("GET evaluate = %d, %d units", code, live.Evaluation.Units)
	}
	body := func(v any) string { return mustJSON(t, v) }
	if code, _ := viewer.do("POST", "/api/v1/planner/evaluate", body(map[string]any{"plan": tc.plan}), nil); code != http.StatusUnauthorized {
		t.Errorf("a viewer evaluated a plan: %d", code)
	}
	cell, to := borderMove(t, tc.plan)
	var moved plannerReply
	if code, ec := pl.do("POST", "/api/v1/planner/cells", body(map[string]any{"plan": tc.plan, "cell": cell, "unit": to}), &moved); code != 200 {
		t.Fatalf("move %v to %s = %d %s", cell, to, code, ec)
	}
	if got, _ := moved.Plan.Unit(to); len(got.Area) != len(must(tc.plan.Unit(to)).Area)+1 {
		t.Errorf("after the move %s has %d cells", to, len(got.Area))
	}
	if moved.Evaluation.Workload == live.Evaluation.Workload {
		t.Errorf("the moved cell changed no workload figure: %+v", moved.Evaluation.Workload)
	}
	u := tc.plan.Units[0]
	for _, bad := range []struct {
		path string
		body map[string]any
		code int
	}{
		{"/api/v1/planner/cells", map[string]any{"plan": tc.plan, "cell": u.Post, "unit": to}, http.StatusConflict},
		{"/api/v1/planner/cells", map[string]any{"plan": tc.plan, "cell": "not-a-cell", "unit": to}, http.StatusBadRequest},
		{"/api/v1/planner/posts", map[string]any{"plan": tc.plan, "cell": tc.plan.Units[1].Post, "unit": u.ID}, http.StatusConflict},
		{"/api/v1/planner/evaluate", map[string]any{"plan": map[string]any{"city": "elsewhere"}}, http.StatusUnprocessableEntity},
		{"/api/v1/planner/design", map[string]any{"mix": "vehicle=two"}, http.StatusBadRequest},
		{"/api/v1/planner/design", map[string]any{"mix": "tank=3"}, http.StatusUnprocessableEntity},
	} {
		if code, ec := pl.do("POST", bad.path, body(bad.body), nil); code != bad.code {
			t.Errorf("POST %s %v = %d %s, want %d", bad.path, bad.body["cell"], code, ec, bad.code)
		}
	}
	var posted plannerReply
	if code, ec := pl.do("POST", "/api/v1/planner/posts", body(map[string]any{"plan": tc.plan, "cell": u.Area[0], "unit": u.ID}), &posted); code != 200 ||
		posted.Plan.Units[0].Post != u.Area[0] {
		t.Errorf("move %s's post = %d %s", u.ID, code, ec)
	}
	if code, ec := pl.do("PUT", "/api/v1/planner/versions/moved%20cell", body(map[string]any{"plan": moved.Plan}), nil); code != 200 {
		t.Fatalf("save version = %d %s", code, ec)
	}
	var list struct{ Versions []struct{ Name, By string } }
	if code, _ := pl.do("GET", "/api/v1/planner/versions", "", &list); code != 200 || len(list.Versions) != 1 ||
		list.Versions[0].Name != "moved cell" || list.Versions[0].By != label("planner", "p") {
		t.Errorf("versions = %d %+v", code, list)
	}
	var back plannerReply
	if code, _ := pl.do("GET", "/api/v1/planner/versions/moved%20cell", "", &back); code != 200 || back.Evaluation.Workload != moved.Evaluation.Workload {
		t.Errorf("saved version read back = %d, workload %+v, want %+v", code, back.Evaluation.Workload, moved.Evaluation.Workload)
	}
	if code, _ := pl.do("GET", "/api/v1/planner/versions/none", "", nil); code != http.StatusNotFound {
		t.Errorf("unknown version = %d", code)
	}
	if code, _ := pl.do("PUT", "/api/v1/planner/versions/a%7Bb%7D", body(map[string]any{"plan": tc.plan}), nil); code != http.StatusBadRequest {
		t.Errorf("version named a{b} = %d", code)
	}
}

// TestPlannerDesign designs 15 units over the demo city through the API:
// contiguous areas within the balance target, the evaluation with them.
func TestPlannerDesign(t *testing.T) {
	tc := startCity(t, Access{PlannerTokens: []string{"p"}, ViewerTokens: []string{"v"}, DeviceTokens: []string{"d"}}, false)
	var d plannerReply
	pl := incidentClient{t, tc.url, "p"}
	if code, ec := pl.do("POST", "/api/v1/planner/design", `{"mix": "vehicle=10,foot=5", "seed": 2}`, &d); code != 200 {
		t.Fatalf("design = %d %s", code, ec)
	}
	t.Logf("designed in %.0f ms: workload %+v", d.TookMS, d.Evaluation.Workload)
	if len(d.Plan.Units) != 15 || d.Evaluation.Workload.Ratio > 1.10 || d.Evaluation.Workload.Split != 0 {
		t.Errorf("design: %d units, workload %+v", len(d.Plan.Units), d.Evaluation.Workload)
	}
	var live, re plannerReply
	if code, _ := pl.do("GET", "/api/v1/planner/evaluate", "", &live); code != 200 {
		t.Fatalf("evaluate = %d", code)
	}
	if code, ec := pl.do("POST", "/api/v1/planner/design", fmt.Sprintf(`{"from": %s, "max_moved": 0.05}`, mustJSON(t, tc.plan)), &re); code != 200 ||
		re.Evaluation.Workload.Ratio >= live.Evaluation.Workload.Ratio || re.Moved == 0 || re.Moved > 740 {
		t.Errorf("redesign = %d %s, %d cells moved, workload %+v, the plan's %+v", code, ec, re.Moved, re.Evaluation.Workload, live.Evaluation.Workload)
	}
}

func must[T any](v T, _ bool) T { return v }

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
