package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// fixKey identifies a sent fix: its unit and its time in Unix ms.
type fixKey struct {
	unit string
	ms   int64
}

// sentTimes remembers when each fix was sent, for watchers to match. It
// is safe for concurrent use.
type sentTimes struct {
	mu sync.Mutex
	at map[fixKey]time.Time
}

func (s *sentTimes) put(k fixKey, t time.Time) {
	s.mu.Lock()
	s.at[k] = t
	s.mu.Unlock()
}

func (s *sentTimes) get(k fixKey) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[k]
	return t, ok
}

// prune forgets fixes sent before t.
func (s *sentTimes) prune(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, at := range s.at {
		if at.Before(t) {
			delete(s.at, k)
		}
	}
}

// dialWatchers opens cfg.Watchers websocket connections to /api/v1/live.
func dialWatchers(ctx context.Context, cfg Config) ([]*websocket.Conn, error) {
	if cfg.Watchers == 0 {
		return nil, nil
	}
	u, err := url.Parse(cfg.Server + "/api/v1/live")
	if err != nil {
		return nil, fmt.Errorf("simulate: watcher URL: %w", err)
	}
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	h := http.Header{}
	authorize(h, cfg.ViewerToken)
	d := websocket.Dialer{Proxy: cfg.Proxy, HandshakeTimeout: 10 * time.Second}
	conns := make([]*websocket.Conn, 0, cfg.Watchers)
	for range cfg.Watchers {
		c, resp, err := d.DialContext(ctx, u.String(), h)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err != nil {
			closeWatchers(conns)
			return nil, fmt.Errorf("simulate: watcher %d of %d: dial %s: %w", len(conns)+1, cfg.Watchers, u, err)
		}
		c.SetReadLimit(64 << 20)
		conns = append(conns, c)
	}
	if err := readSnapshots(conns); err != nil {
		closeWatchers(conns)
		return nil, err
	}
	return conns, nil
}

// readSnapshots reads each watcher's first message, the snapshot of the
// whole city, before the clock starts, so that latencies measure fixes,
// not the start-up of a hundred clients.
func readSnapshots(conns []*websocket.Conn) error {
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil {
			return fmt.Errorf("simulate: watcher %d of %d: snapshot: %w", i+1, len(conns), err)
		}
		_ = c.SetReadDeadline(time.Time{})
	}
	return nil
}

// closeWatchers closes every connection.
func closeWatchers(conns []*websocket.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// startWatchers reads every connection in its own goroutine; the returned
// function closes them and waits for the readers.
func (s *simulation) startWatchers(conns []*websocket.Conn) (stop func()) {
	var closing atomic.Bool
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			err := s.watch(c)
			if !closing.Load() {
				s.stats.watcherLost(err)
			}
		})
	}
	return func() {
		closing.Store(true)
		for _, c := range conns {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			c.Close()
		}
		wg.Wait()
	}
}

// liveMessage is what a watcher reads of a snapshot or diff.
type liveMessage struct {
	Units []struct {
		ID   string `json:"id"`
		Time string `json:"time"`
	} `json:"units"`
}

// watch reads live messages until the connection fails, recording the
// latency of each sent fix the first time this watcher sees it.
func (s *simulation) watch(c *websocket.Conn) error {
	seen := map[string]int64{} // unit → time (ms) of the last fix matched
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return err
		}
		now := time.Now()
		var m liveMessage
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		for _, u := range m.Units {
			t, err := time.Parse(time.RFC3339Nano, u.Time)
			if err != nil {
				continue
			}
			k := fixKey{u.ID, t.UnixMilli()}
			if last, ok := seen[k.unit]; ok && last == k.ms {
				continue
			}
			if sentAt, ok := s.sent.get(k); ok {
				seen[k.unit] = k.ms
				s.stats.recordWS(now.Sub(sentAt))
			}
		}
	}
}
