package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Access says who may call the server. With Open set, no credential is
// asked (loopback demo only: cmd decides); otherwise viewers need one of
// ViewerTokens, and devices sending fixes one of DeviceTokens.
type Access struct {
	Open         bool
	ViewerTokens []string
	DeviceTokens []string
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
