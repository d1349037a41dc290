package simulate

import (
	"context"
	"fmt"
	"time"
)

// What simulate assumes of the server's validation (realtime.ValidationConfig
// defaults; serve sets neither): a fix more than serverMaxAhead ahead of
// the server clock is future_time, one older than --max-age is too_old.
const (
	serverMaxAhead = 5 * time.Minute
	// clockMargin is kept clear of both limits, for the clocks of
	// simulate and the server and for the time a run takes to start.
	clockMargin = time.Minute
)

// series is the fixes of one unit in a run. Fix k (from 0) is due at
// t0+offset+k·period on the wall clock and carries the fix time
// start+k·step, truncated to res. When the protocol's times are coarser
// than the period (JT/T 808 and NMEA send whole seconds), step is res and
// the series replays the unit's track in accelerated time, from far enough
// back that no fix is ahead of the moment it is sent.
type series struct {
	offset, period time.Duration
	step, res      time.Duration
	start          time.Time
	n              int // fixes due before the run ends
}

// due returns the wall time of fix k.
func (s series) due(t0 time.Time, k int) time.Time {
	return t0.Add(s.offset + time.Duration(k)*s.period)
}

// fixTime returns the fix time of fix k.
func (s series) fixTime(k int) time.Time {
	return s.start.Add(time.Duration(k) * s.step).Truncate(s.res)
}

// planSeries returns the series of unit i of units, sent at rate fixes per
// second (all its senders together) for d from t0 with times of
// resolution res; latest is the time of the unit's latest fix on the
// server (zero for none). It fails when the series cannot fit between the
// server's too_old limit maxAge and the unit's latest fix without running
// more than serverMaxAhead ahead of the clock.
func planSeries(i, units int, unit string, rate float64, d time.Duration, t0 time.Time, res, maxAge time.Duration,
	latest time.Time) (series, error) {
	s := series{period: time.Duration(float64(time.Second) / rate), res: res}
	s.offset = s.period * time.Duration(i) / time.Duration(units)
	s.step = max(s.period, res)
	if d > s.offset {
		s.n = int((d - s.offset + s.period - 1) / s.period)
	}
	// Fix k is sent at t0+offset+k·period and must not be later than
	// that: the latest k binds, as step ≥ period.
	lag := time.Duration(max(s.n-1, 0)) * (s.step - s.period)
	s.start = t0.Add(s.offset - lag).Truncate(res)
	if oldest := t0.Add(-maxAge + clockMargin); s.start.Before(oldest) {
		return s, fmt.Errorf("simulate: %v Hz for %v is %d fixes of unit %s at least %v apart in fix time: "+
			"the first would be %v old, past the server's too_old limit of %v (--max-age); lower --rate or --duration",
			rate, d, s.n, unit, s.step, t0.Sub(s.start).Round(time.Second), maxAge)
	}
	if !latest.IsZero() && !s.start.After(latest) {
		shift := latest.Add(res).Truncate(res).Sub(s.start)
		if shift > serverMaxAhead-clockMargin {
			return s, fmt.Errorf("simulate: unit %s's latest fix on the server is at %s, and this run's fixes would start at %s: "+
				"the server refuses a fix not newer than its unit's latest, and one more than %v ahead of its clock, "+
				"so a run at %v Hz for %v cannot follow it (restart a server on a memory store, or wait %v)",
				unit, latest.UTC().Format(time.RFC3339), s.start.UTC().Format(time.RFC3339), serverMaxAhead,
				rate, d, (shift - (serverMaxAhead - clockMargin)).Round(time.Second))
		}
		s.start = s.start.Add(shift)
	}
	return s, nil
}

// lane is the share of one unit's series that one sender sends: the
// fixes k ≡ share (mod of), of being the number of senders of the unit.
type lane struct {
	unit      int // index in simulation.units
	series    series
	share, of int
	k         int // next fix to send
}

// pace calls emit with each fix of lanes when it falls due, from t0 until
// every lane is done or ctx ends, and flush after each round of fixes
// gathered; a flush error stops it and is returned. Rounds are at least
// minGap apart, so that fast senders write several fixes at a time.
func pace(ctx context.Context, t0 time.Time, lanes []lane, minGap time.Duration,
	emit func(l *lane, k int), flush func(done bool) error) error {
	for i := range lanes {
		lanes[i].k = lanes[i].share
	}
	for {
		now := time.Now()
		var next time.Time
		for i := range lanes {
			l := &lanes[i]
			for ; l.k < l.series.n && !l.series.due(t0, l.k).After(now); l.k += l.of {
				emit(l, l.k)
			}
			if at := l.series.due(t0, l.k); l.k < l.series.n && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
		done := next.IsZero()
		if err := flush(done || ctx.Err() != nil); err != nil || done {
			return err
		}
		if !sleep(ctx, max(time.Until(next), minGap)) {
			return flush(true)
		}
	}
}
