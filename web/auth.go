package web

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/patrolgrid/patrolgrid/realtime/device"
)

// The roles of the API, each a token may hold.
const (
	RoleViewer     = "viewer"     // the map and the read API
	RoleDevice     = "device"     // JSON batches, statuses, OsmAnd for any device (fleet gateways)
	RoleDispatcher = "dispatcher" // statuses, incidents, dispatches
	RolePlanner    = "planner"    // plan designs, edits and versions
	RoleAdmin      = "admin"      // devices, the audit log, and everything else
)

// Roles are the roles, in order.
var Roles = []string{RoleViewer, RoleDevice, RoleDispatcher, RolePlanner, RoleAdmin}

// MinToken is the length of the shortest token Access.Check takes: 16
// random bytes are 22 characters of base64, 32 hex digits.
const MinToken = 22

// Access says who may call the server. With Open set, no credential is
// asked (loopback demo only: cmd decides); otherwise viewers need one of
// ViewerTokens, senders of JSON batches one of DeviceTokens, statuses one
// of DeviceTokens or DispatcherTokens, incidents and dispatches one of
// DispatcherTokens, the planner's designs, edits and saved versions one of
// PlannerTokens, and the device admin API and the audit log one of
// AdminTokens; Credentials adds tokens known by their SHA-256 alone, each
// with its label and role. An OsmAnd request needs its device's key, or
// one of DeviceTokens (a fleet gateway). Dispatcher and planner tokens
// also read what a viewer token reads; admin tokens may do everything.
type Access struct {
	Open             bool
	ViewerTokens     []string
	DeviceTokens     []string
	DispatcherTokens []string
	PlannerTokens    []string
	AdminTokens      []string
	Credentials      []Credential
}

// Credential is a token known by its SHA-256, with the label that names
// it in the audit log and the one role it holds.
type Credential struct {
	Role, Label string
	// Sum is the hex SHA-256 of the token.
	Sum string
}

// TokenSum returns the hex SHA-256 of tok, as a Credential keeps it.
func TokenSum(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// Check refuses what a server that asks for credentials must not take: a
// token shorter than MinToken, a token or a label given to two roles or
// twice, a role that is none of Roles, a sum that is not 64 hex digits.
func (a Access) Check() error {
	seen := map[string]string{} // sum -> role
	labels := map[string]bool{}
	var errs []error
	for _, c := range a.credentials() {
		switch {
		case !slices.Contains(Roles, c.Role):
			errs = append(errs, fmt.Errorf("credential %q: role %q is none of %s", c.Label, c.Role, strings.Join(Roles, ", ")))
		case len(c.Sum) != 64 || strings.Trim(c.Sum, "0123456789abcdef") != "":
			errs = append(errs, fmt.Errorf("credential %q: want the SHA-256 of its token in 64 lower-case hex digits", c.Label))
		case seen[c.Sum] != "":
			errs = append(errs, fmt.Errorf("credential %q: one token may hold one role; it is %s and %s", c.Label, seen[c.Sum], c.Role))
		case labels[c.Label]:
			errs = append(errs, fmt.Errorf("credential label %q is given twice", c.Label))
		}
		seen[c.Sum], labels[c.Label] = c.Role, true
	}
	for _, r := range a.tokenRoles() {
		for _, tok := range r.tokens {
			if len(tok) < MinToken {
				errs = append(errs, fmt.Errorf("a %s token of %d characters: want at least %d (16 random bytes; patrolgrid token draws one)",
					r.name, len(tok), MinToken))
			}
		}
	}
	return errors.Join(errs...)
}

// roleTokens is a role and its tokens in clear.
type roleTokens struct {
	name   string
	tokens []string
}

func (a Access) tokenRoles() []roleTokens {
	return []roleTokens{{RoleViewer, a.ViewerTokens}, {RoleDevice, a.DeviceTokens}, {RoleDispatcher, a.DispatcherTokens},
		{RolePlanner, a.PlannerTokens}, {RoleAdmin, a.AdminTokens}}
}

// credentials returns every credential of a: Credentials, then the
// tokens in clear, each labelled by its role and the first 8 hex digits
// of its SHA-256.
func (a Access) credentials() []Credential {
	out := slices.Clone(a.Credentials)
	for _, r := range a.tokenRoles() {
		for _, tok := range r.tokens {
			sum := TokenSum(tok)
			out = append(out, Credential{Role: r.name, Label: r.name + ":" + sum[:8], Sum: sum})
		}
	}
	return out
}

// holder is who a credential is: its label and roles.
type holder struct {
	label string
	roles []string
}

func (h holder) has(roles []string) bool {
	return slices.Contains(h.roles, RoleAdmin) || slices.ContainsFunc(h.roles, func(r string) bool { return slices.Contains(roles, r) })
}

// keyring finds the holder of a token by its SHA-256, and of a label.
type keyring struct {
	bySum   map[string]holder
	byLabel map[string]holder
}

func newKeyring(a Access) keyring {
	k := keyring{bySum: map[string]holder{}, byLabel: map[string]holder{}}
	for _, c := range a.credentials() {
		h := k.bySum[c.Sum]
		h.label = cmp.Or(h.label, c.Label)
		h.roles = append(h.roles, c.Role)
		k.bySum[c.Sum] = h
		k.byLabel[h.label] = h
	}
	return k
}

// byKey is the gin context key of the label of the request's credential.
const byKey = "patrolgrid.by"

// bearer returns the token of the request, from the Authorization header
// or the token query parameter (tools; a browser logs in).
func bearer(r *http.Request) string {
	if t, ok := device.BearerToken(r.Header.Get("Authorization")); ok {
		return t
	}
	return r.URL.Query().Get("token")
}

// by returns the label of the request's credential, set by require.
func by(c *gin.Context) string { return c.GetString(byKey) }

// who returns the holder of the request's credential: its token's, or
// its session cookie's; false when it has neither.
func (s *Server) who(c *gin.Context) (holder, bool) {
	if tok := bearer(c.Request); tok != "" {
		h, ok := s.keys.bySum[TokenSum(tok)]
		return h, ok
	}
	return s.session(c)
}

// require answers 401 unless the request's credential holds one of roles
// or admin, which may do everything, and records its label for the
// handler; an open server lets anyone in as "demo".
func (s *Server) require(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h, ok := s.who(c)
		switch {
		case ok && h.has(roles):
			c.Set(byKey, h.label)
			c.Next()
		case s.cfg.Access.Open:
			c.Set(byKey, "demo")
			c.Next()
		case isPage(c.Request):
			c.Redirect(http.StatusSeeOther, "/login?next="+c.Request.URL.Path)
			c.Abort()
		default:
			c.Header("WWW-Authenticate", `Bearer realm="patrolgrid"`)
			fail(c, http.StatusUnauthorized, "unauthorized", "a valid token is required")
		}
	}
}

// isPage reports whether r asks for one of the browser pages, which send
// a visitor without a credential to the login page.
func isPage(r *http.Request) bool {
	return r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == "/planner")
}

func (s *Server) viewer() gin.HandlerFunc {
	return s.require(RoleViewer, RoleDispatcher, RolePlanner)
}
func (s *Server) planner() gin.HandlerFunc    { return s.require(RolePlanner) }
func (s *Server) device() gin.HandlerFunc     { return s.require(RoleDevice) }
func (s *Server) dispatcher() gin.HandlerFunc { return s.require(RoleDispatcher) }
func (s *Server) status() gin.HandlerFunc     { return s.require(RoleDevice, RoleDispatcher) }
func (s *Server) admin() gin.HandlerFunc      { return s.require(RoleAdmin) }
