// Package access keeps the record of who did what through the server
// (the audit log) and the browsers' sessions: in this process's memory, or
// in Redis, shared by every server of a city.
package access

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// AuditEntry is one change made through the server: who made it (the
// label of the credential, never the credential), what, to what, when
// and from where.
type AuditEntry struct {
	// ID orders the entries: the stream id in Redis ("1733300000000-0"),
	// a sequence in memory. The store sets it; AppendAudit ignores it.
	ID string `json:"id"`
	// At is when the change was made.
	At time.Time `json:"at"`
	// By is the label of the credential that made it.
	By string `json:"by"`
	// From is the address the request came from.
	From string `json:"from"`
	// Action names the change: "device.add", "device.revoke",
	// "unit.status", "incident.report", "incident.dispatch",
	// "incident.close", "plan.version", "login", "logout", ...
	Action string `json:"action"`
	// Target is what was changed: a device, unit or incident id, a plan
	// version's name.
	Target string `json:"target,omitempty"`
	// Detail says more, in a few words: the new status, the unit sent.
	Detail string `json:"detail,omitempty"`
}

// Audit keeps the record of the changes made through the server, newest
// last, bounded (see Memory and RedisConfig.AuditEntries).
type Audit interface {
	// AppendAudit records e.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns up to limit entries, newest first, older than
	// before (an ID; "" for the newest).
	ListAudit(ctx context.Context, before string, limit int) ([]AuditEntry, error)
}

// Session is a browser's login: the credential's label and roles, until
// it expires.
type Session struct {
	By      string    `json:"by"`
	Roles   []string  `json:"roles"`
	Expires time.Time `json:"expires"`
}

// ErrNoSession is returned by Session for one that is unknown or expired.
var ErrNoSession = errors.New("access: no such session")

// Sessions keeps browser sessions, each under the SHA-256 of its cookie
// (never the cookie itself), shared by every server of a city in Redis.
type Sessions interface {
	// PutSession keeps s under sum until s.Expires.
	PutSession(ctx context.Context, sum string, s Session) error
	// Session returns the session under sum, ErrNoSession when there is
	// none or it expired.
	Session(ctx context.Context, sum string) (Session, error)
	// DeleteSession ends the session under sum, if any.
	DeleteSession(ctx context.Context, sum string) error
}

// Records is both.
type Records interface {
	Audit
	Sessions
}

// Open returns the records of city in the Redis behind client, or, with
// a nil client, in this process's memory.
func Open(client redis.UniversalClient, city string) (Records, error) {
	if client == nil {
		return &Memory{}, nil
	}
	return NewRedis(client, RedisConfig{City: city})
}
