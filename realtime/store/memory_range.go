package store

import (
	"context"
	"sort"
	"time"
)

// memoryLogCap is how many events a Memory keeps for Range: about three
// hours of 88 units at 1 Hz; older ones go first, as do those past
// HistoryAge.
const memoryLogCap = 1 << 20

// record appends evs to the log, stamped with the store's clock; s.pub is
// held, so the log keeps the order subscribers see.
func (s *Memory) record(evs []Event) {
	now := s.cfg.Now()
	s.logMu.Lock()
	defer s.logMu.Unlock()
	for _, ev := range evs {
		s.log = append(s.log, TimedEvent{At: now, Event: ev})
	}
	cut := max(0, len(s.log)-memoryLogCap)
	for cut < len(s.log) && now.Sub(s.log[cut].At) > s.cfg.HistoryAge {
		cut++
	}
	if cut > len(s.log)/2 {
		s.log = append(s.log[:0], s.log[cut:]...)
	} else if cut > 0 {
		s.log = s.log[cut:]
	}
}

// Range implements Recorder.
func (s *Memory) Range(_ context.Context, from, to time.Time) ([]TimedEvent, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	i := sort.Search(len(s.log), func(i int) bool { return !s.log[i].At.Before(from) })
	j := sort.Search(len(s.log), func(j int) bool { return s.log[j].At.After(to) })
	if i >= j {
		return nil, nil
	}
	return append([]TimedEvent(nil), s.log[i:j]...), nil
}
