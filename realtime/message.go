package realtime

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// UnitView is a unit as API and live clients see it. Position, motion and
// time fields are absent until the unit's first fix.
type UnitView struct {
	ID        string        `json:"id"`        // the plan's unit id
	Name      string        `json:"name"`      // the plan's unit name
	Mechanism string        `json:"mechanism"` // the plan's mechanism id
	Status    patrol.Status `json:"status"`    // as last set; a Stale unit keeps it
	// Stale tells that the latest fix is older than StaleAfter: the
	// unit's reach shrinks, or, when Stage is "lost", it counts nowhere.
	Stale bool `json:"stale,omitempty"`
	// Stage is "fresh", "stale" or "lost" (see Stage).
	Stage Stage `json:"stage"`
	// StatusBy is the label of the credential that set Status and
	// StatusAt when; absent for the plan's status.
	StatusBy string     `json:"status_by,omitempty"`
	StatusAt *time.Time `json:"status_at,omitempty"`
	Lat      *float64   `json:"lat,omitempty"` // degrees north, WGS 84
	Lon      *float64   `json:"lon,omitempty"` // degrees east, WGS 84
	// Heading is the course in degrees clockwise from north, in [0, 360);
	// absent when the fix has none.
	Heading *float64 `json:"heading,omitempty"`
	// SpeedMPS is the ground speed in m/s; absent when the fix has none.
	SpeedMPS *float64   `json:"speed_mps,omitempty"`
	Time     *time.Time `json:"time,omitempty"` // when the device took the latest fix, UTC
	// AgeS is the age of the latest fix in seconds when the view was made.
	AgeS *float64 `json:"age_s,omitempty"`
	// Cell is the coverage cell the unit was last placed in; absent when
	// its fix lies off the grid.
	Cell *h3.Cell `json:"cell,omitempty"`
	// Source is the protocol of the latest fix (fix.SourceOsmAnd, ...,
	// "demo" for the demo motion); absent before the first fix.
	Source string `json:"source,omitempty"`
	// Simulated tells that the latest fix comes from the demo motion, not
	// from a device: the unit is simulated rather than live.
	Simulated bool `json:"simulated,omitempty"`
	// OffNetwork tells that the latest fix lies farther from every road
	// than the snapping distance, so the unit does not count in coverage
	// (road travel times only).
	OffNetwork bool `json:"off_network,omitempty"`
}

// CellView is a cell's coverage: the best ETA in seconds (absent when no
// unit reaches it within 5 minutes) and the units within 1, 3 and 5 minutes.
type CellView struct {
	Cell h3.Cell  `json:"cell"`            // at the plan's resolution
	ETAS *float64 `json:"eta_s,omitempty"` // best ETA in seconds
	N1   int      `json:"n1"`              // units within 1 minute
	N3   int      `json:"n3"`              // units within 3 minutes
	N5   int      `json:"n5"`              // units within 5 minutes
}

// NewCellView returns the view of c, with the ETA rounded to 0.1 s.
func NewCellView(c patrol.CellCover) CellView {
	v := CellView{Cell: c.Cell, N1: c.N[patrol.Tier1], N3: c.N[patrol.Tier3], N5: c.N[patrol.Tier5]}
	if c.ETA != patrol.Unreached {
		s := math.Round(c.ETA.Seconds()*10) / 10
		v.ETAS = &s
	}
	return v
}

// Shares are the shares of a zone's cells that meet each tier of its rule.
// A tier the rule does not ask (0 units) has no share and is left out of
// the JSON object.
type Shares struct {
	M1 Share `json:"m1,omitzero"` // within 1 minute
	M3 Share `json:"m3,omitzero"` // within 3 minutes
	M5 Share `json:"m5,omitzero"` // within 5 minutes
}

// Share is the share of a zone's cells that meet one tier of its rule, or
// none for a tier the rule does not ask. It is a JSON number, or null when
// there is none; the zero value is none. Share values compare with ==, and
// so do zone views.
type Share struct {
	Value float64 // 0 to 1; 0 when !Asked
	Asked bool    // the rule asks at least one unit in this tier
}

// IsZero reports whether s is no share, which omitzero leaves out.
func (s Share) IsZero() bool { return !s.Asked }

