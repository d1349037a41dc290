package realtime

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// Errors of the device registry. Refusals of a device's credentials wrap
// ErrDeviceRefused as well as their own sentinel.
var (
	ErrDeviceRefused = errors.New("realtime: device refused")
	ErrUnknownDevice = fmt.Errorf("%w: unknown device", ErrDeviceRefused)
	ErrDeviceRevoked = fmt.Errorf("%w: device revoked", ErrDeviceRefused)
	ErrDeviceKey     = fmt.Errorf("%w: wrong device key", ErrDeviceRefused)
	ErrNoDeviceKey   = fmt.Errorf("%w: no device key", ErrDeviceRefused)

	// ErrDeviceExists is returned by Add for an id already registered
	// and not revoked.
	ErrDeviceExists = errors.New("realtime: device already registered")
	// ErrPhoneTaken is returned by Add for a terminal phone that another
	// device, not revoked, holds.
	ErrPhoneTaken = errors.New("realtime: terminal phone held by another device")
	// ErrBadDevice is returned by Add for a malformed id, unit, phone or
	// key.
	ErrBadDevice = errors.New("realtime: invalid device")
)

// DeviceCode returns the stable code of a refusal or registry error
// ("unknown_device", "device_revoked", "bad_device_key", "no_device_key",
// "device_exists", "phone_taken", "bad_device"), "" for others.
func DeviceCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{{ErrUnknownDevice, "unknown_device"}, {ErrDeviceRevoked, "device_revoked"}, {ErrDeviceKey, "bad_device_key"},
		{ErrNoDeviceKey, "no_device_key"}, {ErrDeviceExists, "device_exists"}, {ErrPhoneTaken, "phone_taken"},
		{ErrBadDevice, "bad_device"}} {
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
	// Phone is the JT/T 808 terminal phone number, digits without leading
	// zeros (the JT808Phone form); empty for a device that is no terminal.
	Phone string `json:"phone,omitempty"`
	// Created is when the device was added.
	Created time.Time `json:"created"`
	// Revoked is when the device was revoked; zero while it is active.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether d is not revoked.
func (d Device) Active() bool { return d.Revoked.IsZero() }

// DeviceSpec is a device to add.
type DeviceSpec struct {
	ID, Unit string
	// Phone is the JT/T 808 terminal phone, 1 to 20 digits (some
	// terminals send BCD nibbles over 9: a-f); leading zeros are dropped.
	// Empty for none.
	Phone string
	// Key is the device's credential; empty draws a random one (32 hex
	// digits). A given key is 1 to 64 printable ASCII characters other
	// than space, comma and '*' (an NMEA login holds it).
	Key string
}

// DemoDevices returns one device per unit of plan, in plan order: the id
// is the unit id, the terminal phone of the i-th unit (from 1) is
// 1390000 followed by i in four digits (13900000001 for the first), and
// the key is "demo-" and the unit id.
func DemoDevices(plan *patrol.Plan) []DeviceSpec {
	out := make([]DeviceSpec, len(plan.Units))
	for i, u := range plan.Units {
		out[i] = DeviceSpec{ID: u.ID, Unit: u.ID, Phone: fmt.Sprintf("1390000%04d", i+1), Key: "demo-" + u.ID}
	}
	return out
}

// deviceRecord is a device with its key, as the backends keep it. The key
// is empty once the device is revoked.
type deviceRecord struct {
	Device
	Key string `json:"key,omitempty"`
}

// deviceIndex is an immutable snapshot of the registry for lookups.
type deviceIndex struct {
	byID    map[string]*deviceRecord
	byPhone map[string]*deviceRecord // active terminals only
}

func newDeviceIndex(recs []deviceRecord) *deviceIndex {
	x := &deviceIndex{byID: make(map[string]*deviceRecord, len(recs)), byPhone: map[string]*deviceRecord{}}
	for i := range recs {
		r := &recs[i]
		x.byID[r.ID] = r
		if r.Active() && r.Phone != "" {
			x.byPhone[r.Phone] = r
		}
	}
	return x
}

// with returns a copy of x with rec in place of its id's record.
func (x *deviceIndex) with(rec deviceRecord) *deviceIndex {
	recs := make([]deviceRecord, 0, len(x.byID)+1)
	for _, r := range x.byID {
		if r.ID != rec.ID {
			recs = append(recs, *r)
		}
	}
	return newDeviceIndex(append(recs, rec))
}

// deviceBackend keeps the records of a registry: in memory, or in Redis.
type deviceBackend interface {
	// add stores rec unless its id is active (ErrDeviceExists), or, with
	// ifNew, unless its id was ever registered (ErrDeviceExists), or its
	// phone is held by another active device (ErrPhoneTaken).
	add(ctx context.Context, rec deviceRecord, ifNew bool) error
	// revoke marks id revoked at at and drops its key; it returns the
	// record, unchanged when it was revoked already (ErrUnknownDevice
	// when there is none).
	revoke(ctx context.Context, id string, at time.Time) (deviceRecord, error)
	// load returns every record.
	load(ctx context.Context) ([]deviceRecord, error)
}

// DeviceConfig configures a DeviceRegistry. The zero value of each field
// is its documented default.
type DeviceConfig struct {
	// Metrics counts refused credentials; nil counts nothing.
	Metrics *DeviceMetrics
	// Logger receives reload failures; default slog.Default().
	Logger *slog.Logger
	// Now stamps added and revoked devices; default time.Now.
	Now func() time.Time
	// Rand draws the keys; default crypto/rand.Reader.
	Rand io.Reader
}

func (c DeviceConfig) withDefaults() DeviceConfig {
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

// DeviceRegistry maps device ids and JT/T 808 terminal phones to units,
// with a key per device. Writes (Add, Revoke) go to its backend: this
// process's memory (NewDeviceRegistry) or Redis (NewRedisDeviceRegistry),
// where every server of a city shares them. Lookups (Authenticate,
// Terminal) read an in-memory snapshot, with no I/O, so the terminal
// servers can check every message. A nil *DeviceRegistry knows no device.
// It is safe for concurrent use.
type DeviceRegistry struct {
	cfg     DeviceConfig
	backend deviceBackend
	idx     atomic.Pointer[deviceIndex]
	mu      sync.Mutex // orders loads with the swaps of idx
	follow  func(ctx context.Context) error
}

// NewDeviceRegistry returns an empty registry in this process's memory.
func NewDeviceRegistry(cfg DeviceConfig) *DeviceRegistry {
	return newDeviceRegistry(cfg, &memoryDevices{recs: map[string]deviceRecord{}, phones: map[string]string{}})
}

func newDeviceRegistry(cfg DeviceConfig, b deviceBackend) *DeviceRegistry {
	r := &DeviceRegistry{cfg: cfg.withDefaults(), backend: b}
	r.idx.Store(newDeviceIndex(nil))
	return r
}

func (r *DeviceRegistry) index() *deviceIndex {
	if r == nil {
		return newDeviceIndex(nil)
	}
	return r.idx.Load()
}

// Load reads every device from the backend into the snapshot lookups use.
// A Redis registry calls it on every change it hears of; call it once
// before serving.
func (r *DeviceRegistry) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, err := r.backend.load(ctx)
	if err != nil {
		return fmt.Errorf("realtime: load devices: %w", err)
	}
	r.idx.Store(newDeviceIndex(recs))
	return nil
}

// Run follows the changes other servers make to a shared (Redis)
// registry until ctx ends, and returns ctx's error; a memory registry
// returns nil at once. Its goroutine, when any, is the caller's.
func (r *DeviceRegistry) Run(ctx context.Context) error {
	if r.follow == nil {
		return nil
	}
	return r.follow(ctx)
}

// changed brings the snapshot up to date after this process wrote rec:
// it reloads, and should that fail, puts rec in the snapshot itself.
func (r *DeviceRegistry) changed(ctx context.Context, rec deviceRecord) {
	if err := r.Load(ctx); err != nil {
		r.cfg.Logger.Warn("devices: reload after a change failed; applying it locally", "device", rec.ID, "err", err)
		r.mu.Lock()
		r.idx.Store(r.idx.Load().with(rec))
		r.mu.Unlock()
	}
}

// Add registers spec and returns the device and its key, which is not
// shown again. Adding an id that was revoked registers it anew, with a new
// key. Errors wrap ErrBadDevice, ErrDeviceExists or ErrPhoneTaken, or the
// backend's.
func (r *DeviceRegistry) Add(ctx context.Context, spec DeviceSpec) (Device, string, error) {
	return r.add(ctx, spec, false)
}

// Seed adds each of specs whose id was never registered, so that a
// revoked device stays revoked; it returns how many it added.
func (r *DeviceRegistry) Seed(ctx context.Context, specs []DeviceSpec) (int, error) {
	n := 0
	for _, s := range specs {
		switch _, _, err := r.add(ctx, s, true); {
		case err == nil:
			n++
		case !errors.Is(err, ErrDeviceExists):
			return n, err
		}
	}
	return n, nil
}

func (r *DeviceRegistry) add(ctx context.Context, spec DeviceSpec, ifNew bool) (Device, string, error) {
	rec, err := r.record(spec)
	if err != nil {
		return Device{}, "", err
	}
	if err := r.backend.add(ctx, rec, ifNew); err != nil {
		return Device{}, "", fmt.Errorf("realtime: add device %s: %w", spec.ID, err)
	}
	r.changed(ctx, rec)
	return rec.Device, rec.Key, nil
}

// record checks spec and returns its record, drawing a key when it has
// none.
func (r *DeviceRegistry) record(spec DeviceSpec) (deviceRecord, error) {
	phone, err := normalizePhone(spec.Phone)
	if err != nil {
		return deviceRecord{}, err
	}
	switch {
	case !validDeviceID(spec.ID):
		return deviceRecord{}, fmt.Errorf("%w: id %.70q: want 1 to 64 of A-Z a-z 0-9 . _ : -", ErrBadDevice, spec.ID)
	case spec.Unit == "" || len(spec.Unit) > 64 || !utf8.ValidString(spec.Unit) || strings.ContainsFunc(spec.Unit, unicode.IsControl):
		return deviceRecord{}, fmt.Errorf("%w: unit %.70q: want 1 to 64 bytes of text", ErrBadDevice, spec.Unit)
	case spec.Key != "" && !validDeviceKey(spec.Key):
		return deviceRecord{}, fmt.Errorf("%w: key: want 1 to 64 printable characters other than space, comma and *", ErrBadDevice)
	}
	key := spec.Key
	if key == "" {
		b := make([]byte, 16)
		if _, err := io.ReadFull(r.cfg.Rand, b); err != nil {
			return deviceRecord{}, fmt.Errorf("realtime: draw a device key: %w", err)
		}
		key = hex.EncodeToString(b)
	}
	return deviceRecord{Device: Device{ID: spec.ID, Unit: spec.Unit, Phone: phone, Created: r.cfg.Now().UTC()}, Key: key}, nil
}

// normalizePhone returns phone without leading zeros, hex nibbles in
// lower case (JT808Phone's form); "" stays "".
func normalizePhone(phone string) (string, error) {
	if phone == "" {
		return "", nil
	}
	if len(phone) > 20 {
		return "", fmt.Errorf("%w: phone %.30q: want at most 20 digits", ErrBadDevice, phone)
	}
	phone = strings.ToLower(phone)
	for i := 0; i < len(phone); i++ {
		if c := phone[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("%w: phone %q: want digits only (a BCD nibble over 9 as a-f)", ErrBadDevice, phone)
		}
	}
	return JT808Phone(JT808Header{Phone: phone}), nil
}

func validDeviceID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func validDeviceKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c > '~' || c == ',' || c == '*' {
			return false
		}
	}
	return true
}

