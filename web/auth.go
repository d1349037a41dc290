package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patrolgrid/patrolgrid/realtime/device"
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
	if t, ok := device.BearerToken(r.Header.Get("Authorization")); ok {
		return t
	}
	return r.URL.Query().Get("token")
}

// require answers 401 unless the request carries one of tokens.
func (a Access) require(tokens func() []string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.Open || device.TokenIn(token(c.Request), tokens()) {
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
