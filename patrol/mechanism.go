package patrol

import (
	"fmt"

	"github.com/patrolgrid/patrolgrid/geo"
)

// Mechanism is how a patrol unit moves and responds: vehicle patrol, e-bike
// patrol, foot patrol, fixed post, joint patrol, video patrol, ...
type Mechanism struct {
	// ID is the short stable key units refer to, such as "vehicle".
	ID string `json:"id"`
	// Name is shown to people.
	Name string `json:"name"`
	// Profile names the travel profile used to respond; empty for a
	// mechanism that does not travel (video patrol).
	Profile string `json:"profile,omitempty"`
	// CountsResponse tells whether the mechanism's units count toward
	// physical response coverage.
	CountsResponse bool `json:"counts_response"`
	// MaxSpeedKPH is the highest plausible speed of its units in km/h; a
	// fix implying more is a jump. Zero means no limit.
	MaxSpeedKPH float64 `json:"max_speed_kph,omitempty"`
}

// Responds reports whether units of m take part in response coverage.
func (m Mechanism) Responds() bool { return m.CountsResponse && m.Profile != "" }

func (m Mechanism) validate(profiles map[string]geo.Profile) error {
	if m.ID == "" {
		return fmt.Errorf("patrol: mechanism %q: empty id", m.Name)
	}
	if _, ok := profiles[m.Profile]; m.Profile != "" && !ok {
		return fmt.Errorf("patrol: mechanism %s: unknown profile %q", m.ID, m.Profile)
	}
	if m.MaxSpeedKPH < 0 {
		return fmt.Errorf("patrol: mechanism %s: negative max_speed_kph", m.ID)
	}
	return nil
}
