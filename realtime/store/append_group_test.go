package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// TestAppendGroup drives the group commit with a fake store that takes a
// while: concurrent Appends share calls, each gets its own result, and
// one whose context ends while queued leaves without its fix stored.
func TestAppendGroup(t *testing.T) {
	for _, inFlight := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("inFlight=%d", inFlight), func(t *testing.T) { testAppendGroup(t, inFlight) })
	}
}

// testAppendGroup: the first inFlight Appends are stored alone, and the
// ones queued meanwhile go together in one group when a store call ends;
// an Append whose context ends while queued is not stored.
func testAppendGroup(t *testing.T, inFlight int) {
	g := newAppendGroup(RedisConfig{AppendGroupsInFlight: inFlight})
	var mu sync.Mutex
	var calls, largest int
	stored := map[string]bool{}
	release := make(chan struct{})
	store := func(ctx context.Context, fixes []fix.Fix) ([]bool, error) {
		<-release
		mu.Lock()
		defer mu.Unlock()
		calls++
		largest = max(largest, len(fixes))
		out := make([]bool, len(fixes))
		for i, f := range fixes {
			stored[f.Unit] = true
			out[i] = strings.HasSuffix(f.Unit, "even")
		}
		return out, nil
	}
	queued := func(n int) func() bool {
		return func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.queue) == n }
	}
	ctx := realtimetest.Context(t)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			unit := fmt.Sprintf("U%d.%s", i, []string{"even", "odd"}[i%2])
			latest, err := g.append(ctx, fix.Fix{Unit: unit}, store)
			if err != nil || latest != (i%2 == 0) {
				t.Errorf("append(%s) = %v, %v, want %v", unit, latest, err, i%2 == 0)
			}
		})
	}
	realtimetest.WaitFor(t, "every Append but the leaders queued", queued(n-inFlight))
	gone, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := g.append(gone, fix.Fix{Unit: "gone"}, store)
		errc <- err
	}()
	realtimetest.WaitFor(t, "the last Append queued", queued(n-inFlight+1))
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("append with its context ended = %v, want context.Canceled", err)
	}
	release <- struct{}{} // one leader's call ends: the next takes every queued Append
	realtimetest.WaitFor(t, "the queue taken by one group", queued(0))
	close(release)
	wg.Wait()
	if calls != inFlight+1 || largest != n-inFlight || len(stored) != n || stored["gone"] {
		t.Errorf("%d store calls, largest %d fixes, %d stored (gone: %v); want %d calls (%d of 1, then %d), %d stored without gone",
			calls, largest, len(stored), stored["gone"], inFlight+1, inFlight, n-inFlight, n)
	}
	if g.running != 0 || len(g.queue) != 0 {
		t.Errorf("after every Append: %d leaders, %d queued", g.running, len(g.queue))
	}
}

// TestAppendGroupLinger: a leader that takes over from a group of
// AppendLingerMin fixes or more waits until its own group is as large, or
// until its time runs out; one that finds no group in flight does not wait.
func TestAppendGroupLinger(t *testing.T) {
	g := newAppendGroup(RedisConfig{AppendLinger: time.Hour})
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	store := func(ctx context.Context, fixes []fix.Fix) ([]bool, error) {
		<-release
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(fixes))
		return make([]bool, len(fixes)), nil
	}
	ctx := realtimetest.Context(t)
	var wg sync.WaitGroup
	send := func(n int) {
		for range n {
			wg.Go(func() {
				if _, err := g.append(ctx, fix.Fix{Unit: "U"}, store); err != nil {
					t.Error(err)
				}
			})
		}
	}
	state := func(queued int, lingering bool) func() bool {
		return func() bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			return g.running == 1 && len(g.queue) == queued && (g.lingerer != nil) == lingering
		}
	}

	send(1)
	realtimetest.WaitFor(t, "a leader", state(0, false))
	send(10)
	realtimetest.WaitFor(t, "10 queued", state(10, false))
	release <- struct{}{} // a group of 1: the next leader does not wait, and takes all 10
	realtimetest.WaitFor(t, "the 10 taken", state(0, false))
	send(3)
	realtimetest.WaitFor(t, "3 queued", state(3, false))
	release <- struct{}{} // a group of 10: the next leader waits for 10
	realtimetest.WaitFor(t, "the leader of 3 waiting", state(2, true))
	send(6)
	realtimetest.WaitFor(t, "9 ready", state(8, true))
	send(1)
	realtimetest.WaitFor(t, "10 ready and taken", state(0, false))
	send(2)
	realtimetest.WaitFor(t, "2 queued", state(2, false))
	g.mu.Lock()
	g.linger = time.Millisecond
	g.mu.Unlock()
	release <- struct{}{} // a group of 10 again: the next leader waits 1 ms, then takes 2
	realtimetest.WaitFor(t, "the 2 taken when the time ran out", state(0, false))
	close(release)
	wg.Wait()
	if want := []int{1, 10, 10, 2}; !slices.Equal(sizes, want) {
		t.Errorf("groups of %v, want %v", sizes, want)
	}

	g.mu.Lock()
	g.last, g.linger = 4*g.lingerMin, time.Hour
	g.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := g.append(ctx, fix.Fix{Unit: "U"}, store); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("an Append that found no group in flight waited for more")
	}
	if g.running != 0 || len(g.queue) != 0 || g.lingerer != nil {
		t.Errorf("after every Append: %d leaders, %d queued, lingering %v", g.running, len(g.queue), g.lingerer != nil)
	}
}

// TestAppendGroupNoLinger: with a negative AppendLinger, a leader that
// takes over from a large group stores its own at once.
func TestAppendGroupNoLinger(t *testing.T) {
	g := newAppendGroup(RedisConfig{AppendLinger: -1})
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.mu.Lock()
		g.last = 4 * g.lingerMin
		g.awaitGroup(&appendWaiter{signal: make(chan struct{}, 1)})
		g.mu.Unlock()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a leader waited for its group with AppendLinger < 0")
	}
}
