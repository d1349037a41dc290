package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
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

func TestParseSimulateArgs(t *testing.T) {
	defaults := simulateConfig{Server: "http://127.0.0.1:8080", Protocol: "osmand", Units: 88, Rate: 1, Duration: 30 * time.Second,
		Warmup: 3 * time.Second, Concurrency: 32, Batch: 1, JT808Addr: "127.0.0.1:5015", NMEAAddr: "127.0.0.1:5016",
		JT808Auth: "register", MaxAge: 24 * time.Hour, Drain: 5 * time.Second, tick: time.Second, grace: time.Second}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    simulateConfig
		wantErr string // a substring of the error; "" for none
	}{
		{name: "defaults", want: defaults},
		{name: "flags",
			args: []string{"--server", "https://pg.example:8443/", "--token", "s3cret", "--units", "5", "--rate", "2.5",
				"--duration", "90s", "--watchers", "3", "--concurrency", "8"},
			want: withSimConfig(defaults, func(c *simulateConfig) {
				c.Server, c.Token, c.Units, c.Rate, c.Duration, c.Watchers, c.Concurrency = "https://pg.example:8443", "s3cret", 5, 2.5,
					90*time.Second, 3, 8
				c.JT808Addr, c.NMEAAddr = "pg.example:5015", "pg.example:5016"
			})},
		{name: "jt808 flags",
			args: []string{"--protocol", "jt808", "--units", "88", "--conns", "100", "--rate", "1000", "--batch", "30",
				"--jt808-addr", "10.0.0.9:7015", "--jt808-auth", "key", "--max-age", "12h", "--drain", "1s"},
			want: withSimConfig(defaults, func(c *simulateConfig) {
				c.Protocol, c.Conns, c.Rate, c.Batch, c.JT808Addr, c.JT808Auth, c.MaxAge, c.Drain = "jt808", 100, 1000, 30,
					"10.0.0.9:7015", "key", 12*time.Hour, time.Second
			})},
		{name: "json batches", args: []string{"--protocol", "json", "--batch", "500"},
			want: withSimConfig(defaults, func(c *simulateConfig) { c.Protocol, c.Batch = "json", 500 })},
		{name: "nmea port from the server's host", args: []string{"--protocol", "nmea", "--server", "http://[::1]:9000"},
			want: withSimConfig(defaults, func(c *simulateConfig) {
				c.Protocol, c.Server, c.JT808Addr, c.NMEAAddr = "nmea", "http://[::1]:9000", "[::1]:5015", "[::1]:5016"
			})},
		{name: "single dash and equals", args: []string{"-units=7", "-watchers=1"},
			want: withSimConfig(defaults, func(c *simulateConfig) { c.Units, c.Watchers = 7, 1 })},
		{name: "environment",
			env: map[string]string{"PATROLGRID_SERVER": "http://10.0.0.2:9000", "PATROLGRID_TOKEN": "t",
				"PATROLGRID_UNITS": "12", "PATROLGRID_RATE": "0.5", "PATROLGRID_DURATION": "1m",
				"PATROLGRID_WATCHERS": "2", "PATROLGRID_CONCURRENCY": "4"},
			want: withSimConfig(defaults, func(c *simulateConfig) {
				c.Server, c.Token, c.Units, c.Rate, c.Duration, c.Watchers, c.Concurrency = "http://10.0.0.2:9000", "t", 12, 0.5,
					time.Minute, 2, 4
				c.JT808Addr, c.NMEAAddr = "10.0.0.2:5015", "10.0.0.2:5016"
			})},
		{name: "flag wins over environment", args: []string{"--units", "3"},
			env:  map[string]string{"PATROLGRID_UNITS": "12", "PATROLGRID_RATE": "2"},
			want: withSimConfig(defaults, func(c *simulateConfig) { c.Units, c.Rate = 3, 2 })},
		{name: "empty variable is an empty value", env: map[string]string{"PATROLGRID_TOKEN": ""}, want: defaults},
		{name: "bad variable of a flag given is not read", args: []string{"--units", "3"}, env: map[string]string{"PATROLGRID_UNITS": "many"},
			want: withSimConfig(defaults, func(c *simulateConfig) { c.Units = 3 })},

		{name: "bad variable", env: map[string]string{"PATROLGRID_UNITS": "many"}, wantErr: `simulate: PATROLGRID_UNITS="many"`},
		{name: "empty variable of a number", env: map[string]string{"PATROLGRID_UNITS": ""}, wantErr: "PATROLGRID_UNITS"},
		{name: "unknown flag", args: []string{"--fast"}, wantErr: "-fast"},
		{name: "extra argument", args: []string{"now"}, wantErr: `"now"`},
		{name: "no units", args: []string{"--units", "0"}, wantErr: "--units 0"},
		{name: "zero rate", args: []string{"--rate", "0"}, wantErr: "--rate"},
		{name: "NaN rate", args: []string{"--rate", "NaN"}, wantErr: "--rate"},
		{name: "rate too high", args: []string{"--rate", "200000", "--protocol", "jt808"}, wantErr: "--rate"},
		{name: "rate past milliseconds", args: []string{"--rate", "5000"}, wantErr: "milliseconds"},
		{name: "unknown protocol", args: []string{"--protocol", "gt06"}, wantErr: "--protocol"},
		{name: "no batch", args: []string{"--batch", "0"}, wantErr: "--batch"},
		{name: "batch over a jt808 frame", args: []string{"--protocol", "jt808", "--batch", "31"}, wantErr: "at most 30"},
		{name: "fewer connections than units", args: []string{"--protocol", "jt808", "--conns", "10"}, wantErr: "--conns"},
		{name: "bad auth", args: []string{"--jt808-auth", "none"}, wantErr: "--jt808-auth"},
		{name: "tiny max age", args: []string{"--max-age", "1m"}, wantErr: "--max-age"},
		{name: "zero duration", args: []string{"--duration", "0s"}, wantErr: "--duration"},
		{name: "negative watchers", args: []string{"--watchers", "-1"}, wantErr: "--watchers"},
		{name: "no workers", args: []string{"--concurrency", "0"}, wantErr: "--concurrency"},
		{name: "not http", args: []string{"--server", "ftp://host"}, wantErr: "--server"},
		{name: "no host", args: []string{"--server", "http://"}, wantErr: "--server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, err := parseSimulateArgs(tc.args, lookup, &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseSimulateArgs(%q) error = %v, want one naming %s", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSimulateArgs(%q) error = %v, want nil", tc.args, err)
			}
			if got != tc.want {
				t.Errorf("parseSimulateArgs(%q) = %+v, want %+v", tc.args, got, tc.want)
			}
		})
	}
}

