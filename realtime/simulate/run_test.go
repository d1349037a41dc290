package simulate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
)

// fakeServer implements just enough of the patrolgrid API for simulate: a
// two-unit plan, an OsmAnd endpoint that accepts V01 and rejects V02, a
// live websocket that passes each accepted fix on as a diff, and metrics.
type fakeServer struct {
	t      *testing.T
	token  string
	posts  map[string]orb.Point
	mu     sync.Mutex
	got    map[string]int // fixes received per unit
	strays []string       // fixes off their unit's circle
	subs   map[chan []byte]bool
}

func newFakeServer(t *testing.T, token string) (*httptest.Server, *fakeServer) {
	f := &fakeServer{t: t, token: token, posts: map[string]orb.Point{}, got: map[string]int{}, subs: map[chan []byte]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/plan", f.auth(f.plan))
	mux.HandleFunc("GET /api/v1/units", f.auth(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"units":[{"id":"V01","status":"available"},{"id":"V02","status":"available"}]}`)
	}))
	mux.HandleFunc("GET /api/v1/osmand", f.auth(f.osmand))
	mux.HandleFunc("GET /api/v1/live", f.auth(f.live))
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 4.2e+07\n")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(f.check)
	return srv, f
}

func (f *fakeServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			fakeError(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		h(w, r)
	}
}

func fakeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":"test"}}`, code)
}

func (f *fakeServer) plan(w http.ResponseWriter, r *http.Request) {
	type unit struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		Mechanism string    `json:"mechanism"`
		Post      h3.Cell   `json:"post"`
		Area      []h3.Cell `json:"area"`
		Status    string    `json:"status"`
	}
	var units []unit
	for i, p := range []orb.Point{{122.2634, 43.6173}, {122.2801, 43.6050}} {
		id := fmt.Sprintf("V%02d", i+1)
		post := geo.Cell(p, 10)
		f.mu.Lock()
		f.posts[id] = geo.CellCenter(post)
		f.mu.Unlock()
		units = append(units, unit{ID: id, Name: "Vehicle " + id, Mechanism: "vehicle", Post: post, Area: []h3.Cell{post}, Status: "available"})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"name": "test city", "city": "test", "resolution": 10, "timezone": "Asia/Shanghai",
		"mechanisms": []map[string]any{{"id": "vehicle", "name": "Vehicle patrol", "profile": "car",
			"counts_response": true, "max_speed_kph": 120}},
		"units": units,
	})
}

func (f *fakeServer) osmand(w http.ResponseWriter, r *http.Request) {
	fix, err := osmand.Decode(r.URL.Query(), r.Header.Get("Content-Type"), nil)
	if err != nil {
		fakeError(w, http.StatusBadRequest, "bad_request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got[fix.Unit]++
	if post, ok := f.posts[fix.Unit]; !ok || math.Abs(float64(geo.Distance(post, fix.Point)-radius)) > 1 {
		f.strays = append(f.strays, r.URL.RawQuery)
	}
	if fix.Unit == "V02" {
		fakeError(w, http.StatusBadRequest, "implausible_jump")
		return
	}
	msg := fmt.Sprintf(`{"type":"diff","seq":1,"units":[{"id":%q,"lat":%v,"lon":%v,"time":%q}],"cells":[]}`,
		fix.Unit, fix.Lat(), fix.Lon(), fix.Time.Format(time.RFC3339Nano))
	for sub := range f.subs {
		sub <- []byte(msg)
	}
}

func (f *fakeServer) live(w http.ResponseWriter, r *http.Request) {
	// Subscribe before the upgrade: the client may send fixes as soon as
	// its dial returns.
	sub := make(chan []byte, 1024)
	f.mu.Lock()
	f.subs[sub] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, sub)
		f.mu.Unlock()
	}()
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	snapshot := `{"type":"snapshot","time":"2026-11-28T09:00:00Z","resolution":10,"units":[{"id":"V01","name":"Vehicle V01","status":"available"}]}`
	if c.WriteMessage(websocket.TextMessage, []byte(snapshot)) != nil {
		return
	}
	for {
		select {
		case msg := <-sub:
			if c.WriteMessage(websocket.TextMessage, msg) != nil {
				return
			}
		case <-gone:
			return
		}
	}
}

