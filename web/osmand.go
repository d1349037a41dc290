package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/valyala/fasthttp"

	"github.com/patrolgrid/patrolgrid/realtime"
)

// The OsmAnd protocol is answered in two places: at /api/v1/osmand of the
// API, and on the OsmAnd port, the address Traccar Clients are given. The
// port answers nothing else and runs on fasthttp rather than net/http: an
// OsmAnd request waits until its fix is stored (the Redis store groups
// the fixes of concurrent requests into one call), and a waiting request
// costs net/http a background read of its connection and two deadline
// changes on top of its goroutine, which fasthttp's worker pool does not
// pay. Both read a request into an osmandRequest and answer it with
// ingestOsmAnd.

// osmandRequest is what an OsmAnd request is read for.
type osmandRequest struct {
	query       url.Values
	contentType string // without parameters
	body        []byte
	auth        string // the Authorization header
}

// mediaType returns a Content-Type header without its parameters, as
// gin.Context.ContentType does.
func mediaType(contentType string) string {
	if i := strings.IndexAny(contentType, "; "); i >= 0 {
		return contentType[:i]
	}
	return contentType
}

// ingestOsmAnd stores the fix of r, or says why not.
func (s *Server) ingestOsmAnd(ctx context.Context, path string, r osmandRequest) (failure, bool) {
	fix, err := realtime.DecodeOsmAnd(r.query, r.contentType, r.body)
	if err != nil {
		s.cfg.Metrics.Malformed(realtime.SourceOsmAnd)
		return failure{status: http.StatusBadRequest, code: "bad_request", message: err.Error()}, false
	}
	if fix.Unit, err = s.osmandUnit(r, fix.Unit); err != nil {
		return refusal(err), false
	}
	fix.Source = realtime.SourceOsmAnd
	results, err := s.city.Ingest(ctx, []realtime.Fix{fix})
	if err != nil {
		return s.storeFailure(path, err), false
	}
	if r := results[0]; r.Outcome == realtime.Rejected {
		return failure{status: http.StatusBadRequest, code: realtime.Code(r.Err), message: r.Err.Error()}, false
	}
	return failure{}, true
}

// deviceKey returns the device key of an OsmAnd request: the key query
// or form parameter, else the password of HTTP basic authentication,
// else the bearer token (which may be a fleet gateway's device token
// instead; the caller tells them apart).
func deviceKey(r osmandRequest) string {
	if k := r.query.Get("key"); k != "" {
		return k
	}
	if r.contentType == "application/x-www-form-urlencoded" {
		if v, err := url.ParseQuery(string(r.body)); err == nil && v.Get("key") != "" {
			return v.Get("key")
		}
	}
	if pass, ok := basicPassword(r.auth); ok {
		return pass
	}
	t, _ := bearer(r.auth)
	return t
}

// osmandUnit returns the unit an OsmAnd request of device id reports for.
// A request with its device's key is taken; so is one with a device token
// (a fleet gateway) or on an open server, for a device that is active or
// not registered (then id is the unit id, as before the registry). A
// revoked device is refused whoever sends for it. The error wraps
// realtime.ErrDeviceRefused.
func (s *Server) osmandUnit(r osmandRequest, id string) (string, error) {
	devices := s.cfg.Devices
	key := deviceKey(r)
	tok, ok := bearer(r.auth)
	if !ok {
		tok = r.query.Get("token")
	}
	gateway := s.cfg.Access.Open || oneOf(tok, s.cfg.Access.DeviceTokens)
	if gateway && (key == "" || key == tok) {
		if _, ok := devices.Device(id); !ok {
			return id, nil
		}
		d, err := devices.Active(realtime.SourceOsmAnd, id)
		return d.Unit, err
	}
	d, err := devices.Authenticate(realtime.SourceOsmAnd, id, key)
	return d.Unit, err
}

// refusal is the answer to a refused device: 403 for a revoked one, 401
// otherwise, with the refusal's code.
func refusal(err error) failure {
	code := realtime.DeviceCode(err)
	if errors.Is(err, realtime.ErrDeviceRevoked) {
		return failure{status: http.StatusForbidden, code: code, message: "this device is revoked"}
	}
	msg := map[string]string{
		"unknown_device": "no such device: register it first",
		"no_device_key":  "the device key is required: ?key=K, a key form field, or HTTP basic or bearer authentication",
		"bad_device_key": "wrong device key",
	}[code]
	return failure{status: http.StatusUnauthorized, code: code, message: msg,
		header: "WWW-Authenticate", value: `Basic realm="patrolgrid devices"`}
}

// storeFailure logs a store error and returns its 503 answer.
func (s *Server) storeFailure(path string, err error) failure {
	s.cfg.Logger.Error("store", "path", path, "err", err)
	return failure{status: http.StatusServiceUnavailable, code: "store_unavailable",
		message: "the live store is unavailable; retry", header: "Retry-After", value: "1"}
}

