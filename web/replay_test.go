package web

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/realtime"
)

// TestReplayAPI: GET /api/v1/replay plays a past window back, with the
// units where their fixes put them; bad windows are 400 bad_replay.
func TestReplayAPI(t *testing.T) {
	tc := startCity(t, Access{Open: true}, false)
	u := tc.plan.Units[0]
	p := geo.CellCenter(u.Post)
	start := time.Now().Add(-2 * time.Second).Truncate(time.Second)
	sendOsmAnd(t, tc.url, u.ID, p, time.Now())
	q := func(from, to time.Time, step string) string {
		return tc.url + "/api/v1/replay?" + url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)},
			"step": {step}}.Encode()
	}
	var ans struct {
		StepS  float64 `json:"step_s"`
		Frames []realtime.Moment
	}
	end := time.Now().Add(2 * time.Second).Truncate(time.Second)
	if code, _ := call(t, "GET", q(start, end, "1s"), "", "", ""); code != 200 {
		t.Fatalf("GET replay = %d, want 200", code)
	}
	getJSON(t, q(start, end, "1s"), &ans)
	if ans.StepS != 1 || len(ans.Frames) != int(end.Sub(start)/time.Second)+1 {
		t.Fatalf("GET replay = %v s, %d frames, want a frame a second", ans.StepS, len(ans.Frames))
	}
	last := ans.Frames[len(ans.Frames)-1]
	if got := last.Units[0]; got.ID != u.ID || got.Lat == nil || fmt.Sprintf("%.5f %.5f", *got.Lat, *got.Lon) != fmt.Sprintf("%.5f %.5f", p[1], p[0]) {
		t.Errorf("last frame's %s = %+v, want at %v", u.ID, got, p)
	}
	if first := ans.Frames[0]; first.Units[0].Lat != nil {
		t.Errorf("first frame, before the fix, has %s at %v", u.ID, *first.Units[0].Lat)
	}
	for name, u := range map[string]string{
		"no times":   tc.url + "/api/v1/replay",
		"bad step":   q(start, end, "soon"),
		"two days":   q(start, start.Add(48*time.Hour), "1m"),
		"reversed":   q(end, start, "1s"),
		"tiny steps": q(start, start.Add(23*time.Hour), "1s"),
	} {
		if code, body := call(t, "GET", u, "", "", ""); code != 400 || errCode(body) != "bad_replay" {
			t.Errorf("%s: %d %v, want 400 bad_replay", name, code, body)
		}
	}
}
