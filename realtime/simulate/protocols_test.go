package simulate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/jt808"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/nmea"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/web"
)

// testServer is the demo city served in this process: the real router
// on httptest, and the JT/T 808 and NMEA servers on loopback ports, all
// ingesting into one city with a memory store.
type testServer struct {
	url, jt808, nmea, osmand string
	plan                     *patrol.Plan
	city                     *realtime.City
	devices                  *device.Registry
}

// startServer serves the demo city until the test ends, its terminal
// servers knowing the demo devices when demoDevices is set, and none
// otherwise.
func startServer(t testing.TB, demoDevices bool) testServer {
	t.Helper()
	plan, grid := patroltest.DemoGrid(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	hub := realtime.NewHub(realtime.HubConfig{})
	city, err := realtime.NewCity(plan, geo.NewLattice(grid), store.NewMemory(store.MemoryConfig{}), hub,
		realtime.CityConfig{Metrics: realtime.NewMetrics(reg, hub), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	devices := device.NewRegistry(device.Config{Logger: quiet})
	if demoDevices {
		if _, err := devices.Seed(context.Background(), device.DemoSpecs(plan)); err != nil {
			t.Fatal(err)
		}
	}
	jt := jt808.NewServer(jt808.Config{Config: ingest.Config{Ingest: city.Ingest, Devices: devices, Logger: quiet}})
	nm := nmea.NewServer(nmea.Config{Config: ingest.Config{Ingest: city.Ingest, Devices: devices, Logger: quiet}})
	om := osmand.NewServer(osmand.Config{Config: ingest.Config{Ingest: city.Ingest, Devices: devices, Logger: quiet}})
	jtLn, nmLn, omLn := listen(t), listen(t), listen(t)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{hub.Run, city.Run,
		func(ctx context.Context) error { return jt.Run(ctx, jtLn) },
		func(ctx context.Context) error { return nm.Run(ctx, nmLn) },
		func(ctx context.Context) error { return om.Run(ctx, omLn) }} {
		wg.Go(func() { _ = run(ctx) })
	}
	srv := httptest.NewServer(web.NewHandler(city, hub, web.Config{Access: web.Access{Open: true}, Gatherer: reg, Logger: quiet}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		cancel()
		srv.Close()
		wg.Wait()
	})
	for !city.Ready() {
		time.Sleep(time.Millisecond)
	}
	return testServer{url: srv.URL, jt808: jtLn.Addr().String(), nmea: nmLn.Addr().String(), osmand: omLn.Addr().String(),
		plan: plan, city: city, devices: devices}
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// config returns cfg pointed at srv, with 3 s of drain unless it has
// its own.
func (srv testServer) config(cfg Config) Config {
	cfg.Server, cfg.JT808Addr, cfg.NMEAAddr = srv.url, srv.jt808, srv.nmea
	cfg.Drain = cmp.Or(cfg.Drain, 3*time.Second)
	return cfg
}

// counts returns the server's fix counters.
func (srv testServer) counts(t *testing.T) ServerCounts {
	t.Helper()
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	c, ok := parseServerCounts(resp.Body)
	if !ok {
		t.Fatalf("/metrics has no %s", fixesMetric)
	}
	return c
}

// latest returns the time of each unit's latest fix in the city.
func (srv testServer) latest() map[string]time.Time {
	out := map[string]time.Time{}
	for _, u := range srv.city.Units() {
		if u.Time != nil {
			out[u.ID] = *u.Time
		}
	}
	return out
}

// runTest runs cfg, printing progress every 200 ms, and returns its
// summary and output.
func runTest(t *testing.T, cfg Config) (Summary, string) {
	t.Helper()
	cfg.Progress = 200 * time.Millisecond
	var out bytes.Buffer
	sum, err := Run(context.Background(), cfg, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("Run(%+v) error = %v, want nil", cfg, err)
	}
	return sum, out.String()
}

// TestTerminalProtocols drives the city over each protocol and
// checks that every fix sent is answered and counted by the server as
// accepted, that the units end where the last fixes put them, and that
// no fix is ahead of the clock.
func TestTerminalProtocols(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		units     int
		wantSent  int64
		answers   bool // per-fix answers: accepted counted by simulate
		wantLine  string
		wantStore bool // connections sharing a unit may deliver out of order
	}{
		{name: "jt808 0x0200 in real time", cfg: Config{Protocol: JT808, Units: 4, Rate: 1, Duration: 2 * time.Second},
			units: 4, wantSent: 8, answers: true, wantLine: "reply latency"},
		{name: "jt808 0x0200 accelerated", cfg: Config{Protocol: JT808, Units: 4, Rate: 40, Duration: time.Second},
			units: 4, wantSent: 160, answers: true, wantLine: "reply latency"},
		{name: "jt808 0x0704 batches", cfg: Config{Protocol: JT808, Units: 3, Rate: 50, Duration: time.Second, Batch: 7},
			units: 3, wantSent: 150, answers: true, wantLine: "0x0704 batches of 7"},
		{name: "jt808 two connections a unit", cfg: Config{Protocol: JT808, Units: 2, Conns: 4, Rate: 20, Duration: time.Second},
			units: 2, wantSent: 80, answers: true, wantLine: "4 connections", wantStore: true},
		{name: "nmea accelerated", cfg: Config{Protocol: NMEA, Units: 3, Rate: 20, Duration: time.Second},
			units: 3, wantSent: 60, wantLine: "NMEA answers nothing"},
		{name: "json batches", cfg: Config{Protocol: JSON, Units: 5, Rate: 20, Duration: time.Second, Batch: 7},
			units: 5, wantSent: 100, answers: true, wantLine: "http latency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, true)
			before := time.Now()
			sum, out := runTest(t, srv.config(tc.cfg))
			after := time.Now()
			server := srv.counts(t)
			if sum.Sent != tc.wantSent {
				t.Errorf("sent %d, want %d", sum.Sent, tc.wantSent)
			}
			if server.Rejected != 0 {
				t.Errorf("server rejected %d%s, want 0", server.Rejected, countsList(server.Rejections))
			}
			if got := server.Accepted + server.Stored; got != sum.Sent || !tc.wantStore && server.Stored != 0 {
				t.Errorf("server accepted %d and stored %d, want all %d sent accepted", server.Accepted, server.Stored, sum.Sent)
			}
			if tc.answers && (sum.Accepted != sum.Sent || sum.Rejected+sum.Failed != 0) {
				t.Errorf("answered: accepted %d, rejected %d, errors %d; want all %d accepted", sum.Accepted, sum.Rejected, sum.Failed, sum.Sent)
			}
			if !tc.answers && (sum.Server == nil || sum.Server.Accepted != sum.Sent) {
				t.Errorf("summary's server counts %+v, want %d accepted", sum.Server, sum.Sent)
			}
			if !strings.Contains(out, tc.wantLine) {
				t.Errorf("output lacks %q", tc.wantLine)
			}
			latest := srv.latest()
			for _, u := range srv.plan.Units[:tc.units] {
				at, ok := latest[u.ID]
				switch {
				case !ok:
					t.Errorf("unit %s has no fix", u.ID)
				case at.After(after):
					t.Errorf("unit %s's latest fix at %v is after the run ended at %v", u.ID, at, after)
				case at.Before(before.Add(-time.Duration(tc.wantSent) * time.Second)):
					t.Errorf("unit %s's latest fix at %v is older than the run could reach", u.ID, at)
				}
			}
			if n := len(latest); n != tc.units {
				t.Errorf("%d units have fixes, want the first %d", n, tc.units)
			}
		})
	}
}

// TestAcceleratedRunsInARow checks that a run picks up each
// unit's fix times after the previous run's, and that one which cannot
// (it would start far before them) says why before sending.
func TestAcceleratedRunsInARow(t *testing.T) {
	srv := startServer(t, true)
	runTest(t, srv.config(Config{Protocol: JT808, Units: 2, Rate: 50, Duration: time.Second}))
	second, _ := runTest(t, srv.config(Config{Protocol: NMEA, Units: 2, Rate: 50, Duration: time.Second}))
	if second.Server == nil || second.Server.Accepted != second.Sent || second.Server.Total() != second.Sent {
		t.Errorf("second run: server counts %+v, want all %d sent accepted", second.Server, second.Sent)
	}
	cfg := srv.config(Config{Protocol: JT808, Units: 2, Rate: 1000, Duration: time.Second})
	_, err := Run(context.Background(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "latest fix on the server") {
		t.Errorf("a run 1000 s back over fixes of now: error = %v, want one naming the units' latest fixes", err)
	}
	if n := srv.counts(t).Total(); n != 200 {
		t.Errorf("server counted %d fixes, want the 200 of the first two runs", n)
	}
}

// TestRefusedTerminals checks that a terminal the server does
// not know fails the run before the clock starts, saying why.
func TestRefusedTerminals(t *testing.T) {
	srv := startServer(t, false)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"jt808", Config{Protocol: JT808}, "register refused: result 4"},
		{"nmea", Config{Protocol: NMEA}, "login refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Units, tc.cfg.Duration = 3, time.Second
			_, err := Run(context.Background(), srv.config(tc.cfg), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "3 of 3 connections") {
				t.Errorf("simulate error = %v, want one saying %q of 3 of 3 connections", err, tc.want)
			}
		})
	}
}

