package web

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
)

// TestShiftReportAPI: the report of the last minutes has the incident
// reported in them, as JSON and as a printable page; a bad window is 400
// bad_report.
func TestShiftReportAPI(t *testing.T) {
	tc := startCity(t, Access{Open: true}, false)
	p := geo.CellCenter(tc.plan.Units[0].Post)
	from := time.Now().Add(-time.Minute).Truncate(time.Second)
	if code, body := call(t, "POST", tc.url+"/api/v1/incidents", "", "application/json",
		fmt.Sprintf(`{"lat":%v,"lon":%v,"priority":1,"kind":"theft"}`, p[1], p[0])); code != 201 {
		t.Fatalf("POST incident = %d %v", code, body)
	}
	to := time.Now().Add(time.Second).Truncate(time.Second)
	q := "?" + url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}.Encode()
	code, body := call(t, "GET", tc.url+"/api/v1/report"+q, "", "", "")
	if incs, _ := body["incidents"].([]any); code != 200 || len(incs) != 1 || body["unknown"] != float64(1) {
		t.Fatalf("GET report = %d %v, want the incident, its arrival unknown", code, body)
	}
	resp, err := http.Get(tc.url + "/report" + q)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page), "Shift report") || !strings.Contains(string(page), "<td>I1</td>") {
		t.Errorf("GET /report = %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	if code, body := call(t, "GET", tc.url+"/api/v1/report?from=yesterday", "", "", ""); code != 400 || errCode(body) != "bad_report" {
		t.Errorf("GET report of a bad window = %d %v, want 400 bad_report", code, body)
	}
}
