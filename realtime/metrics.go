package realtime

import (
	"sync"

	"github.com/patrolgrid/patrolgrid/patrol"
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
	// unbacked is patrolgrid_backup_cells, and backup the series of
	// patrolgrid_zone_backup_share, whose zone's series (zone id to
	// prometheus.Gauge) byZone holds once set.
	unbacked prometheus.Gauge
	backup   *prometheus.GaugeVec
	byZone   sync.Map
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
		unbacked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "patrolgrid_backup_cells",
			Help: "Cells of active priority zones that fewer than two available units reach within 3 minutes, counted once per zone they lie in.",
		}),
		backup: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "patrolgrid_zone_backup_share",
			Help: "Share (0 to 1) of a priority zone's cells that two or more available units reach within 3 minutes.",
		}, []string{"zone"}),
	}
	for _, c := range fix.Codes() {
		m.fixes.WithLabelValues(string(fix.Rejected), c)
	}
	m.accepted = m.fixes.WithLabelValues(string(fix.Accepted), "")
	reg.MustRegister(m.fixes, m.diffs, m.applied, m.unbacked, m.backup,
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

// zones records the backup coverage of the zones as evaluated now: the
// cells of active zones that lack backup, and every zone's backup share.
func (m *Metrics) zones(zs []patrol.ZoneStatus) {
	if m == nil {
		return
	}
	unbacked := 0
	for _, z := range zs {
		if z.Active {
			unbacked += z.Unbacked
		}
		m.zoneGauge(z.ID).Set(z.BackupShare())
	}
	m.unbacked.Set(float64(unbacked))
}

// zoneGauge returns the patrolgrid_zone_backup_share series of zone id,
// created on first use.
func (m *Metrics) zoneGauge(id string) prometheus.Gauge {
	if g, ok := m.byZone.Load(id); ok {
		return g.(prometheus.Gauge)
	}
	g, _ := m.byZone.LoadOrStore(id, m.backup.WithLabelValues(id))
	return g.(prometheus.Gauge)
}
