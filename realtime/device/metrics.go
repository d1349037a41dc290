package device

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Metrics counts what devices send that is not taken: refused
// credentials, and input that cannot be read. A nil *Metrics counts
// nothing.
type Metrics struct {
	refusals  *prometheus.CounterVec
	malformed *prometheus.CounterVec
	panics    *prometheus.CounterVec
	shutOut   *prometheus.CounterVec
	limited   *prometheus.CounterVec
}

// NewMetrics registers patrolgrid_device_refusals_total{source,
// reason}, patrolgrid_malformed_input_total{source},
// patrolgrid_shut_out_total{source}, patrolgrid_panics_total{source} and
// patrolgrid_rate_limited_total{source,limit} with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_device_refusals_total",
			Help: "Device credentials refused, by protocol (osmand, jt808, nmea) and reason.",
		}, []string{"source", "reason"}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_malformed_input_total",
			Help: "Device input that could not be read, by protocol (osmand, jt808, nmea): requests, frames or lines.",
		}, []string{"source"}),
		shutOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_shut_out_total",
			Help: "Device connections closed for failed logins, by protocol (jt808, nmea): at the failure that made too many, or at once from an address shut out for them.",
		}, []string{"source"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_panics_total",
			Help: "Panics recovered while serving a device, by protocol (osmand, jt808, nmea): each closed its connection and no other.",
		}, []string{"source"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_rate_limited_total",
			Help: "Requests, frames or lines refused over a rate limit, by source (osmand, jt808, nmea, api) and limit (device, address).",
		}, []string{"source", "limit"}),
	}
	for _, s := range []string{fix.SourceOsmAnd, fix.SourceJT808, fix.SourceNMEA} {
		for _, r := range []string{"unknown_device", "device_revoked", "bad_device_key", "no_device_key"} {
			m.refusals.WithLabelValues(s, r)
		}
		m.malformed.WithLabelValues(s)
	}
	for _, s := range []string{fix.SourceOsmAnd, fix.SourceJT808, fix.SourceNMEA} {
		m.panics.WithLabelValues(s)
		m.limited.WithLabelValues(s, "device")
	}
	for _, s := range []string{fix.SourceJT808, fix.SourceNMEA} {
		m.shutOut.WithLabelValues(s)
	}
	reg.MustRegister(m.refusals, m.malformed, m.panics, m.shutOut, m.limited)
	return m
}

func (m *Metrics) refuse(source string, err error) {
	if m != nil {
		m.refusals.WithLabelValues(source, Code(err)).Inc()
	}
}

// Malformed counts one request, frame or line of source that could not be
// read.
func (m *Metrics) Malformed(source string) {
	if m != nil {
		m.malformed.WithLabelValues(source).Inc()
	}
}

// ShutOut counts one connection of source closed for failed logins.
func (m *Metrics) ShutOut(source string) {
	if m != nil {
		m.shutOut.WithLabelValues(source).Inc()
	}
}

// Limited counts one request, frame or line of source refused over the
// named rate limit ("device", "address").
func (m *Metrics) Limited(source, limit string) {
	if m != nil {
		m.limited.WithLabelValues(source, limit).Inc()
	}
}

// Panic counts one panic recovered while serving a connection of source.
func (m *Metrics) Panic(source string) {
	if m != nil {
		m.panics.WithLabelValues(source).Inc()
	}
}
