package ingest

import (
	"net"
	"testing"
	"time"
)

// TestIdleDeadline: the read deadline is set at most once per refresh,
// always IdleTimeout to IdleTimeout plus refresh ahead.
func TestIdleDeadline(t *testing.T) {
	conn := &deadlineConn{}
	d := NewIdleDeadline(conn, 400*time.Millisecond)
	if d.refresh != 50*time.Millisecond {
		t.Fatalf("refresh = %v, want 50ms", d.refresh)
	}
	check := func(wantSets int) {
		t.Helper()
		before := time.Now()
		if err := d.Arm(); err != nil {
			t.Fatal(err)
		}
		if len(conn.deadlines) != wantSets {
			t.Fatalf("%d deadlines set, want %d", len(conn.deadlines), wantSets)
		}
		last := conn.deadlines[len(conn.deadlines)-1]
		if ahead := last.Sub(before); ahead < d.idle {
			t.Errorf("deadline %v ahead, want at least %v", ahead, d.idle)
		}
	}
	check(1)
	check(1)
	time.Sleep(60 * time.Millisecond)
	check(2)
	if d := NewIdleDeadline(conn, time.Hour); d.refresh != time.Second {
		t.Errorf("refresh of an hour = %v, want 1s", d.refresh)
	}
}

type deadlineConn struct {
	net.Conn
	deadlines []time.Time
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}
