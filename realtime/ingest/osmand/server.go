package osmand

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
)

// Server is the OsmAnd port: the OsmAnd protocol at "/", GET or POST, as
// the Traccar Client is pointed at a server ("http://host:5055", with
// "?key=K" for its device key), with the credentials and answers of
// Handler; it answers nothing else.
//
// It runs on fasthttp rather than net/http: a request waits until its fix
// is stored (the Redis store groups the fixes of concurrent requests into
// one call), and a waiting request costs net/http a background read of
// its connection and two deadline changes on top of its goroutine, which
// fasthttp's worker pool does not pay. Its methods are safe for concurrent
// use.
type Server struct {
	h   *Handler
	srv *fasthttp.Server
}

// ShutdownGrace is how long Run lets requests in flight finish once its
// context ends.
const ShutdownGrace = 2 * time.Second

// NewServer returns the OsmAnd port with cfg. It starts no goroutine.
func NewServer(cfg Config) *Server {
	s := &Server{h: NewHandler(cfg)}
	c := s.h.cfg
	s.srv = &fasthttp.Server{
		Handler:               s.serve,
		HeaderReceived:        s.precheck,
		ErrorHandler:          s.unreadable,
		ReadTimeout:           c.WriteTimeout,
		WriteTimeout:          c.WriteTimeout,
		IdleTimeout:           c.IdleTimeout,
		MaxRequestBodySize:    MaxBody,
		Concurrency:           c.MaxConns,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                logger{l: c.Logger, now: c.Now, peers: &ingest.PeerLog{}},
	}
	return s
}

// Handler returns the port's request handler, for tests and benchmarks
// that drive it without a network.
func (s *Server) Handler() fasthttp.RequestHandler { return s.srv.Handler }

// Run serves connections on ln until ctx ends, then lets requests in
// flight finish for up to ShutdownGrace, closes idle connections and ln,
// and returns nil. It returns the error of ln when serving fails before
// that.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	done := make(chan struct{})
	defer close(done)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		shutdown, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
		defer cancel()
		_ = s.srv.ShutdownWithContext(shutdown) // past the grace, requests still running end with the process
		_ = ln.Close()                          // a Shutdown before Serve began stops nothing; this does
	}()
	err := s.srv.Serve(ln)
	if ctx.Err() != nil {
		<-stopped
		return nil // stopped, by the shutdown or by the listener closed before Serve began
	}
	return err
}

