package realtime

import (
	"sync"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of a City. A nil *Metrics records
// nothing.
type Metrics struct {
	fixes *prometheus.CounterVec
	// accepted is the series of accepted fixes, and byResult every other
	// series counted so far (fixKey to prometheus.Counter), so that
	// counting a fix looks no labels up in fixes.
	accepted prometheus.Counter
	byResult sync.Map
	diffs    prometheus.Counter
	applied  prometheus.Histogram
}

// fixKey is the labels of one patrolgrid_fixes_total series.
type fixKey struct {
	outcome fix.Outcome
	reason  string
}

// NewMetrics registers the collectors of a city and its hub with reg.
func NewMetrics(reg prometheus.Registerer, hub *Hub) *Metrics {
	m := &Metrics{
		fixes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_fixes_total",
			Help: "GPS fixes received, by outcome (accepted, stored, rejected) and rejection reason.",
		}, []string{"outcome", "reason"}),
		diffs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patrolgrid_live_diffs_total",
			Help: "Diff messages broadcast to live map clients.",
		}),
		applied: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "patrolgrid_coverage_update_seconds",
			Help:    "Time to apply one unit change to the coverage engine.",
			Buckets: prometheus.ExponentialBuckets(1e-5, 2, 16),
		}),
	}
	for _, c := range fix.Codes() {
		m.fixes.WithLabelValues(string(fix.Rejected), c)
	}
	m.accepted = m.fixes.WithLabelValues(string(fix.Accepted), "")
	reg.MustRegister(m.fixes, m.diffs, m.applied,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "patrolgrid_live_clients", Help: "Connected live map clients.",
		}, func() float64 { return float64(hub.Clients()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "patrolgrid_live_dropped_total", Help: "Live map clients dropped for not keeping up.",
		}, func() float64 { return float64(hub.Dropped()) }),
	)
	return m
}

func (m *Metrics) fix(r fix.Result) {
	switch {
	case m == nil:
	case r.Outcome == fix.Accepted && r.Err == nil:
		m.accepted.Inc()
	default:
		m.counter(fixKey{r.Outcome, fix.Code(r.Err)}).Inc()
	}
}

// counter returns the series of k, created on first use.
func (m *Metrics) counter(k fixKey) prometheus.Counter {
	if c, ok := m.byResult.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.byResult.LoadOrStore(k, m.fixes.WithLabelValues(string(k.outcome), k.reason))
	return c.(prometheus.Counter)
}

func (m *Metrics) diff() {
	if m != nil {
		m.diffs.Inc()
	}
}

func (m *Metrics) observeApply(seconds float64) {
	if m != nil {
		m.applied.Observe(seconds)
	}
}
