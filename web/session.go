package web

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patrolgrid/patrolgrid/realtime/access"
)

// A browser logs in at /login with its token and is given a session
// cookie: 32 random bytes, HttpOnly (no script reads it), SameSite=Strict
// (no other site's page sends it) and Secure over TLS. The store keeps the
// session under the cookie's SHA-256, with the credential's label and
// roles, for Config.SessionTTL; each request with the cookie is that
// credential's, as long as the server still knows the credential.

// sessionCookie is the name of the session cookie.
const sessionCookie = "patrolgrid_session"

// session returns the holder of the request's session cookie, false when
// it has none, or one the store does not know, or whose credential the
// server no longer holds.
func (s *Server) session(c *gin.Context) (holder, bool) {
	v, err := c.Cookie(sessionCookie)
	if err != nil || v == "" {
		return holder{}, false
	}
	sess, err := s.sessions.Session(c.Request.Context(), TokenSum(v))
	if err != nil {
		if !errors.Is(err, access.ErrNoSession) {
			s.cfg.Logger.Warn("session", "err", err)
		}
		return holder{}, false
	}
	h, ok := s.keys.byLabel[sess.By]
	return h, ok
}

// loginPage serves the login form.
func (s *Server) loginPage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.FileFromFS("login.html", s.files)
}

// login takes the form's token: a credential the server holds starts a
// session and goes on to next (a path of this server; "/" by default);
// anything else goes back to the form, refused and audited.
func (s *Server) login(c *gin.Context) {
	next := c.PostForm("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		next = "/"
	}
	h, ok := s.keys.bySum[TokenSum(c.PostForm("token"))]
	if !ok {
		s.audit(c, "login.refused", "", "")
		c.Redirect(http.StatusSeeOther, "/login?failed=1&next="+next)
		return
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		fail(c, http.StatusInternalServerError, "internal", "cannot draw a session")
		return
	}
	v := base64.RawURLEncoding.EncodeToString(raw)
	ttl := s.cfg.SessionTTL
	if err := s.sessions.PutSession(c.Request.Context(), TokenSum(v),
		access.Session{By: h.label, Roles: h.roles, Expires: time.Now().Add(ttl)}); err != nil {
		s.storeFailed(c, err)
		return
	}
	s.setCookie(c, v, int(ttl/time.Second))
	c.Set(byKey, h.label)
	s.audit(c, "login", "", "")
	c.Redirect(http.StatusSeeOther, next)
}

// logout ends the request's session, if any.
func (s *Server) logout(c *gin.Context) {
	if v, err := c.Cookie(sessionCookie); err == nil && v != "" {
		if h, ok := s.session(c); ok {
			c.Set(byKey, h.label)
			s.audit(c, "logout", "", "")
		}
		if err := s.sessions.DeleteSession(c.Request.Context(), TokenSum(v)); err != nil {
			s.storeFailed(c, err)
			return
		}
	}
	s.setCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) setCookie(c *gin.Context, v string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: v, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// audit records a change the request made: by its credential's label,
// from its address.
func (s *Server) audit(c *gin.Context, action, target, detail string) {
	from := c.Request.RemoteAddr
	if h, _, err := net.SplitHostPort(from); err == nil {
		from = h
	}
	e := access.AuditEntry{At: time.Now().UTC(), By: cmp.Or(by(c), "anonymous"), From: from, Action: action, Target: target, Detail: detail}
	s.cfg.Logger.Info("audit", "action", e.Action, "by", e.By, "from", e.From, "target", e.Target, "detail", e.Detail)
	if err := s.auditLog.AppendAudit(c.Request.Context(), e); err != nil {
		s.cfg.Logger.Error("audit: the entry above is not in the store", "err", err)
	}
}
