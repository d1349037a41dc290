package simulate

import (
	"fmt"
	"maps"
	"sync"
	"time"
)

// outcomeKind is how the server answered a fix.
type outcomeKind int

const (
	accepted outcomeKind = iota // taken as the unit's latest (HTTP 2xx, JT/T 808 result 0)
	stored                      // kept in history only (a JSON batch's "stored")
	rejected                    // refused, with the server's code
	failed                      // no answer: transport error, timeout, 5xx, connection lost
)

type outcome struct {
	kind outcomeKind
	code string // rejection code or failure reason
}

// counts is what a run, or one sender of it, has counted. The zero
// value is empty; it is not safe for concurrent use.
type counts struct {
	sent, accepted, stored int64
	rejections, failures   map[string]int64 // by the server's code; by reason
	dropped, watchersLost  int64
	lastLoss               string
	lat, ws                histogram // answer latency (request or frame), fix-to-map latency
}

// outcome counts n fixes that ended with o.
func (c *counts) outcome(o outcome, n int64) {
	switch o.kind {
	case accepted:
		c.accepted += n
	case stored:
		c.stored += n
	case rejected:
		c.rejections = addCount(c.rejections, o.code, n)
	default:
		c.failures = addCount(c.failures, o.code, n)
	}
}

// add adds the counts of o to c.
func (c *counts) add(o *counts) {
	c.sent += o.sent
	c.accepted += o.accepted
	c.stored += o.stored
	for k, n := range o.rejections {
		c.rejections = addCount(c.rejections, k, n)
	}
	for k, n := range o.failures {
		c.failures = addCount(c.failures, k, n)
	}
	c.dropped += o.dropped
	c.watchersLost += o.watchersLost
	if o.lastLoss != "" {
		c.lastLoss = o.lastLoss
	}
	c.lat.add(&o.lat)
	c.ws.add(&o.ws)
}

// addCount adds n to m[k], making m if it is nil; a zero n adds no key.
func addCount(m map[string]int64, k string, n int64) map[string]int64 {
	if n == 0 {
		return m
	}
	if m == nil {
		m = map[string]int64{}
	}
	m[k] += n
	return m
}

// stats accumulates the counts of a run, or of one of its senders so
// that fast senders do not contend. It is safe for concurrent use; the
// zero value is empty.
type stats struct {
	mu sync.Mutex
	c  counts
}

// update calls f with the counts, locked.
func (s *stats) update(f func(c *counts)) {
	s.mu.Lock()
	f(&s.c)
	s.mu.Unlock()
}

// sent counts n fixes handed to the server.
func (s *stats) sent(n int) { s.update(func(c *counts) { c.sent += int64(n) }) }

// record counts one fix sent and answered with o after latency (0: not
// a latency sample).
func (s *stats) record(latency time.Duration, o outcome) {
	s.update(func(c *counts) {
		c.outcome(o, 1)
		if latency > 0 {
			c.lat.record(latency)
		}
	})
}

func (s *stats) recordWS(latency time.Duration) {
	s.update(func(c *counts) { c.ws.record(latency) })
}

func (s *stats) drop() { s.update(func(c *counts) { c.dropped++ }) }

func (s *stats) watcherLost(err error) {
	s.update(func(c *counts) { c.watchersLost++; c.lastLoss = fmt.Sprint(err) })
}

// addTo adds the counts to dst.
func (s *stats) addTo(dst *counts) {
	s.mu.Lock()
	dst.add(&s.c)
	s.mu.Unlock()
}

// summarize returns the summary of the counts of every stats, after
// elapsed.
func summarize(elapsed time.Duration, shards ...*stats) Summary {
	var c counts
	for _, s := range shards {
		s.addTo(&c)
	}
	sum := Summary{Elapsed: elapsed, Sent: c.sent, Accepted: c.accepted, Stored: c.stored,
		Rejections: maps.Clone(c.rejections), Failures: maps.Clone(c.failures),
		Dropped: c.dropped, WatchersLost: c.watchersLost, LastWatcherError: c.lastLoss,
		Latency: c.lat.summary(), WS: c.ws.summary()}
	for _, n := range c.rejections {
		sum.Rejected += n
	}
	for _, n := range c.failures {
		sum.Failed += n
	}
	return sum
}
