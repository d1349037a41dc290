package access

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures the audit log and sessions of a city in Redis.
type RedisConfig struct {
	// City names the city: the keys are pg:{City}:audit, a stream capped
	// by length, and pg:{City}:session:<sha256>, strings that expire.
	City string
	// AuditEntries caps the audit stream's length, whole nodes at once
	// (MAXLEN ~); zero means 100,000.
	AuditEntries int64
}

// Redis keeps the audit log and sessions of a city in Redis, shared by
// every server of the city. It is safe for concurrent use; it does not
// own the client.
type Redis struct {
	c              redis.UniversalClient
	audit, session string
	entries        int64
}

// NewRedis returns the audit log and sessions of cfg.City behind client.
func NewRedis(client redis.UniversalClient, cfg RedisConfig) (*Redis, error) {
	if cfg.City == "" || strings.ContainsAny(cfg.City, "{}") {
		return nil, fmt.Errorf("access: redis city name %q: want a non-empty name without braces", cfg.City)
	}
	p := "pg:{" + cfg.City + "}:"
	return &Redis{c: client, audit: p + "audit", session: p + "session:", entries: cmp.Or(cfg.AuditEntries, 100_000)}, nil
}

// AppendAudit implements Audit: XADD to the city's audit stream, capped
// at about AuditEntries.
func (s *Redis) AppendAudit(ctx context.Context, e AuditEntry) error {
	e.ID = ""
	j, err := json.Marshal(e)
	if err != nil {
		return err
	}
	id, err := s.c.XAdd(ctx, &redis.XAddArgs{Stream: s.audit, MaxLen: s.entries, Approx: true,
		Values: []any{"e", j}}).Result()
	if err != nil {
		return fmt.Errorf("access: audit: %w", err)
	}
	e.ID = id
	return nil
}

// ListAudit implements Audit: XREVRANGE from before, exclusive.
func (s *Redis) ListAudit(ctx context.Context, before string, limit int) ([]AuditEntry, error) {
	end := "+"
	if before != "" {
		end = "(" + before
	}
	msgs, err := s.c.XRevRangeN(ctx, s.audit, end, "-", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("access: audit: %w", err)
	}
	out := make([]AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		var e AuditEntry
		if j, ok := m.Values["e"].(string); ok && json.Unmarshal([]byte(j), &e) == nil {
			e.ID = m.ID
			out = append(out, e)
		}
	}
	return out, nil
}

// PutSession implements Sessions: SET with the session's time to live.
func (s *Redis) PutSession(ctx context.Context, sum string, sess Session) error {
	ttl := sess.Expires.Sub(time.Now())
	if ttl <= 0 {
		return nil
	}
	j, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.session+sum, j, ttl).Err(); err != nil {
		return fmt.Errorf("access: session: %w", err)
	}
	return nil
}

// Session implements Sessions.
func (s *Redis) Session(ctx context.Context, sum string) (Session, error) {
	j, err := s.c.Get(ctx, s.session+sum).Bytes()
	if errors.Is(err, redis.Nil) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("access: session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(j, &sess); err != nil || !sess.Expires.After(time.Now()) {
		return Session{}, ErrNoSession
	}
	return sess, nil
}

// DeleteSession implements Sessions.
func (s *Redis) DeleteSession(ctx context.Context, sum string) error {
	if err := s.c.Del(ctx, s.session+sum).Err(); err != nil {
		return fmt.Errorf("access: session: %w", err)
	}
	return nil
}
