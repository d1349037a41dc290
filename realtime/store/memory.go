package store

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// MemoryConfig sizes a Memory store. Its zero value is the defaults, which
// each field's zero value stands for.
type MemoryConfig struct {
	// HistoryAge is how long accepted fixes are kept, measured on Now
	// against fix times; zero means 24 hours.
	HistoryAge time.Duration
	// HistoryLen caps the number of fixes kept per unit; zero means 4096.
	HistoryLen int
	// Now is the clock for updated-at and saved-at times and for history
	// trimming; nil means time.Now.
	Now func() time.Time
}

// Memory is a Store, and Plans, in the process's memory, for a single
// server instance: nothing survives a restart. It is safe for concurrent
// use. Each subscription owns a goroutine, started by Subscribe or
// SubscribeBatches and ended with its context, that hands the subscriber
// its events.
type Memory struct {
	cfg MemoryConfig

	// pub is held from a change until its events are queued for every
	// subscriber, so events keep the order of the changes; mu guards the
	// maps and the list of subscribers and is never held while waiting on
	// a subscriber.
	pub     sync.Mutex
	mu      sync.Mutex
	units   map[string]*memoryUnit
	subs    []*memorySub // replaced, never modified: publishers read it once per change
	scratch []Event      // the events of one AppendBatch; pub is held

	planMu sync.Mutex
	plan   PlanRecord // the active plan; Version 0: none yet
	// versions are the named plan versions, by name.
	versions map[string]Version

	incidents []Incident // guarded by mu; incidents[n-1] is incidentID(n)

	logMu sync.Mutex
	log   []TimedEvent // every event published, oldest first (see Range)
}

// memoryUnit is what a Memory store holds for one unit.
type memoryUnit struct {
	UnitState
	// history is the accepted fixes, oldest first: a window that trim
	// moves forward in arr, the array it lives in.
	history []fix.Fix
	arr     []fix.Fix
}

// record appends f to the history. A window that has reached the end of
// its array and fills at most half of it moves back to the array's start
// instead of growing into a new array, so that a full history costs about
// one copied fix per fix and no allocation.
func (u *memoryUnit) record(f fix.Fix) {
	if len(u.history) == cap(u.history) && 2*len(u.history) <= cap(u.arr) {
		n := copy(u.arr[:cap(u.arr)], u.history)
		clear(u.arr[n:cap(u.arr)]) // the fixes trimmed off
		u.history = u.arr[:n]
	}
	grows := len(u.history) == cap(u.history)
	u.history = append(u.history, f)
	if grows {
		u.arr = u.history[:0]
	}
}

// memoryQueueLen is how many events a subscriber may have queued before
// writers wait for it.
const memoryQueueLen = 1024

// memorySub is one subscription: writers append to its queue, and its
// goroutine takes the whole queue at once and hands it out.
type memorySub struct {
	ctx   context.Context
	mu    sync.Mutex
	queue []Event
	ready chan struct{} // cap 1: the queue has events
	taken chan struct{} // cap 1: the queue was taken, there may be room
}

// NewMemory returns an empty store; it starts no goroutine.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.HistoryAge == 0 {
		cfg.HistoryAge = 24 * time.Hour
	}
	if cfg.HistoryLen == 0 {
		cfg.HistoryLen = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{cfg: cfg, units: map[string]*memoryUnit{}}
}

// unit returns the unit id, added when new; s.mu is held.
func (s *Memory) unit(id string) *memoryUnit {
	u, ok := s.units[id]
	if !ok {
		u = &memoryUnit{UnitState: UnitState{Unit: id}}
		s.units[id] = u
	}
	return u
}

// append records f; s.mu is held. It reports whether f became the unit's
// latest fix.
func (s *Memory) append(f fix.Fix, now time.Time) bool {
	u := s.unit(f.Unit)
	u.record(f)
	s.trim(u, now)
	latest := !u.HasFix || f.Supersedes(u.Fix)
	if latest {
		u.Fix, u.HasFix, u.UpdatedAt = f, true, now
	}
	return latest
}

// Append implements Store.
func (s *Memory) Append(ctx context.Context, f fix.Fix) (bool, error) {
	s.pub.Lock()
	defer s.pub.Unlock()
	s.mu.Lock()
	latest := s.append(f, s.cfg.Now())
	subs := s.subs
	s.mu.Unlock()
	if !latest {
		return false, nil
	}
	return true, s.publish(ctx, subs, Event{Kind: FixEvent, Unit: f.Unit, Fix: f})
}

// AppendBatch implements Store: the fixes are stored under one lock, and
// their events reach each subscriber together.
func (s *Memory) AppendBatch(ctx context.Context, fixes []fix.Fix) ([]bool, error) {
	out := make([]bool, len(fixes))
	s.pub.Lock()
	defer s.pub.Unlock()
	s.mu.Lock()
	now := s.cfg.Now()
	evs := s.scratch[:0]
	for i, f := range fixes {
		if out[i] = s.append(f, now); out[i] {
			evs = append(evs, Event{Kind: FixEvent, Unit: f.Unit, Fix: f})
		}
	}
	subs := s.subs
	s.mu.Unlock()
	s.scratch = evs
	if err := s.publish(ctx, subs, evs...); err != nil {
		return nil, err
	}
	return out, nil
}

