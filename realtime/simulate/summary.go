package simulate

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Summary is a snapshot of the statistics of a run, as Run returns it.
// It is a value: its maps are its own.
type Summary struct {
	Elapsed time.Duration // time spent sending
	// Sent counts the fixes handed to the server; Accepted, Stored,
	// Rejected and Failed those answered so far, by how.
	Sent, Accepted, Stored, Rejected int64
	Failed                           int64
	Dropped                          int64            // fixes not sent: every HTTP worker was busy
	Rejections                       map[string]int64 // rejected fixes by the server's code; nil for none
	Failures                         map[string]int64 // failed fixes by reason (timeout, transport, no_reply...); nil for none
	Latency                          LatencySummary   // from a request or frame to its answer
	WS                               LatencySummary   // from a fix's request to its arrival at each watcher
	WatchersLost                     int64            // watchers whose connection failed during the run
	LastWatcherError                 string           // why the last of them failed
	// Server is what the server's /metrics counted during the run, for
	// protocols without an answer per fix (JT808, NMEA); nil when not read.
	Server *ServerCounts
}

// Answered returns the fixes answered so far.
func (s Summary) Answered() int64 { return s.Accepted + s.Stored + s.Rejected + s.Failed }

// LatencySummary is the distribution of a set of latencies: their number
// and nearest-rank percentiles, each within 1/128 of a sample at its rank.
// All are zero without samples.
type LatencySummary struct {
	Count              int64
	P50, P95, P99, Max time.Duration
}

// progressLine is the one-line state of a running simulation: fixes
// sent, then their outcomes as answered, or as the server's /metrics
// counts them for NMEA.
func (s Summary) progressLine(rate float64, cfg Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5.0fs  sent %d", s.Elapsed.Seconds(), s.Sent)
	if s.Server != nil {
		fmt.Fprintf(&b, "  accepted %d  rejected %d%s (server /metrics)", s.Server.Accepted, s.Server.Rejected,
			countsList(s.Server.Rejections))
	} else {
		fmt.Fprintf(&b, "  accepted %d", s.Accepted)
		if s.Stored > 0 {
			fmt.Fprintf(&b, "  stored %d", s.Stored)
		}
		fmt.Fprintf(&b, "  rejected %d%s  errors %d", s.Rejected, countsList(s.Rejections), s.Failed)
	}
	fmt.Fprintf(&b, "  %.1f fixes/s", rate)
	if label := latencyLabel(cfg.Protocol); label != "" {
		fmt.Fprintf(&b, "  %s p50 %s p99 %s", label, millis(s.Latency.P50), millis(s.Latency.P99))
	}
	if cfg.Watchers > 0 {
		fmt.Fprintf(&b, "  ws p50 %s p99 %s", millis(s.WS.P50), millis(s.WS.P99))
	}
	return b.String()
}

// latencyLabel names the answer latency of a protocol; "" for NMEA,
// which answers nothing.
func latencyLabel(protocol Protocol) string {
	switch protocol {
	case JT808:
		return "reply"
	case NMEA:
		return ""
	}
	return "http"
}

// print writes the final summary.
func (s Summary) print(out io.Writer, cfg Config) {
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(out, "summary: %s, %d units at %v Hz for %.1fs%s, %d watchers; latencies of the fixes sent after a %v warm-up\n",
		cfg.Protocol, cfg.Units, cfg.Rate, secs, sendersText(cfg), cfg.Watchers, cfg.Warmup)
	fmt.Fprintf(out, "  sent          %d (%.1f fixes/s)\n", s.Sent, float64(s.Sent)/secs)
	if cfg.Protocol == NMEA {
		fmt.Fprintln(out, "  NMEA answers nothing: the outcomes below are the server's own counts (patrolgrid_fixes_total in /metrics)")
	} else {
		fmt.Fprintf(out, "  accepted      %d\n", s.Accepted)
		if s.Stored > 0 {
			fmt.Fprintf(out, "  stored        %d (kept in history only)\n", s.Stored)
		}
		fmt.Fprintf(out, "  rejected      %d%s\n", s.Rejected, countsList(s.Rejections))
		fmt.Fprintf(out, "  errors        %d%s\n", s.Failed, countsList(s.Failures))
	}
	if s.Dropped > 0 {
		fmt.Fprintf(out, "  dropped       %d (every worker busy; raise --concurrency)\n", s.Dropped)
	}
	if s.Server != nil {
		s.Server.print(out, cfg.Protocol)
	}
	switch cfg.Protocol {
	case JT808:
		fmt.Fprintf(out, "  reply latency %s (%d frames, from the write to the 0x8001 general reply)\n", s.Latency, s.Latency.Count)
	case NMEA:
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

// sendersText says who sends in a run of cfg.
func sendersText(cfg Config) string {
	switch cfg.Protocol {
	case JT808, NMEA:
		conns := cfg.Conns
		if conns == 0 {
			conns = cfg.Units
		}
		batch := ""
		if cfg.Protocol == JT808 && cfg.Batch > 1 {
			batch = fmt.Sprintf(", 0x0704 batches of %d", cfg.Batch)
		}
		return fmt.Sprintf(", %d connections%s", conns, batch)
	case JSON:
		return fmt.Sprintf(", %d workers, batches of up to %d", cfg.Concurrency, cfg.Batch)
	}
	return fmt.Sprintf(", %d workers", cfg.Concurrency)
}

// String formats l as "p50 1.23ms  p95 ...  p99 ...  max ...", "-" for none.
func (l LatencySummary) String() string {
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s", millis(l.P50), millis(l.P95), millis(l.P99), millis(l.Max))
}

// countsList formats counts as " (a 2, b 1)", largest first; "" if none.
func countsList(m map[string]int64) string {
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

// millis formats d in milliseconds, "-" for none.
func millis(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
}