// TestProvisionedDevicesSideBySide runs OsmAnd, JT/T 808 and NMEA side
// by side against one server, each on units of its own (Skip) as the
// devices provisioned for them (Devices), whose ids are not their units':
// OsmAnd on its port with each device's key and no token, JT/T 808
// registering by the provisioned phone, NMEA logging in with the key.
func TestProvisionedDevicesSideBySide(t *testing.T) {
	srv := startServer(t, false)
	var answers bytes.Buffer
	for i, u := range srv.plan.Units[:6] {
		spec := device.Spec{ID: "dev-" + u.ID, Unit: u.ID, Protocol: []string{fix.SourceOsmAnd, fix.SourceJT808, fix.SourceNMEA}[i/2]}
		if i/2 == 1 {
			spec.Phone, spec.Terminal = fmt.Sprintf("1381234%04d", i), u.ID
		}
		d, key, err := srv.devices.Add(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewEncoder(&answers).Encode(map[string]any{"device": d, "key": key})
	}
	path := filepath.Join(t.TempDir(), "devices.jsonl")
	if err := os.WriteFile(path, answers.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	protocols := []Protocol{OsmAnd, JT808, NMEA}
	sums, errs := make([]Summary, len(protocols)), make([]error, len(protocols))
	var wg sync.WaitGroup
	for k, p := range protocols {
		cfg := srv.config(Config{Protocol: p, Skip: 2 * k, Units: 2, Rate: 1, Duration: 2 * time.Second, Devices: path,
			OsmAndAddr: srv.osmand, Token: "not a device's"})
		wg.Go(func() { sums[k], errs[k] = Run(context.Background(), cfg, io.Discard) })
	}
	wg.Wait()
	var sent int64
	for k, p := range protocols {
		sent += sums[k].Sent
		// 2 units at 1 Hz for 2 s: OsmAnd's tickers may also fire as the 2 s end.
		if errs[k] != nil || sums[k].Sent < 4 || sums[k].Sent > 6 || p != NMEA && sums[k].Accepted != sums[k].Sent {
			t.Errorf("%s: sent %d, accepted %d, error %v; want 4 to 6 sent, all accepted", p, sums[k].Sent, sums[k].Accepted, errs[k])
		}
	}
	if c := srv.counts(t); c.Accepted != sent || c.Total() != sent {
		t.Errorf("server counted %+v, want all %d sent accepted", c, sent)
	}
	if n := len(srv.latest()); n != 6 {
		t.Errorf("%d units have fixes, want the 6 driven", n)
	}
}

// TestProgressOnATerminal checks that on a terminal the progress
// is one line rewritten with \r, ended by a newline before the summary.
func TestProgressOnATerminal(t *testing.T) {
	srv := startServer(t, true)
	cfg := srv.config(Config{Protocol: JT808, Units: 2, Rate: 10, Duration: time.Second,
		Progress: 200 * time.Millisecond, Terminal: true})
	var out bytes.Buffer
	if _, err := Run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	progress := regexp.MustCompile(`(\r +\d+s  sent \d+  accepted \d+  rejected \d+  errors 0  [\d.]+ fixes/s  reply p50 \S+ p99 \S+\x1b\[K)+\nsummary: `)
	if !progress.MatchString(text) {
		t.Errorf("output %q, want progress lines each after \\r, then a newline and the summary", text)
	}
	if n := strings.Count(text, "\r"); n < 3 {
		t.Errorf("%d progress updates, want at least 3 in 1 s at one every 200 ms", n)
	}
}

// BenchmarkSimulateJT808 measures JT/T 808 ingest into the demo city
// served in this process, as simulate drives it: 100 terminal connections
// (88 units, 12 of them shared by two) at 1,000 fixes/s each, the issue's
// target of 100,000 fixes/s, as single 0x0200 locations and as 0x0704
// batches. Client and server share the process and its cores. Set
// PATROLGRID_SIM_DURATION (default 5s) for longer runs and
// PATROLGRID_SIM_RATE (default 1000) to offer more than the target.
func BenchmarkSimulateJT808(b *testing.B) {
	d, rate := benchDuration(b), 1000.0
	if v, ok := os.LookupEnv("PATROLGRID_SIM_RATE"); ok {
		var err error
		if rate, err = strconv.ParseFloat(v, 64); err != nil {
			b.Fatalf("PATROLGRID_SIM_RATE=%q: %v", v, err)
		}
	}
	for _, batch := range []int{1, 10, 30} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			b.ReportAllocs()
			var accepted int64
			var elapsed time.Duration
			for range b.N {
				sum := runBench(b, d, Config{Protocol: JT808, Units: 88, Conns: 100, Rate: rate, Batch: batch})
				accepted += sum.Accepted
				elapsed += sum.Elapsed
				b.ReportMetric(float64(sum.Latency.P99)/1e6, "p99-ms")
			}
			b.ReportMetric(float64(accepted)/elapsed.Seconds(), "fixes/s")
		})
	}
}

