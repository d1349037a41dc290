package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Errors of incident storage.
var (
	// ErrNoIncident is returned for an incident id the store does not hold.
	ErrNoIncident = errors.New("store: no such incident")
	// ErrIncidentVersion is returned by SaveIncident when the stored
	// incident's version is not the one the caller read.
	ErrIncidentVersion = errors.New("store: the incident changed since it was read")
)

// IncidentState is where an incident stands.
type IncidentState string

// The states of an incident, in the order it passes them.
const (
	Open       IncidentState = "open"       // reported, no unit sent yet
	Dispatched IncidentState = "dispatched" // a unit is on its way or there
	Closed     IncidentState = "closed"     // dealt with
)

// Incident is a reported incident as a store holds it (in Redis as this
// struct's JSON, in pg:{city}:incidents).
type Incident struct {
	// ID is the store's name for it, "I" and a number counting from 1.
	ID string `json:"id"`
	// Version counts saves from 1; every save adds one.
	Version int64 `json:"version"`
	// Lat and Lon are the incident's position in degrees on WGS 84.
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// Priority is 1 (most urgent) to 3.
	Priority int           `json:"priority"`
	Kind     string        `json:"kind,omitempty"`
	Note     string        `json:"note,omitempty"`
	State    IncidentState `json:"state"`
	// Unit is the unit sent to it; empty while it is open.
	Unit string `json:"unit,omitempty"`
	// Log is every change of state, oldest first: the first entry is the
	// report.
	Log []IncidentChange `json:"log"`
}

// IncidentChange is one change of an incident's state.
type IncidentChange struct {
	State IncidentState `json:"state"`
	Unit  string        `json:"unit,omitempty"` // the unit sent, with Dispatched
	By    string        `json:"by,omitempty"`   // the label of the credential
	At    time.Time     `json:"at"`             // UTC
}

// Incidents holds the incidents of one city. A save is a compare-and-set
// on the version, so that two dispatchers on two server instances never
// overwrite each other unseen. Every save is announced to the store's
// subscribers as an IncidentEvent. Implementations are safe for
// concurrent use.
type Incidents interface {
	// SaveIncident stores inc. An incident of Version 0 is new: the store
	// gives it the next ID. Otherwise it replaces the stored incident of
	// inc.ID only when that one's version is inc.Version, and fails with
	// ErrIncidentVersion when it is not (ErrNoIncident when there is
	// none). It returns the incident as saved, its Version one more.
	SaveIncident(ctx context.Context, inc Incident) (Incident, error)
	// Incident returns the incident id, or ErrNoIncident.
	Incident(ctx context.Context, id string) (Incident, error)
	// ListIncidents returns every incident the store holds, oldest first.
	ListIncidents(ctx context.Context) ([]Incident, error)
}

// incidentID is the ID of the n-th incident of a city.
func incidentID(n int64) string { return "I" + strconv.FormatInt(n, 10) }

// incidentNumber returns n of an ID incidentID(n), and false for any other
// string.
func incidentNumber(id string) (int64, bool) {
	if len(id) < 2 || id[0] != 'I' {
		return 0, false
	}
	n, err := strconv.ParseInt(id[1:], 10, 64)
	return n, err == nil && n > 0 && incidentID(n) == id
}

// incidentVersionError is the ErrIncidentVersion of a save of id that
// expected version read while the stored one was stored.
func incidentVersionError(id string, stored, read int64) error {
	return fmt.Errorf("%w: %s: stored version %d, read %d", ErrIncidentVersion, id, stored, read)
}

// noIncident is the ErrNoIncident of id.
func noIncident(id string) error { return fmt.Errorf("%w: %q", ErrNoIncident, id) }
