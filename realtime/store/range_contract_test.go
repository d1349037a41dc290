package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// Both stores read back a past window.
var (
	_ Recorder = (*Memory)(nil)
	_ Recorder = (*Redis)(nil)
)

// testStoreRange: the events of a window come back in the order the
// store took them, the fixes that became their unit's latest and the
// statuses, each stamped within the window, the same on another
// instance; a window before them holds none.
func testStoreRange(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	s := open(t, city)
	rec, ok := s.(Recorder)
	if !ok {
		t.Fatalf("%T reads back no window", s)
	}
	start := time.Now().Add(-time.Millisecond)
	t0 := baseTime()
	var want []string
	for i := range 12 {
		unit := fmt.Sprintf("V%02d", 1+i%3)
		f := fixAt(unit, t0, time.Duration(i)*time.Second)
		if _, err := s.Append(ctx, f); err != nil {
			t.Fatal(err)
		}
		want = append(want, eventString(Event{Kind: FixEvent, Unit: unit, Fix: f}))
		if i%4 == 3 {
			if latest, err := s.Append(ctx, fixAt(unit, t0, -time.Second)); latest || err != nil {
				t.Fatalf("Append(older) = %v, %v", latest, err)
			}
			if err := s.SetStatus(ctx, unit, StatusChange{Status: patrol.Dispatched, By: "desk"}); err != nil {
				t.Fatal(err)
			}
			want = append(want, eventString(Event{Kind: StatusEvent, Unit: unit, Change: StatusChange{Status: patrol.Dispatched, By: "desk"}}))
		}
	}
	end := time.Now().Add(time.Millisecond)
	for name, r := range map[string]Recorder{"this instance": rec, "another": open(t, city).(Recorder)} {
		got, err := r.Range(ctx, start, end)
		if err != nil {
			t.Fatal(err)
		}
		evs := make([]Event, len(got))
		for i, te := range got {
			evs[i] = te.Event
			if te.At.Before(start.Truncate(time.Millisecond)) || te.At.After(end) || i > 0 && te.At.Before(got[i-1].At) {
				t.Errorf("%s: event %d at %v, want in [%v, %v] and in order", name, i, te.At, start, end)
			}
		}
		checkEvents(t, evs, want)
	}
	if got, err := rec.Range(ctx, start.Add(-time.Hour), start.Add(-time.Minute)); err != nil || len(got) != 0 {
		t.Errorf("Range of an hour before = %d events, %v, want none", len(got), err)
	}
}
