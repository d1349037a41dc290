package patrol

import (
	"encoding/json"
	"fmt"

	"github.com/uber/h3-go/v4"
)

// Status is whether a unit can be sent to an incident now.
type Status string

// The statuses of a unit. Only available units count toward coverage.
const (
	Available  Status = "available"  // on patrol, can respond
	Dispatched Status = "dispatched" // sent to an incident, on its way
	OnScene    Status = "on_scene"   // at an incident
	OffDuty    Status = "off_duty"   // out of service
	// Busy is the former name of Dispatched: read as Dispatched (from
	// JSON, plans and stores written before), never written.
	Busy Status = "busy"
)

// Valid reports whether s is one of the known statuses; Busy is not one
// (Canonical turns it into Dispatched).
func (s Status) Valid() bool {
	return s == Available || s == Dispatched || s == OnScene || s == OffDuty
}

// Canonical returns s with its former name read as today's: Busy is
// Dispatched; any other value is returned as it is.
func (s Status) Canonical() Status {
	if s == Busy {
		return Dispatched
	}
	return s
}

// UnmarshalJSON reads a status string, the former "busy" as Dispatched.
func (s *Status) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("patrol: status: %w", err)
	}
	*s = Status(v).Canonical()
	return nil
}

// Unit is a patrol unit: a team with a mechanism, an area of H3 cells it
// patrols and a post (home cell) it returns to.
type Unit struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Mechanism string    `json:"mechanism"`
	Post      h3.Cell   `json:"post"`
	Area      []h3.Cell `json:"area,omitempty"`
	// Shift is when the unit is on duty: "24h" (or empty), "day"
	// (08:00–20:00), "night" (20:00–08:00) or "HH:MM-HH:MM" local time
	// (see OnShift).
	Shift string `json:"shift,omitempty"`
	// Status is the unit's status when the plan is loaded; empty means
	// available.
	Status Status `json:"status,omitempty"`
}

func (u Unit) validate(res int, mechs map[string]Mechanism) error {
	if u.ID == "" {
		return fmt.Errorf("patrol: unit %q: empty id", u.Name)
	}
	if _, ok := mechs[u.Mechanism]; !ok {
		return fmt.Errorf("patrol: unit %s: unknown mechanism %q", u.ID, u.Mechanism)
	}
	if u.Status != "" && !u.Status.Valid() {
		return fmt.Errorf("patrol: unit %s: unknown status %q", u.ID, u.Status)
	}
	if !u.Post.IsValid() || u.Post.Resolution() != res {
		return fmt.Errorf("patrol: unit %s: post %v is not a cell at resolution %d", u.ID, u.Post, res)
	}
	if _, _, err := shiftHours(u.Shift); err != nil {
		return fmt.Errorf("patrol: unit %s: %w", u.ID, err)
	}
	for _, c := range u.Area {
		if !c.IsValid() || c.Resolution() != res {
			return fmt.Errorf("patrol: unit %s: area cell %v is not a cell at resolution %d", u.ID, c, res)
		}
	}
	return nil
}
