package realtime

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Prometheus collectors of a City. A nil *Metrics records
// nothing.
type Metrics struct {
	fixes   *prometheus.CounterVec
	diffs   prometheus.Counter
	applied prometheus.Histogram
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
	for _, c := range Codes() {
		m.fixes.WithLabelValues(string(Rejected), c)
	}
	m.fixes.WithLabelValues(string(Accepted), "")
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

func (m *Metrics) fix(r Result) {
	if m != nil {
		m.fixes.WithLabelValues(string(r.Outcome), Code(r.Err)).Inc()
	}
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
