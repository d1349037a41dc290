package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// simTCPMinGap is the shortest time between two writes of a terminal:
// at high rates a terminal writes what fell due meanwhile at once, as a
// terminal with a backlog does.
const simTCPMinGap = 10 * time.Millisecond

// simDialers is how many terminals connect and log in at once.
const simDialers = 16

// simTerminal is one TCP connection of a run, speaking for one device.
// Its methods are called by one goroutine at a time.
type simTerminal interface {
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
func (s *simulation) dialTerminals(ctx context.Context) ([]simTerminal, error) {
	if s.cfg.Protocol != simJT808 && s.cfg.Protocol != simNMEA {
		return nil, nil
	}
	n := max(s.cfg.Conns, len(s.units))
	terms, errs := make([]simTerminal, n), make([]error, n)
	sem := make(chan struct{}, simDialers)
	var wg sync.WaitGroup
	for c := range n {
		u := c % len(s.units)
		lane := simLane{unit: u, series: s.series[u], share: c / len(s.units), of: s.senders[u]}
		stats := &simStats{}
		s.shards = append(s.shards, stats)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if s.cfg.Protocol == simJT808 {
				terms[c], errs[c] = s.dialJT808(ctx, lane, stats)
			} else {
				terms[c], errs[c] = s.dialNMEA(ctx, lane, stats)
			}
		})
	}
	wg.Wait()
	if s.cfg.Protocol == simNMEA && errors.Join(errs...) == nil {
		simSleep(ctx, 300*time.Millisecond) // for a refused login to close its connection
		for c, t := range terms {
			errs[c] = t.ready()
		}
	}
	failed, first := 0, error(nil)
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmpOr(first, err)
		}
	}
	if failed > 0 {
		closeSimTerminals(terms)
		return nil, fmt.Errorf("simulate: %d of %d connections failed; the first: %w", failed, n, first)
	}
	return terms, nil
}

// cmpOr returns a unless it is nil, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// runSimTerminals runs every terminal from t0 and waits for them.
func runSimTerminals(ctx context.Context, terms []simTerminal, t0 time.Time) {
	var wg sync.WaitGroup
	for _, t := range terms {
		wg.Go(func() { t.run(ctx, t0) })
	}
	wg.Wait()
}

// closeSimTerminals closes every terminal that was made.
func closeSimTerminals(terms []simTerminal) {
	for _, t := range terms {
		if t != nil {
			t.close()
		}
	}
}