func withSimConfig(c simulateConfig, set func(*simulateConfig)) simulateConfig { set(&c); return c }

func TestParseSimulateArgsHelp(t *testing.T) {
	var usage bytes.Buffer
	_, err := parseSimulateArgs([]string{"-h"}, func(string) (string, bool) { return "", false }, &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseSimulateArgs(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"-server", "-token", "-protocol", "-units", "-rate", "-duration", "-watchers", "-concurrency",
		"-batch", "-conns", "-jt808-addr", "-nmea-addr", "-jt808-auth", "-max-age", "-drain", "PATROLGRID_"} {
		if !strings.Contains(usage.String(), name) {
			t.Errorf("usage = %q, want it to mention %s", usage.String(), name)
		}
	}
}

func TestSimHistBuckets(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<20 + 1, 3e9, math.MaxInt64, math.MaxUint64}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		i := simHistBucket(v)
		lo, width := simHistRange(i)
		if v < lo || v-lo >= width {
			t.Fatalf("simHistBucket(%d) = %d holding [%d, %d+%d), want it to hold %d", v, i, lo, lo, width, v)
		}
		if width > 1 && float64(width) > float64(lo)/simHistSub {
			t.Fatalf("bucket %d: width %d over lo %d is above 1/%d", i, width, lo, simHistSub)
		}
		if i > 0 {
			if plo, pw := simHistRange(i - 1); plo+pw != lo {
				t.Fatalf("bucket %d starts at %d, want %d where bucket %d ends", i, lo, plo+pw, i-1)
			}
		}
	}
}

