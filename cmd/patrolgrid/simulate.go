package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
)

// The path simulated units follow: a clockwise circle around the centre of
// the post cell, at a speed the server's jump filter accepts.
const (
	simRadius      = geo.Meters(300)
	simMaxSpeedMPS = 12.0
	simMinSpeedMPS = 6.0
	simAccuracyM   = 5
	simKnotMPS     = 1852.0 / 3600.0
)

// simulateConfig is the configuration of `patrolgrid simulate`.
type simulateConfig struct {
	Server      string        // base URL of the server, without a trailing slash
	Token       string        // bearer token; empty sends none
	Units       int           // units to drive, the plan's first Units
	Rate        float64       // fixes per second per unit, (0, 1000]
	Duration    time.Duration // how long to send fixes
	Warmup      time.Duration // at the start, fixes whose latency is not counted
	Watchers    int           // websocket clients measuring fix-to-map latency
	Concurrency int           // HTTP workers
	tick        time.Duration // progress line interval
	grace       time.Duration // how long watchers listen after the last fix
}

// runSimulate parses args (without the subcommand name) and runs until done or ctx ends.
func runSimulate(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseSimulateArgs(args, os.LookupEnv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = simulate(ctx, cfg, stdout)
	return err
}

// parseSimulateArgs reads the flags, each of which may also come from the
// environment as PATROLGRID_<FLAG>; a flag wins over its variable. On -h it
// writes the usage to usage and returns flag.ErrHelp.
func parseSimulateArgs(args []string, lookupEnv func(string) (string, bool), usage io.Writer) (simulateConfig, error) {
	cfg := simulateConfig{tick: time.Second, grace: time.Second}
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "base `URL` of the patrolgrid server")
	fs.StringVar(&cfg.Token, "token", "", "bearer `token` for the API")
	fs.IntVar(&cfg.Units, "units", 88, "number of units to drive, the first of the plan")
	fs.Float64Var(&cfg.Rate, "rate", 1, "fixes per second per unit (`Hz`)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send fixes")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "latencies of the fixes sent in this first part of the run are not counted: "+
		"a unit's first fix places it and changes its whole reach, which steady tracking does not")
	fs.IntVar(&cfg.Watchers, "watchers", 0, "websocket clients on /api/v1/live measuring fix-to-map latency")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "HTTP workers")
	if err := simApplyEnv(fs, lookupEnv); err != nil {
		return cfg, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "Usage: patrolgrid simulate [flags]\n\nDrives units of the server's plan with OsmAnd fixes and measures the server.\nEach flag may also be set as PATROLGRID_<FLAG>.\n\nFlags:")
			fs.SetOutput(usage)
			fs.PrintDefaults()
			return cfg, err
		}
		return cfg, fmt.Errorf("simulate: %w", err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("simulate: unexpected argument %q", fs.Arg(0))
	}
	cfg.Server = strings.TrimRight(cfg.Server, "/")
	return cfg, cfg.validate()
}

// simApplyEnv sets every flag whose PATROLGRID_<FLAG> variable is set.
func simApplyEnv(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "PATROLGRID_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := lookupEnv(name)
		if !ok || v == "" || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("simulate: %s=%q: %w", name, v, e)
		}
	})
	return err
}

