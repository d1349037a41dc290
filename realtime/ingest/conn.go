package ingest

import (
	"bufio"
	"bytes"
	"net"
	"time"
)

// IdleDeadline keeps a connection's read deadline idle ahead of its last
// byte without setting it for every read: Arm sets it before a read that
// may block, at most once per refresh, to idle plus refresh from then, so
// a silent connection is closed between idle and idle plus refresh after
// its last byte. It belongs to the connection's goroutine.
type IdleDeadline struct {
	conn    net.Conn
	idle    time.Duration
	refresh time.Duration // min(idle/8, 1 s)
	set     time.Time     // when the deadline in force was set; zero before the first
	by      time.Time     // the latest deadline until LoggedIn (see LoginBy); zero for none
}

// LoginBy caps the deadline at t until LoggedIn: a connection that has not
// logged in by then is closed, however busy.
func (d *IdleDeadline) LoginBy(t time.Time) { d.by, d.set = t, time.Time{} }

// LoggedIn lifts the cap of LoginBy.
func (d *IdleDeadline) LoggedIn() {
	if !d.by.IsZero() {
		d.by, d.set = time.Time{}, time.Time{}
	}
}

// NewIdleDeadline returns the read deadline of conn for an idle timeout.
func NewIdleDeadline(conn net.Conn, idle time.Duration) *IdleDeadline {
	return &IdleDeadline{conn: conn, idle: idle, refresh: min(idle/8, time.Second)}
}

// Arm is called before a read that may block.
func (d *IdleDeadline) Arm() error {
	now := time.Now()
	if !d.set.IsZero() && now.Sub(d.set) < d.refresh {
		return nil
	}
	d.set = now
	deadline := now.Add(d.idle + d.refresh)
	if !d.by.IsZero() && d.by.Before(deadline) {
		deadline = d.by
	}
	return d.conn.SetReadDeadline(deadline)
}

// DeadlineWriter is a connection whose every write is bounded by a
// timeout: under a bufio.Writer, one deadline per flush.
type DeadlineWriter struct {
	conn    net.Conn
	timeout time.Duration
}

// NewDeadlineWriter returns conn with each write bounded by timeout.
func NewDeadlineWriter(conn net.Conn, timeout time.Duration) DeadlineWriter {
	return DeadlineWriter{conn: conn, timeout: timeout}
}

// Write writes b to the connection, failing once the timeout passes.
func (w DeadlineWriter) Write(b []byte) (int, error) {
	if err := w.conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return 0, err
	}
	return w.conn.Write(b)
}

// BuffersDelimiter reports whether r's buffer holds delim, so that reading
// up to it will not block.
func BuffersDelimiter(r *bufio.Reader, delim byte) bool {
	b, _ := r.Peek(r.Buffered())
	return bytes.IndexByte(b, delim) >= 0
}
