package device

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// memoryBackend is the backend of a registry in this process's memory.
type memoryBackend struct {
	mu     sync.Mutex
	recs   map[string]record
	phones map[string]string // active terminal phone to device id
}

func newMemoryBackend() *memoryBackend {
	return &memoryBackend{recs: map[string]record{}, phones: map[string]string{}}
}

func (m *memoryBackend) add(_ context.Context, rec record, ifNew bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.recs[rec.ID]; ok && (ifNew || cur.Active()) {
		return ErrExists
	}
	if owner, ok := m.phones[rec.Phone]; ok && rec.Phone != "" && owner != rec.ID {
		return fmt.Errorf("%w: %s has %s", ErrPhoneTaken, owner, rec.Phone)
	}
	m.recs[rec.ID] = rec
	if rec.Phone != "" {
		m.phones[rec.Phone] = rec.ID
	}
	return nil
}

func (m *memoryBackend) revoke(_ context.Context, id string, at time.Time) (record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[id]
	if !ok {
		return record{}, fmt.Errorf("%w %q", ErrUnknown, id)
	}
	if rec.Active() {
		rec.Revoked, rec.KeySum, rec.CodeSum = at, "", ""
		m.recs[id] = rec
		if m.phones[rec.Phone] == id {
			delete(m.phones, rec.Phone)
		}
	}
	return rec, nil
}

func (m *memoryBackend) setCode(_ context.Context, id, codeSum string) (record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[id]
	if !ok || !rec.Active() {
		return record{}, fmt.Errorf("%w %q", ErrUnknown, id)
	}
	rec.CodeSum = codeSum
	m.recs[id] = rec
	return rec, nil
}

func (m *memoryBackend) load(context.Context) ([]record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.recs)), nil
}
