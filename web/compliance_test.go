package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
)

// shareTolerance is how far two demand shares may differ and still be
// equal.
const shareTolerance = 1e-9

// getWith GETs u with token (none when empty) and Accept header accept
// (none when empty), and returns the status, the media type and the body.
func getWith(t *testing.T, u, token, accept string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode, media, b
}

// TestComplianceAPI serves the demo city behind tokens and reads GET
// compliance as JSON and as CSV, as a viewer would, and checks who may
// read it and the answer to a format it does not know.
func TestComplianceAPI(t *testing.T) {
	const viewTok, devTok, dispTok = "view-secret", "dev-secret", "disp-secret"
	tc := startCity(t, Access{ViewerTokens: []string{viewTok}, DeviceTokens: []string{devTok}, DispatcherTokens: []string{dispTok}}, false)
	u := tc.url + "/api/v1/compliance"

	status, media, body := getWith(t, u, viewTok, "")
	if status != http.StatusOK || media != "application/json" {
		t.Fatalf("GET compliance = %d %s %.200s, want 200 application/json", status, media, body)
	}
	var tab dispatch.Table
	if err := json.Unmarshal(body, &tab); err != nil {
		t.Fatalf("GET compliance: decode: %v", err)
	}
	checkComplianceRows(t, tc.plan, tab)

	for _, c := range []struct{ name, query, accept, media string }{
		{"format csv", "?format=csv", "", "text/csv"},
		{"Accept text/csv", "", "text/csv", "text/csv"},
		{"format json over Accept text/csv", "?format=json", "text/csv", "application/json"},
		{"Accept of a browser", "", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, media, body := getWith(t, u+c.query, viewTok, c.accept)
			if status != http.StatusOK || media != c.media {
				t.Fatalf("GET compliance%s (Accept %q) = %d %s, want 200 %s", c.query, c.accept, status, media, c.media)
			}
			if media == "text/csv" {
				checkComplianceCSV(t, tab, body)
			}
		})
	}

	for _, c := range []struct {
		name, query, token string
		status             int
		code               string
	}{
		{"no token", "", "", http.StatusUnauthorized, "unauthorized"},
		{"a wrong token", "", "wrong", http.StatusUnauthorized, "unauthorized"},
		{"a device token", "", devTok, http.StatusUnauthorized, "unauthorized"},
		{"a dispatcher token", "", dispTok, http.StatusOK, ""},
		{"the token in the URL", "?format=csv&token=" + viewTok, "", http.StatusOK, ""},
		{"format xml", "?format=xml", viewTok, http.StatusBadRequest, "bad_format"},
		{"an empty format", "?format=", viewTok, http.StatusBadRequest, "bad_format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := getWith(t, u+c.query, c.token, "")
			var e apiError
			if status >= 400 {
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
					t.Errorf("GET compliance%s: error body %q, want {\"error\":{\"code\",\"message\"}}", c.query, body)
				}
			}
			if status != c.status || e.Error.Code != c.code {
				t.Errorf("GET compliance%s with %s = %d %q, want %d %q", c.query, c.name, status, e.Error.Code, c.status, c.code)
			}
		})
	}
}

// checkComplianceRows checks the demo city's table as the table promises
// it: a row per responding unit, row k of k distinct posts of responding
// units, nested exactly where it holds every post of the row before (and
// then with those first), shares ordered by tier, and the share within 3
// minutes, which the table compares first, never falling as k grows.
func checkComplianceRows(t *testing.T, plan *patrol.Plan, tab dispatch.Table) {
	t.Helper()
	responding := map[dispatch.Post]bool{}
	for _, p := range dispatch.Responding(plan) {
		responding[p] = true
	}
	if len(tab.Rows) != len(responding) || len(tab.Rows) != 78 || tab.Profile != "car" {
		t.Fatalf("table on %s with %d rows, want car with one per responding unit (%d, 78 for the demo city)",
			tab.Profile, len(tab.Rows), len(responding))
	}
	var prev dispatch.Row
	for i, r := range tab.Rows {
		seen := map[dispatch.Post]bool{}
		for _, p := range r.Posts {
			if !responding[p] || seen[p] {
				t.Errorf("row %d: post %v is not a responding unit's, or repeated", r.K, p)
			}
			seen[p] = true
		}
		if r.K != i+1 || len(r.Posts) != r.K {
			t.Errorf("row %d: k %d with %d posts, want k %d with %d", i+1, r.K, len(r.Posts), i+1, i+1)
		}
		holds := true
		for _, p := range prev.Posts {
			holds = holds && seen[p]
		}
		if r.Nested != holds {
			t.Errorf("row %d: nested %v, but it holds every post of row %d: %v", r.K, r.Nested, r.K-1, holds)
		}
		if r.Nested && len(r.Posts) > 0 && !slices.Equal(r.Posts[:len(r.Posts)-1], prev.Posts) {
			t.Errorf("row %d is nested but does not list row %d's posts first", r.K, r.K-1)
		}
		s := r.Share
		if !(s.M1 <= s.M3+shareTolerance && s.M3 <= s.M5+shareTolerance && s.M5 <= 1+shareTolerance) {
			t.Errorf("row %d: shares %+v, want m1 <= m3 <= m5 <= 1", r.K, s)
		}
		if s.M3 < prev.Share.M3-shareTolerance {
			t.Errorf("row %d covers %.4f within 3 minutes, less than row %d's %.4f", r.K, s.M3, r.K-1, prev.Share.M3)
		}
		prev = r
	}
}

// checkComplianceCSV checks that body is tab as CSV: the header, then one
// line per post of each row, in order, with the row's k, shares (to 4
// decimals) and nesting.
func checkComplianceCSV(t *testing.T, tab dispatch.Table, body []byte) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	want := 1
	for _, r := range tab.Rows {
		want += r.K
	}
	if lines := strings.Count(string(body), "\n"); lines != want || len(recs) != want {
		t.Fatalf("CSV has %d lines, %d records; want %d (the header and one per post of each row)", lines, len(recs), want)
	}
	if got := strings.Join(recs[0], ","); got != "k,m1,m3,m5,nested,unit,cell" {
		t.Errorf("CSV header %q, want k,m1,m3,m5,nested,unit,cell", got)
	}
	next := 1
	for _, r := range tab.Rows {
		for _, p := range r.Posts {
			rec := recs[next]
			next++
			if rec[0] != strconv.Itoa(r.K) || rec[4] != strconv.FormatBool(r.Nested) || rec[5] != p.Unit || rec[6] != p.Cell.String() {
				t.Fatalf("CSV line %d = %v, want row %d's post %s at %v (nested %v)", next, rec, r.K, p.Unit, p.Cell, r.Nested)
			}
			for i, s := range []float64{r.Share.M1, r.Share.M3, r.Share.M5} {
				if got, err := strconv.ParseFloat(rec[1+i], 64); err != nil || math.Abs(got-s) > 5e-5 {
					t.Fatalf("CSV line %d share %s = %q, want %.4f", next, recs[0][1+i], rec[1+i], s)
				}
			}
		}
	}
}
