package web

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/hotspot"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// TestHotspotsAPI: five calls of one kind at one address in the history
// and a sixth reported now make the address a red hotspot, and push a
// red warning; the same five alone are orange; bad parameters are 400
// bad_hotspots.
func TestHotspotsAPI(t *testing.T) {
	tc := startCity(t, Access{Open: true}, false)
	home := geo.CellCenter(tc.plan.Units[0].Post)
	var history []patrol.Incident
	for i := range 5 {
		history = append(history, patrol.Incident{Time: time.Now().Add(-time.Duration(i+1) * 10 * 24 * time.Hour), Point: home, Kind: "domestic"})
	}
	srv := httptest.NewServer(NewHandler(tc.city, realtime.NewHub(realtime.HubConfig{}), Config{Access: Access{Open: true}, History: history}))
	t.Cleanup(srv.Close)
	get := func(query string) (int, []hotspot.Hotspot) {
		code, body := call(t, "GET", srv.URL+"/api/v1/hotspots"+query, "", "", "")
		var ans struct{ Hotspots []hotspot.Hotspot }
		raw, _ := json.Marshal(body)
		json.Unmarshal(raw, &ans)
		return code, ans.Hotspots
	}
	if code, spots := get(""); code != 200 || len(spots) != 1 || spots[0].Level != hotspot.Orange || spots[0].Calls != 5 {
		t.Fatalf("GET hotspots = %d %+v, want one orange hotspot of 5 calls", code, spots)
	}
	report := fmt.Sprintf(`{"lat":%v,"lon":%v,"priority":2,"kind":"domestic"}`, home[1], home[0])
	if code, body := call(t, "POST", srv.URL+"/api/v1/incidents", "", "application/json", report); code != 201 {
		t.Fatalf("POST incident = %d %v", code, body)
	}
	if code, spots := get(""); code != 200 || len(spots) != 1 || spots[0].Level != hotspot.Red || spots[0].Calls != 6 {
		t.Fatalf("GET hotspots after a sixth call = %d %+v, want one red hotspot of 6 calls", code, spots)
	}
	var warnings struct{ Warnings []warning.Warning }
	getJSONAuth(t, srv.URL+"/api/v1/warnings", "", &warnings)
	if len(warnings.Warnings) != 1 || warnings.Warnings[0].Kind != "hotspot" || warnings.Warnings[0].Level != warning.Red ||
		warnings.Warnings[0].Subject != (hotspot.Config{}).Cell(home).String()+" domestic" {
		t.Errorf("warnings after the sixth call = %+v, want one red hotspot warning of the address", warnings.Warnings)
	}
	if _, spots := get("?days=15"); len(spots) != 0 {
		t.Errorf("within 15 days: %+v, want none (2 calls)", spots)
	}
	for _, q := range []string{"?days=0", "?red=x", "?at=yesterday"} {
		if code, _ := get(q); code != 400 {
			t.Errorf("GET hotspots%s = %d, want 400", q, code)
		}
	}
}
