package store

import (
	"context"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// UnitState is what a store holds for one unit: its latest fix, if any,
// and its status.
type UnitState struct {
	// Unit is the unit's id.
	Unit string
	// Fix is the unit's latest fix when HasFix, the zero Fix otherwise.
	Fix fix.Fix
	// HasFix reports whether the store holds a fix of the unit.
	HasFix bool
	// Status is empty when it was never set: the plan's status stands.
	Status patrol.Status
	// StatusBy is the label of the credential that last set Status, and
	// StatusAt when; empty and zero when it was never set.
	StatusBy string
	StatusAt time.Time
	// UpdatedAt is when the store last changed the unit.
	UpdatedAt time.Time
}

// EventKind tells what changed in a store Event.
type EventKind int

// The kinds of store events.
const (
	FixEvent      EventKind = iota + 1 // a fix became a unit's latest
	StatusEvent                        // a unit's status changed
	IncidentEvent                      // an incident was created or changed
)

// Event is a change to a unit's live state or to an incident, in the
// order the store applied it.
type Event struct {
	Kind EventKind // what changed
	Unit string    // the unit's id; empty with IncidentEvent
	Fix  fix.Fix   // with FixEvent
	// Change is the new status, with who set it and when, with
	// StatusEvent.
	Change StatusChange
	// Incident is the incident as saved, with IncidentEvent; the
	// subscriber must not modify it.
	Incident *Incident
}

// TimedEvent is an event with the time the store took it.
type TimedEvent struct {
	At time.Time
	Event
}

// Recorder reads back the events of a past window, as they were handed
// out live: replay runs them through the live engine again.
type Recorder interface {
	// Range returns the events the store took from from to to, both
	// included, in the order it took them: what is left of them, in
	// Redis the fix stream (--history-age, --history-entries), in memory
	// its log (see Memory).
	Range(ctx context.Context, from, to time.Time) ([]TimedEvent, error)
}

// StatusChange is a unit's status as someone set it.
type StatusChange struct {
	Status patrol.Status `json:"status"`
	// By is the label of the credential that set it ("demo" for the demo
	// motion); empty when unknown.
	By string `json:"by,omitempty"`
	// At is when it was set, in UTC; a zero At given to SetStatus is the
	// store's clock.
	At time.Time `json:"at"`
}

// Store holds the live state of one city: the latest fix and status of
// every unit, the history of accepted fixes, and a feed of changes.
// Implementations are safe for concurrent use.
type Store interface {
	// Append records f in the unit's history and, when f is newer than the
	// unit's stored latest fix, as its latest. It reports which; a latest
	// fix is announced to subscribers as a FixEvent.
	Append(ctx context.Context, f fix.Fix) (latest bool, err error)
	// Latest returns the unit's latest fix, and false when it has none.
	Latest(ctx context.Context, unit string) (fix.Fix, bool, error)
	// SetStatus records the unit's status, who set it and when, and
	// announces it as a StatusEvent.
	SetStatus(ctx context.Context, unit string, ch StatusChange) error
	// Units returns the state of every unit the store knows.
	Units(ctx context.Context) ([]UnitState, error)
	// Subscribe returns the feed of events applied after the call; it is
	// closed when ctx ends. A subscriber that does not keep up slows
	// writers down; no event is dropped.
	Subscribe(ctx context.Context) (<-chan Event, error)
	// History returns the accepted fixes of unit from since on, oldest
	// first.
	History(ctx context.Context, unit string, since time.Time) ([]fix.Fix, error)
	// AppendBatch is Append for each fix, in order, in as few round trips
	// as the store can. On error the result is shorter than fixes: the
	// fixes it covers are stored, the rest may or may not be.
	AppendBatch(ctx context.Context, fixes []fix.Fix) ([]bool, error)
	// Ping reports why the store cannot be reached now, or nil.
	Ping(ctx context.Context) error
	Incidents
}

// at returns ch with a zero At set to now, and At in UTC.
func (ch StatusChange) at(now time.Time) StatusChange {
	if ch.At.IsZero() {
		ch.At = now
	}
	ch.At = ch.At.UTC()
	return ch
}
