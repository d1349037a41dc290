package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
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
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/jt808"
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

// The protocols simulate speaks.
const (
	simOsmAnd = "osmand" // HTTP GET /api/v1/osmand, a fix per request
	simJSON   = "json"   // HTTP POST /api/v1/fixes, batches
	simJT808  = "jt808"  // JT/T 808 over TCP, a connection per terminal
	simNMEA   = "nmea"   // NMEA 0183 over TCP, a connection per tracker
)

// Default TCP ports of the terminal protocols on --server's host.
const (
	simJT808Port = "5015"
	simNMEAPort  = "5016"
)

// simJT808MaxBatch is the most locations a 0x0704 frame of simulate
// holds: 3 bytes of count and type, then 2 + 31 bytes per location (the
// fixed 28 and the satellites item) within the 1023-byte body.
const simJT808MaxBatch = (jt808.MaxBody - 3) / (2 + 31)

// simulateConfig is the configuration of `patrolgrid simulate`.
type simulateConfig struct {
	Server      string        // base URL of the server, without a trailing slash
	Token       string        // bearer token; empty sends none
	Protocol    string        // simOsmAnd, simJSON, simJT808 or simNMEA
	Units       int           // units to drive, the plan's first Units
	Rate        float64       // fixes per second per unit (per connection for jt808 and nmea), (0, 100000]
	Duration    time.Duration // how long to send fixes
	Warmup      time.Duration // at the start, fixes whose latency is not counted
	Watchers    int           // websocket clients measuring fix-to-map latency
	Concurrency int           // HTTP workers
	Batch       int           // fixes per JSON request, locations per JT/T 808 frame (1: 0x0200, more: 0x0704)
	Conns       int           // TCP connections for jt808 and nmea; 0 is one per unit
	JT808Addr   string        // host:port of the server's JT/T 808 port
	NMEAAddr    string        // host:port of the server's NMEA port
	JT808Auth   string        // "register" (0x0100, then 0x0102 with the code answered) or "key" (0x0102 with the device key)
	MaxAge      time.Duration // the server's too_old limit, which bounds accelerated replays
	Drain       time.Duration // how long to wait for the answers of the last fixes
	tick        time.Duration // progress line interval
	grace       time.Duration // how long watchers listen after the last fix
	tty         bool          // progress rewrites one line with \r
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
	cfg.tty = simIsTerminal(stdout)
	_, err = simulate(ctx, cfg, stdout)
	return err
}

// simIsTerminal reports whether w is a terminal, where progress rewrites
// one line.
func simIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
	fs.StringVar(&cfg.Protocol, "protocol", simOsmAnd, "how fixes are sent: osmand (HTTP GET), json (HTTP POST batches), "+
		"jt808 (JT/T 808 over TCP) or nmea (NMEA over TCP)")
	fs.IntVar(&cfg.Units, "units", 88, "number of units to drive, the first of the plan")
	fs.Float64Var(&cfg.Rate, "rate", 1, "fixes per second per unit, or per connection with --conns (`Hz`); above 1 Hz, "+
		"jt808 and nmea (whose times are whole seconds) replay each unit's track in accelerated time, 1 s of fix time per fix")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send fixes")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "latencies of the fixes sent in this first part of the run are not counted: "+
		"a unit's first fix places it and changes its whole reach, which steady tracking does not")
	fs.IntVar(&cfg.Watchers, "watchers", 0, "websocket clients on /api/v1/live measuring fix-to-map latency")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "HTTP workers (osmand, json)")
	fs.IntVar(&cfg.Batch, "batch", 1, fmt.Sprintf("json: fixes per request (at most %d); jt808: locations per frame, "+
		"1 sends 0x0200, more send 0x0704 batches (at most %d)", fix.MaxBatch, simJT808MaxBatch))
	fs.IntVar(&cfg.Conns, "conns", 0, "jt808, nmea: TCP connections, at least --units (default one per unit); "+
		"connections of one unit take turns in its fixes, so their fix times never collide")
	fs.StringVar(&cfg.JT808Addr, "jt808-addr", "", "`host:port` of the JT/T 808 server (default --server's host, port "+simJT808Port+")")
	fs.StringVar(&cfg.NMEAAddr, "nmea-addr", "", "`host:port` of the NMEA server (default --server's host, port "+simNMEAPort+")")
	fs.StringVar(&cfg.JT808Auth, "jt808-auth", "register", "how a JT/T 808 terminal authenticates: register "+
		"(0x0100, then 0x0102 with the code answered) or key (0x0102 with the device key)")
	fs.DurationVar(&cfg.MaxAge, "max-age", 24*time.Hour, "the server's too_old limit: an accelerated replay starts no further back")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "how long to wait for the answers to the last fixes")
	if _, err := parseFlags(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "Usage: patrolgrid simulate [flags]\n\nDrives units of the server's plan with fixes "+
				"(OsmAnd, JSON batches, JT/T 808 or NMEA) and measures the server.\nEach flag may also be set as PATROLGRID_<FLAG>.\n\nFlags:")
			fs.SetOutput(usage)
			fs.PrintDefaults()
		}
		return cfg, err
	}
	cfg.Server = strings.TrimRight(cfg.Server, "/")
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	cfg.JT808Addr = simDefaultAddr(cfg.JT808Addr, cfg.Server, simJT808Port)
	cfg.NMEAAddr = simDefaultAddr(cfg.NMEAAddr, cfg.Server, simNMEAPort)
	return cfg, nil
}

