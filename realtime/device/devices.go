package device

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Errors of the device registry. Refusals of a device's credentials wrap
// ErrRefused as well as their own sentinel.
var (
	ErrRefused  = errors.New("device: refused")
	ErrUnknown  = fmt.Errorf("%w: unknown device", ErrRefused)
	ErrRevoked  = fmt.Errorf("%w: device revoked", ErrRefused)
	ErrWrongKey = fmt.Errorf("%w: wrong device key", ErrRefused)
	ErrNoKey    = fmt.Errorf("%w: no device key", ErrRefused)

	// ErrExists is returned by Add for an id already registered
	// and not revoked.
	ErrExists = errors.New("device: already registered")
	// ErrPhoneTaken is returned by Add for a terminal phone that another
	// device, not revoked, holds.
	ErrPhoneTaken = errors.New("device: terminal phone held by another device")
	// ErrBad is returned by Add for a malformed id, unit, phone or
	// key.
	ErrBad = errors.New("device: invalid device")
)

// Code returns the stable code of a refusal or registry error
// ("unknown_device", "device_revoked", "bad_device_key", "no_device_key",
// "device_exists", "phone_taken", "bad_device"), "" for others.
func Code(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{{ErrUnknown, "unknown_device"}, {ErrRevoked, "device_revoked"}, {ErrWrongKey, "bad_device_key"},
		{ErrNoKey, "no_device_key"}, {ErrExists, "device_exists"}, {ErrPhoneTaken, "phone_taken"},
		{ErrBad, "bad_device"}} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// Device is a GPS device registered to a unit. It never holds its key:
// Add hands the key out once.
type Device struct {
	// ID names the device in OsmAnd requests and NMEA logins: 1 to 64 of
	// A-Z a-z 0-9 . _ : -.
	ID string `json:"id"`
	// Unit is the plan unit the device reports for; several devices may
	// report for one unit.
	Unit string `json:"unit"`
	// Protocol is the one protocol the device's credential is good for:
	// fix.SourceOsmAnd, fix.SourceNMEA (a key each) or fix.SourceJT808 (a
	// terminal, which draws an authentication code at each registration).
	Protocol string `json:"protocol"`
	// Phone is the JT/T 808 terminal phone number, digits without leading
	// zeros (the jt808.Phone form); empty for a device that is no terminal.
	Phone string `json:"phone,omitempty"`
	// Terminal is the JT/T 808 terminal id the terminal must register
	// with, beside its phone; empty for a device that is no terminal.
	Terminal string `json:"terminal,omitempty"`
	// Created is when the device was added.
	Created time.Time `json:"created"`
	// Revoked is when the device was revoked; zero while it is active.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether d is not revoked.
func (d Device) Active() bool { return d.Revoked.IsZero() }

// Spec is a device to add.
type Spec struct {
	ID, Unit string
	// Protocol is fix.SourceOsmAnd, fix.SourceNMEA or fix.SourceJT808;
	// empty is JT/T 808 for a spec with a phone, OsmAnd otherwise.
	Protocol string
	// Phone and Terminal are a JT/T 808 terminal's phone, 1 to 20 digits
	// (some terminals send BCD nibbles over 9: a-f; leading zeros are
	// dropped), and terminal id, 1 to 30 printable ASCII characters; both
	// are required of a terminal and refused of other devices.
	Phone, Terminal string
	// Key is an OsmAnd or NMEA device's credential; empty draws a random
	// one (32 hex digits). A given key is 1 to 64 printable ASCII
	// characters other than space, comma and '*' (an NMEA login holds
	// it). A terminal has none: it draws a code when it registers.
	Key string
}

// DemoSpecs returns three devices per unit of plan, in plan order: an
// OsmAnd device whose id is the unit id, an NMEA tracker whose id is the
// unit id and ".nmea", each with the key "demo-" and its id, and a JT/T
// 808 terminal whose id is the unit id and ".jt808", whose terminal id is
// DemoTerminal of the unit id, and whose phone, for the i-th unit (from 1), is 1390000
// followed by i in four digits (13900000001 for the first).
func DemoSpecs(plan *patrol.Plan) []Spec {
	out := make([]Spec, 0, 3*len(plan.Units))
	for i, u := range plan.Units {
		nmea := u.ID + ".nmea"
		out = append(out, Spec{ID: u.ID, Unit: u.ID, Protocol: fix.SourceOsmAnd, Key: "demo-" + u.ID},
			Spec{ID: nmea, Unit: u.ID, Protocol: fix.SourceNMEA, Key: "demo-" + nmea},
			Spec{ID: u.ID + ".jt808", Unit: u.ID, Protocol: fix.SourceJT808, Phone: DemoPhone(i), Terminal: DemoTerminal(u.ID)})
	}
	return out
}

// DemoTerminal returns the terminal id of the demo device of unit: the
// unit id, cut to the 7 characters of a 2013 terminal id.
func DemoTerminal(unit string) string { return unit[:min(len(unit), 7)] }

// DemoPhone returns the terminal phone of the demo device of the i-th
// unit of a plan, from 0: "1390000" and i+1 in four digits.
func DemoPhone(i int) string { return fmt.Sprintf("1390000%04d", i+1) }

// record is a device with the SHA-256 of its credential, as the backends
// keep it: of its key (OsmAnd, NMEA), or of the code its terminal drew at
// its last registration (JT/T 808). Both are cleared when the device is
// revoked; neither key nor code is kept.
type record struct {
	Device
	KeySum  string `json:"key_sha256,omitempty"`
	CodeSum string `json:"code_sha256,omitempty"`
	// local marks a device of this process alone (see SeedLocal).
	local bool
}

// index is an immutable snapshot of the registry for lookups.
type index struct {
	byID    map[string]*record
	byPhone map[string]*record // active terminals only
	keys    map[string]string  // the SHA-256 of each active key to its protocol
}

func newIndex(recs []record) *index {
	x := &index{byID: make(map[string]*record, len(recs)), byPhone: map[string]*record{}, keys: map[string]string{}}
	for i := range recs {
		r := &recs[i]
		x.byID[r.ID] = r
		if r.Active() && r.Phone != "" {
			x.byPhone[r.Phone] = r
		}
		if r.Active() && r.KeySum != "" {
			x.keys[r.KeySum] = r.Protocol
		}
	}
	return x
}

// with returns a copy of x with rec in place of its id's record.
func (x *index) with(rec record) *index {
	recs := make([]record, 0, len(x.byID)+1)
	for _, r := range x.byID {
		if r.ID != rec.ID {
			recs = append(recs, *r)
		}
	}
	return newIndex(append(recs, rec))
}

// backend keeps the records of a registry: in memory, or in Redis.
type backend interface {
	// add stores rec unless its id is active (ErrExists), or, with
	// ifNew, unless its id was ever registered (ErrExists), or its
	// phone is held by another active device (ErrPhoneTaken).
	add(ctx context.Context, rec record, ifNew bool) error
	// revoke marks id revoked at at and drops its credential; it returns the
	// record, unchanged when it was revoked already (ErrUnknown
	// when there is none).
	revoke(ctx context.Context, id string, at time.Time) (record, error)
	// setCode keeps codeSum as the code of active terminal id and returns
	// its record (ErrUnknown when there is none, or it is revoked).
	setCode(ctx context.Context, id, codeSum string) (record, error)
	// load returns every record.
	load(ctx context.Context) ([]record, error)
}

// Config configures a Registry. The zero value of each field
// is its documented default.
type Config struct {
	// Metrics counts refused credentials; nil counts nothing.
	Metrics *Metrics
	// Logger receives reload failures; default slog.Default().
	Logger *slog.Logger
	// Now stamps added and revoked devices; default time.Now.
	Now func() time.Time
	// Rand draws the keys; default crypto/rand.Reader.
	Rand io.Reader
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c
}

// Registry maps device ids and JT/T 808 terminal phones to units,
// with a key per device. Writes (Add, Revoke) go to its backend: this
// process's memory (NewRegistry) or Redis (NewRedisRegistry),
// where every server of a city shares them. Lookups (Authenticate,
// Terminal) read an in-memory snapshot, with no I/O, so the terminal
// servers can check every message. A nil *Registry knows no device.
// It is safe for concurrent use.
type Registry struct {
	cfg     Config
	backend backend
	idx     atomic.Pointer[index]
	mu      sync.Mutex // orders loads with the swaps of idx
	follow  func(ctx context.Context) error
	// local holds the devices of this process alone (SeedLocal), which
	// are never written to the backend.
	local *memoryBackend
}

// NewRegistry returns an empty registry in this process's memory.
func NewRegistry(cfg Config) *Registry {
	return newRegistry(cfg, newMemoryBackend())
}

func newRegistry(cfg Config, b backend) *Registry {
	r := &Registry{cfg: cfg.withDefaults(), backend: b, local: newMemoryBackend()}
	r.idx.Store(newIndex(nil))
	return r
}

func (r *Registry) index() *index {
	if r == nil {
		return newIndex(nil)
	}
	return r.idx.Load()
}

// Load reads every device from the backend into the snapshot lookups use.
// A Redis registry calls it on every change it hears of; call it once
// before serving.
func (r *Registry) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, err := r.records(ctx)
	if err != nil {
		return fmt.Errorf("device: load devices: %w", err)
	}
	r.idx.Store(newIndex(recs))
	return nil
}

// records returns the backend's records and the local ones that neither
// share an id with one of them nor hold the phone of an active one: the
// backend's devices win.
func (r *Registry) records(ctx context.Context) ([]record, error) {
	recs, err := r.backend.load(ctx)
	if err != nil {
		return nil, err
	}
	local, _ := r.local.load(ctx)
	if len(local) == 0 {
		return recs, nil
	}
	ids, phones := map[string]bool{}, map[string]bool{}
	for _, rec := range recs {
		ids[rec.ID] = true
		if rec.Active() && rec.Phone != "" {
			phones[rec.Phone] = true
		}
	}
	for _, rec := range local {
		if !ids[rec.ID] && (rec.Phone == "" || !phones[rec.Phone]) {
			rec.local = true
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// Run follows the changes other servers make to a shared (Redis)
// registry until ctx ends, and returns ctx's error; a memory registry
// returns nil at once. Its goroutine, when any, is the caller's.
func (r *Registry) Run(ctx context.Context) error {
	if r.follow == nil {
		return nil
	}
	return r.follow(ctx)
}

// changed brings the snapshot up to date after this process wrote rec:
// it reloads, and should that fail, puts rec in the snapshot itself.
func (r *Registry) changed(ctx context.Context, rec record) {
	if err := r.Load(ctx); err != nil {
		r.cfg.Logger.Warn("devices: reload after a change failed; applying it locally", "device", rec.ID, "err", err)
		r.mu.Lock()
		r.idx.Store(r.idx.Load().with(rec))
		r.mu.Unlock()
	}
}

// Add registers spec and returns the device and its key, which is not
// shown again ("" for a terminal). Adding an id that was revoked registers it anew, with a new
// key. Errors wrap ErrBad, ErrExists or ErrPhoneTaken, or the
// backend's.
func (r *Registry) Add(ctx context.Context, spec Spec) (Device, string, error) {
	return r.add(ctx, spec, false)
}

// Seed adds each of specs whose id was never registered, so that a
// revoked device stays revoked; it returns how many it added.
func (r *Registry) Seed(ctx context.Context, specs []Spec) (int, error) {
	n := 0
	for _, s := range specs {
		switch _, _, err := r.add(ctx, s, true); {
		case err == nil:
			n++
		case !errors.Is(err, ErrExists):
			return n, err
		}
	}
	return n, nil
}

// SeedLocal adds each of specs whose id the registry does not know as a
// device of this process alone: it is never written to the backend (so a
// demo's devices, whose keys are public, never outlive it in Redis) and
// yields to a device of the backend with its id or phone. It returns how
// many it added. Call it after Load.
func (r *Registry) SeedLocal(ctx context.Context, specs []Spec) (int, error) {
	n := 0
	for _, s := range specs {
		if _, known := r.index().byID[s.ID]; known {
			continue
		}
		rec, _, err := r.record(s)
		if err != nil {
			return n, err
		}
		switch err := r.local.add(ctx, rec, true); {
		case err == nil:
			n++
		case !errors.Is(err, ErrExists):
			return n, fmt.Errorf("device: add device %s: %w", s.ID, err)
		}
	}
	return n, r.Load(ctx)
}

func (r *Registry) add(ctx context.Context, spec Spec, ifNew bool) (Device, string, error) {
	rec, key, err := r.record(spec)
	if err != nil {
		return Device{}, "", err
	}
	if err := r.backend.add(ctx, rec, ifNew); err != nil {
		return Device{}, "", fmt.Errorf("device: add device %s: %w", spec.ID, err)
	}
	r.changed(ctx, rec)
	return rec.Device, key, nil
}

// Revoke revokes device id at once: its key stops working and the
// terminal servers close its connections at its next message. Revoking a
// revoked device changes nothing. It returns the device; the error wraps
// ErrUnknown when there is none.
func (r *Registry) Revoke(ctx context.Context, id string) (Device, error) {
	b := r.backend
	if rec, ok := r.index().byID[id]; ok && rec.local {
		b = r.local
	}
	rec, err := b.revoke(ctx, id, r.cfg.Now().UTC())
	if err != nil {
		return Device{}, fmt.Errorf("device: revoke device %s: %w", id, err)
	}
	r.changed(ctx, rec)
	return rec.Device, nil
}

// List returns every device, revoked ones included, by id, read from the
// backend, with the local ones (see SeedLocal).
func (r *Registry) List(ctx context.Context) ([]Device, error) {
	recs, err := r.records(ctx)
	if err != nil {
		return nil, fmt.Errorf("device: list devices: %w", err)
	}
	out := make([]Device, len(recs))
	for i, rec := range recs {
		out[i] = rec.Device
	}
	slices.SortFunc(out, func(a, b Device) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Device returns device id from the snapshot.
func (r *Registry) Device(id string) (Device, bool) {
	rec, ok := r.index().byID[id]
	if !ok {
		return Device{}, false
	}
	return rec.Device, true
}

// Authenticate returns the active device id if key is its credential on
// protocol source, from the snapshot (no I/O): its key on OsmAnd and
// NMEA, the code of its last registration on JT/T 808. A device's
// credential is good on its own protocol only. A refusal wraps
// ErrUnknown, ErrRevoked, ErrNoKey or ErrWrongKey, and is counted under
// source.
func (r *Registry) Authenticate(source, id, key string) (Device, error) {
	rec, err := r.active(r.index().byID[id], id)
	if err == nil && key == "" {
		err = fmt.Errorf("%w for %s", ErrNoKey, id)
	}
	if err == nil && rec.Protocol != source {
		err = fmt.Errorf("%w for %s: its credential is for %s, not %s", ErrWrongKey, id, rec.Protocol, source)
	}
	if err == nil && !sumMatches(key, rec.credentialSum()) {
		err = fmt.Errorf("%w for %s", ErrWrongKey, id)
	}
	if err != nil {
		r.refused(source, err)
		return Device{}, err
	}
	return rec.Device, nil
}

// check is what a terminal connection keeps of its device: its id,
// the key it showed, and the registry snapshot they were last found good
// in. A snapshot is immutable, so the device stays good until the
// snapshot is replaced; only then does recheck ask the registry again.
type Check struct {
	Device, Key string
	KeyOptional bool // an empty key asks only that the device be active (the open demo)
	// Session says the key was a login's, good until the connection ends
	// whatever becomes of it: Recheck asks only that the device be active.
	// A JT/T 808 code is, as the terminal's next registration replaces it.
	Session  bool
	snapshot *index
}

// check asks the registry for the device, counting a refusal under
// source, and remembers the snapshot that took it.
func (c *Check) Check(r *Registry, source string) (Device, error) {
	idx := r.index()
	var d Device
	var err error
	if c.Key == "" && c.KeyOptional {
		d, err = r.Active(source, c.Device)
	} else {
		d, err = r.Authenticate(source, c.Device, c.Key)
	}
	c.snapshot = nil
	if err == nil {
		c.snapshot = idx // the lookup read idx or a later one
	}
	return d, err
}

// recheck refuses the device when the registry changed since it was last
// found good and no longer takes it; a connection without a device passes.
func (c *Check) Recheck(r *Registry, source string) error {
	if c.Device == "" || r.index() == c.snapshot {
		return nil
	}
	if c.Session && c.snapshot != nil {
		idx := r.index()
		if _, err := r.Active(source, c.Device); err != nil {
			c.snapshot = nil
			return err
		}
		c.snapshot = idx
		return nil
	}
	_, err := c.Check(r, source)
	return err
}

// Active returns device id if it is registered and active, without asking
// for its key (loopback demo and fleet gateways), counting a refusal
// under source.
func (r *Registry) Active(source, id string) (Device, error) {
	rec, err := r.active(r.index().byID[id], id)
	if err != nil {
		r.refused(source, err)
		return Device{}, err
	}
	return rec.Device, nil
}

func (r *Registry) active(rec *record, id string) (*record, error) {
	switch {
	case rec == nil:
		return nil, fmt.Errorf("%w %q", ErrUnknown, id)
	case !rec.Active():
		return nil, fmt.Errorf("%w: %s since %s", ErrRevoked, id, rec.Revoked.Format(time.RFC3339))
	}
	return rec, nil
}

// KeyKnown reports whether key is the key of an active device of protocol
// source, whichever device that is: a request whose device id is still to
// be read may be refused before it is.
func (r *Registry) KeyKnown(source, key string) bool {
	return key != "" && r.index().keys[sum(key)] == source
}

// Refused counts a refusal err of a credential that never reached the
// registry (no key at all), under source.
func (r *Registry) Refused(source string, err error) { r.refused(source, err) }

func (r *Registry) refused(source string, err error) {
	if r != nil {
		r.cfg.Metrics.refuse(source, err)
	}
}
