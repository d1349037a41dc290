// Package warning runs risk warnings through their loop: the city center
// pushes a warning, a supervisor acknowledges it, a station handles it on
// the ground, and it is closed with feedback; each step is timed and
// attributed, and a warning nobody acknowledges in time rises a level.
package warning

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Level is how urgent a warning is.
type Level int

// The levels, in order.
const (
	Blue Level = iota
	Yellow
	Orange
	Red
)

var levelNames = [...]string{"blue", "yellow", "orange", "red"}

// String returns the level's name.
func (l Level) String() string { return levelNames[l] }

// MarshalText encodes the level as its name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	i := slices.Index(levelNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("warning: unknown level %q", b)
	}
	*l = Level(i)
	return nil
}

// State is where a warning is in its loop.
type State string

// The states, in the loop's order.
const (
	Pushed       State = "pushed"       // the city center raised it
	Acknowledged State = "acknowledged" // a supervisor took it on
	Handling     State = "handling"     // a station is on it
	Closed       State = "closed"       // with feedback
)

// Step is one change of a warning's state: who made it and when.
type Step struct {
	State State     `json:"state"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// Escalation is a warning rising a level for want of an acknowledgement.
type Escalation struct {
	At   time.Time `json:"at"`
	From Level     `json:"from"`
	To   Level     `json:"to"`
}

// Feedback closes a warning: what came of it.
type Feedback struct {
	Outcome string `json:"outcome"` // "resolved", "false_alarm", "referred", ...
	Note    string `json:"note,omitempty"`
}

// Warning is one warning and its history.
type Warning struct {
	ID string `json:"id"`
	// Kind is what raised it ("gap", "lost", "hotspot") and Subject what
	// about (a zone, a unit, a cell).
	Kind        string       `json:"kind"`
	Subject     string       `json:"subject"`
	Level       Level        `json:"level"`
	State       State        `json:"state"`
	Steps       []Step       `json:"steps"` // the first is the push
	Escalations []Escalation `json:"escalations,omitempty"`
	Feedback    *Feedback    `json:"feedback,omitempty"`
}

// Open reports whether w is not closed.
func (w Warning) Open() bool { return w.State != Closed }

// stepAt returns when w reached state, false when it never did.
func (w Warning) stepAt(s State) (time.Time, bool) {
	for _, st := range w.Steps {
		if st.State == s {
			return st.At, true
		}
	}
	return time.Time{}, false
}

// Errors of the book.
var (
	ErrUnknown = errors.New("warning: no such warning")
	// ErrState is a step the warning's state does not allow.
	ErrState = errors.New("warning: not allowed in this state")
	// ErrFeedback is a close without an outcome.
	ErrFeedback = errors.New("warning: closing needs an outcome")
)

// Config configures a Book; the zero value of each field is its default.
type Config struct {
	// AckWithin is how long a warning may wait for its acknowledgement,
	// from its push or its last escalation, before it rises a level;
	// default 2 minutes.
	AckWithin time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Book holds a city's warnings. It is safe for concurrent use.
type Book struct {
	cfg     Config
	mu      sync.Mutex
	list    []*Warning // by push
	seq     int
	changed map[string]bool // since the last Changes
}

// NewBook returns an empty book.
func NewBook(cfg Config) *Book {
	if cfg.AckWithin <= 0 {
		cfg.AckWithin = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Book{cfg: cfg, changed: map[string]bool{}}
}

// Push raises a warning of kind about subject at level, by who raised it;
// while one of the same kind and subject is open it is that one, raised
// to level if level is higher.
func (b *Book) Push(kind, subject string, level Level, by string) Warning {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.cfg.Now().UTC()
	for _, w := range b.list {
		if w.Open() && w.Kind == kind && w.Subject == subject {
			if level > w.Level {
				w.Escalations = append(w.Escalations, Escalation{At: now, From: w.Level, To: level})
				w.Level = level
				b.changed[w.ID] = true
			}
			return clone(w)
		}
	}
	b.seq++
	w := &Warning{ID: fmt.Sprintf("W%d", b.seq), Kind: kind, Subject: subject, Level: level, State: Pushed,
		Steps: []Step{{State: Pushed, By: by, At: now}}}
	b.list = append(b.list, w)
	b.changed[w.ID] = true
	return clone(w)
}

// next are the steps each state allows.
var next = map[State][]State{Pushed: {Acknowledged, Closed}, Acknowledged: {Handling, Closed}, Handling: {Closed}}

// step moves warning id to state, by who, with a note.
func (b *Book) step(id string, state State, by, note string, fb *Feedback) (Warning, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.list, func(w *Warning) bool { return w.ID == id })
	if i < 0 {
		return Warning{}, fmt.Errorf("%w %q", ErrUnknown, id)
	}
	w := b.list[i]
	if !slices.Contains(next[w.State], state) {
		return Warning{}, fmt.Errorf("%w: %s is %s, not a state it can go %s from", ErrState, id, w.State, state)
	}
	w.State = state
	w.Steps = append(w.Steps, Step{State: state, By: by, At: b.cfg.Now().UTC(), Note: note})
	w.Feedback = fb
	b.changed[w.ID] = true
	return clone(w), nil
}

// Acknowledge has a supervisor take on a pushed warning.
func (b *Book) Acknowledge(id, by string) (Warning, error) {
	return b.step(id, Acknowledged, by, "", nil)
}

// Handle has a station take on an acknowledged warning.
func (b *Book) Handle(id, by, note string) (Warning, error) {
	return b.step(id, Handling, by, note, nil)
}

// Close closes an open warning with feedback, which needs an outcome.
func (b *Book) Close(id, by string, fb Feedback) (Warning, error) {
	if fb.Outcome == "" {
		return Warning{}, ErrFeedback
	}
	return b.step(id, Closed, by, fb.Note, &fb)
}

// Escalate raises by a level every pushed warning that has waited
// AckWithin since its push or its last escalation, up to red, and returns
// those it raised.
func (b *Book) Escalate() []Warning {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.cfg.Now().UTC()
	var out []Warning
	for _, w := range b.list {
		since := w.Steps[0].At
		if n := len(w.Escalations); n > 0 {
			since = w.Escalations[n-1].At
		}
		if w.State != Pushed || w.Level == Red || now.Sub(since) < b.cfg.AckWithin {
			continue
		}
		w.Escalations = append(w.Escalations, Escalation{At: now, From: w.Level, To: w.Level + 1})
		w.Level++
		b.changed[w.ID] = true
		out = append(out, clone(w))
	}
	return out
}

// List returns every warning, open ones first, each group newest first.
func (b *Book) List() []Warning {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Warning, 0, len(b.list))
	for _, open := range []bool{true, false} {
		for i := len(b.list) - 1; i >= 0; i-- {
			if b.list[i].Open() == open {
				out = append(out, clone(b.list[i]))
			}
		}
	}
	return out
}

// Changes returns the warnings pushed or changed since the last call, in
// push order, and forgets them.
func (b *Book) Changes() []Warning {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.changed) == 0 {
		return nil
	}
	var out []Warning
	for _, w := range b.list {
		if b.changed[w.ID] {
			out = append(out, clone(w))
		}
	}
	clear(b.changed)
	return out
}

// Recent returns the open warnings and those closed after since, in push
// order.
func (b *Book) Recent(since time.Time) []Warning {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Warning
	for _, w := range b.list {
		if w.Open() || w.Steps[len(w.Steps)-1].At.After(since) {
			out = append(out, clone(w))
		}
	}
	return out
}

func clone(w *Warning) Warning {
	c := *w
	c.Steps = slices.Clone(w.Steps)
	c.Escalations = slices.Clone(w.Escalations)
	return c
}
