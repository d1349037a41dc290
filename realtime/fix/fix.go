package fix

import (
	"time"

	"github.com/paulmach/orb"
)

// The sources a fix arrives by, as Fix.Source and in metrics labels.
const (
	SourceJSON   = "json"   // the JSON batch endpoint
	SourceOsmAnd = "osmand" // the OsmAnd (Traccar Client) protocol
	SourceJT808  = "jt808"  // JT/T 808 terminals over TCP
	SourceNMEA   = "nmea"   // NMEA trackers over TCP
	SourceDemo   = "demo"   // the demo motion
)

// Fix is one GPS position report of a patrol unit.
type Fix struct {
	// Unit is the id of the patrol unit that reported.
	Unit string `json:"unit"`
	// Time is when the device took the fix (UTC).
	Time time.Time `json:"time"`
	// Point is the position in (lon, lat) order, degrees on WGS 84.
	Point orb.Point `json:"-"`
	// SpeedMPS is the ground speed in m/s; negative when unknown.
	SpeedMPS float64 `json:"speed_mps"`
	// Heading is the course over ground in degrees clockwise from north,
	// in [0, 360); negative when unknown.
	Heading float64 `json:"heading"`
	// AccuracyM is the horizontal accuracy radius in metres; zero or
	// negative when unknown.
	AccuracyM float64 `json:"accuracy_m,omitempty"`
	// AltitudeM is the altitude in metres above the ellipsoid.
	AltitudeM float64 `json:"altitude_m,omitempty"`
	// Battery is the device battery level in percent; negative when unknown.
	Battery float64 `json:"battery,omitempty"`
	// Source names the protocol the fix arrived by: one of the Source
	// constants.
	Source string `json:"source"`
}

// Lat returns the latitude in degrees.
func (f Fix) Lat() float64 { return f.Point[1] }

// Lon returns the longitude in degrees.
func (f Fix) Lon() float64 { return f.Point[0] }

// Simulated reports whether f comes from the demo motion rather than from
// a device.
func (f Fix) Simulated() bool { return f.Source == SourceDemo }

// Supersedes reports whether f takes the place of prev as its unit's
// latest fix: when it is newer, or when prev is simulated and f is not, so
// that a device's first fix takes a unit over from the demo motion even
// when its clock runs a little behind the server's. Every store decides
// by this rule.
func (f Fix) Supersedes(prev Fix) bool {
	return f.Time.After(prev.Time) || (prev.Simulated() && !f.Simulated())
}
