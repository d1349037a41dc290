package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

type config struct {
	server, token   string
	clients         int
	duration, every time.Duration
	readEvery       time.Duration
	inflate         bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.server, "server", "http://127.0.0.1:8080", "patrolgrid server base URL")
	flag.StringVar(&cfg.token, "token", os.Getenv("PATROLGRID_TOKEN"), "viewer token (default $PATROLGRID_TOKEN)")
	flag.IntVar(&cfg.clients, "clients", 100, "map clients")
	flag.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long to hold them")
	flag.DurationVar(&cfg.every, "every", 0, "time between progress lines (0: none)")
	flag.DurationVar(&cfg.readEvery, "read-every", 0, "read each socket at most this often (0: as frames come)")
	flag.BoolVar(&cfg.inflate, "inflate", false, "inflate every message")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "livesink:", err)
		os.Exit(1)
	}
}

// counts are the clients' counts, updated concurrently.
type counts struct {
	connected, connects, reconnects, snapshots, messages, wire atomic.Int64
	mu                                                         sync.Mutex
	drops                                                      map[string]int // by reason
	failedDials                                                int
}

func (c *counts) drop(reason string, dial bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dial {
		c.failedDials++
		return
	}
	c.drops[reason]++
}

func (c *counts) dropped() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, parts := 0, []string{}
	for _, r := range slices.Sorted(maps.Keys(c.drops)) {
		n += c.drops[r]
		parts = append(parts, fmt.Sprintf("%s %d", r, c.drops[r]))
	}
	if c.failedDials > 0 {
		parts = append(parts, fmt.Sprintf("failed dials %d", c.failedDials))
	}
	return n, strings.Join(parts, ", ")
}

func run(ctx context.Context, cfg config) error {
	u := strings.Replace(strings.TrimRight(cfg.server, "/"), "http", "ws", 1) + "/api/v1/live"
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(cfg.duration))
	defer cancel()
	c := &counts{drops: map[string]int{}}
	var wg sync.WaitGroup
	for range cfg.clients {
		wg.Go(func() { client(ctx, cfg, u, c) })
	}
	stopProgress := progress(ctx, cfg, c, start)
	wg.Wait()
	stopProgress()
	elapsed := time.Since(start).Seconds()
	n, why := c.dropped()
	fmt.Printf("livesink: %d clients for %.0f s: %d connections (%d reconnects), %d snapshots, %d messages "+
		"(%.1f/s a client), %.1f MB on the wire (%.1f KB/s a client); dropped %d (%s)\n",
		cfg.clients, elapsed, c.connects.Load(), c.reconnects.Load(), c.snapshots.Load(), c.messages.Load(),
		float64(c.messages.Load())/elapsed/float64(cfg.clients), float64(c.wire.Load())/1e6,
		float64(c.wire.Load())/1024/elapsed/float64(cfg.clients), n, cmp.Or(why, "none"))
	if c.connects.Load() == 0 {
		return errors.New("no client connected")
	}
	return nil
}

// progress prints a line every cfg.every until the returned function is called.
func progress(ctx context.Context, cfg config, c *counts, start time.Time) (stop func()) {
	if cfg.every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(cfg.every)
		defer t.Stop()
		var msgs, wire int64
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			m, w := c.messages.Load(), c.wire.Load()
			n, _ := c.dropped()
			fmt.Printf("%6.0fs  connected %d  %.0f messages/s  %.0f KB/s  dropped %d  reconnects %d\n",
				time.Since(start).Seconds(), c.connected.Load(), float64(m-msgs)/cfg.every.Seconds(),
				float64(w-wire)/1024/cfg.every.Seconds(), n, c.reconnects.Load())
			msgs, wire = m, w
		}
	})
	return func() { close(done); wg.Wait() }
}

// client holds one map client until ctx ends, reconnecting as the map
// page does.
func client(ctx context.Context, cfg config, u string, c *counts) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+cfg.token)
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: 10 * time.Second, ReadBufferSize: 64 << 10,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return &wireConn{Conn: conn, c: c, every: cfg.readEvery}, err
		}}
	for attempt, connected := 0, false; ctx.Err() == nil; attempt++ { // attempt: failures since the last snapshot
		conn, resp, err := d.DialContext(ctx, u, h)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err == nil {
			c.connects.Add(1)
			if connected {
				c.reconnects.Add(1)
			}
			connected = true
			var snapshot bool
			snapshot, err = read(ctx, cfg, conn, c)
			if snapshot {
				attempt = 0
			}
		}
		if ctx.Err() != nil {
			return
		}
		c.drop(reason(err), conn == nil)
		base := min(30*time.Second, time.Second<<min(attempt, 5)) // 1 s after a snapshot, doubling
		t := time.NewTimer(time.Duration(float64(base) * (0.75 + rand.Float64()/2)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// read reads conn's messages until it fails or ctx ends, and reports
// whether a snapshot came first.
func read(ctx context.Context, cfg config, conn *websocket.Conn, c *counts) (snapshot bool, err error) {
	c.connected.Add(1)
	defer c.connected.Add(-1)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	conn.SetReadLimit(64 << 20)
	for first := true; ; first = false {
		_, r, err := conn.NextReader()
		if err != nil {
			return !first, err
		}
		if first {
			c.snapshots.Add(1)
		} else {
			c.messages.Add(1)
		}
		if cfg.inflate || first {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return !first, err
			}
		}
	}
}

// reason names why a connection ended: its close code and text, or the
// error.
func reason(err error) string {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("close %d %s", ce.Code, cmp.Or(ce.Text, "(no text)"))
	case err == nil:
		return "ended"
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "connection closed"
	}
	return "error"
}

// wireConn counts the bytes read off the connection and, with every,
// reads at most that often.
type wireConn struct {
	net.Conn
	c     *counts
	every time.Duration
	last  time.Time
}

func (w *wireConn) Read(b []byte) (int, error) {
	if w.every > 0 {
		if wait := w.every - time.Since(w.last); wait > 0 {
			time.Sleep(wait)
		}
		w.last = time.Now()
	}
	n, err := w.Conn.Read(b)
	w.c.wire.Add(int64(n))
	return n, err
}
