package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAccessFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     serveConfig
		open    bool
		wantErr bool
	}{
		{"demo on loopback", serveConfig{listen: "127.0.0.1:8080", demo: true}, true, false},
		{"demo on localhost", serveConfig{listen: "localhost:8080", demo: true}, true, false},
		{"demo on IPv6 loopback", serveConfig{listen: "[::1]:8080", demo: true}, true, false},
		{"demo on all interfaces", serveConfig{listen: ":8080", demo: true}, false, true},
		{"demo on a LAN address", serveConfig{listen: "10.1.2.3:8080", demo: true}, false, true},
		{"loopback without demo", serveConfig{listen: "127.0.0.1:8080"}, false, true},
		{"viewer token only", serveConfig{listen: ":8080", viewerTokens: "v"}, false, true},
		{"both tokens", serveConfig{listen: ":8080", viewerTokens: "v1, v2", deviceTokens: "d"}, false, false},
		{"demo on loopback with tokens", serveConfig{listen: "127.0.0.1:8080", demo: true, viewerTokens: "v", deviceTokens: "d"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := accessFor(tc.cfg)
			if (err != nil) != tc.wantErr || a.Open != tc.open {
				t.Fatalf("accessFor = open %v, err %v; want open %v, error %v", a.Open, err, tc.open, tc.wantErr)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestServeDemo runs `serve --demo` on a free loopback port and checks that
// it answers with moving units, then stops cleanly on cancel.
func TestServeDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--demo", "--listen", "127.0.0.1:0"}, &out, io.Discard) }()

	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = "http://" + m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve printed no address: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "Illustrative") {
		t.Errorf("serve output does not say the demo data is illustrative: %q", out.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(base + "/api/v1/units")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && bytes.Contains(b, []byte(`"lat"`)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no unit has a position 10 s after start (last error %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of cancel")
	}
}

func TestServeRefusesOpenNetwork(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--listen", "0.0.0.0:0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--viewer-token") {
		t.Fatalf("serve on 0.0.0.0 without tokens = %v, want a refusal naming --viewer-token", err)
	}
}