func TestSimHistogramQuantile(t *testing.T) {
	seq := func(from, to int) []time.Duration {
		var d []time.Duration
		for v := from; v <= to; v++ {
			d = append(d, time.Duration(v))
		}
		return d
	}
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{42}, 0.99, 42},
		{"median of 1..100", seq(1, 100), 0.50, 50},
		{"p95 of 1..100", seq(1, 100), 0.95, 95},
		{"p99 of 1..100", seq(1, 100), 0.99, 99},
		{"max of 1..100", seq(1, 100), 1, 100},
		{"median of four", []time.Duration{4, 1, 3, 2}, 0.5, 2},
		{"p99 of four", []time.Duration{4, 1, 3, 2}, 0.99, 4},
		{"tiny q is the minimum", seq(10, 20), 1e-9, 10},
		{"one large sample", []time.Duration{250 * time.Millisecond}, 0.5, 250 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h simHistogram
			for _, d := range tc.samples {
				h.record(d)
			}
			if got := h.quantile(tc.q); got != tc.want {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestSimHistogramAgainstSorted compares the histogram's percentiles with
// the exact nearest-rank percentiles of the sorted samples.
func TestSimHistogramAgainstSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var h simHistogram
	samples := make([]time.Duration, 20000)
	for i := range samples {
		// log-normal around 5 ms, as latencies are
		samples[i] = time.Duration(5e6 * math.Exp(rng.NormFloat64()))
		h.record(samples[i])
	}
	slices.Sort(samples)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		want := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := h.quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 1.0/128 {
			t.Errorf("quantile(%v) = %v, want %v within 1/128 (off by %.4f)", q, got, want, rel)
		}
	}
	if s := h.summary(); s.Max != samples[len(samples)-1] || s.Count != int64(len(samples)) {
		t.Errorf("summary() = %+v, want max %v and count %d", s, samples[len(samples)-1], len(samples))
	}
}

// osmandRoundTripTolerance is the largest position error the OsmAnd URL
// may add, in degrees.
const osmandRoundTripTolerance = 1e-6

func TestOsmAndURLRoundTrip(t *testing.T) {
	posts := []struct {
		name string
		at   orb.Point
	}{
		{"Tongliao", orb.Point{122.2634, 43.6173}},
		{"south west", orb.Point{-58.3816, -34.6037}},
		{"near the antimeridian", orb.Point{179.9995, -16.5}},
		{"far north", orb.Point{18.9553, 69.6492}},
	}
	times := []int64{1795856400000, 1795856400123, 1795856987654}
	for i, p := range posts {
		for _, id := range []string{"V01", "E 7&x=1"} {
			t.Run(fmt.Sprintf("%s/%s", p.name, id), func(t *testing.T) {
				u := newSimUnit(i, id, geo.Cell(p.at, 10), 0)
				for _, ms := range times {
					raw := osmandURL("http://pg.test:8080", u, ms)
					parsed, err := url.Parse(raw)
					if err != nil {
						t.Fatalf("url.Parse(%q): %v", raw, err)
					}
					if parsed.Path != "/api/v1/osmand" {
						t.Errorf("path = %q, want /api/v1/osmand", parsed.Path)
					}
					fix, err := osmand.Decode(parsed.Query(), "", nil)
					if err != nil {
						t.Fatalf("DecodeOsmAnd(%q): %v", raw, err)
					}
					wantP, wantHeading := u.at(ms)
					switch {
					case fix.Unit != id:
						t.Errorf("%s: unit = %q, want %q", raw, fix.Unit, id)
					case fix.Time.UnixMilli() != ms:
						t.Errorf("%s: time = %v, want Unix ms %d", raw, fix.Time, ms)
					case math.Abs(fix.Lat()-wantP.Lat()) > osmandRoundTripTolerance,
						math.Abs(fix.Lon()-wantP.Lon()) > osmandRoundTripTolerance:
						t.Errorf("%s: position = %v, want %v within %g°", raw, fix.Point, wantP, osmandRoundTripTolerance)
					case math.Abs(fix.SpeedMPS-u.speedMPS) > 0.01:
						t.Errorf("%s: speed = %v m/s, want %v", raw, fix.SpeedMPS, u.speedMPS)
					case math.Abs(fix.Heading-wantHeading) > 0.05:
						t.Errorf("%s: heading = %v, want %v", raw, fix.Heading, wantHeading)
					case fix.AccuracyM != simAccuracyM:
						t.Errorf("%s: accuracy = %v, want %v", raw, fix.AccuracyM, simAccuracyM)
					}
				}
			})
		}
	}
}

