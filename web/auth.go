package web

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
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
	if t, ok := bearer(r.Header.Get("Authorization")); ok {
		return t
	}
	return r.URL.Query().Get("token")
}

// bearer returns the token of a bearer Authorization header.
func bearer(auth string) (string, bool) {
	if t, ok := strings.CutPrefix(auth, "Bearer "); ok {
		return strings.TrimSpace(t), true
	}
	return "", false
}

// basicPassword returns the password of a basic Authorization header, as
// http.Request.BasicAuth reads it.
func basicPassword(auth string) (string, bool) {
	const prefix = "Basic "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", false
	}
	c, err := base64.StdEncoding.DecodeString(auth[len(prefix):])
	if err != nil {
		return "", false
	}
	_, pass, ok := strings.Cut(string(c), ":")
	return pass, ok
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
