package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/patrolgrid/patrolgrid/realtime"
)

// Access says who may call the server. With Open set, no credential is
// asked (loopback demo only: cmd decides); otherwise viewers need one of
// ViewerTokens, senders of JSON batches and statuses one of DeviceTokens,
// and the device admin API one of AdminTokens. An OsmAnd request needs its
// device's key, or one of DeviceTokens (a fleet gateway).
type Access struct {
	Open         bool
	ViewerTokens []string
	DeviceTokens []string
	AdminTokens  []string
}

// token returns the bearer token of the request, from the Authorization
// header or, for browsers opening a websocket, the token query parameter.
func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(h[len("Bearer "):])
	}
	return r.URL.Query().Get("token")
}

func oneOf(tok string, tokens []string) bool {
	ok := 0
	for _, t := range tokens {
		ok |= subtle.ConstantTimeCompare([]byte(tok), []byte(t))
	}
	return tok != "" && ok == 1
}

// require answers 401 unless the request carries one of tokens.
func (a Access) require(tokens func() []string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.Open || oneOf(token(c.Request), tokens()) {
			c.Next()
			return
		}
		c.Header("WWW-Authenticate", `Bearer realm="patrolgrid"`)
		fail(c, http.StatusUnauthorized, "unauthorized", "a valid token is required")
	}
}

func (a Access) viewer() gin.HandlerFunc { return a.require(func() []string { return a.ViewerTokens }) }
func (a Access) device() gin.HandlerFunc { return a.require(func() []string { return a.DeviceTokens }) }
func (a Access) admin() gin.HandlerFunc  { return a.require(func() []string { return a.AdminTokens }) }

// deviceKey returns the device key of an OsmAnd request: the key query
// or form parameter, else the password of HTTP basic authentication,
// else the bearer token (which may be a fleet gateway's device token
// instead; the caller tells them apart).
func deviceKey(r *http.Request, query url.Values, contentType string, body []byte) string {
	if k := query.Get("key"); k != "" {
		return k
	}
	if contentType == "application/x-www-form-urlencoded" {
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("key") != "" {
			return v.Get("key")
		}
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(h[len("Bearer "):])
	}
	return ""
}

// osmandUnit returns the unit an OsmAnd request of device id reports for.
// A request with its device's key is taken; so is one with a device token
// (a fleet gateway) or on an open server, for a device that is active or
// not registered (then id is the unit id, as before the registry). A
// revoked device is refused whoever sends for it. The error wraps
// realtime.ErrDeviceRefused.
func (s *Server) osmandUnit(r *http.Request, query url.Values, contentType string, body []byte, id string) (string, error) {
	devices := s.cfg.Devices
	key := deviceKey(r, query, contentType, body)
	gateway := s.cfg.Access.Open || oneOf(token(r), s.cfg.Access.DeviceTokens)
	if gateway && (key == "" || key == token(r)) {
		if _, ok := devices.Device(id); !ok {
			return id, nil
		}
		d, err := devices.Active(realtime.SourceOsmAnd, id)
		return d.Unit, err
	}
	d, err := devices.Authenticate(realtime.SourceOsmAnd, id, key)
	return d.Unit, err
}

// deviceRefused answers a refused device: 403 for a revoked one, 401
// otherwise, with the refusal's code.
func deviceRefused(c *gin.Context, err error) {
	code := realtime.DeviceCode(err)
	if errors.Is(err, realtime.ErrDeviceRevoked) {
		fail(c, http.StatusForbidden, code, "this device is revoked")
		return
	}
	c.Header("WWW-Authenticate", `Basic realm="patrolgrid devices"`)
	msg := map[string]string{
		"unknown_device": "no such device: register it first",
		"no_device_key":  "the device key is required: ?key=K, a key form field, or HTTP basic or bearer authentication",
		"bad_device_key": "wrong device key",
	}[code]
	fail(c, http.StatusUnauthorized, code, msg)
}