// validate reports the first setting out of range.
func (c simulateConfig) validate() error {
	u, err := url.Parse(c.Server)
	switch {
	case err != nil:
		return fmt.Errorf("simulate: --server %q: %w", c.Server, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("simulate: --server %q: want an http or https URL", c.Server)
	case c.Units < 1:
		return fmt.Errorf("simulate: --units %d: want at least 1", c.Units)
	case !(c.Rate > 0 && c.Rate <= 1000):
		return fmt.Errorf("simulate: --rate %v: want a rate in (0, 1000] Hz", c.Rate)
	case c.Duration <= 0:
		return fmt.Errorf("simulate: --duration %v: want a positive duration", c.Duration)
	case c.Watchers < 0:
		return fmt.Errorf("simulate: --watchers %d: want 0 or more", c.Watchers)
	case c.Concurrency < 1:
		return fmt.Errorf("simulate: --concurrency %d: want at least 1", c.Concurrency)
	}
	return nil
}

// simUnit is a unit the simulation drives around its post.
type simUnit struct {
	id       string
	centre   orb.Point // centre of the post cell, (lon, lat)
	phase    float64   // bearing from the centre at Unix time 0, degrees
	speedMPS float64   // speed along the circle
}

// newSimUnit returns the i-th unit of the plan, spread in phase and speed,
// and no faster than 80% of its mechanism's limit (0: none).
func newSimUnit(i int, id string, post h3.Cell, maxSpeedKPH float64) simUnit {
	speed := simMinSpeedMPS + float64(i%7)*(simMaxSpeedMPS-simMinSpeedMPS)/6
	if maxSpeedKPH > 0 {
		speed = min(speed, 0.8*maxSpeedKPH/3.6)
	}
	return simUnit{id: id, centre: geo.CellCenter(post), phase: math.Mod(float64(i)*137.508, 360), speedMPS: speed}
}

// at returns the position and heading (degrees) of u at Unix time ms. The
// path depends on the time alone, so successive runs continue it smoothly.
func (u simUnit) at(ms int64) (orb.Point, float64) {
	degPerSec := u.speedMPS / float64(simRadius) * 180 / math.Pi
	theta := math.Mod(u.phase+degPerSec*float64(ms)/1000, 360)
	if theta < 0 {
		theta += 360
	}
	return geo.PointAt(u.centre, theta, simRadius), math.Mod(theta+90, 360)
}

// osmandURL returns the OsmAnd GET request of a fix of u at Unix time ms.
func osmandURL(server string, u simUnit, ms int64) string {
	p, heading := u.at(ms)
	var b strings.Builder
	b.Grow(len(server) + 160)
	b.WriteString(server)
	b.WriteString("/api/v1/osmand?id=")
	b.WriteString(url.QueryEscape(u.id))
	b.WriteString("&lat=")
	b.WriteString(strconv.FormatFloat(p.Lat(), 'f', 7, 64))
	b.WriteString("&lon=")
	b.WriteString(strconv.FormatFloat(p.Lon(), 'f', 7, 64))
	b.WriteString("&timestamp=")
	b.WriteString(strconv.FormatInt(ms, 10))
	b.WriteString("&speed=")
	b.WriteString(strconv.FormatFloat(u.speedMPS/simKnotMPS, 'f', 2, 64))
	b.WriteString("&bearing=")
	b.WriteString(strconv.FormatFloat(heading, 'f', 1, 64))
	b.WriteString("&accuracy=")
	b.WriteString(strconv.Itoa(simAccuracyM))
	return b.String()
}

// newSimulateClient returns an HTTP client with keep-alive connections for
// workers and bounded timeouts.
func newSimulateClient(workers int) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          workers,
		MaxIdleConnsPerHost:   workers,
		MaxConnsPerHost:       workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// simGet sends an authorised GET of path and returns the response when its
// status is 2xx.
func simGet(ctx context.Context, client *http.Client, cfg simulateConfig, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Server+path, nil)
	if err != nil {
		return nil, err
	}
	simAuthorize(req.Header, cfg.Token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		if code, msg := simAPIError(resp.Body); code != "" {
			return nil, fmt.Errorf("GET %s: %s (%s: %s)", path, resp.Status, code, msg)
		}
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return resp, nil
}

func simAuthorize(h http.Header, token string) {
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
}

// simAPIError reads the code and message of an API error body.
func simAPIError(r io.Reader) (code, message string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(r, 16<<10)).Decode(&e)
	return e.Error.Code, e.Error.Message
}

