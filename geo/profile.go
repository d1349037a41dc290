package geo

import (
	"fmt"
	"time"
)

// Profile is how a unit travels: its effective speed on the network and the
// factor by which a road path exceeds the straight line between two points.
// The zero value does not travel.
type Profile struct {
	// Name identifies the profile: "car", "bike", "foot", ...
	Name string `json:"name"`
	// SpeedKPH is the effective travel speed in km/h, stops and turns included.
	SpeedKPH float64 `json:"speed_kph"`
	// Detour is path length over straight-line length, at least 1.
	Detour float64 `json:"detour"`
}

// Validate reports a profile that cannot be used to compute travel times.
func (p Profile) Validate() error {
	switch {
	case p.SpeedKPH <= 0 || p.SpeedKPH > 300:
		return fmt.Errorf("geo: profile %q: speed_kph %v out of (0, 300]", p.Name, p.SpeedKPH)
	case p.Detour < 1 || p.Detour > 5:
		return fmt.Errorf("geo: profile %q: detour %v out of [1, 5]", p.Name, p.Detour)
	}
	return nil
}

// MetersPerSecond returns the effective speed in m/s.
func (p Profile) MetersPerSecond() float64 { return p.SpeedKPH / 3.6 }

// Travel returns the time to cover straight-line distance d on this
// profile, detour included.
func (p Profile) Travel(d Meters) time.Duration {
	s := float64(d) * p.Detour / p.MetersPerSecond()
	return time.Duration(s * float64(time.Second))
}