// Revoke revokes device id at once: its key stops working and the
// terminal servers close its connections at its next message. Revoking a
// revoked device changes nothing. It returns the device; the error wraps
// ErrUnknownDevice when there is none.
func (r *DeviceRegistry) Revoke(ctx context.Context, id string) (Device, error) {
	rec, err := r.backend.revoke(ctx, id, r.cfg.Now().UTC())
	if err != nil {
		return Device{}, fmt.Errorf("realtime: revoke device %s: %w", id, err)
	}
	r.changed(ctx, rec)
	return rec.Device, nil
}

// List returns every device, revoked ones included, by id, read from the
// backend.
func (r *DeviceRegistry) List(ctx context.Context) ([]Device, error) {
	recs, err := r.backend.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("realtime: list devices: %w", err)
	}
	out := make([]Device, len(recs))
	for i, rec := range recs {
		out[i] = rec.Device
	}
	slices.SortFunc(out, func(a, b Device) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Device returns device id from the snapshot.
func (r *DeviceRegistry) Device(id string) (Device, bool) {
	rec, ok := r.index().byID[id]
	if !ok {
		return Device{}, false
	}
	return rec.Device, true
}

// Authenticate returns the active device id if key is its key, from the
// snapshot (no I/O). A refusal wraps ErrUnknownDevice, ErrDeviceRevoked,
// ErrNoDeviceKey or ErrDeviceKey, and is counted under source.
func (r *DeviceRegistry) Authenticate(source, id, key string) (Device, error) {
	rec, err := r.active(r.index().byID[id], id)
	if err == nil && key == "" {
		err = fmt.Errorf("%w for %s", ErrNoDeviceKey, id)
	}
	if err == nil && subtle.ConstantTimeCompare([]byte(key), []byte(rec.Key)) != 1 {
		err = fmt.Errorf("%w for %s", ErrDeviceKey, id)
	}
	if err != nil {
		r.refused(source, err)
		return Device{}, err
	}
	return rec.Device, nil
}

// deviceCheck is what a terminal connection keeps of its device: its id,
// the key it showed, and the registry snapshot they were last found good
// in. A snapshot is immutable, so the device stays good until the
// snapshot is replaced; only then does recheck ask the registry again.
type deviceCheck struct {
	device, key string
	keyOptional bool // an empty key asks only that the device be active (the open demo)
	snapshot    *deviceIndex
}

// check asks the registry for the device, counting a refusal under
// source, and remembers the snapshot that took it.
func (c *deviceCheck) check(r *DeviceRegistry, source string) (Device, error) {
	idx := r.index()
	var d Device
	var err error
	if c.key == "" && c.keyOptional {
		d, err = r.Active(source, c.device)
	} else {
		d, err = r.Authenticate(source, c.device, c.key)
	}
	c.snapshot = nil
	if err == nil {
		c.snapshot = idx // the lookup read idx or a later one
	}
	return d, err
}

// recheck refuses the device when the registry changed since it was last
// found good and no longer takes it; a connection without a device passes.
func (c *deviceCheck) recheck(r *DeviceRegistry, source string) error {
	if c.device == "" || r.index() == c.snapshot {
		return nil
	}
	_, err := c.check(r, source)
	return err
}

// Active returns device id if it is registered and active, without asking
// for its key (loopback demo and fleet gateways), counting a refusal
// under source.
func (r *DeviceRegistry) Active(source, id string) (Device, error) {
	rec, err := r.active(r.index().byID[id], id)
	if err != nil {
		r.refused(source, err)
		return Device{}, err
	}
	return rec.Device, nil
}

func (r *DeviceRegistry) active(rec *deviceRecord, id string) (*deviceRecord, error) {
	switch {
	case rec == nil:
		return nil, fmt.Errorf("%w %q", ErrUnknownDevice, id)
	case !rec.Active():
		return nil, fmt.Errorf("%w: %s since %s", ErrDeviceRevoked, id, rec.Revoked.Format(time.RFC3339))
	}
	return rec, nil
}

// Terminal returns the active device of JT/T 808 terminal phone (the
// JT808Phone form) and its key, from the snapshot; a refusal wraps
// ErrUnknownDevice and is counted.
func (r *DeviceRegistry) Terminal(phone string) (Device, string, error) {
	rec, ok := r.index().byPhone[phone]
	if !ok {
		err := fmt.Errorf("%w: no terminal %s", ErrUnknownDevice, phone)
		r.refused(SourceJT808, err)
		return Device{}, "", err
	}
	return rec.Device, rec.Key, nil
}

func (r *DeviceRegistry) refused(source string, err error) {
	if r != nil {
		r.cfg.Metrics.refuse(source, err)
	}
}

// DeviceMetrics counts what devices send that is not taken: refused
// credentials, and input that cannot be read. A nil *DeviceMetrics counts
// nothing.
type DeviceMetrics struct {
	refusals  *prometheus.CounterVec
	malformed *prometheus.CounterVec
}

// NewDeviceMetrics registers patrolgrid_device_refusals_total{source,
// reason} and patrolgrid_malformed_input_total{source} with reg.
func NewDeviceMetrics(reg prometheus.Registerer) *DeviceMetrics {
	m := &DeviceMetrics{
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_device_refusals_total",
			Help: "Device credentials refused, by protocol (osmand, jt808, nmea) and reason.",
		}, []string{"source", "reason"}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patrolgrid_malformed_input_total",
			Help: "Device input that could not be read, by protocol (osmand, jt808, nmea): requests, frames or lines.",
		}, []string{"source"}),
	}
	for _, s := range []string{SourceOsmAnd, SourceJT808, SourceNMEA} {
		for _, r := range []string{"unknown_device", "device_revoked", "bad_device_key", "no_device_key"} {
			m.refusals.WithLabelValues(s, r)
		}
		m.malformed.WithLabelValues(s)
	}
	reg.MustRegister(m.refusals, m.malformed)
	return m
}

