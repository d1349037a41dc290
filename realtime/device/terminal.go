package device

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Terminal returns the active device of JT/T 808 terminal phone (the
// jt808.Phone form), from the snapshot; a refusal wraps ErrUnknown and is
// counted.
func (r *Registry) Terminal(phone string) (Device, error) {
	rec, ok := r.index().byPhone[phone]
	if !ok {
		err := fmt.Errorf("%w: no terminal %s", ErrUnknown, phone)
		r.refused(fix.SourceJT808, err)
		return Device{}, err
	}
	return rec.Device, nil
}

// Register answers a JT/T 808 registration: when phone and terminal are
// the pair a terminal was provisioned with, it draws a new
// authentication code, keeps its SHA-256 in place of the last one, and
// returns the device and the code, the terminal's credential on JT/T 808
// alone until its next registration. A refusal wraps ErrUnknown, whether
// the phone or the terminal id is wrong, and is counted.
func (r *Registry) Register(ctx context.Context, phone, terminal string) (Device, string, error) {
	rec, ok := r.index().byPhone[phone]
	if !ok || subtle.ConstantTimeCompare([]byte(terminal), []byte(rec.Terminal)) != 1 {
		err := fmt.Errorf("%w: no terminal %s with terminal id %q", ErrUnknown, phone, terminal)
		r.refused(fix.SourceJT808, err)
		return Device{}, "", err
	}
	code, err := r.draw()
	if err != nil {
		return Device{}, "", fmt.Errorf("device: draw an authentication code: %w", err)
	}
	b := r.backend
	if rec.local {
		b = r.local
	}
	next, err := b.setCode(ctx, rec.ID, sum(code))
	if err != nil {
		return Device{}, "", fmt.Errorf("device: register terminal %s: %w", rec.ID, err)
	}
	// The new code alone changed: it goes into the snapshot without a
	// reload of every device (other servers reload on the change message).
	next.local = rec.local
	r.mu.Lock()
	r.idx.Store(r.idx.Load().with(next))
	r.mu.Unlock()
	return next.Device, code, nil
}
