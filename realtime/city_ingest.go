package realtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// Ingest validates and stores fixes, and returns one result per fix in
// order. A fix without a time is stamped with the clock. Each fix is
// checked against the one before it of its unit: in the batch, or else
// the latest the city has applied (the store still decides atomically
// which fix is latest). The error is non-nil only when the store fails;
// then the results cover the fixes surely stored or refused, and the rest
// must be sent again.
func (c *City) Ingest(ctx context.Context, fixes []fix.Fix) ([]fix.Result, error) {
	now := c.cfg.Now()
	out := make([]fix.Result, len(fixes))
	prev := map[string]fix.Fix{}
	keep, at := make([]fix.Fix, 0, len(fixes)), make([]int, 0, len(fixes))
	for i, f := range fixes {
		if f.Time.IsZero() {
			f.Time = now
		}
		f.Time = f.Time.UTC()
		if out[i] = c.check(f, now, prev); out[i].Outcome != fix.Rejected {
			keep, at = append(keep, f), append(at, i)
		}
	}
	c.markDevices(keep, now)
	latest, err := c.save(ctx, keep)
	for j, l := range latest {
		if r := &out[at[j]]; !l && r.Outcome == fix.Accepted {
			*r = fix.Result{Outcome: fix.Stored, Err: fix.ErrOutOfOrder}
		}
	}
	n := len(fixes)
	if err != nil {
		if len(latest) < len(at) {
			n = at[len(latest)] // from the first fix not surely stored on, results are unknown
		}
		err = fmt.Errorf("realtime: save fixes: %w", err)
	}
	for _, r := range out[:n] {
		if !errors.Is(r.Err, errHeld) {
			c.cfg.Metrics.fix(r)
		}
	}
	return out[:n], err
}

// errHeld refuses a simulated fix of a unit a device reports for. It is
// the demo motion's concern alone: neither a client's answer nor a metric.
var errHeld = errors.New("realtime: a device reports for this unit; the demo motion leaves it alone")

// markDevices records that a device reported for the unit of each fix
// that is not simulated, so the demo motion leaves it at once.
func (c *City) markDevices(fixes []fix.Fix, now time.Time) {
	for _, f := range fixes {
		if !f.Simulated() {
			c.units[f.Unit].deviceAt.Store(now.UnixNano()) // the map is fixed after NewCity
		}
	}
}

// Live reports whether a device reports for unit: a fix of a device
// reached it within CityConfig.DeviceGrace. The demo motion moves only the
// units that are not live; the city refuses its fixes for the others. It
// is safe for concurrent use.
func (c *City) Live(unit string) bool {
	lu, ok := c.units[unit] // the map is fixed after NewCity
	return ok && c.live(lu)
}

// live is Live for lu.
func (c *City) live(lu *liveUnit) bool {
	at := lu.deviceAt.Load()
	return at != 0 && c.cfg.Now().UnixNano()-at <= c.cfg.DeviceGrace.Nanoseconds()
}

// save stores fixes and reports, per fix stored, whether it is its unit's
// latest; on an error, the fixes it reports on are surely stored.
func (c *City) save(ctx context.Context, fixes []fix.Fix) ([]bool, error) {
	switch len(fixes) {
	case 0:
		return nil, nil
	case 1:
		latest, err := c.store.Append(ctx, fixes[0])
		if err != nil {
			return nil, err
		}
		return []bool{latest}, nil
	}
	return c.store.AppendBatch(ctx, fixes)
}

// check validates f against the fix before it of its unit: prev, which it
// updates, or the latest applied.
func (c *City) check(f fix.Fix, now time.Time, prev map[string]fix.Fix) fix.Result {
	lu, ok := c.units[f.Unit] // the map is fixed after NewCity
	if !ok {
		return fix.Result{Outcome: fix.Rejected, Err: fmt.Errorf("%w %q", fix.ErrUnknownUnit, f.Unit)}
	}
	if f.Simulated() && c.live(lu) {
		return fix.Result{Outcome: fix.Rejected, Err: errHeld}
	}
	if err := c.cfg.Validation.Check(f, now); err != nil {
		return fix.Result{Outcome: fix.Rejected, Err: err}
	}
	p, has := prev[f.Unit]
	if !has {
		c.mu.Lock()
		p, has = lu.fix, lu.hasFix
		c.mu.Unlock()
	}
	if !has || p.Simulated() != f.Simulated() { // a new track: a first fix
		if err := c.cfg.Validation.CheckPlace(f, c.bound); err != nil {
			return fix.Result{Outcome: fix.Rejected, Err: err}
		}
	}
	// A device taking a unit over from the demo motion, or the motion
	// taking it back, starts a new track: its first fix is not held to
	// the other's position and time.
	if has && p.Simulated() == f.Simulated() {
		switch err := c.cfg.Validation.CheckAfter(f, p, lu.mech.MaxSpeedKPH); {
		case errors.Is(err, fix.ErrOutOfOrder):
			return fix.Result{Outcome: fix.Stored, Err: err}
		case err != nil:
			return fix.Result{Outcome: fix.Rejected, Err: err}
		}
	}
	prev[f.Unit] = f
	return fix.Result{Outcome: fix.Accepted}
}

// SetStatus changes a unit's status, as set by the credential labelled by.
func (c *City) SetStatus(ctx context.Context, unit string, st patrol.Status, by string) error {
	if _, ok := c.units[unit]; !ok {
		return fmt.Errorf("%w %q", fix.ErrUnknownUnit, unit)
	}
	if !st.Valid() {
		return fmt.Errorf("realtime: unknown status %q", st)
	}
	ch := store.StatusChange{Status: st, By: by, At: c.cfg.Now().UTC()}
	if err := c.store.SetStatus(ctx, unit, ch); err != nil {
		return fmt.Errorf("realtime: set status of %s: %w", unit, err)
	}
	// Take it at once, so that this server's answers after this call see
	// it; the store's event for it changes nothing more.
	c.apply([]store.Event{{Kind: store.StatusEvent, Unit: unit, Change: ch}})
	return nil
}
