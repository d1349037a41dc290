package realtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// runTCP is the accept loop the TCP servers share: one goroutine per
// connection, at most cap(sem) at once, all closed when ctx ends.
func runTCP(ctx context.Context, ln net.Listener, sem chan struct{}, log *slog.Logger,
	serve func(ctx context.Context, conn net.Conn)) error {
	var wg sync.WaitGroup
	defer wg.Wait() // last: after cancel has closed every connection
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for wait := time.Duration(0); ; {
		conn, err := ln.Accept()
		var ne net.Error
		switch {
		case err == nil:
			wait = 0
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &ne) && ne.Timeout():
			wait = min(max(2*wait, 5*time.Millisecond), time.Second)
			log.Warn("accept failed; retrying", "err", err, "retry_in", wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			continue
		default:
			return fmt.Errorf("realtime: %s accept: %w", ln.Addr(), err)
		}
		select {
		case sem <- struct{}{}:
		default:
			log.Warn("too many connections; closing", "remote", conn.RemoteAddr())
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer conn.Close()
			done := context.AfterFunc(ctx, func() { conn.Close() })
			defer done()
			serve(ctx, conn)
		}()
	}
}

// idleDeadline keeps a connection's read deadline IdleTimeout ahead of its
// last byte without setting it for every read: arm sets it before a read
// that may block, at most once per refresh, to IdleTimeout plus refresh
// from then, so a silent connection is closed between IdleTimeout and
// IdleTimeout plus refresh after its last byte.
type idleDeadline struct {
	conn    net.Conn
	idle    time.Duration
	refresh time.Duration // min(IdleTimeout/8, 1 s)
	set     time.Time     // when the deadline in force was set; zero before the first
}

func newIdleDeadline(conn net.Conn, idle time.Duration) *idleDeadline {
	return &idleDeadline{conn: conn, idle: idle, refresh: min(idle/8, time.Second)}
}

// arm is called before a read that may block.
func (d *idleDeadline) arm() error {
	now := time.Now()
	if !d.set.IsZero() && now.Sub(d.set) < d.refresh {
		return nil
	}
	d.set = now
	return d.conn.SetReadDeadline(now.Add(d.idle + d.refresh))
}

// deadlineWriter is a connection whose every write is bounded by timeout:
// under a bufio.Writer, one deadline per flush.
type deadlineWriter struct {
	conn    net.Conn
	timeout time.Duration
}

func (w deadlineWriter) Write(b []byte) (int, error) {
	if err := w.conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return 0, err
	}
	return w.conn.Write(b)
}

// buffersDelimiter reports whether r's buffer holds delim, so that reading
// up to it will not block.
func buffersDelimiter(r *bufio.Reader, delim byte) bool {
	b, _ := r.Peek(r.Buffered())
	return bytes.IndexByte(b, delim) >= 0
}
