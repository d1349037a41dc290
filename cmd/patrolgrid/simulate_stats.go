package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// simOutcomeKind is how the server answered a fix.
type simOutcomeKind int

const (
	simAccepted simOutcomeKind = iota // taken as the unit's latest (HTTP 2xx, JT/T 808 result 0)
	simStored                         // kept in history only (a JSON batch's "stored")
	simRejected                       // refused, with the server's code
	simFailed                         // no answer: transport error, timeout, 5xx, connection lost
)

type simOutcome struct {
	kind simOutcomeKind
	code string // rejection code or failure reason
}

// simCounts is what a run, or one sender of it, has counted. The zero
// value is empty; it is not safe for concurrent use.
type simCounts struct {
	sent, accepted, stored int64
	rejections, failures   map[string]int64 // by the server's code; by reason
	dropped, watchersLost  int64
	lastLoss               string
	lat, ws                simHistogram // answer latency (request or frame), fix-to-map latency
}

// outcome counts n fixes that ended with o.
func (c *simCounts) outcome(o simOutcome, n int64) {
	switch o.kind {
	case simAccepted:
		c.accepted += n
	case simStored:
		c.stored += n
	case simRejected:
		c.rejections = addCount(c.rejections, o.code, n)
	default:
		c.failures = addCount(c.failures, o.code, n)
	}
}