// TestSimUnitPath checks that every unit keeps to a circle of simRadius
// around its post, no faster than its speed (at most simMaxSpeedMPS, and
// 80% of its mechanism's limit), heading the way it moves.
func TestSimUnitPath(t *testing.T) {
	post := geo.Cell(orb.Point{122.2634, 43.6173}, 10)
	centre := geo.CellCenter(post)
	for i, maxKPH := range []float64{0, 130, 60, 15, 0, 0, 0, 5} {
		u := newSimUnit(i, "U", post, maxKPH)
		t.Run(fmt.Sprintf("unit %d max %v kph", i, maxKPH), func(t *testing.T) {
			if u.speedMPS > simMaxSpeedMPS || maxKPH > 0 && u.speedMPS > 0.8*maxKPH/3.6+1e-9 {
				t.Fatalf("speed = %v m/s, want at most %v and 80%% of %v km/h", u.speedMPS, simMaxSpeedMPS, maxKPH)
			}
			const start = int64(1795856400000)
			for ms := start; ms < start+200_000; ms += 1000 {
				p, heading := u.at(ms)
				next, _ := u.at(ms + 1000)
				if r := geo.Distance(centre, p); math.Abs(float64(r-simRadius)) > 1 {
					t.Fatalf("at %d: %v m from the post, want %v", ms, r, simRadius)
				}
				step := geo.Distance(p, next)
				if float64(step) > u.speedMPS+1e-3 {
					t.Fatalf("at %d: moved %v m in 1 s, want at most %v", ms, step, u.speedMPS)
				}
				if d := math.Abs(math.Remainder(geo.Bearing(p, next)-heading, 360)); d > 5 {
					t.Fatalf("at %d: heading %v, but moving towards %v", ms, heading, geo.Bearing(p, next))
				}
			}
		})
	}
}

func TestSimMetricValue(t *testing.T) {
	const text = `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes_total{a="b"} 1
process_resident_memory_bytes 4.2139648e+07
go_goroutines 12
`
	tests := []struct {
		name   string
		metric string
		want   float64
		wantOK bool
	}{
		{"scientific", "process_resident_memory_bytes", 4.2139648e+07, true},
		{"integer", "go_goroutines", 12, true},
		{"absent", "process_virtual_memory_bytes", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := simMetricValue(strings.NewReader(text), tc.metric)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("simMetricValue(%s) = %v, %v; want %v, %v", tc.metric, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestSimCountsList(t *testing.T) {
	tests := []struct {
		in   map[string]int64
		want string
	}{
		{nil, ""},
		{map[string]int64{"duplicate": 1}, " (duplicate 1)"},
		{map[string]int64{"b": 2, "a": 2, "c": 5}, " (c 5, a 2, b 2)"},
	}
	for _, tc := range tests {
		if got := simCountsList(tc.in); got != tc.want {
			t.Errorf("simCountsList(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

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
	if post, ok := f.posts[fix.Unit]; !ok || math.Abs(float64(geo.Distance(post, fix.Point)-simRadius)) > 1 {
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
		f.t.Errorf("%d fixes off their unit's %v m circle, first %s", len(f.strays), simRadius, f.strays[0])
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

func TestRunSimulate(t *testing.T) {
	srv, fake := newFakeServer(t, "secret")
	var out bytes.Buffer
	args := []string{"--server", srv.URL, "--token", "secret", "--units", "2", "--rate", "10",
		"--duration", "1200ms", "--warmup", "0s", "--watchers", "2", "--concurrency", "4"}
	if err := runSimulate(context.Background(), args, &out); err != nil {
		t.Fatalf("runSimulate(%q) error = %v, want nil", args, err)
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

func TestRunSimulateErrors(t *testing.T) {
	srv, _ := newFakeServer(t, "secret")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"more units than the plan", []string{"--units", "3", "--token", "secret"}, "has 2 units"},
		{"wrong token", []string{"--units", "2", "--token", "guess"}, "unauthorized"},
		{"bad flag", []string{"--units", "none"}, "-units"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--server", srv.URL, "--duration", "100ms"}, tc.args...)
			var out bytes.Buffer
			err := runSimulate(context.Background(), args, &out)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("runSimulate(%q) error = %v, want one containing %q", args, err, tc.wantErr)
			}
		})
	}
}
