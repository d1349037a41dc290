package realtime_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime"
)

// TestHubDropsSlowClient checks that a client that does not read is
// dropped once its queue fills, while a client that keeps up gets every
// message in order, after its snapshot, and is never made to wait.
func TestHubDropsSlowClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := realtime.NewHub(realtime.HubConfig{QueueLen: 8})
	go h.Run(ctx)

	slow := h.Register(frame(t, "snap-slow"))
	fast := h.Register(frame(t, "snap-fast"))
	if m := <-fast.Send(); string(m.Data) != "snap-fast" {
		t.Fatalf("first message = %q, want the snapshot", m.Data)
	}
	for i := range 100 {
		want := fmt.Sprint(i)
		h.Broadcast(frame(t, want))
		select {
		case m, ok := <-fast.Send():
			if !ok || string(m.Data) != want {
				t.Fatalf("message %d = %q (open %v), want %q", i, m.Data, ok, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d did not arrive: the hub waited on the slow client", i)
		}
	}
	n := 0
	for range slow.Send() { // closed when dropped
		n++
	}
	if n > 9 {
		t.Fatalf("slow client received %d messages, want at most its snapshot and queue of 8", n)
	}
	if h.Dropped() != 1 || h.Clients() != 1 {
		t.Fatalf("Dropped() = %d, Clients() = %d, want 1 and 1", h.Dropped(), h.Clients())
	}
}

func frame(t *testing.T, s string) realtime.Frame {
	t.Helper()
	f, err := realtime.NewFrame([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