// MarshalJSON encodes the share as a number, or null when there is none.
func (s Share) MarshalJSON() ([]byte, error) {
	if !s.Asked {
		return []byte("null"), nil
	}
	return json.Marshal(s.Value)
}

// UnmarshalJSON reads a number as an asked tier's share, and null as none.
func (s *Share) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = Share{}
		return nil
	}
	if err := json.Unmarshal(b, &s.Value); err != nil {
		return fmt.Errorf("realtime: share: %w", err)
	}
	s.Asked = true
	return nil
}

// ZoneView is a priority zone against its rule now. Gap is Active && !Met.
type ZoneView struct {
	ID     string      `json:"id"`     // the plan's zone id
	Name   string      `json:"name"`   // the plan's zone name
	Kind   string      `json:"kind"`   // the plan's zone kind, such as "park"
	Active bool        `json:"active"` // the zone's hours include now
	Met    bool        `json:"met"`    // every asked tier's share reaches the rule's
	Gap    bool        `json:"gap"`    // Active && !Met
	Rule   patrol.Rule `json:"rule"`   // the zone's response rule
	Shares Shares      `json:"shares"` // the shares of its cells that meet each tier it asks
	Cells  int         `json:"cells"`  // the number of H3 cells the zone covers
	// BackupShare is the share (0 to 1) of the zone's cells that at least
	// patrol.BackupUnits available units reach within 3 minutes, whatever
	// the rule asks.
	BackupShare float64 `json:"backup_share"`
}

// NewZoneView returns the view of s, with shares and the backup share
// rounded to 0.001.
func NewZoneView(s patrol.ZoneStatus) ZoneView {
	share := func(t patrol.Tier) Share {
		v, asked := s.Share(t)
		return Share{Value: math.Round(v*1000) / 1000, Asked: asked}
	}
	return ZoneView{
		ID: s.ID, Name: s.Name, Kind: s.Kind, Active: s.Active, Met: s.Met, Gap: s.Gap(),
		Rule: s.Rule, Cells: s.Cells, BackupShare: math.Round(s.BackupShare()*1000) / 1000,
		Shares: Shares{share(patrol.Tier1), share(patrol.Tier3), share(patrol.Tier5)},
	}
}

// The kinds of alerts.
const (
	GapAlert      = "gap"       // a zone's rule is not met
	UnitLostAlert = "unit_lost" // a unit's fix is older than LostAfter
)

// Alert says that a zone's gap opened or closed, or that a unit was lost
// or found again.
type Alert struct {
	Kind  string `json:"kind"`           // GapAlert or UnitLostAlert
	Zone  string `json:"zone,omitempty"` // the zone's id, with GapAlert
	Unit  string `json:"unit,omitempty"` // the unit's id, with UnitLostAlert
	Name  string `json:"name"`           // the zone's or the unit's name
	State string `json:"state"`          // "open" or "closed"
	// Time is when the gap opened or closed (at least GapHold before the
	// alert), or when the unit was lost (its last fix plus LostAfter) or
	// found.
	Time time.Time `json:"time"`
}

// Message is what a live client receives: a "snapshot" of everything on
// connect, then "diff" messages with only what changed.
type Message struct {
	Type string    `json:"type"` // "snapshot" or "diff"
	Time time.Time `json:"time"` // the city's clock when the message was made
	// Seq numbers the diffs from 1; a snapshot carries the Seq of the last
	// diff before it, so the next diff a client receives has Seq+1.
	Seq        int64      `json:"seq"`
	Resolution int        `json:"resolution,omitempty"` // H3 resolution of the cells; snapshots only
	Units      []UnitView `json:"units,omitempty"`      // every unit, or those changed
	Cells      []CellView `json:"cells,omitempty"`      // every reached cell, or those changed
	Zones      []ZoneView `json:"zones,omitempty"`      // every zone, or those whose view changed
	Alerts     []Alert    `json:"alerts,omitempty"`     // the recent alerts, or those raised now
	// Incidents holds every incident not closed and those closed in the
	// last hour, or those saved since the last diff.
	Incidents []store.Incident `json:"incidents,omitempty"`
	// Warnings holds every open warning and those closed in the last
	// hour, or those pushed or changed since the last diff.
	Warnings []warning.Warning `json:"warnings,omitempty"`
}