// add adds the counts of o to c.
func (c *simCounts) add(o *simCounts) {
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

// simStats accumulates the counts of a run, or of one of its senders so
// that fast senders do not contend. It is safe for concurrent use; the
// zero value is empty.
type simStats struct {
	mu sync.Mutex
	c  simCounts
}

// update calls f with the counts, locked.
func (s *simStats) update(f func(c *simCounts)) {
	s.mu.Lock()
	f(&s.c)
	s.mu.Unlock()
}

// sent counts n fixes handed to the server.
func (s *simStats) sent(n int) { s.update(func(c *simCounts) { c.sent += int64(n) }) }

// record counts one fix sent and answered with o after latency (0: not
// a latency sample).
func (s *simStats) record(latency time.Duration, o simOutcome) {
	s.update(func(c *simCounts) {
		c.outcome(o, 1)
		if latency > 0 {
			c.lat.record(latency)
		}
	})
}

func (s *simStats) recordWS(latency time.Duration) {
	s.update(func(c *simCounts) { c.ws.record(latency) })
}

func (s *simStats) drop() { s.update(func(c *simCounts) { c.dropped++ }) }

func (s *simStats) watcherLost(err error) {
	s.update(func(c *simCounts) { c.watchersLost++; c.lastLoss = fmt.Sprint(err) })
}

// addTo adds the counts to dst.
func (s *simStats) addTo(dst *simCounts) {
	s.mu.Lock()
	dst.add(&s.c)
	s.mu.Unlock()
}

// simSummarize returns the summary of the counts of every stats, after
// elapsed.
func simSummarize(elapsed time.Duration, stats ...*simStats) simSummary {
	var c simCounts
	for _, s := range stats {
		s.addTo(&c)
	}
	sum := simSummary{Elapsed: elapsed, Sent: c.sent, Accepted: c.accepted, Stored: c.stored,
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

// simSummary is a snapshot of the statistics of a run. Sent counts the
// fixes handed to the server; Accepted, Stored, Rejected and Failed those
// answered so far. Elapsed is the time spent sending.
type simSummary struct {
	Elapsed                          time.Duration
	Sent, Accepted, Stored, Rejected int64
	Failed, Dropped                  int64
	Rejections, Failures             map[string]int64
	Latency, WS                      simLatencySummary
	WatchersLost                     int64
	LastWatcherError                 string
	// Server is what the server's /metrics counted during the run, for
	// protocols without an answer per fix; nil when not read.
	Server *simServerCounts
}

// Answered returns the fixes answered so far.
func (s simSummary) Answered() int64 { return s.Accepted + s.Stored + s.Rejected + s.Failed }

// simLatencySummary is the distribution of a set of latencies.
type simLatencySummary struct {
	Count              int64
	P50, P95, P99, Max time.Duration
}

// progressLine is the one-line state of a running simulation: fixes
// sent, then their outcomes as answered, or as the server's /metrics
// counts them for NMEA.
func (s simSummary) progressLine(rate float64, cfg simulateConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5.0fs  sent %d", s.Elapsed.Seconds(), s.Sent)
	if s.Server != nil {
		fmt.Fprintf(&b, "  accepted %d  rejected %d%s (server /metrics)", s.Server.Accepted, s.Server.Rejected,
			simCountsList(s.Server.Rejections))
	} else {
		fmt.Fprintf(&b, "  accepted %d", s.Accepted)
		if s.Stored > 0 {
			fmt.Fprintf(&b, "  stored %d", s.Stored)
		}
		fmt.Fprintf(&b, "  rejected %d%s  errors %d", s.Rejected, simCountsList(s.Rejections), s.Failed)
	}
	fmt.Fprintf(&b, "  %.1f fixes/s", rate)
	if label := simLatencyLabel(cfg.Protocol); label != "" {
		fmt.Fprintf(&b, "  %s p50 %s p99 %s", label, simMS(s.Latency.P50), simMS(s.Latency.P99))
	}
	if cfg.Watchers > 0 {
		fmt.Fprintf(&b, "  ws p50 %s p99 %s", simMS(s.WS.P50), simMS(s.WS.P99))
	}
	return b.String()
}

// simLatencyLabel names the answer latency of a protocol; "" for NMEA,
// which answers nothing.
func simLatencyLabel(protocol string) string {
	switch protocol {
	case simJT808:
		return "reply"
	case simNMEA:
		return ""
	}
	return "http"
}

// print writes the final summary.
func (s simSummary) print(out io.Writer, cfg simulateConfig) {
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(out, "summary: %s, %d units at %v Hz for %.1fs%s, %d watchers; latencies of the fixes sent after a %v warm-up\n",
		cfg.Protocol, cfg.Units, cfg.Rate, secs, simSendersText(cfg), cfg.Watchers, cfg.Warmup)
	fmt.Fprintf(out, "  sent          %d (%.1f fixes/s)\n", s.Sent, float64(s.Sent)/secs)
	if cfg.Protocol == simNMEA {
		fmt.Fprintln(out, "  NMEA answers nothing: the outcomes below are the server's own counts (patrolgrid_fixes_total in /metrics)")
	} else {
		fmt.Fprintf(out, "  accepted      %d\n", s.Accepted)
		if s.Stored > 0 {
			fmt.Fprintf(out, "  stored        %d (kept in history only)\n", s.Stored)
		}
		fmt.Fprintf(out, "  rejected      %d%s\n", s.Rejected, simCountsList(s.Rejections))
		fmt.Fprintf(out, "  errors        %d%s\n", s.Failed, simCountsList(s.Failures))
	}
	if s.Dropped > 0 {
		fmt.Fprintf(out, "  dropped       %d (every worker busy; raise --concurrency)\n", s.Dropped)
	}
	if s.Server != nil {
		s.Server.print(out, cfg.Protocol)
	}
	switch cfg.Protocol {
	case simJT808:
		fmt.Fprintf(out, "  reply latency %s (%d frames, from the write to the 0x8001 general reply)\n", s.Latency, s.Latency.Count)
	case simNMEA:
	default:
		fmt.Fprintf(out, "  http latency  %s (%d requests)\n", s.Latency, s.Latency.Count)
	}
	if cfg.Watchers > 0 {
		fmt.Fprintf(out, "  ws latency    %s (%d fixes seen by %d watchers)\n", s.WS, s.WS.Count, cfg.Watchers)
	}
	if s.WatchersLost > 0 {
		fmt.Fprintf(out, "  watchers lost %d (last: %s)\n", s.WatchersLost, s.LastWatcherError)
	}
}

// simSendersText says who sends in a run of cfg.
func simSendersText(cfg simulateConfig) string {
	switch cfg.Protocol {
	case simJT808, simNMEA:
		conns := cfg.Conns
		if conns == 0 {
			conns = cfg.Units
		}
		batch := ""
		if cfg.Protocol == simJT808 && cfg.Batch > 1 {
			batch = fmt.Sprintf(", 0x0704 batches of %d", cfg.Batch)
		}
		return fmt.Sprintf(", %d connections%s", conns, batch)
	case simJSON:
		return fmt.Sprintf(", %d workers, batches of up to %d", cfg.Concurrency, cfg.Batch)
	}
	return fmt.Sprintf(", %d workers", cfg.Concurrency)
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

// add adds the samples of o to h.
func (h *simHistogram) add(o *simHistogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]int64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
}

func (h *simHistogram) summary() simLatencySummary {
	return simLatencySummary{Count: h.n, P50: h.quantile(0.50), P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max}
}