func (s *Server) storeFailed(c *gin.Context, err error) {
	s.storeFailure(c.Request.URL.Path, err).send(c)
}

// osmand answers /api/v1/osmand.
func (s *Server) osmand(c *gin.Context) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxOsmAndBytes))
	if err != nil {
		s.cfg.Metrics.Malformed(realtime.SourceOsmAnd)
		fail(c, http.StatusRequestEntityTooLarge, "too_large", "request body too large")
		return
	}
	r := osmandRequest{query: c.Request.URL.Query(), contentType: c.ContentType(), body: body,
		auth: c.GetHeader("Authorization")}
	if f, ok := s.ingestOsmAnd(c.Request.Context(), c.Request.URL.Path, r); !ok {
		f.send(c)
		return
	}
	c.Status(http.StatusOK)
}

// OsmAnd port limits: a request must arrive within osmandTimeout of its
// first byte and its answer be taken within osmandTimeout, so that a slow
// client holds only its own connection; a connection idle for
// osmandIdleTimeout is closed.
const (
	osmandTimeout     = 10 * time.Second
	osmandIdleTimeout = 2 * time.Minute
)

// NewOsmAndServer returns the server of the OsmAnd port: the OsmAnd
// protocol at "/", GET or POST, as the Traccar Client is pointed at a
// server ("http://host:5055", with "?key=K" for its device key), with the
// same credentials and answers as /api/v1/osmand. Stop it with
// ShutdownWithContext (requests in flight finish, idle connections close),
// then close its listener: a Shutdown before Serve has begun stops nothing.
func NewOsmAndServer(city *realtime.City, cfg Config) *fasthttp.Server {
	s := newServer(city, nil, cfg)
	return &fasthttp.Server{
		Handler:               s.osmandPort,
		ErrorHandler:          s.osmandPortError,
		ReadTimeout:           osmandTimeout,
		WriteTimeout:          osmandTimeout,
		IdleTimeout:           osmandIdleTimeout,
		MaxRequestBodySize:    maxOsmAndBytes,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{s.cfg.Logger},
	}
}

func (s *Server) osmandPort(c *fasthttp.RequestCtx) {
	switch {
	case string(c.Path()) != "/":
		sendFast(c, failure{status: http.StatusNotFound, code: "not_found", message: "no such resource"})
		return
	case !c.IsGet() && !c.IsPost():
		sendFast(c, failure{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			message: "method not allowed here", header: "Allow", value: "GET, POST"})
		return
	}
	query, _ := url.ParseQuery(string(c.QueryArgs().QueryString())) // as url.URL.Query: what parses
	r := osmandRequest{query: query, contentType: mediaType(string(c.Request.Header.ContentType())),
		body: c.PostBody(), auth: string(c.Request.Header.Peek(fasthttp.HeaderAuthorization))}
	// Not c: its Done closes when shutdown begins, and a request in flight
	// then should still get its fix's true answer (the store's own
	// timeouts bound the wait).
	if f, ok := s.ingestOsmAnd(context.Background(), "/", r); !ok {
		sendFast(c, f)
	}
}

// osmandPortError answers a request the OsmAnd port could not read, and
// counts it as malformed unless it timed out: a client that went quiet
// sent nothing wrong. (A connection closed before it sends anything never
// comes here.)
func (s *Server) osmandPortError(c *fasthttp.RequestCtx, err error) {
	f := failure{status: http.StatusBadRequest, code: "bad_request", message: "malformed HTTP request"}
	count := true
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		f = failure{status: http.StatusRequestEntityTooLarge, code: "too_large", message: "request body too large"}
	case errors.As(err, &small):
		f = failure{status: http.StatusRequestHeaderFieldsTooLarge, code: "too_large", message: "request header too large"}
	case errors.As(err, &ne) && ne.Timeout():
		f = failure{status: http.StatusRequestTimeout, code: "request_timeout", message: "the request did not arrive in time"}
		count = false
	}
	if count {
		s.cfg.Metrics.Malformed(realtime.SourceOsmAnd)
	}
	sendFast(c, f)
	c.SetConnectionClose()
}

func sendFast(c *fasthttp.RequestCtx, f failure) {
	if f.header != "" {
		c.Response.Header.Set(f.header, f.value)
	}
	c.SetStatusCode(f.status)
	c.SetContentType("application/json; charset=utf-8")
	c.SetBody(f.body())
}

// fasthttpLogger writes fasthttp's messages (connection errors) to a
// slog.Logger.
type fasthttpLogger struct{ l *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.l.Warn("osmand port", "msg", strings.TrimSpace(fmt.Sprintf(format, args...)))
}
