package realtimetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Clock is a settable test clock, safe for concurrent use. Its zero value
// reads the zero time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the time last set.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set makes the clock read t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// WaitFor polls cond every 2 ms until it holds, failing the test after 5 s
// with what it waited for.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Context returns a context that ends after 20 s or with the test.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// CityName names a city after the test, unique across runs on one server,
// so that tests sharing a Redis server use keys of their own.
func CityName(tb testing.TB) string {
	name := strings.NewReplacer("/", ".", " ", "_").Replace(tb.Name())
	return fmt.Sprintf("%s.%x", name, rand.Uint32())
}

// Runner is an ingest server: it serves connections on a listener until
// its context ends.
type Runner interface {
	Run(context.Context, net.Listener) error
}

// ServeTCP runs srv on a free loopback port until the test ends and
// returns its address. The test fails when Run returns an error, or does
// not return within 5 s of the end.
func ServeTCP(tb testing.TB, srv Runner) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(5 * time.Second):
			tb.Error("Run did not return after cancel")
		}
	})
	return ln.Addr().String()
}

// RecordingIngest is an ingest function that accepts every fix and keeps
// a copy. It is safe for concurrent use; its zero value is ready.
type RecordingIngest struct {
	mu    sync.Mutex
	fixes []fix.Fix
}

// Ingest records fixes and answers each accepted.
func (r *RecordingIngest) Ingest(_ context.Context, fixes []fix.Fix) ([]fix.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fixes = append(r.fixes, fixes...)
	out := make([]fix.Result, len(fixes))
	for i := range out {
		out[i].Outcome = fix.Accepted
	}
	return out, nil
}

// Fixes returns what Ingest was handed so far, in order.
func (r *RecordingIngest) Fixes() []fix.Fix {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fix.Fix(nil), r.fixes...)
}
