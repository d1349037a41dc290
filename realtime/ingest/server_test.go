package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// TestTCPServerRecoversPanic serves connections with a function that
// panics on the first: that connection is closed, the panic counted, and
// the next connection served.
func TestTCPServerRecoversPanic(t *testing.T) {
	reg := prometheus.NewRegistry()
	var n atomic.Int32
	cfg := Config{Logger: slog.New(slog.DiscardHandler), Metrics: device.NewMetrics(reg),
		Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}.WithDefaults()
	srv := NewTCPServer(fix.SourceNMEA, cfg, func(_ context.Context, conn net.Conn) {
		if n.Add(1) == 1 {
			panic("a decoder's bug")
		}
		conn.Write([]byte("ok"))
	})
	addr := realtimetest.ServeTCP(t, srv)
	read := func() (string, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(conn)
		return string(b), err
	}
	if got, err := read(); got != "" || err != nil {
		t.Errorf("panicking connection read %q, %v; want it closed empty", got, err)
	}
	var ne net.Error
	if got, err := read(); got != "ok" || errors.As(err, &ne) {
		t.Errorf("next connection read %q, %v; want ok", got, err)
	}
	if n := realtimetest.Counter(t, reg, "patrolgrid_panics_total", "source", fix.SourceNMEA); n != 1 {
		t.Errorf("%v panics counted, want 1", n)
	}
}

// TestPeerLog lets an address speak once a minute, whatever its port,
// and each address on its own.
func TestPeerLog(t *testing.T) {
	var p PeerLog
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	a1 := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}
	a2 := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4001}
	b := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 4000}
	for _, tc := range []struct {
		addr net.Addr
		at   time.Duration
		want bool
	}{
		{a1, 0, true},
		{a1, time.Second, false},
		{a2, 2 * time.Second, false}, // the same host on another port
		{b, 3 * time.Second, true},
		{a1, 59 * time.Second, false},
		{a2, 61 * time.Second, true},
	} {
		if got := p.Allow(tc.addr, t0.Add(tc.at)); got != tc.want {
			t.Errorf("Allow(%v) at +%v = %v, want %v", tc.addr, tc.at, got, tc.want)
		}
	}
	for i := range peerLogCap + 10 {
		p.Allow(&net.TCPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)), Port: 1}, t0.Add(2*time.Minute))
	}
	if len(p.last) > peerLogCap {
		t.Errorf("%d addresses remembered, want at most %d", len(p.last), peerLogCap)
	}
}
