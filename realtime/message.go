package realtime

import (
	"math"
	"time"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// UnitView is a unit as API and live clients see it. Position, motion and
// time fields are absent until the unit's first fix.
type UnitView struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Mechanism string        `json:"mechanism"`
	Status    patrol.Status `json:"status"`
	// Stale tells that the latest fix is too old for the unit to count in
	// coverage.
	Stale    bool       `json:"stale,omitempty"`
	Lat      *float64   `json:"lat,omitempty"`
	Lon      *float64   `json:"lon,omitempty"`
	Heading  *float64   `json:"heading,omitempty"`
	SpeedMPS *float64   `json:"speed_mps,omitempty"`
	Time     *time.Time `json:"time,omitempty"`
	// AgeS is the age of the latest fix in seconds when the view was made.
	AgeS *float64 `json:"age_s,omitempty"`
	Cell *h3.Cell `json:"cell,omitempty"`
	// OffNetwork tells that the latest fix lies farther from every road
	// than the snapping distance, so the unit does not count in coverage
	// (road travel times only).
	OffNetwork bool `json:"off_network,omitempty"`
}

// CellView is a cell's coverage: the best ETA in seconds (absent when no
// unit reaches it within 5 minutes) and the units within 1, 3 and 5 minutes.
type CellView struct {
	Cell h3.Cell  `json:"cell"`
	ETAS *float64 `json:"eta_s,omitempty"`
	N1   int      `json:"n1"`
	N3   int      `json:"n3"`
	N5   int      `json:"n5"`
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

// Shares are the shares (0 to 1) of a zone's cells that meet each tier of
// its rule.
type Shares struct {
	M1 float64 `json:"m1"`
	M3 float64 `json:"m3"`
	M5 float64 `json:"m5"`
}

// ZoneView is a priority zone against its rule now. Gap is Active && !Met.
type ZoneView struct {
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Kind   string      `json:"kind"`
	Active bool        `json:"active"`
	Met    bool        `json:"met"`
	Gap    bool        `json:"gap"`
	Rule   patrol.Rule `json:"rule"`
	Shares Shares      `json:"shares"`
	Cells  int         `json:"cells"`
}

// NewZoneView returns the view of s, with shares rounded to 0.001.
func NewZoneView(s patrol.ZoneStatus) ZoneView {
	r := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	return ZoneView{
		ID: s.ID, Name: s.Name, Kind: s.Kind, Active: s.Active, Met: s.Met, Gap: s.Gap(),
		Rule: s.Rule, Cells: s.Cells,
		Shares: Shares{r(s.Shares[patrol.Tier1]), r(s.Shares[patrol.Tier3]), r(s.Shares[patrol.Tier5])},
	}
}

// Alert says that a zone's gap opened or closed.
type Alert struct {
	Zone  string    `json:"zone"`
	Name  string    `json:"name"`
	State string    `json:"state"` // "open" or "closed"
	Time  time.Time `json:"time"`
}

// Message is what a live client receives: a "snapshot" of everything on
// connect, then "diff" messages with only what changed.
type Message struct {
	Type       string     `json:"type"`
	Time       time.Time  `json:"time"`
	Seq        int64      `json:"seq"`
	Resolution int        `json:"resolution,omitempty"`
	Units      []UnitView `json:"units,omitempty"`
	Cells      []CellView `json:"cells,omitempty"`
	Zones      []ZoneView `json:"zones,omitempty"`
	Alerts     []Alert    `json:"alerts,omitempty"`
}
