package simulate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fixesMetric is the server's counter of fixes by outcome and reason.
const fixesMetric = "patrolgrid_fixes_total"

// ServerCounts is what the server's patrolgrid_fixes_total counted:
// fixes by outcome, and the rejected ones by reason. Counts of the whole
// server: any other sender's fixes are in them too.
type ServerCounts struct {
	Accepted, Stored, Rejected int64
	Rejections                 map[string]int64 // by reason
	// Elapsed is the time from the start of the run to the reading that
	// found the counts complete, after the server took the last fix; 0
	// when not known.
	Elapsed time.Duration
}

// Total returns every fix counted.
func (c ServerCounts) Total() int64 { return c.Accepted + c.Stored + c.Rejected }

// minus returns the counts of c since base.
func (c ServerCounts) minus(base ServerCounts) ServerCounts {
	d := ServerCounts{Accepted: c.Accepted - base.Accepted, Stored: c.Stored - base.Stored, Rejected: c.Rejected - base.Rejected}
	for k, n := range c.Rejections {
		if n -= base.Rejections[k]; n != 0 {
			d.Rejections = addCount(d.Rejections, k, n)
		}
	}
	return d
}

func (c ServerCounts) print(out io.Writer, protocol Protocol) {
	rate := ""
	if c.Elapsed > 0 {
		rate = fmt.Sprintf(" in %.1fs, %.0f fixes/s", c.Elapsed.Seconds(), float64(c.Total())/c.Elapsed.Seconds())
	}
	fmt.Fprintf(out, "  server counted %d fixes%s (/metrics %s, all senders):\n", c.Total(), rate, fixesMetric)
	fmt.Fprintf(out, "    accepted    %d\n", c.Accepted)
	if c.Stored > 0 {
		fmt.Fprintf(out, "    stored      %d (out of order: kept in history only)\n", c.Stored)
	}
	fmt.Fprintf(out, "    rejected    %d%s\n", c.Rejected, countsList(c.Rejections))
	if protocol == JT808 {
		fmt.Fprintln(out, "    (a 0x8001 reply says a frame was taken; whether each location passed validation only /metrics says)")
	}
}

// parseServerCounts reads patrolgrid_fixes_total from a Prometheus
// text exposition.
func parseServerCounts(r io.Reader) (ServerCounts, bool) {
	var c ServerCounts
	mf := metricFamilies(r)[fixesMetric]
	for _, m := range mf.GetMetric() {
		n, labels := int64(m.GetCounter().GetValue()), map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		switch labels["outcome"] {
		case "accepted":
			c.Accepted += n
		case "stored":
			c.Stored += n
		case "rejected":
			c.Rejected += n
			if n != 0 {
				c.Rejections = addCount(c.Rejections, labels["reason"], n)
			}
		}
	}
	return c, mf != nil
}

// metricFamilies parses a Prometheus text exposition; what does not
// parse is left out.
func metricFamilies(r io.Reader) map[string]*dto.MetricFamily {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, _ := p.TextToMetricFamilies(r)
	return mfs
}

// fetchServerCounts reads the server's fix counters from /metrics.
func fetchServerCounts(ctx context.Context, client *http.Client, cfg Config) (ServerCounts, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := get(ctx, client, cfg, "/metrics")
	if err != nil {
		return ServerCounts{}, fmt.Errorf("simulate: read the server's fix counters: %w", err)
	}
	defer resp.Body.Close()
	c, ok := parseServerCounts(resp.Body)
	if !ok {
		return c, fmt.Errorf("simulate: the server's /metrics has no %s", fixesMetric)
	}
	return c, nil
}
