package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

func TestMemoryStoreOrdering(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewMemory(MemoryConfig{})
	events, _ := s.Subscribe(ctx)
	t0 := time.Now().UTC()
	p := orb.Point{122.26, 43.62}
	for _, tc := range []struct {
		at     time.Duration
		latest bool
	}{{0, true}, {2 * time.Second, true}, {time.Second, false}, {2 * time.Second, false}, {3 * time.Second, true}} {
		latest, err := s.Append(ctx, fix.Fix{Unit: "V01", Time: t0.Add(tc.at), Point: p})
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
	if err := s.SetStatus(ctx, "V01", StatusChange{Status: patrol.Dispatched}); err != nil {
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

// TestMemoryStoreBatches: AppendBatch stores every fix and reports which
// became latest; a batch subscriber gets its events together, in order,
// and a one-by-one subscriber the same events.
func TestMemoryStoreBatches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewMemory(MemoryConfig{})
	batches, _ := s.SubscribeBatches(ctx)
	events, _ := s.Subscribe(ctx)
	t0 := time.Now().UTC()
	p := orb.Point{122.26, 43.62}
	fixes := []fix.Fix{
		{Unit: "V01", Time: t0, Point: p},
		{Unit: "V02", Time: t0, Point: p},
		{Unit: "V01", Time: t0.Add(-time.Second), Point: p}, // out of order
		{Unit: "V01", Time: t0.Add(time.Second), Point: p},
	}
	latest, err := s.AppendBatch(ctx, fixes)
	if want := []bool{true, true, false, true}; err != nil || !slices.Equal(latest, want) {
		t.Fatalf("AppendBatch = %v, %v, want %v", latest, err, want)
	}
	if hist, _ := s.History(ctx, "V01", t0.Add(-time.Hour)); len(hist) != 3 {
		t.Errorf("History(V01) has %d fixes, want 3", len(hist))
	}
	want := []fix.Fix{fixes[0], fixes[1], fixes[3]}
	batch := <-batches
	if len(batch) != len(want) {
		t.Fatalf("batch of %d events, want %d", len(batch), len(want))
	}
	for i, ev := range batch {
		if ev.Kind != FixEvent || ev.Unit != want[i].Unit || !ev.Fix.Time.Equal(want[i].Time) {
			t.Errorf("batch[%d] = %v %s %v, want a fix of %s at %v", i, ev.Kind, ev.Unit, ev.Fix.Time, want[i].Unit, want[i].Time)
		}
		if got := <-events; got.Unit != ev.Unit || !got.Fix.Time.Equal(ev.Fix.Time) {
			t.Errorf("event %d = %s %v, want %s %v", i, got.Unit, got.Fix.Time, ev.Unit, ev.Fix.Time)
		}
	}
}

// TestMemoryStoreSlowSubscriber: a subscriber that does not read holds
// writers back once its queue is full, loses no event, and releases them
// when its context ends.
func TestMemoryStoreSlowSubscriber(t *testing.T) {
	ctx := context.Background()
	s := NewMemory(MemoryConfig{})
	subCtx, unsubscribe := context.WithCancel(ctx)
	batches, _ := s.SubscribeBatches(subCtx)
	t0 := time.Now().UTC()
	appended := make(chan int)
	go func() {
		defer close(appended)
		for i := range 3 * memoryQueueLen {
			if _, err := s.Append(ctx, fix.Fix{Unit: "V01", Time: t0.Add(time.Duration(i) * time.Second)}); err != nil {
				t.Error(err)
				return
			}
			appended <- i
		}
	}()
	// The first batch the goroutine takes is one event at least; then the
	// queue fills up to memoryQueueLen while nobody receives.
	last := -1
	for stalled := false; !stalled; {
		select {
		case last = <-appended:
		case <-time.After(200 * time.Millisecond):
			stalled = true
		}
	}
	if last >= 2*memoryQueueLen+64 {
		t.Fatalf("%d fixes appended while nobody read, want the writer held back near %d", last+1, memoryQueueLen)
	}
	var got int
	for got <= last {
		batch := <-batches
		for _, ev := range batch {
			if want := t0.Add(time.Duration(got) * time.Second); !ev.Fix.Time.Equal(want) {
				t.Fatalf("event %d at %v, want %v", got, ev.Fix.Time, want)
			}
			got++
		}
		for done := false; !done; { // the writer moves on once there is room
			select {
			case last = <-appended:
			default:
				done = true
			}
		}
	}
	unsubscribe()
	for range appended { // the rest go through without a subscriber
	}
	if _, ok := <-batches; ok {
		for range batches {
		}
	}
	if f, _, _ := s.Latest(ctx, "V01"); !f.Time.Equal(t0.Add(time.Duration(3*memoryQueueLen-1) * time.Second)) {
		t.Errorf("latest fix at %v, want the last one appended", f.Time)
	}
}

// TestMemoryStoreHistoryWindow: a full history keeps the latest
// HistoryLen fixes, oldest first, and appending to it allocates nothing.
func TestMemoryStoreHistoryWindow(t *testing.T) {
	ctx := context.Background()
	const keep = 8
	s := NewMemory(MemoryConfig{HistoryLen: keep})
	t0 := time.Now().UTC().Add(-time.Hour)
	n := 0
	appendFixes := func(k int) {
		for range k {
			if _, err := s.Append(ctx, fix.Fix{Unit: "V01", Time: t0.Add(time.Duration(n) * time.Second)}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	for _, k := range []int{1, keep - 1, 1, 3 * keep, 5} {
		appendFixes(k)
		hist, _ := s.History(ctx, "V01", t0)
		if want := min(n, keep); len(hist) != want {
			t.Fatalf("after %d fixes, History has %d, want %d", n, len(hist), want)
		}
		for i, f := range hist {
			if want := t0.Add(time.Duration(n-len(hist)+i) * time.Second); !f.Time.Equal(want) {
				t.Fatalf("after %d fixes, History[%d] at %v, want %v", n, i, f.Time, want)
			}
		}
	}
	if allocs := testing.AllocsPerRun(10, func() { appendFixes(100) }); allocs != 0 {
		t.Errorf("100 appends to a full history allocate %v times, want 0", allocs)
	}
}
