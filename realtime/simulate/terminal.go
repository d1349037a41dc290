package simulate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// tcpMinGap is the shortest time between two writes of a terminal:
// at high rates a terminal writes what fell due meanwhile at once, as a
// terminal with a backlog does.
const tcpMinGap = 10 * time.Millisecond

// dialers is how many terminals connect and log in at once.
const dialers = 16

// terminal is one TCP connection of a run, speaking for one device.
// Its methods are called by one goroutine at a time.
type terminal interface {
	// ready reports whether the server still holds the connection after
	// the login (NMEA has no answer to it, only a closed connection).
	ready() error
	// run sends the fixes of the connection's lane as they fall due from
	// t0, then waits at most Config.Drain for the answers.
	run(ctx context.Context, t0 time.Time)
	// close closes the connection and waits for its reader.
	close()
}

// dialTerminals connects and logs in the terminals of a JT/T 808 or NMEA
// run, before the clock starts: one per unit, or cfg.Conns, the
// connections of a unit taking turns in its series. Any that fails fails
// the run.
func (s *simulation) dialTerminals(ctx context.Context) ([]terminal, error) {
	if !s.cfg.Protocol.tcp() {
		return nil, nil
	}
	terms, errs := s.dialAll(ctx)
	if s.cfg.Protocol == NMEA && errors.Join(errs...) == nil {
		sleep(ctx, 300*time.Millisecond) // for a refused login to close its connection
		for c, t := range terms {
			errs[c] = t.ready()
		}
	}
	var refused []error
	for _, err := range errs {
		if err != nil {
			refused = append(refused, err)
		}
	}
	if len(refused) > 0 {
		closeTerminals(terms)
		return nil, fmt.Errorf("simulate: %d of %d connections failed; the first: %w", len(refused), len(terms), refused[0])
	}
	return terms, nil
}

// dialAll dials every connection of the run, dialers at a time, each
// with its lane and its shard of the statistics, and returns them with
// their errors, by connection.
func (s *simulation) dialAll(ctx context.Context) ([]terminal, []error) {
	n := max(s.cfg.Conns, len(s.units))
	terms, errs := make([]terminal, n), make([]error, n)
	s.logins = make([]sync.Mutex, len(s.units))
	sem := make(chan struct{}, dialers)
	var wg sync.WaitGroup
	for c := range n {
		u := c % len(s.units)
		ln := lane{unit: u, series: s.series[u], share: c / len(s.units), of: s.senders[u]}
		st := &stats{}
		s.shards = append(s.shards, st)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if s.cfg.Protocol == JT808 {
				terms[c], errs[c] = s.dialJT808(ctx, ln, st)
			} else {
				terms[c], errs[c] = s.dialNMEA(ctx, ln, st)
			}
		})
	}
	wg.Wait()
	return terms, errs
}

// runTerminals runs every terminal from t0 and waits for them.
func runTerminals(ctx context.Context, terms []terminal, t0 time.Time) {
	var wg sync.WaitGroup
	for _, t := range terms {
		wg.Go(func() { t.run(ctx, t0) })
	}
	wg.Wait()
}

// closeTerminals closes every terminal that was made.
func closeTerminals(terms []terminal) {
	for _, t := range terms {
		if t != nil {
			t.close()
		}
	}
}