// fetchSimUnits returns the first n units of the server's plan.
func fetchSimUnits(ctx context.Context, client *http.Client, cfg simulateConfig) ([]simUnit, error) {
	resp, err := simGet(ctx, client, cfg, "/api/v1/plan")
	if err != nil {
		return nil, fmt.Errorf("simulate: load plan: %w", err)
	}
	defer resp.Body.Close()
	var plan struct {
		Mechanisms []struct {
			ID          string  `json:"id"`
			MaxSpeedKPH float64 `json:"max_speed_kph"`
		} `json:"mechanisms"`
		Units []struct {
			ID        string  `json:"id"`
			Mechanism string  `json:"mechanism"`
			Post      h3.Cell `json:"post"`
		} `json:"units"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&plan); err != nil {
		return nil, fmt.Errorf("simulate: load plan: %w", err)
	}
	if len(plan.Units) < cfg.Units {
		return nil, fmt.Errorf("simulate: --units %d, but the plan of %s has %d units", cfg.Units, cfg.Server, len(plan.Units))
	}
	maxKPH := make(map[string]float64, len(plan.Mechanisms))
	for _, m := range plan.Mechanisms {
		maxKPH[m.ID] = m.MaxSpeedKPH
	}
	units := make([]simUnit, cfg.Units)
	for i, u := range plan.Units[:cfg.Units] {
		units[i] = newSimUnit(i, u.ID, u.Post, maxKPH[u.Mechanism])
	}
	return units, nil
}

// simulation is one run: its units, client and measurements.
type simulation struct {
	measureFrom time.Time // latencies of fixes sent before are not counted
	cfg         simulateConfig
	client      *http.Client
	units       []simUnit
	stats       simStats
	sent        simSentTimes
}

// simulate runs the simulation described by cfg, writing progress and the
// summary to out, and returns the summary. An ended ctx stops it early, still
// with a summary.
func simulate(ctx context.Context, cfg simulateConfig, out io.Writer) (simSummary, error) {
	client := newSimulateClient(cfg.Concurrency)
	defer client.CloseIdleConnections()
	units, err := fetchSimUnits(ctx, client, cfg)
	if err != nil {
		return simSummary{}, err
	}
	s := &simulation{cfg: cfg, client: client, units: units, sent: simSentTimes{at: map[simFixKey]time.Time{}}}
	conns, err := dialSimWatchers(ctx, cfg)
	if err != nil {
		return simSummary{}, err
	}
	fmt.Fprintf(out, "simulating %d units at %v Hz for %v against %s (%d workers, %d watchers)\n",
		len(units), cfg.Rate, cfg.Duration, cfg.Server, cfg.Concurrency, cfg.Watchers)
	start := time.Now()
	s.measureFrom = start.Add(cfg.Warmup)
	stopWatchers := s.startWatchers(conns)
	stopProgress := s.startProgress(out, start)
	s.run(ctx)
	sending := time.Since(start)
	if len(conns) > 0 {
		simSleep(ctx, cfg.grace) // for the last fixes to reach the map
	}
	stopWatchers()
	stopProgress()
	sum := s.stats.summary(sending)
	sum.print(out, cfg)
	printSimServerMemory(ctx, client, cfg, out)
	return sum, nil
}

// run sends fixes for cfg.Duration, then waits for the requests in flight.
func (s *simulation) run(ctx context.Context) {
	jobs := make(chan int, s.cfg.Concurrency)
	var workers sync.WaitGroup
	for range s.cfg.Concurrency {
		workers.Go(func() {
			for i := range jobs {
				s.send(ctx, i)
			}
		})
	}
	runCtx, cancel := context.WithTimeout(ctx, s.cfg.Duration)
	defer cancel()
	var drivers sync.WaitGroup
	for i := range s.units {
		drivers.Go(func() { s.drive(runCtx, i, jobs) })
	}
	drivers.Wait()
	close(jobs)
	workers.Wait()
}

// drive queues a fix of unit i every 1/Rate seconds, starting at an offset
// that spreads the units over the period. A fix that finds every worker
// busy and the queue full is dropped and counted.
func (s *simulation) drive(ctx context.Context, i int, jobs chan<- int) {
	period := time.Duration(float64(time.Second) / s.cfg.Rate)
	if !simSleep(ctx, period*time.Duration(i)/time.Duration(len(s.units))) {
		return
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case jobs <- i:
		default:
			s.stats.drop()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// send posts one fix of unit i, stamped now, and records the outcome.
func (s *simulation) send(ctx context.Context, i int) {
	u := s.units[i]
	ms := time.Now().UnixMilli()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, osmandURL(s.cfg.Server, u, ms), nil)
	if err != nil {
		s.stats.record(0, simOutcome{kind: simFailed, code: "bad request URL"})
		return
	}
	simAuthorize(req.Header, s.cfg.Token)
	start := time.Now()
	measured := !start.Before(s.measureFrom)
	if s.cfg.Watchers > 0 && measured {
		s.sent.put(simFixKey{u.id, ms}, start)
	}
	resp, err := s.client.Do(req)
	latency := time.Since(start)
	if !measured {
		latency = 0 // counted as sent, not as a latency sample
	}
	if err != nil && ctx.Err() != nil {
		return // interrupted: neither an answer nor a server fault
	}
	s.stats.record(latency, classifySimResponse(resp, err))
}

// simOutcomeKind is how a fix request ended.
type simOutcomeKind int

const (
	simAccepted simOutcomeKind = iota // 2xx
	simRejected                       // 4xx, with the error code
	simFailed                         // transport error or any other status
)

type simOutcome struct {
	kind simOutcomeKind
	code string // rejection code or failure reason
}

// classifySimResponse reads and closes the response of a fix request.
func classifySimResponse(resp *http.Response, err error) simOutcome {
	switch {
	case err != nil && simIsTimeout(err):
		return simOutcome{simFailed, "timeout"}
	case err != nil:
		return simOutcome{simFailed, "transport"}
	}
	defer resp.Body.Close()
	switch resp.StatusCode / 100 {
	case 2:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return simOutcome{kind: simAccepted}
	case 4:
		code, _ := simAPIError(resp.Body)
		if code == "" {
			code = "http_" + strconv.Itoa(resp.StatusCode)
		}
		return simOutcome{simRejected, code}
	}
	return simOutcome{simFailed, "http_" + strconv.Itoa(resp.StatusCode)}
}

func simIsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// simSleep waits d or until ctx ends, and reports whether d passed.
func simSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// simFixKey identifies a sent fix: its unit and its time in Unix ms.
type simFixKey struct {
	unit string
	ms   int64
}

// simSentTimes remembers when each fix was sent, for watchers to match. It
// is safe for concurrent use.
type simSentTimes struct {
	mu sync.Mutex
	at map[simFixKey]time.Time
}

func (s *simSentTimes) put(k simFixKey, t time.Time) {
	s.mu.Lock()
	s.at[k] = t
	s.mu.Unlock()
}

func (s *simSentTimes) get(k simFixKey) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[k]
	return t, ok
}

// prune forgets fixes sent before t.
func (s *simSentTimes) prune(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, at := range s.at {
		if at.Before(t) {
			delete(s.at, k)
		}
	}
}

// dialSimWatchers opens cfg.Watchers websocket connections to /api/v1/live.
func dialSimWatchers(ctx context.Context, cfg simulateConfig) ([]*websocket.Conn, error) {
	if cfg.Watchers == 0 {
		return nil, nil
	}
	u, err := url.Parse(cfg.Server + "/api/v1/live")
	if err != nil {
		return nil, fmt.Errorf("simulate: watcher URL: %w", err)
	}
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	h := http.Header{}
	simAuthorize(h, cfg.Token)
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 10 * time.Second}
	conns := make([]*websocket.Conn, 0, cfg.Watchers)
	for range cfg.Watchers {
		c, resp, err := d.DialContext(ctx, u.String(), h)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("simulate: watcher %d of %d: dial %s: %w", len(conns)+1, cfg.Watchers, u, err)
		}
		c.SetReadLimit(64 << 20)
		conns = append(conns, c)
	}
	// Each watcher's first message is the snapshot of the whole city: read
	// them all before the clock starts, so that latencies measure fixes,
	// not the start-up of a hundred clients.
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("simulate: watcher %d of %d: snapshot: %w", i+1, cfg.Watchers, err)
		}
		_ = c.SetReadDeadline(time.Time{})
	}
	return conns, nil
}

// startWatchers reads every connection in its own goroutine; the returned
// function closes them and waits for the readers.
func (s *simulation) startWatchers(conns []*websocket.Conn) (stop func()) {
	var closing atomic.Bool
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			err := s.watch(c)
			if !closing.Load() {
				s.stats.watcherLost(err)
			}
		})
	}
	return func() {
		closing.Store(true)
		for _, c := range conns {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			c.Close()
		}
		wg.Wait()
	}
}

// simLiveMessage is what a watcher reads of a snapshot or diff.
type simLiveMessage struct {
	Units []struct {
		ID   string `json:"id"`
		Time string `json:"time"`
	} `json:"units"`
}

// watch reads live messages until the connection fails, recording the
// latency of each sent fix the first time this watcher sees it.
func (s *simulation) watch(c *websocket.Conn) error {
	seen := map[string]int64{} // unit → time (ms) of the last fix matched
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return err
		}
		now := time.Now()
		var m simLiveMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		for _, u := range m.Units {
			t, err := time.Parse(time.RFC3339Nano, u.Time)
			if err != nil {
				continue
			}
			k := simFixKey{u.ID, t.UnixMilli()}
			if last, ok := seen[k.unit]; ok && last == k.ms {
				continue
			}
			if sentAt, ok := s.sent.get(k); ok {
				seen[k.unit] = k.ms
				s.stats.recordWS(now.Sub(sentAt))
			}
		}
	}
}

// startProgress prints a progress line every cfg.tick; the returned
// function stops it.
func (s *simulation) startProgress(out io.Writer, start time.Time) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(s.cfg.tick)
		defer t.Stop()
		prev, prevAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				sum := s.stats.summary(now.Sub(start))
				rate := float64(sum.Sent-prev) / now.Sub(prevAt).Seconds()
				prev, prevAt = sum.Sent, now
				fmt.Fprintln(out, sum.progressLine(rate, s.cfg.Watchers > 0))
				s.sent.prune(now.Add(-time.Minute))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// printSimServerMemory prints the server's resident memory from /metrics.
func printSimServerMemory(ctx context.Context, client *http.Client, cfg simulateConfig, out io.Writer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	resp, err := simGet(ctx, client, cfg, "/metrics")
	if err != nil {
		fmt.Fprintf(out, "  server memory unknown: %v\n", err)
		return
	}
	defer resp.Body.Close()
	if b, ok := simMetricValue(resp.Body, "process_resident_memory_bytes"); ok {
		fmt.Fprintf(out, "  server RSS    %.1f MB\n", b/1e6)
	} else {
		fmt.Fprintln(out, "  server RSS    unknown (no process_resident_memory_bytes in /metrics)")
	}
}

// simMetricValue returns the value of an unlabelled metric in a Prometheus
// text exposition.
func simMetricValue(r io.Reader, name string) (float64, bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// simStats accumulates the outcomes of a run. It is safe for concurrent
// use; the zero value is empty.
type simStats struct {
	mu           sync.Mutex
	accepted     int64
	rejections   map[string]int64 // by the server's error code
	failures     map[string]int64 // by reason: timeout, transport, http_503, ...
	dropped      int64
	watchersLost int64
	lastLoss     string
	http, ws     simHistogram
}

func (s *simStats) record(latency time.Duration, o simOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch o.kind {
	case simAccepted:
		s.accepted++
	case simRejected:
		s.rejections = increment(s.rejections, o.code)
	default:
		s.failures = increment(s.failures, o.code)
	}
	if latency > 0 {
		s.http.record(latency)
	}
}

// increment adds one to m[k], making m if it is nil.
func increment(m map[string]int64, k string) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[k]++
	return m
}

func (s *simStats) recordWS(latency time.Duration) {
	s.mu.Lock()
	s.ws.record(latency)
	s.mu.Unlock()
}

func (s *simStats) drop() {
	s.mu.Lock()
	s.dropped++
	s.mu.Unlock()
}

func (s *simStats) watcherLost(err error) {
	s.mu.Lock()
	s.watchersLost++
	s.lastLoss = fmt.Sprint(err)
	s.mu.Unlock()
}

func (s *simStats) summary(elapsed time.Duration) simSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := simSummary{Elapsed: elapsed, Accepted: s.accepted,
		Rejections: maps.Clone(s.rejections), Failures: maps.Clone(s.failures),
		Dropped: s.dropped, WatchersLost: s.watchersLost, LastWatcherError: s.lastLoss,
		HTTP: s.http.summary(), WS: s.ws.summary()}
	for _, n := range s.rejections {
		sum.Rejected += n
	}
	for _, n := range s.failures {
		sum.Failed += n
	}
	sum.Sent = sum.Accepted + sum.Rejected + sum.Failed
	return sum
}

// simSummary is a snapshot of the statistics of a run. Sent counts the
// requests that have completed: accepted, rejected or failed. Elapsed is
// the time spent sending.
type simSummary struct {
	Elapsed                  time.Duration
	Sent, Accepted, Rejected int64
	Failed, Dropped          int64
	Rejections, Failures     map[string]int64
	HTTP, WS                 simLatencySummary
	WatchersLost             int64
	LastWatcherError         string
}

// simLatencySummary is the distribution of a set of latencies.
type simLatencySummary struct {
	Count              int64
	P50, P95, P99, Max time.Duration
}

// progressLine is the one-line state of a running simulation.
func (s simSummary) progressLine(rate float64, ws bool) string {
	line := fmt.Sprintf("%5.0fs  sent %d  accepted %d  rejected %d%s  errors %d  %.1f req/s  http p50 %s p99 %s",
		s.Elapsed.Seconds(), s.Sent, s.Accepted, s.Rejected, simCountsList(s.Rejections), s.Failed, rate,
		simMS(s.HTTP.P50), simMS(s.HTTP.P99))
	if ws {
		line += fmt.Sprintf("  ws p50 %s p99 %s", simMS(s.WS.P50), simMS(s.WS.P99))
	}
	return line
}

// print writes the final summary.
func (s simSummary) print(out io.Writer, cfg simulateConfig) {
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(out, "summary: %d units at %v Hz for %.1fs, %d workers, %d watchers; latencies of the fixes sent after a %v warm-up\n",
		cfg.Units, cfg.Rate, secs, cfg.Concurrency, cfg.Watchers, cfg.Warmup)
	fmt.Fprintf(out, "  sent          %d (%.1f req/s)\n", s.Sent, float64(s.Sent)/secs)
	fmt.Fprintf(out, "  accepted      %d\n", s.Accepted)
	fmt.Fprintf(out, "  rejected      %d%s\n", s.Rejected, simCountsList(s.Rejections))
	fmt.Fprintf(out, "  errors        %d%s\n", s.Failed, simCountsList(s.Failures))
	if s.Dropped > 0 {
		fmt.Fprintf(out, "  dropped       %d (every worker busy; raise --concurrency)\n", s.Dropped)
	}
	fmt.Fprintf(out, "  http latency  %s (%d requests)\n", s.HTTP, s.HTTP.Count)
	if cfg.Watchers > 0 {
		fmt.Fprintf(out, "  ws latency    %s (%d fixes seen by %d watchers)\n", s.WS, s.WS.Count, cfg.Watchers)
	}
	if s.WatchersLost > 0 {
		fmt.Fprintf(out, "  watchers lost %d (last: %s)\n", s.WatchersLost, s.LastWatcherError)
	}
}

func (l simLatencySummary) String() string {
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s", simMS(l.P50), simMS(l.P95), simMS(l.P99), simMS(l.Max))
}

// simCountsList formats counts as " (a 2, b 1)", largest first; "" if none.
func simCountsList(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// simMS formats d in milliseconds, "-" for none.
func simMS(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
}

// simHistogram counts durations in log-linear buckets: exact below
// 128 ns, then simHistSub buckets per power of two, so a reported percentile
// is within 1/128 of a sample at that rank. Memory stays bounded however
// long the run. The zero value is empty; it is not safe for concurrent use.
type simHistogram struct {
	counts   []int64
	n        int64
	min, max time.Duration
}

// simHistSub is the number of buckets per power of two.
const simHistSub = 64

// simHistBucket returns the bucket of v.
func simHistBucket(v uint64) int {
	if v < 2*simHistSub {
		return int(v)
	}
	shift := bits.Len64(v) - 7 // v>>shift is in [simHistSub, 2*simHistSub)
	return 2*simHistSub + (shift-1)*simHistSub + int(v>>shift) - simHistSub
}

// simHistRange returns the smallest value of bucket i and its width.
func simHistRange(i int) (lo, width uint64) {
	if i < 2*simHistSub {
		return uint64(i), 1
	}
	shift := (i-2*simHistSub)/simHistSub + 1
	return uint64((i-2*simHistSub)%simHistSub+simHistSub) << shift, 1 << shift
}

func (h *simHistogram) record(d time.Duration) {
	d = max(d, 0)
	i := simHistBucket(uint64(d))
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.n++
}

// quantile returns the nearest-rank q-quantile, q in (0, 1]: the
// midpoint of the bucket holding the ceil(q*n)-th smallest sample, kept
// within the smallest and largest samples. It is 0 when there are none.
func (h *simHistogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := min(max(int64(math.Ceil(q*float64(h.n))), 1), h.n)
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			lo, width := simHistRange(i)
			return min(max(time.Duration(lo+(width-1)/2), h.min), h.max)
		}
	}
	return h.max
}

func (h *simHistogram) summary() simLatencySummary {
	return simLatencySummary{Count: h.n, P50: h.quantile(0.50), P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max}
}
