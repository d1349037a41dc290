package access

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Memory keeps the audit log, its newest MemoryAuditLen entries, and the
// sessions in this process's memory. The zero value is ready for use; it
// is safe for concurrent use.
type Memory struct {
	mu       sync.Mutex
	audit    []AuditEntry // oldest first
	auditSeq int64
	sessions map[string]Session
}

// MemoryAuditLen is how many audit entries a Memory keeps.
const MemoryAuditLen = 10_000

// AppendAudit implements Audit.
func (s *Memory) AppendAudit(_ context.Context, e AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auditSeq++
	e.ID = strconv.FormatInt(s.auditSeq, 10)
	s.audit = append(s.audit, e)
	if over := len(s.audit) - MemoryAuditLen; over > 0 {
		s.audit = append(s.audit[:0], s.audit[over:]...)
	}
	return nil
}

// ListAudit implements Audit.
func (s *Memory) ListAudit(_ context.Context, before string, limit int) ([]AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := strconv.ParseInt(before, 10, 64)
	if before == "" || err != nil {
		b = s.auditSeq + 1
	}
	var out []AuditEntry
	for i := len(s.audit) - 1; i >= 0 && len(out) < limit; i-- {
		if id, _ := strconv.ParseInt(s.audit[i].ID, 10, 64); id < b {
			out = append(out, s.audit[i])
		}
	}
	return out, nil
}

// PutSession implements Sessions.
func (s *Memory) PutSession(_ context.Context, sum string, sess Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = map[string]Session{}
	}
	now := time.Now()
	for k, v := range s.sessions { // expired ones go as new ones come
		if !v.Expires.After(now) {
			delete(s.sessions, k)
		}
	}
	s.sessions[sum] = sess
	return nil
}

// Session implements Sessions.
func (s *Memory) Session(_ context.Context, sum string) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[sum]
	if !ok || !sess.Expires.After(time.Now()) {
		return Session{}, ErrNoSession
	}
	return sess, nil
}

// DeleteSession implements Sessions.
func (s *Memory) DeleteSession(_ context.Context, sum string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sum)
	return nil
}
