package osmand

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
)

// MaxBody is the largest request body taken, in bytes.
const MaxBody = 64 << 10

// Config configures a Handler and a Server. Config.Devices is the device
// registry whose keys requests show; Config.Metrics counts requests that
// cannot be read. On the port, IdleTimeout (here default 2 minutes) closes
// an idle connection, and WriteTimeout (default 10 s) bounds both the
// arrival of a request from its first byte and the taking of its answer,
// so that a slow client holds only its own connection.
type Config struct {
	ingest.Config
	// Open takes a request without a key for a device that is active or
	// not registered: only for a server on loopback that asks no
	// credentials (the demo).
	Open bool
	// GatewayTokens are the tokens of fleet gateways, which may send for
	// any device that is not revoked (Authorization: Bearer, or ?token=).
	GatewayTokens []string
	// AddressLimits limits the requests of each address but loopback ones
	// to the OsmAnd port; nil: none.
	AddressLimits *ingest.Limits
}

// Request is what an OsmAnd request is read for.
type Request struct {
	Query       url.Values
	ContentType string // without parameters
	Body        []byte
	Auth        string // the Authorization header
}

// Answer is the answer to a request that was not taken: an HTTP status,
// a stable code and a message, and at most one header (WWW-Authenticate,
// Retry-After). The zero Answer is 200 OK with no body.
type Answer struct {
	Status        int
	Code, Message string
	Header, Value string
}

// OK reports whether the answer is 200 OK.
func (a Answer) OK() bool { return a.Status == 0 || a.Status == http.StatusOK }

// JSON returns the body of a refusal: {"error":{"code":..., "message":...}}.
func (a Answer) JSON() []byte {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e.Error.Code, e.Error.Message = a.Code, a.Message
	b, _ := json.Marshal(e) // two strings always encode
	return b
}

// Handler answers OsmAnd requests, whichever server reads them: the fix of
// a request is decoded, its device's credentials checked, and it is
// handed to Config.Ingest; the answer waits until it is stored. It is safe
// for concurrent use.
type Handler struct {
	cfg Config
	// one holds the one-fix arrays requests hand to Config.Ingest: called
	// through a function value, a slice literal would escape to the heap
	// on every request.
	one sync.Pool
}

// NewHandler returns a handler with cfg.
func NewHandler(cfg Config) *Handler {
	return &Handler{cfg: cfg.withDefaults(), one: sync.Pool{New: func() any { return new([1]fix.Fix) }}}
}

func (c Config) withDefaults() Config {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	c.Config = c.Config.WithDefaults()
	return c
}

// Handle stores the fix of r, or says why not; path names the endpoint in
// logs.
func (h *Handler) Handle(ctx context.Context, path string, r Request) Answer {
	f, err := Decode(r.Query, r.ContentType, r.Body)
	if err != nil {
		h.cfg.Metrics.Malformed(fix.SourceOsmAnd)
		return Answer{Status: http.StatusBadRequest, Code: "bad_request", Message: err.Error()}
	}
	id := f.Unit
	if f.Unit, err = h.unit(r, id); err != nil {
		return Refusal(err)
	}
	if !h.cfg.DeviceLimits.Allow(fix.SourceOsmAnd+":"+id, 1, h.cfg.Now()) {
		h.cfg.Metrics.Limited(fix.SourceOsmAnd, "device")
		return Limited
	}
	f.Source = fix.SourceOsmAnd
	results, err := h.ingest(ctx, f)
	if err != nil {
		h.cfg.Logger.Error("store", "path", path, "err", err)
		return Answer{Status: http.StatusServiceUnavailable, Code: "store_unavailable",
			Message: "the live store is unavailable; retry", Header: "Retry-After", Value: "1"}
	}
	if res := results[0]; res.Outcome == fix.Rejected {
		return Answer{Status: http.StatusBadRequest, Code: fix.Code(res.Err), Message: res.Err.Error()}
	}
	return Answer{}
}

