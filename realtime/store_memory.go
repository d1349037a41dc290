package realtime

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// MemoryConfig sizes a MemoryStore. The zero value uses the defaults.
type MemoryConfig struct {
	// HistoryAge is how long accepted fixes are kept; default 24 hours.
	HistoryAge time.Duration
	// HistoryLen caps the number of fixes kept per unit; default 4096.
	HistoryLen int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// MemoryStore is a Store in the process's memory, for a single server
// instance: nothing survives a restart.
type MemoryStore struct {
	cfg MemoryConfig

	// pub is held from a change until its event is handed out, so events
	// keep the order of the changes; mu guards the maps and is never held
	// while waiting on a subscriber.
	pub   sync.Mutex
	mu    sync.Mutex
	units map[string]*memoryUnit
	subs  map[chan Event]context.Context
}

type memoryUnit struct {
	UnitState
	history []Fix // ring of accepted fixes, oldest first
}

// NewMemoryStore returns an empty store.
func NewMemoryStore(cfg MemoryConfig) *MemoryStore {
	if cfg.HistoryAge == 0 {
		cfg.HistoryAge = 24 * time.Hour
	}
	if cfg.HistoryLen == 0 {
		cfg.HistoryLen = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryStore{cfg: cfg, units: map[string]*memoryUnit{}, subs: map[chan Event]context.Context{}}
}

func (s *MemoryStore) unit(id string) *memoryUnit {
	u, ok := s.units[id]
	if !ok {
		u = &memoryUnit{UnitState: UnitState{Unit: id}}
		s.units[id] = u
	}
	return u
}

// Append implements Store.
func (s *MemoryStore) Append(ctx context.Context, f Fix) (bool, error) {
	s.pub.Lock()
	defer s.pub.Unlock()
	s.mu.Lock()
	u := s.unit(f.Unit)
	now := s.cfg.Now()
	u.history = append(u.history, f)
	s.trim(u, now)
	latest := !u.HasFix || f.Time.After(u.Fix.Time)
	if latest {
		u.Fix, u.HasFix, u.UpdatedAt = f, true, now
	}
	s.mu.Unlock()
	if !latest {
		return false, nil
	}
	return true, s.publish(ctx, Event{Kind: FixEvent, Unit: f.Unit, Fix: f})
}

func (s *MemoryStore) trim(u *memoryUnit, now time.Time) {
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

// publish hands ev to every subscriber, waiting for slow ones: events are
// never dropped. The caller holds s.pub.
func (s *MemoryStore) publish(ctx context.Context, ev Event) error {
	s.mu.Lock()
	subs := make([]chan Event, 0, len(s.subs))
	ctxs := make([]context.Context, 0, len(s.subs))
	for ch, c := range s.subs {
		subs = append(subs, ch)
		ctxs = append(ctxs, c)
	}
	s.mu.Unlock()
	for i, ch := range subs {
		subCtx := ctxs[i]
		select {
		case ch <- ev:
		case <-subCtx.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Latest implements Store.
func (s *MemoryStore) Latest(_ context.Context, unit string) (Fix, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.units[unit]
	if !ok || !u.HasFix {
		return Fix{}, false, nil
	}
	return u.Fix, true, nil
}

// SetStatus implements Store.
func (s *MemoryStore) SetStatus(ctx context.Context, unit string, st patrol.Status) error {
	s.pub.Lock()
	defer s.pub.Unlock()
	s.mu.Lock()
	u := s.unit(unit)
	u.Status, u.UpdatedAt = st, s.cfg.Now()
	s.mu.Unlock()
	return s.publish(ctx, Event{Kind: StatusEvent, Unit: unit, Status: st})
}

// Units implements Store.
func (s *MemoryStore) Units(context.Context) ([]UnitState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UnitState, 0, len(s.units))
	for _, u := range s.units {
		out = append(out, u.UnitState)
	}
	return out, nil
}

// History implements Store.
func (s *MemoryStore) History(_ context.Context, unit string, since time.Time) ([]Fix, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.units[unit]
	if !ok {
		return nil, nil
	}
	var out []Fix
	for _, f := range u.history {
		if !f.Time.Before(since) {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b Fix) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// Subscribe implements Store.
func (s *MemoryStore) Subscribe(ctx context.Context) (<-chan Event, error) {
	ch := make(chan Event, 1024)
	s.mu.Lock()
	s.subs[ch] = ctx
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
		s.pub.Lock() // no publish is sending on ch past this point
		close(ch)
		s.pub.Unlock()
	}()
	return ch, nil
}

// AppendBatch implements Store.
func (s *MemoryStore) AppendBatch(ctx context.Context, fixes []Fix) ([]bool, error) {
	out := make([]bool, 0, len(fixes))
	for _, f := range fixes {
		latest, err := s.Append(ctx, f)
		if err != nil {
			return out, err
		}
		out = append(out, latest)
	}
	return out, nil
}

// Ping implements Store: memory is always there.
func (s *MemoryStore) Ping(context.Context) error { return nil }
