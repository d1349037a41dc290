package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Func takes the fixes of one message and returns a result per fix
// (City.Ingest). A server calls it from many goroutines at once; it must
// not keep fixes, whose array the server reuses.
type Func func(ctx context.Context, fixes []fix.Fix) ([]fix.Result, error)

// Config is what every ingest server takes. The zero value of each field
// is its documented default.
type Config struct {
	// Devices is the registry of devices whose credentials are checked.
	// Default: an empty registry, which knows no device.
	Devices *device.Registry
	// Ingest takes the fixes the server decodes. It is required.
	Ingest Func
	// IdleTimeout is how long a connection may stay silent before it is
	// closed; default 3 minutes. A silent connection is closed between
	// IdleTimeout and IdleTimeout plus an eighth of it (at most a second)
	// after its last byte.
	IdleTimeout time.Duration
	// LoginTimeout is how long a connection may stay without logging in
	// (a JT/T 808 authentication, an NMEA login) before it is closed,
	// however much it sends; default 30 s.
	LoginTimeout time.Duration
	// WriteTimeout bounds each write to a device, which carries the
	// replies to every message of one read; default 10 s.
	WriteTimeout time.Duration
	// MaxConns is how many connections are served at once; more are
	// closed at once. Default 10,000.
	MaxConns int
	// DeviceLimits limits the messages of each device (requests, frames,
	// lines; a batch counts as its fixes); nil: none. Over it, a message is
	// refused and counted, and its connection kept.
	DeviceLimits *Limits
	// Metrics counts input that cannot be read and refused credentials;
	// nil counts nothing.
	Metrics *device.Metrics
	// Logger receives connection events; default slog.Default().
	Logger *slog.Logger
	// Now is the clock that dates a fix whose message carries no full
	// time; default time.Now.
	Now func() time.Time
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Devices == nil {
		c.Devices = device.NewRegistry(device.Config{})
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 3 * time.Minute
	}
	if c.LoginTimeout <= 0 {
		c.LoginTimeout = 30 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 10000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// TCPServer is the accept loop every TCP protocol shares: one goroutine
// per connection, each handed to the protocol's serve function, at most
// Config.MaxConns at once, all closed when the context of Run ends. Its
// methods are safe for concurrent use.
type TCPServer struct {
	cfg   Config
	proto string
	sem   chan struct{}
	serve func(ctx context.Context, conn net.Conn)
}

// NewTCPServer returns the server of protocol proto (a fix.Source name,
// for logs) that hands each connection to serve; cfg has its defaults set
// already. It starts no goroutine.
func NewTCPServer(proto string, cfg Config, serve func(ctx context.Context, conn net.Conn)) *TCPServer {
	return &TCPServer{cfg: cfg, proto: proto, sem: make(chan struct{}, cfg.MaxConns), serve: serve}
}

// Run accepts connections on ln until ctx ends, then closes ln and every
// connection and returns nil once their goroutines are done. It owns one
// goroutine per connection, at most Config.MaxConns at once: a connection
// past that is closed at once. It returns an error, after the same
// clean-up, when ln fails for a reason other than a timeout.
func (s *TCPServer) Run(ctx context.Context, ln net.Listener) error {
	log, sem, serve := s.cfg.Logger.With("proto", s.proto), s.sem, s.serve
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
			return fmt.Errorf("ingest: %s %s accept: %w", s.proto, ln.Addr(), err)
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
			defer s.recover(log, conn)
			done := context.AfterFunc(ctx, func() { conn.Close() })
			defer done()
			serve(ctx, conn)
		}()
	}
}

// recover ends a panic of the goroutine serving conn, which then closes
// conn: the panic is counted and logged with its stack, and every other
// connection goes on.
func (s *TCPServer) recover(log *slog.Logger, conn net.Conn) {
	if r := recover(); r != nil {
		s.cfg.Metrics.Panic(s.proto)
		log.Error("panic serving a connection; closing it", "remote", conn.RemoteAddr().String(), "panic", r,
			"stack", string(debug.Stack()))
	}
}
