package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/patrolgrid/patrolgrid/realtime/device"
)

// Access says who may call the server. With Open set, no credential is
// asked (loopback demo only: cmd decides); otherwise viewers need one of
// ViewerTokens, senders of JSON batches one of DeviceTokens, statuses one
// of DeviceTokens or DispatcherTokens, incidents and dispatches one of
// DispatcherTokens, the planner's designs, edits and saved versions one of
// PlannerTokens, and the device admin API one of AdminTokens. An OsmAnd
// request needs its device's key, or one of DeviceTokens (a fleet
// gateway). Dispatcher and planner tokens also read what a viewer token
// reads; admin tokens may do everything.
type Access struct {
	Open             bool
	ViewerTokens     []string
	DeviceTokens     []string
	DispatcherTokens []string
	PlannerTokens    []string
	AdminTokens      []string
}

// byKey is the gin context key of the label of the request's credential.
const byKey = "patrolgrid.by"

// token returns the bearer token of the request, from the Authorization
// header or, for browsers opening a websocket, the token query parameter.
func token(r *http.Request) string {
	if t, ok := device.BearerToken(r.Header.Get("Authorization")); ok {
		return t
	}
	return r.URL.Query().Get("token")
}

// label names a credential in the records of what it did: its role and
// the first 8 hex digits of its SHA-256, never the token itself; "demo"
// for a request to an open server without a token.
func label(role, tok string) string {
	if tok == "" {
		return "demo"
	}
	sum := sha256.Sum256([]byte(tok))
	return role + ":" + hex.EncodeToString(sum[:4])
}

// by returns the label of the request's credential, set by require.
func by(c *gin.Context) string { return c.GetString(byKey) }

// role is a name and its tokens.
type role struct {
	name   string
	tokens []string
}

// require answers 401 unless the request carries a token of one of roles,
// or an admin token, which may do everything, and records the
// credential's label for the handler.
func (a Access) require(roles ...role) gin.HandlerFunc {
	if !slices.ContainsFunc(roles, func(r role) bool { return r.name == "admin" }) {
		roles = append(slices.Clip(roles), a.adminRole())
	}
	return func(c *gin.Context) {
		tok := token(c.Request)
		for _, r := range roles {
			if tok != "" && device.TokenIn(tok, r.tokens) {
				c.Set(byKey, label(r.name, tok))
				c.Next()
				return
			}
		}
		if a.Open {
			c.Set(byKey, label("open", tok))
			c.Next()
			return
		}
		c.Header("WWW-Authenticate", `Bearer realm="patrolgrid"`)
		fail(c, http.StatusUnauthorized, "unauthorized", "a valid token is required")
	}
}

func (a Access) viewerRole() role     { return role{"viewer", a.ViewerTokens} }
func (a Access) deviceRole() role     { return role{"device", a.DeviceTokens} }
func (a Access) dispatcherRole() role { return role{"dispatcher", a.DispatcherTokens} }
func (a Access) plannerRole() role    { return role{"planner", a.PlannerTokens} }
func (a Access) adminRole() role      { return role{"admin", a.AdminTokens} }

func (a Access) viewer() gin.HandlerFunc {
	return a.require(a.viewerRole(), a.dispatcherRole(), a.plannerRole())
}
func (a Access) planner() gin.HandlerFunc    { return a.require(a.plannerRole()) }
func (a Access) device() gin.HandlerFunc     { return a.require(a.deviceRole()) }
func (a Access) dispatcher() gin.HandlerFunc { return a.require(a.dispatcherRole()) }
func (a Access) status() gin.HandlerFunc     { return a.require(a.deviceRole(), a.dispatcherRole()) }
func (a Access) admin() gin.HandlerFunc      { return a.require(a.adminRole()) }