// simDefaultAddr returns addr, or the host of server with port when addr
// is empty.
func simDefaultAddr(addr, server, port string) string {
	if addr != "" {
		return addr
	}
	u, _ := url.Parse(server) // validated
	return net.JoinHostPort(u.Hostname(), port)
}

// validate reports the first setting out of range.
func (c simulateConfig) validate() error {
	u, err := url.Parse(c.Server)
	tcp := c.Protocol == simJT808 || c.Protocol == simNMEA
	switch {
	case err != nil:
		return fmt.Errorf("simulate: --server %q: %w", c.Server, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("simulate: --server %q: want an http or https URL", c.Server)
	case !slices.Contains([]string{simOsmAnd, simJSON, simJT808, simNMEA}, c.Protocol):
		return fmt.Errorf("simulate: --protocol %q: want osmand, json, jt808 or nmea", c.Protocol)
	case c.Units < 1:
		return fmt.Errorf("simulate: --units %d: want at least 1", c.Units)
	case !(c.Rate > 0 && c.Rate <= 100000):
		return fmt.Errorf("simulate: --rate %v: want a rate in (0, 100000] Hz", c.Rate)
	case !tcp && c.Rate > 1000:
		return fmt.Errorf("simulate: --rate %v: %s fix times are milliseconds, want at most 1000 Hz per unit", c.Rate, c.Protocol)
	case c.Duration <= 0:
		return fmt.Errorf("simulate: --duration %v: want a positive duration", c.Duration)
	case c.Watchers < 0:
		return fmt.Errorf("simulate: --watchers %d: want 0 or more", c.Watchers)
	case c.Concurrency < 1:
		return fmt.Errorf("simulate: --concurrency %d: want at least 1", c.Concurrency)
	case c.Batch < 1 || c.Batch > fix.MaxBatch:
		return fmt.Errorf("simulate: --batch %d: want 1 to %d", c.Batch, fix.MaxBatch)
	case c.Protocol == simJT808 && c.Batch > simJT808MaxBatch:
		return fmt.Errorf("simulate: --batch %d: a JT/T 808 frame holds at most %d locations", c.Batch, simJT808MaxBatch)
	case c.Conns != 0 && c.Conns < c.Units:
		return fmt.Errorf("simulate: --conns %d: want at least --units (%d); a connection speaks for one device", c.Conns, c.Units)
	case c.JT808Auth != "register" && c.JT808Auth != "key":
		return fmt.Errorf("simulate: --jt808-auth %q: want register or key", c.JT808Auth)
	case c.MaxAge <= 2*simClockMargin:
		return fmt.Errorf("simulate: --max-age %v: want more than %v", c.MaxAge, 2*simClockMargin)
	case c.Drain < 0:
		return fmt.Errorf("simulate: --drain %v: want 0 or more", c.Drain)
	}
	return nil
}

// simUnit is a unit the simulation drives around its post.
type simUnit struct {
	id       string
	centre   orb.Point // centre of the post cell, (lon, lat)
	phase    float64   // bearing from the centre at Unix time 0, degrees
	speedMPS float64   // speed along the circle
	dev      simDevice // how the server knows it as a terminal
	latest   time.Time // its latest fix on the server when the run starts; zero for none
}

// newSimUnit returns the i-th unit of the plan, spread in phase and speed,
// and no faster than 80% of its mechanism's limit (0: none).
func newSimUnit(i int, id string, post h3.Cell, maxSpeedKPH float64) simUnit {
	speed := simMinSpeedMPS + float64(i%7)*(simMaxSpeedMPS-simMinSpeedMPS)/6
	if maxSpeedKPH > 0 {
		speed = min(speed, 0.8*maxSpeedKPH/3.6)
	}
	return simUnit{id: id, centre: geo.CellCenter(post), phase: math.Mod(float64(i)*137.508, 360), speedMPS: speed,
		dev: simDeviceOf(i, id)}
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
	latest, err := fetchSimLatest(ctx, client, cfg)
	if err != nil {
		return nil, err
	}
	for i := range units {
		units[i].latest = latest[units[i].id]
	}
	return units, nil
}

// fetchSimLatest returns the time of every unit's latest fix on the server.
func fetchSimLatest(ctx context.Context, client *http.Client, cfg simulateConfig) (map[string]time.Time, error) {
	resp, err := simGet(ctx, client, cfg, "/api/v1/units")
	if err != nil {
		return nil, fmt.Errorf("simulate: load units: %w", err)
	}
	defer resp.Body.Close()
	var list struct {
		Units []struct {
			ID   string     `json:"id"`
			Time *time.Time `json:"time"`
		} `json:"units"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("simulate: load units: %w", err)
	}
	latest := make(map[string]time.Time, len(list.Units))
	for _, u := range list.Units {
		if u.Time != nil {
			latest[u.ID] = *u.Time
		}
	}
	return latest, nil
}

// simulation is one run: its units, client and measurements.
type simulation struct {
	measureFrom time.Time // latencies of fixes sent before are not counted
	cfg         simulateConfig
	client      *http.Client
	units       []simUnit
	series      []simSeries  // per unit: when its fixes are due, their fix times
	senders     []int        // per unit: how many connections share it (1 over HTTP)
	stats       simStats     // of HTTP senders and watchers
	shards      []*simStats  // of each TCP connection
	sent        simSentTimes // for watchers
	serverBase  *simServerCounts
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
	if err := s.planSeries(time.Now()); err != nil {
		return simSummary{}, err
	}
	terms, err := s.dialTerminals(ctx)
	if err != nil {
		return simSummary{}, err
	}
	defer closeSimTerminals(terms)
	if err := s.readServerBase(ctx); err != nil {
		return simSummary{}, err
	}
	conns, err := dialSimWatchers(ctx, cfg)
	if err != nil {
		return simSummary{}, err
	}
	fmt.Fprintf(out, "simulating %d units at %v Hz for %v against %s (%s%s, %d watchers)\n",
		len(units), cfg.Rate, cfg.Duration, cfg.Server, cfg.Protocol, simSendersText(cfg), cfg.Watchers)
	start := time.Now()
	s.measureFrom = start.Add(cfg.Warmup)
	stopWatchers := s.startWatchers(conns)
	stopProgress := s.startProgress(ctx, out, start)
	switch cfg.Protocol {
	case simOsmAnd:
		s.runOsmAnd(ctx)
	case simJSON:
		s.runJSON(ctx, start)
	default:
		runSimTerminals(ctx, terms, start)
	}
	sending := time.Since(start)
	if len(conns) > 0 {
		simSleep(ctx, cfg.grace) // for the last fixes to reach the map
	}
	stopWatchers()
	sum := s.summary(sending)
	if s.serverBase != nil {
		sum.Server = s.settledServerCounts(ctx, start, sum.Sent)
	}
	stopProgress()
	sum.print(out, cfg)
	printSimServerMemory(ctx, client, cfg, out)
	return sum, nil
}

// summary returns the statistics of the run so far.
func (s *simulation) summary(elapsed time.Duration) simSummary {
	return simSummarize(elapsed, append([]*simStats{&s.stats}, s.shards...)...)
}

// planSeries plans the fixes of every unit from t0: a fix every 1/Rate
// seconds of each of its senders, with fix times in milliseconds over
// HTTP and in whole seconds over JT/T 808 and NMEA.
func (s *simulation) planSeries(t0 time.Time) error {
	res := time.Millisecond
	s.senders = make([]int, len(s.units))
	for i := range s.senders {
		s.senders[i] = 1
	}
	if s.cfg.Protocol == simJT808 || s.cfg.Protocol == simNMEA {
		res = time.Second
		for c := len(s.units); c < s.cfg.Conns; c++ {
			s.senders[c%len(s.units)]++
		}
	}
	s.series = make([]simSeries, len(s.units))
	for i, u := range s.units {
		var err error
		s.series[i], err = planSeries(i, len(s.units), u.id, s.cfg.Rate*float64(s.senders[i]), s.cfg.Duration, t0, res,
			s.cfg.MaxAge, u.latest)
		if err != nil {
			return err
		}
	}
	return nil
}

// readServerBase reads the server's fix counters before a run over a
// terminal protocol, whose replies do not say how validation went (JT/T
// 808) or which does not reply at all (NMEA: then they are required).
func (s *simulation) readServerBase(ctx context.Context) error {
	if s.cfg.Protocol != simJT808 && s.cfg.Protocol != simNMEA {
		return nil
	}
	base, err := fetchSimServerCounts(ctx, s.client, s.cfg)
	if err != nil && s.cfg.Protocol == simNMEA {
		return fmt.Errorf("%w (NMEA answers nothing: the counters are how simulate learns what was accepted)", err)
	}
	if err == nil {
		s.serverBase = &base
	}
	return nil
}

// serverCounts returns what the server counted since the run started.
func (s *simulation) serverCounts(ctx context.Context) (simServerCounts, error) {
	c, err := fetchSimServerCounts(ctx, s.client, s.cfg)
	if err != nil {
		return c, err
	}
	return c.minus(*s.serverBase), nil
}

// settledServerCounts waits, at most cfg.Drain, until the server has
// counted sent fixes or its counters stop moving, and returns them with
// Elapsed set from start to the reading that found them complete; nil
// when they cannot be read.
func (s *simulation) settledServerCounts(ctx context.Context, start time.Time, sent int64) *simServerCounts {
	deadline := time.Now().Add(s.cfg.Drain)
	var last simServerCounts
	for first := true; ; first = false {
		c, err := s.serverCounts(ctx)
		if err != nil {
			return nil
		}
		now := time.Now()
		switch {
		case !first && c.Total() == last.Total():
			return &last
		case c.Total() >= sent || now.After(deadline):
			c.Elapsed = now.Sub(start)
			return &c
		}
		last, last.Elapsed = c, now.Sub(start)
		if !simSleep(ctx, 250*time.Millisecond) {
			return &c
		}
	}
}

// runOsmAnd sends a fix of each unit every 1/Rate seconds for
// cfg.Duration, each stamped when sent, then waits for the requests in
// flight.
func (s *simulation) runOsmAnd(ctx context.Context) {
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
	s.stats.sent(1)
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

// startProgress prints a progress line every cfg.tick: on a terminal one
// line rewritten in place, else a line each time. The returned function
// stops it.
func (s *simulation) startProgress(ctx context.Context, out io.Writer, start time.Time) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	printed := false
	wg.Go(func() {
		t := time.NewTicker(s.cfg.tick)
		defer t.Stop()
		prev, prevAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				sum := s.summary(now.Sub(start))
				if s.cfg.Protocol == simNMEA && s.serverBase != nil {
					if c, err := s.serverCounts(ctx); err == nil {
						sum.Server = &c
					}
				}
				rate := float64(sum.Sent-prev) / now.Sub(prevAt).Seconds()
				prev, prevAt = sum.Sent, now
				if s.cfg.tty {
					fmt.Fprintf(out, "\r%s\x1b[K", sum.progressLine(rate, s.cfg))
				} else {
					fmt.Fprintln(out, sum.progressLine(rate, s.cfg))
				}
				printed = true
				s.sent.prune(now.Add(-time.Minute))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		if s.cfg.tty && printed {
			fmt.Fprintln(out)
		}
	}
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