// trim drops the fixes of u past HistoryLen or older than HistoryAge;
// s.mu is held.
func (s *Memory) trim(u *memoryUnit, now time.Time) {
	cut := 0
	for cut < len(u.history) && (len(u.history)-cut > s.cfg.HistoryLen || now.Sub(u.history[cut].Time) > s.cfg.HistoryAge) {
		cut++
	}
	if cut > len(u.history)/2 && cut > 0 {
		u.history = append(u.history[:0], u.history[cut:]...)
	} else if cut > 0 {
		u.history = u.history[cut:]
	}
}

// publish records evs and queues them for every subscriber of subs,
// waiting for those whose queue is full: events are never dropped. The
// caller holds s.pub.
func (s *Memory) publish(ctx context.Context, subs []*memorySub, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	s.record(evs)
	for _, sub := range subs {
		if err := sub.push(ctx, evs); err != nil {
			return err
		}
	}
	return nil
}

// push appends evs to the queue once it has room, and wakes the
// subscription's goroutine. It gives up when either context ends.
func (sub *memorySub) push(ctx context.Context, evs []Event) error {
	for {
		sub.mu.Lock()
		if len(sub.queue) < memoryQueueLen {
			sub.queue = append(sub.queue, evs...)
			sub.mu.Unlock()
			select {
			case sub.ready <- struct{}{}:
			default: // already woken
			}
			return nil
		}
		sub.mu.Unlock()
		select {
		case <-sub.taken:
		case <-sub.ctx.Done():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// next waits for events and takes them all, at least one, leaving
// spare's array as the queue; false when the subscription ended.
func (sub *memorySub) next(spare []Event) ([]Event, bool) {
	for {
		select {
		case <-sub.ctx.Done():
			return nil, false
		case <-sub.ready:
		}
		sub.mu.Lock()
		evs := sub.queue
		if len(evs) == 0 { // woken after an earlier take had them
			sub.mu.Unlock()
			continue
		}
		sub.queue = spare[:0]
		sub.mu.Unlock()
		select {
		case sub.taken <- struct{}{}:
		default:
		}
		return evs, true
	}
}

// subscribe adds a subscription for ctx and starts its goroutine, which
// runs deliver on every batch of events until deliver returns false or
// ctx ends, then ends the subscription and runs done.
func (s *Memory) subscribe(ctx context.Context, deliver func([]Event) bool, done func()) {
	sub := &memorySub{ctx: ctx, ready: make(chan struct{}, 1), taken: make(chan struct{}, 1)}
	s.mu.Lock()
	s.subs = append(slices.Clip(s.subs), sub)
	s.mu.Unlock()
	go func() {
		defer done()
		defer s.unsubscribe(sub)
		// A batch is the subscriber's until it receives the next one: once
		// deliver has handed out batch n, batch n-1 is free again.
		var prev, spare []Event
		for {
			evs, ok := sub.next(spare)
			if !ok || !deliver(evs) {
				return
			}
			spare, prev = prev, evs
		}
	}()
}

// unsubscribe removes sub from the subscribers.
func (s *Memory) unsubscribe(sub *memorySub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.subs, sub)
	s.subs = slices.Delete(slices.Clone(s.subs), i, i+1)
}

// Subscribe implements Store.
func (s *Memory) Subscribe(ctx context.Context) (<-chan Event, error) {
	ch := make(chan Event, 64)
	s.subscribe(ctx, func(evs []Event) bool {
		for _, ev := range evs {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}, func() { close(ch) })
	return ch, nil
}

// SubscribeBatches is Subscribe with the events in batches: each batch
// holds every event applied since the batch before, at least one, in
// order. A batch belongs to the subscriber until it receives the next
// one; the store reuses its array after that. The channel is closed when
// ctx ends.
func (s *Memory) SubscribeBatches(ctx context.Context) (<-chan []Event, error) {
	ch := make(chan []Event)
	s.subscribe(ctx, func(evs []Event) bool {
		select {
		case ch <- evs:
			return true
		case <-ctx.Done():
			return false
		}
	}, func() { close(ch) })
	return ch, nil
}

// Latest implements Store.
func (s *Memory) Latest(_ context.Context, unit string) (fix.Fix, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.units[unit]
	if !ok || !u.HasFix {
		return fix.Fix{}, false, nil
	}
	return u.Fix, true, nil
}

// SetStatus implements Store.
func (s *Memory) SetStatus(ctx context.Context, unit string, ch StatusChange) error {
	s.pub.Lock()
	defer s.pub.Unlock()
	s.mu.Lock()
	now := s.cfg.Now()
	ch = ch.at(now)
	u := s.unit(unit)
	u.Status, u.StatusBy, u.StatusAt, u.UpdatedAt = ch.Status, ch.By, ch.At, now
	subs := s.subs
	s.mu.Unlock()
	return s.publish(ctx, subs, Event{Kind: StatusEvent, Unit: unit, Change: ch})
}

// Units implements Store.
func (s *Memory) Units(context.Context) ([]UnitState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UnitState, 0, len(s.units))
	for _, u := range s.units {
		out = append(out, u.UnitState)
	}
	return out, nil
}

// History implements Store.
func (s *Memory) History(_ context.Context, unit string, since time.Time) ([]fix.Fix, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.units[unit]
	if !ok {
		return nil, nil
	}
	var out []fix.Fix
	for _, f := range u.history {
		if !f.Time.Before(since) {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b fix.Fix) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// Ping implements Store: memory is always there.
func (s *Memory) Ping(context.Context) error { return nil }