// BenchmarkSimulateProtocols: end-to-end ingest throughput of NMEA and
// JSON batches into the memory store, driven by simulate against the demo
// city in one process (client and server share its cores): NMEA over 88
// tracker connections (accelerated replay, counted by the server, since
// NMEA answers nothing) and JSON batches of 1,000, each offered more than
// it takes. bench/ingest-http.sh measures OsmAnd and JSON batches into
// Redis under wrk. PATROLGRID_SIM_DURATION sets the length of each run
// (default 5s).
func BenchmarkSimulateProtocols(b *testing.B) {
	d := benchDuration(b)
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"nmea", Config{Protocol: NMEA, Units: 88, Rate: 1000}},
		{"json", Config{Protocol: JSON, Units: 88, Rate: 1000, Batch: 1000, Concurrency: 4}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var taken int64
			var elapsed time.Duration
			for range b.N {
				sum := runBench(b, d, c.cfg)
				if sc := sum.Server; sc != nil && sc.Elapsed > 0 {
					taken += sc.Accepted + sc.Stored
					elapsed += sc.Elapsed
				} else {
					taken += sum.Accepted + sum.Stored
					elapsed += sum.Elapsed
				}
			}
			b.ReportMetric(float64(taken)/elapsed.Seconds(), "fixes/s")
		})
	}
}

// benchDuration is how long each simulate run of a benchmark lasts:
// PATROLGRID_SIM_DURATION, default 5 s.
func benchDuration(b *testing.B) time.Duration {
	v, ok := os.LookupEnv("PATROLGRID_SIM_DURATION")
	if !ok {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// runBench runs cfg for d, after a warm-up of 1 s, against a fresh
// in-process server with the demo devices, prints the end of its output,
// and returns its summary.
func runBench(b *testing.B, d time.Duration, cfg Config) Summary {
	srv := startServer(b, true)
	cfg.Duration, cfg.Warmup, cfg.Drain = d, time.Second, 30*time.Second
	var out bytes.Buffer
	sum, err := Run(context.Background(), srv.config(cfg), &out)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, lastLines(out.String(), 16))
	return sum
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
