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
	// UpdatedAt is when the store last changed the unit.
	UpdatedAt time.Time
}

// EventKind tells what changed in a store Event.
type EventKind int

// The kinds of store events.
const (
	FixEvent    EventKind = iota + 1 // a fix became a unit's latest
	StatusEvent                      // a unit's status changed
)

// Event is a change to a unit's live state, in the order the store
// applied it.
type Event struct {
	Kind   EventKind     // what changed
	Unit   string        // the unit's id
	Fix    fix.Fix       // with FixEvent
	Status patrol.Status // with StatusEvent
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
	// SetStatus records the unit's status and announces it as a
	// StatusEvent.
	SetStatus(ctx context.Context, unit string, st patrol.Status) error
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
}