func (s *Server) serve(c *fasthttp.RequestCtx) {
	defer s.recover(c)
	switch {
	case string(c.Path()) != "/":
		send(c, Answer{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource"})
		return
	case !c.IsGet() && !c.IsPost():
		send(c, Answer{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: "method not allowed here", Header: "Allow", Value: "GET, POST"})
		return
	}
	if host := c.RemoteIP(); !host.IsLoopback() && !s.h.cfg.AddressLimits.Allow(host.String(), 1, s.h.cfg.Now()) {
		s.h.cfg.Metrics.Limited(fix.SourceOsmAnd, "address")
		send(c, Limited)
		return
	}
	query, _ := url.ParseQuery(string(c.QueryArgs().QueryString())) // as url.URL.Query: what parses
	r := Request{Query: query, ContentType: mediaType(string(c.Request.Header.ContentType())),
		Body: c.PostBody(), Auth: string(c.Request.Header.Peek(fasthttp.HeaderAuthorization))}
	// Not c: its Done closes when shutdown begins, and a request in flight
	// then should still get its fix's true answer (the store's own
	// timeouts bound the wait).
	if a := s.h.Handle(context.Background(), "/", r); !a.OK() {
		send(c, a)
	}
}

// recover ends a panic of the request c: it is answered 500 and its
// connection closed, the panic counted and logged with its stack, and
// the port serves on.
func (s *Server) recover(c *fasthttp.RequestCtx) {
	if r := recover(); r != nil {
		cfg := s.h.cfg
		cfg.Metrics.Panic(fix.SourceOsmAnd)
		cfg.Logger.Error("panic serving a request; closing its connection", "proto", fix.SourceOsmAnd,
			"remote", c.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		c.Response.Reset()
		send(c, Answer{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"})
		c.SetConnectionClose()
	}
}

// unreadable answers a request the port could not read, and counts it as
// malformed unless it timed out: a client that went quiet sent nothing
// wrong. (A connection closed before it sends anything never comes here.)
func (s *Server) unreadable(c *fasthttp.RequestCtx, err error) {
	a := Answer{Status: http.StatusBadRequest, Code: "bad_request", Message: "malformed HTTP request"}
	count := true
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge) && c.Request.Header.ContentLength() <= MaxBody:
		// Too large only for a request whose credential precheck refused.
		a = Answer{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "the device's credential is refused; its body was not read",
			Header: "WWW-Authenticate", Value: `Basic realm="patrolgrid devices"`}
		count = false
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		a = Answer{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "request body too large"}
	case errors.As(err, &small):
		a = Answer{Status: http.StatusRequestHeaderFieldsTooLarge, Code: "too_large", Message: "request header too large"}
	case errors.As(err, &ne) && ne.Timeout():
		a = Answer{Status: http.StatusRequestTimeout, Code: "request_timeout", Message: "the request did not arrive in time"}
		count = false
	}
	if count {
		s.h.cfg.Metrics.Malformed(fix.SourceOsmAnd)
	}
	send(c, a)
	c.SetConnectionClose()
}

// precheck judges a request's credential from its header, before its
// body is read (Handler.Precheck, counted there): a refused one may bring
// no body, so that the body is never read and the connection closes.
func (s *Server) precheck(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if h.ContentLength() == 0 || string(h.Method()) != http.MethodPost {
		return fasthttp.RequestConfig{}
	}
	var query url.Values
	if u, err := url.ParseRequestURI(string(h.RequestURI())); err == nil {
		query = u.Query()
	}
	r := Request{Query: query, ContentType: mediaType(string(h.ContentType())), Auth: string(h.Peek(fasthttp.HeaderAuthorization))}
	if a := s.h.Precheck(r); !a.OK() {
		return fasthttp.RequestConfig{MaxRequestBodySize: 1}
	}
	return fasthttp.RequestConfig{}
}

func send(c *fasthttp.RequestCtx, a Answer) {
	if a.Header != "" {
		c.Response.Header.Set(a.Header, a.Value)
	}
	c.SetStatusCode(a.Status)
	c.SetContentType("application/json; charset=utf-8")
	c.SetBody(a.JSON())
}

// mediaType returns a Content-Type header without its parameters, as
// gin.Context.ContentType does.
func mediaType(contentType string) string {
	if i := strings.IndexAny(contentType, "; "); i >= 0 {
		return contentType[:i]
	}
	return contentType
}

// logger writes fasthttp's messages (connection errors) to a slog.Logger.
// An error serving a connection is written without its text, which
// quotes the bytes of the request (its key= and Authorization header
// among them), and at most once per peer address a minute: the request
// is answered and counted as malformed (unreadable) all the same.
type logger struct {
	l     *slog.Logger
	now   func() time.Time
	peers *ingest.PeerLog
}

// serveConnError is how fasthttp starts the message of an error serving
// a connection; its arguments are the local and remote addresses and the
// error.
const serveConnError = "error when serving connection %q<->%q: %v"

func (l logger) Printf(format string, args ...any) {
	if format != serveConnError || len(args) != 3 {
		l.l.Warn("osmand port", "msg", strings.TrimSpace(fmt.Sprintf(format, args...)))
		return
	}
	remote, ok := args[1].(net.Addr)
	if ok && !l.peers.Allow(remote, l.now()) {
		return
	}
	l.l.Info("osmand port: request not read; its bytes are not logged, as they may hold credentials", "remote", fmt.Sprint(args[1]))
}