// Precheck judges the credential of a request before its body is read,
// r holding its query, content type and Authorization alone: a request
// that shows none outside its body is refused unless a form body may hold
// its key, and one whose device id and credential are both outside the
// body is answered as Handle would. A refusal is as Handle's; the zero
// Answer means read the body and Handle the request.
func (h *Handler) Precheck(r Request) Answer {
	if h.cfg.Open {
		return Answer{}
	}
	key := deviceKey(r)
	if key == "" && r.Query.Get("token") == "" {
		if r.ContentType == "application/x-www-form-urlencoded" {
			return Answer{} // the key may be a field of the form
		}
		h.cfg.Devices.Refused(fix.SourceOsmAnd, device.ErrNoKey)
		return Refusal(device.ErrNoKey)
	}
	if _, id := param(r.Query, "id", "deviceid"); id != "" {
		if _, err := h.unit(r, id); err != nil {
			return Refusal(err)
		}
		return Answer{}
	}
	if !device.TokenIn(gatewayToken(r), h.cfg.GatewayTokens) && !h.cfg.Devices.KeyKnown(fix.SourceOsmAnd, key) {
		err := fmt.Errorf("%w: the key is no device's", device.ErrWrongKey)
		h.cfg.Devices.Refused(fix.SourceOsmAnd, err)
		return Refusal(err)
	}
	return Answer{}
}

// ingest hands f alone to Config.Ingest.
func (h *Handler) ingest(ctx context.Context, f fix.Fix) ([]fix.Result, error) {
	one := h.one.Get().(*[1]fix.Fix)
	one[0] = f
	results, err := h.cfg.Ingest(ctx, one[:])
	one[0] = fix.Fix{}
	h.one.Put(one)
	return results, err
}

// deviceKey returns the device key of a request: the key query or form
// parameter, else the password of HTTP basic authentication, else the
// bearer token (which may be a fleet gateway's token instead; the caller
// tells them apart).
func deviceKey(r Request) string {
	if k := r.Query.Get("key"); k != "" {
		return k
	}
	if r.ContentType == "application/x-www-form-urlencoded" {
		if v, err := url.ParseQuery(string(r.Body)); err == nil && v.Get("key") != "" {
			return v.Get("key")
		}
	}
	if pass, ok := device.BasicPassword(r.Auth); ok {
		return pass
	}
	t, _ := device.BearerToken(r.Auth)
	return t
}

// gatewayToken returns the token a request may carry as a fleet
// gateway's: its bearer token, else its ?token=.
func gatewayToken(r Request) string {
	if t, ok := device.BearerToken(r.Auth); ok {
		return t
	}
	return r.Query.Get("token")
}

// unit returns the unit a request of device id reports for. A request
// with its device's key is taken; so is one with a gateway token or on an
// open server, for a device that is active or not registered (then id is
// the unit id). A revoked device is refused whoever sends for it. The
// error wraps device.ErrRefused.
func (h *Handler) unit(r Request, id string) (string, error) {
	devices := h.cfg.Devices
	key, tok := deviceKey(r), gatewayToken(r)
	gateway := h.cfg.Open || device.TokenIn(tok, h.cfg.GatewayTokens)
	if gateway && (key == "" || key == tok) {
		if _, ok := devices.Device(id); !ok {
			return id, nil
		}
		d, err := devices.Active(fix.SourceOsmAnd, id)
		return d.Unit, err
	}
	d, err := devices.Authenticate(fix.SourceOsmAnd, id, key)
	return d.Unit, err
}

// Limited is the answer to a request over a rate limit.
var Limited = Answer{Status: http.StatusTooManyRequests, Code: "rate_limited",
	Message: "too many requests: slow down", Header: "Retry-After", Value: "1"}

// Refusal is the answer to a refused device: 403 for a revoked one, 401
// otherwise, with the refusal's code.
func Refusal(err error) Answer {
	code := device.Code(err)
	if errors.Is(err, device.ErrRevoked) {
		return Answer{Status: http.StatusForbidden, Code: code, Message: "this device is revoked"}
	}
	msg := map[string]string{
		"unknown_device": "no such device: register it first",
		"no_device_key":  "the device key is required: ?key=K, a key form field, or HTTP basic or bearer authentication",
		"bad_device_key": "wrong device key",
	}[code]
	return Answer{Status: http.StatusUnauthorized, Code: code, Message: msg,
		Header: "WWW-Authenticate", Value: `Basic realm="patrolgrid devices"`}
}