func (f *fakeServer) check() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.strays) > 0 {
		f.t.Errorf("%d fixes off their unit's %v m circle, first %s", len(f.strays), radius, f.strays[0])
	}
}

func (f *fakeServer) received(unit string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[unit]
}

// summaryCount reads "  <label>  <n>" from the summary in out.
func summaryCount(t *testing.T, out, label string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + label + `\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output has no %q line:\n%s", label, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestRun(t *testing.T) {
	srv, fake := newFakeServer(t, "secret")
	var out bytes.Buffer
	cfg := Config{Server: srv.URL, Token: "secret", Units: 2, Rate: 10, Duration: 1200 * time.Millisecond, Watchers: 2,
		Concurrency: 4}
	if _, err := Run(context.Background(), cfg, &out); err != nil {
		t.Fatalf("Run(%+v) error = %v, want nil", cfg, err)
	}
	text := out.String()
	t.Log(text)
	sent, accepted, rejected := summaryCount(t, text, "sent"), summaryCount(t, text, "accepted"), summaryCount(t, text, "rejected")
	if sent < 16 || sent > 30 {
		t.Errorf("sent %d fixes, want about 2 units × 10 Hz × 1.2 s = 24", sent)
	}
	if got := fake.received("V01"); accepted != got {
		t.Errorf("accepted %d, want %d: the fixes of V01 the server received", accepted, got)
	}
	if got := fake.received("V02"); rejected != got {
		t.Errorf("rejected %d, want %d: the fixes of V02 the server received", rejected, got)
	}
	if n := summaryCount(t, text, "errors"); n != 0 {
		t.Errorf("errors %d, want 0", n)
	}
	m := regexp.MustCompile(`ws latency +p50 [\d.]+ms .*\((\d+) fixes seen by 2 watchers\)`).FindStringSubmatch(text)
	if m == nil || m[1] != strconv.Itoa(2*accepted) {
		t.Errorf("ws latency line %q, want one counting %d fixes (2 watchers × %d accepted)", m, 2*accepted, accepted)
	}
	for _, want := range []string{"summary: osmand, 2 units at 10 Hz", "implausible_jump " + strconv.Itoa(rejected), "server RSS    42.0 MB"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	progress := regexp.MustCompile(`(?m)^ +1s  sent \d+  accepted \d+  rejected \d+.*  errors 0  [\d.]+ fixes/s  http p50 [\d.]+ms p99 [\d.]+ms  ws p50 `)
	if !progress.MatchString(text) {
		t.Errorf("output has no progress line at 1s")
	}
}

func TestRunErrors(t *testing.T) {
	srv, _ := newFakeServer(t, "secret")
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"more units than the plan", Config{Units: 3, Token: "secret"}, "has 2 units"},
		{"skipping past the plan", Config{Skip: 1, Units: 2, Token: "secret"}, "--skip 1 --units 2"},
		{"no devices file", Config{Units: 2, Token: "secret", Devices: "/nonexistent/devices"}, "--devices"},
		{"not a devices file", Config{Units: 2, Token: "secret", Devices: "run_test.go"}, "want answers of POST /api/v1/devices"},
		{"wrong token", Config{Units: 2, Token: "guess"}, "unauthorized"},
		{"out of range", Config{Units: -1, Token: "secret"}, "--units -1"},
		{"not a server", Config{Server: "ftp://host", Units: 2, Token: "secret"}, "--server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Server, cfg.Duration = cmp.Or(cfg.Server, srv.URL), 100*time.Millisecond
			var out bytes.Buffer
			_, err := Run(context.Background(), cfg, &out)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Run(%+v) error = %v, want one containing %q", cfg, err, tc.wantErr)
			}
			if out.Len() > 0 {
				t.Errorf("Run(%+v) wrote %q, want nothing before it fails", cfg, out.String())
			}
		})
	}
}
