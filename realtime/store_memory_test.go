package realtime

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/patrol"
)

func TestMemoryStoreOrdering(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewMemoryStore(MemoryConfig{})
	events, _ := s.Subscribe(ctx)
	t0 := time.Now().UTC()
	p := orb.Point{122.26, 43.62}
	for _, tc := range []struct {
		at     time.Duration
		latest bool
	}{{0, true}, {2 * time.Second, true}, {time.Second, false}, {2 * time.Second, false}, {3 * time.Second, true}} {
		latest, err := s.Append(ctx, Fix{Unit: "V01", Time: t0.Add(tc.at), Point: p})
		if err != nil || latest != tc.latest {
			t.Fatalf("Append(t0+%v) = %v, %v, want %v", tc.at, latest, err, tc.latest)
		}
	}
	f, ok, _ := s.Latest(ctx, "V01")
	if !ok || !f.Time.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("Latest = %v, %v, want t0+3s", f.Time, ok)
	}
	hist, _ := s.History(ctx, "V01", t0)
	if len(hist) != 5 {
		t.Fatalf("History has %d fixes, want all 5 (out-of-order ones too)", len(hist))
	}
	for i := 1; i < len(hist); i++ {
		if hist[i].Time.Before(hist[i-1].Time) {
			t.Fatalf("History is not oldest first at %d", i)
		}
	}
	if err := s.SetStatus(ctx, "V01", patrol.Busy); err != nil {
		t.Fatal(err)
	}
	var kinds []EventKind
	for range 4 {
		kinds = append(kinds, (<-events).Kind)
	}
	want := []EventKind{FixEvent, FixEvent, FixEvent, StatusEvent}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events = %v, want %v", kinds, want)
		}
	}
}