func (m *DeviceMetrics) refuse(source string, err error) {
	if m != nil {
		m.refusals.WithLabelValues(source, DeviceCode(err)).Inc()
	}
}

// Malformed counts one request, frame or line of source that could not be
// read.
func (m *DeviceMetrics) Malformed(source string) {
	if m != nil {
		m.malformed.WithLabelValues(source).Inc()
	}
}

// memoryDevices is the backend of a registry in this process's memory.
type memoryDevices struct {
	mu     sync.Mutex
	recs   map[string]deviceRecord
	phones map[string]string // active terminal phone to device id
}

func (m *memoryDevices) add(_ context.Context, rec deviceRecord, ifNew bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.recs[rec.ID]; ok && (ifNew || cur.Active()) {
		return ErrDeviceExists
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

func (m *memoryDevices) revoke(_ context.Context, id string, at time.Time) (deviceRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[id]
	if !ok {
		return deviceRecord{}, fmt.Errorf("%w %q", ErrUnknownDevice, id)
	}
	if rec.Active() {
		rec.Revoked, rec.Key = at, ""
		m.recs[id] = rec
		if m.phones[rec.Phone] == id {
			delete(m.phones, rec.Phone)
		}
	}
	return rec, nil
}

func (m *memoryDevices) load(context.Context) ([]deviceRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.recs)), nil
}
