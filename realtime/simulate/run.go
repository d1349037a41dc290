package simulate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// watchGrace is how long watchers listen after the last fix, for it to
// reach the map.
const watchGrace = time.Second

// simulation is one run: its units, client, connections and measurements.
type simulation struct {
	measureFrom time.Time // latencies of fixes sent before are not counted
	cfg         Config
	client      *http.Client
	units       []Unit
	series      []series   // per unit: when its fixes are due, their fix times
	senders     []int      // per unit: how many connections share it (1 over HTTP)
	terms       []terminal // of JT808 and NMEA, logged in
	// logins has the connections of a JT/T 808 terminal register and
	// authenticate one at a time: each registration draws a new code.
	logins     []sync.Mutex
	watchers   []*websocket.Conn // on /api/v1/live, past their snapshot
	stats      stats             // of HTTP senders and watchers
	shards     []*stats          // of each TCP connection
	sent       sentTimes         // for watchers
	serverBase *ServerCounts
}

// Run drives the units of the server's plan as cfg says, with the
// defaults of its zero fields (see Config), writing a progress line every
// cfg.Progress and then the summary to out, and returns the summary. It
// fails, before sending any fix, when cfg is out of range, when the server
// cannot be read or has too few units, and when a terminal or watcher
// cannot connect. An ended ctx stops the run early, still with a summary.
// Every goroutine it starts has stopped when it returns.
func Run(ctx context.Context, cfg Config, out io.Writer) (Summary, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	client := newClient(cfg.Concurrency, cfg.Proxy)
	defer client.CloseIdleConnections()
	s, err := connect(ctx, cfg, client)
	if err != nil {
		return Summary{}, err
	}
	defer closeTerminals(s.terms)
	fmt.Fprintf(out, "simulating %d units at %v Hz for %v against %s (%s%s, %d watchers)\n",
		len(s.units), cfg.Rate, cfg.Duration, cfg.Server, cfg.Protocol, sendersText(cfg), cfg.Watchers)
	sum := s.run(ctx, out)
	sum.print(out, cfg)
	printServerMemory(ctx, client, cfg, out)
	return sum, nil
}

// connect prepares a run of cfg: it reads the plan's units and their
// latest fixes, plans their series, connects and logs in the terminals,
// reads the server's counters and opens the watchers. Nothing is sent yet.
func connect(ctx context.Context, cfg Config, client *http.Client) (*simulation, error) {
	units, err := fetchUnits(ctx, client, cfg)
	if err != nil {
		return nil, err
	}
	s := &simulation{cfg: cfg, client: client, units: units, sent: sentTimes{at: map[fixKey]time.Time{}}}
	if err := s.planSeries(time.Now()); err != nil {
		return nil, err
	}
	if s.terms, err = s.dialTerminals(ctx); err != nil {
		return nil, err
	}
	if err = s.readServerBase(ctx); err == nil {
		s.watchers, err = dialWatchers(ctx, cfg)
	}
	if err != nil {
		closeTerminals(s.terms)
		return nil, err
	}
	return s, nil
}

// run sends the fixes from now, with the watchers reading and the
// progress line printing, and returns the summary once the answers to the
// last fixes are in.
func (s *simulation) run(ctx context.Context, out io.Writer) Summary {
	start := time.Now()
	s.measureFrom = start.Add(s.cfg.Warmup)
	stopWatchers := s.startWatchers(s.watchers)
	stopProgress := s.startProgress(ctx, out, start)
	switch s.cfg.Protocol {
	case OsmAnd:
		s.runOsmAnd(ctx)
	case JSON:
		s.runJSON(ctx, start)
	default:
		runTerminals(ctx, s.terms, start)
	}
	sending := time.Since(start)
	if len(s.watchers) > 0 {
		sleep(ctx, watchGrace) // for the last fixes to reach the map
	}
	stopWatchers()
	sum := s.summary(sending)
	if s.serverBase != nil {
		sum.Server = s.settledServerCounts(ctx, start, sum.Sent)
	}
	stopProgress()
	return sum
}

// summary returns the statistics of the run so far.
func (s *simulation) summary(elapsed time.Duration) Summary {
	return summarize(elapsed, append([]*stats{&s.stats}, s.shards...)...)
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
	if s.cfg.Protocol.tcp() {
		res = time.Second
		for c := len(s.units); c < s.cfg.Conns; c++ {
			s.senders[c%len(s.units)]++
		}
	}
	s.series = make([]series, len(s.units))
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
	if !s.cfg.Protocol.tcp() {
		return nil
	}
	base, err := fetchServerCounts(ctx, s.client, s.cfg)
	if err != nil && s.cfg.Protocol == NMEA {
		return fmt.Errorf("%w (NMEA answers nothing: the counters are how simulate learns what was accepted)", err)
	}
	if err == nil {
		s.serverBase = &base
	}
	return nil
}

// serverCounts returns what the server counted since the run started.
func (s *simulation) serverCounts(ctx context.Context) (ServerCounts, error) {
	c, err := fetchServerCounts(ctx, s.client, s.cfg)
	if err != nil {
		return c, err
	}
	return c.minus(*s.serverBase), nil
}

// settledServerCounts waits, at most cfg.Drain, until the server has
// counted sent fixes or its counters stop moving, and returns them with
// Elapsed set from start to the reading that found them complete; nil
// when they cannot be read.
func (s *simulation) settledServerCounts(ctx context.Context, start time.Time, sent int64) *ServerCounts {
	deadline := time.Now().Add(s.cfg.Drain)
	var last ServerCounts
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
		if !sleep(ctx, 250*time.Millisecond) {
			return &c
		}
	}
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
