package device

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
)

// registryOpener opens the registry of a city; opening the same city
// again gives a second registry on the same devices, as a second server
// instance would have (for memory, the same registry).
type registryOpener func(t *testing.T, city string) *Registry

// TestDeviceRegistryContract runs the same tests against the memory
// registry, one redis-server and a 3-master Redis Cluster.
func TestDeviceRegistryContract(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		var mu sync.Mutex
		regs := map[string]*Registry{}
		runContract(t, func(t *testing.T, city string) *Registry {
			mu.Lock()
			defer mu.Unlock()
			if regs[city] == nil {
				regs[city] = NewRegistry(Config{})
			}
			return regs[city]
		})
	})
	t.Run("redis", func(t *testing.T) {
		runContract(t, redisRegistryOpener(redistest.Start(t).Client(store.NewRedisClient)))
	})
	t.Run("cluster", func(t *testing.T) {
		runContract(t, redisRegistryOpener(redistest.StartCluster(t, 3).Client(store.NewRedisClient)))
	})
}

// redisRegistryOpener opens registries that follow their city's changes
// until the test ends.
func redisRegistryOpener(c redis.UniversalClient) registryOpener {
	return func(t *testing.T, city string) *Registry {
		r, err := NewRedisRegistry(c, RedisConfig{City: city, Config: Config{Logger: slog.New(slog.DiscardHandler)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Load(realtimetest.Context(t)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
		})
		return r
	}
}

func runContract(t *testing.T, open registryOpener) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, registryOpener)
	}{
		{"AddAuthenticate", testAddAuthenticate},
		{"TerminalRegister", testTerminalRegister},
		{"AddRefusals", testAddRefusals},
		{"Revoke", testRevoke},
		{"SeedKeepsRevoked", testSeedKeepsRevoked},
		{"SharedAcrossInstances", testShared},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open) })
	}
}

func mustAdd(t *testing.T, r *Registry, spec Spec) (Device, string) {
	t.Helper()
	d, key, err := r.Add(realtimetest.Context(t), spec)
	if err != nil {
		t.Fatalf("Add(%+v) = %v", spec, err)
	}
	return d, key
}

func testAddAuthenticate(t *testing.T, open registryOpener) {
	r := open(t, realtimetest.CityName(t))
	d, key := mustAdd(t, r, Spec{ID: "car-1", Unit: "V01"})
	if d.ID != "car-1" || d.Unit != "V01" || d.Protocol != fix.SourceOsmAnd || d.Created.IsZero() || !d.Active() {
		t.Errorf("Add = %+v, want OsmAnd device car-1 of V01, created and active", d)
	}
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		t.Errorf("key %q, want 32 hex digits", key)
	}
	// a second device of the unit, on NMEA
	_, key2 := mustAdd(t, r, Spec{ID: "phone-7", Unit: "V01", Protocol: fix.SourceNMEA})
	if key2 == key {
		t.Error("two devices drew the same key")
	}
	for _, tc := range []struct {
		source, id, key string
		err             error
	}{
		{fix.SourceOsmAnd, "car-1", key, nil},
		{fix.SourceNMEA, "phone-7", key2, nil},
		{fix.SourceOsmAnd, "car-1", key2, ErrWrongKey},
		{fix.SourceOsmAnd, "car-1", "", ErrNoKey},
		{fix.SourceOsmAnd, "nobody", key, ErrUnknown},
		// A key is good on its device's protocol alone.
		{fix.SourceNMEA, "car-1", key, ErrWrongKey},
		{fix.SourceJT808, "car-1", key, ErrWrongKey},
		{fix.SourceOsmAnd, "phone-7", key2, ErrWrongKey},
	} {
		got, err := r.Authenticate(tc.source, tc.id, tc.key)
		if !errors.Is(err, tc.err) || err == nil && got.Unit != "V01" {
			t.Errorf("Authenticate(%s, %s, %.6s…) = %+v, %v, want unit V01, %v", tc.source, tc.id, tc.key, got, err, tc.err)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("Authenticate error %v does not wrap ErrDeviceRefused", err)
		}
	}
	if _, key := mustAdd(t, r, Spec{ID: "demo", Unit: "V02", Key: "demo-V02"}); key != "demo-V02" {
		t.Errorf("Add with a key handed back %q, want it", key)
	}
	list, err := r.List(realtimetest.Context(t))
	if err != nil || len(list) != 3 || list[0].ID != "car-1" || list[1].ID != "demo" || list[2].ID != "phone-7" {
		t.Fatalf("List = %+v, %v, want car-1, demo, phone-7", list, err)
	}
	j, _ := json.Marshal(list)
	if strings.Contains(string(j), key) || strings.Contains(string(j), "demo-V02") || strings.Contains(string(j), `"key`) {
		t.Errorf("List JSON %s shows a key", j)
	}
}

// testTerminalRegister: a JT/T 808 terminal is provisioned with its phone
// and terminal id and no key; a registration with both draws a code,
// good on JT/T 808 alone until the next registration, kept only as its
// SHA-256; a wrong terminal id or phone gets nothing.
func testTerminalRegister(t *testing.T, open registryOpener) {
	ctx, city := realtimetest.Context(t), realtimetest.CityName(t)
	r := open(t, city)
	d, key := mustAdd(t, r, Spec{ID: "car-1", Unit: "V01", Phone: "013900000001", Terminal: "T1"})
	if d.Protocol != fix.SourceJT808 || d.Phone != "13900000001" || d.Terminal != "T1" || key != "" {
		t.Fatalf("Add = %+v, %q; want a JT/T 808 terminal with phone 13900000001, terminal T1 and no key", d, key)
	}
	if got, err := r.Terminal("13900000001"); err != nil || got.ID != "car-1" {
		t.Errorf("Terminal(13900000001) = %+v, %v, want car-1", got, err)
	}
	for _, tc := range []struct{ phone, terminal string }{{"13900000001", "T2"}, {"13900000001", ""}, {"13900000002", "T1"}} {
		if _, code, err := r.Register(ctx, tc.phone, tc.terminal); !errors.Is(err, ErrUnknown) || code != "" {
			t.Errorf("Register(%s, %q) = %q, %v, want ErrUnknown and no code", tc.phone, tc.terminal, code, err)
		}
	}
	got, code, err := r.Register(ctx, "13900000001", "T1")
	if err != nil || got.ID != "car-1" || len(code) != 32 {
		t.Fatalf("Register = %+v, %q, %v, want car-1 and a code of 32 hex digits", got, code, err)
	}
	if _, err := r.Authenticate(fix.SourceJT808, "car-1", code); err != nil {
		t.Errorf("the code on JT/T 808: %v", err)
	}
	for _, source := range []string{fix.SourceOsmAnd, fix.SourceNMEA} {
		if _, err := r.Authenticate(source, "car-1", code); !errors.Is(err, ErrWrongKey) {
			t.Errorf("the code on %s = %v, want ErrWrongKey", source, err)
		}
	}
	_, code2, err := r.Register(ctx, "13900000001", "T1")
	if err != nil || code2 == code {
		t.Fatalf("second Register = %q, %v, want a new code", code2, err)
	}
	if _, err := r.Authenticate(fix.SourceJT808, "car-1", code); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the first code after a second registration = %v, want ErrWrongKey", err)
	}
	b := open(t, city)
	realtimetest.WaitFor(t, "the second instance to take the new code", func() bool {
		_, err := b.Authenticate(fix.SourceJT808, "car-1", code2)
		return err == nil
	})
	for _, spec := range []Spec{{ID: "x", Unit: "V01", Protocol: fix.SourceJT808, Terminal: "T9"},
		{ID: "x", Unit: "V01", Phone: "13900000009"}, {ID: "x", Unit: "V01", Phone: "13900000009", Terminal: "T9", Key: "k"},
		{ID: "x", Unit: "V01", Phone: "13900000009", Terminal: "T9", Protocol: fix.SourceOsmAnd},
		{ID: "x", Unit: "V01", Phone: "13900000009", Terminal: strings.Repeat("t", 31)}} {
		if _, _, err := r.Add(ctx, spec); !errors.Is(err, ErrBad) {
			t.Errorf("Add(%+v) = %v, want ErrBad", spec, err)
		}
	}
}

func testAddRefusals(t *testing.T, open registryOpener) {
	r := open(t, realtimetest.CityName(t))
	mustAdd(t, r, Spec{ID: "a", Unit: "V01", Phone: "13900000001", Terminal: "T1"})
	for _, tc := range []struct {
		name string
		spec Spec
		err  error
	}{
		{"same id", Spec{ID: "a", Unit: "V02"}, ErrExists},
		{"same phone", Spec{ID: "b", Unit: "V02", Phone: "0013900000001", Terminal: "T2"}, ErrPhoneTaken},
		{"empty id", Spec{Unit: "V01"}, ErrBad},
		{"id with a comma", Spec{ID: "a,b", Unit: "V01"}, ErrBad},
		{"long id", Spec{ID: strings.Repeat("x", 65), Unit: "V01"}, ErrBad},
		{"no unit", Spec{ID: "c"}, ErrBad},
		{"phone with letters", Spec{ID: "c", Unit: "V01", Phone: "1390000000x", Terminal: "T3"}, ErrBad},
		{"phone too long", Spec{ID: "c", Unit: "V01", Phone: strings.Repeat("1", 21), Terminal: "T3"}, ErrBad},
		{"key with a star", Spec{ID: "c", Unit: "V01", Key: "a*b"}, ErrBad},
		{"unknown protocol", Spec{ID: "c", Unit: "V01", Protocol: "json"}, ErrBad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := r.Add(realtimetest.Context(t), tc.spec); !errors.Is(err, tc.err) {
				t.Errorf("Add(%+v) = %v, want %v", tc.spec, err, tc.err)
			}
		})
	}
	if list, err := r.List(realtimetest.Context(t)); err != nil || len(list) != 1 {
		t.Errorf("List after refusals = %+v, %v, want the first device alone", list, err)
	}
}

func testRevoke(t *testing.T, open registryOpener) {
	r := open(t, realtimetest.CityName(t))
	_, key := mustAdd(t, r, Spec{ID: "a", Unit: "V01", Protocol: fix.SourceNMEA})
	mustAdd(t, r, Spec{ID: "t", Unit: "V01", Phone: "13900000001", Terminal: "T1"})
	if _, _, err := r.Register(realtimetest.Context(t), "13900000001", "T1"); err != nil {
		t.Fatal(err)
	}
	d, err := r.Revoke(realtimetest.Context(t), "a")
	if err != nil || d.Active() || d.ID != "a" {
		t.Fatalf("Revoke = %+v, %v, want a revoked", d, err)
	}
	if _, err := r.Authenticate(fix.SourceNMEA, "a", key); !errors.Is(err, ErrRevoked) {
		t.Errorf("Authenticate after Revoke = %v, want ErrDeviceRevoked", err)
	}
	if _, err := r.Active(fix.SourceNMEA, "a"); !errors.Is(err, ErrRevoked) {
		t.Errorf("Active after Revoke = %v, want ErrDeviceRevoked", err)
	}
	if _, err := r.Revoke(realtimetest.Context(t), "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Terminal("13900000001"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Terminal after Revoke = %v, want ErrUnknownDevice", err)
	}
	if _, _, err := r.Register(realtimetest.Context(t), "13900000001", "T1"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Register after Revoke = %v, want ErrUnknownDevice", err)
	}
	again, err := r.Revoke(realtimetest.Context(t), "a")
	if err != nil || !again.Revoked.Equal(d.Revoked) {
		t.Errorf("Revoke again = %+v, %v, want the first revocation kept", again, err)
	}
	if _, err := r.Revoke(realtimetest.Context(t), "nobody"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Revoke(nobody) = %v, want ErrUnknownDevice", err)
	}
	if list, err := r.List(realtimetest.Context(t)); err != nil || len(list) != 2 || list[0].Active() || list[1].Active() {
		t.Errorf("List = %+v, %v, want a and t, revoked", list, err)
	}
	// The phone is free again, and the id can be registered anew with a
	// new key; the old key stays refused.
	mustAdd(t, r, Spec{ID: "b", Unit: "V02", Phone: "13900000001", Terminal: "T1"})
	if _, _, err := r.Add(realtimetest.Context(t), Spec{ID: "t", Unit: "V01", Phone: "13900000001", Terminal: "T1"}); !errors.Is(err, ErrPhoneTaken) {
		t.Errorf("re-adding t with b's phone = %v, want ErrPhoneTaken", err)
	}
	_, key2 := mustAdd(t, r, Spec{ID: "a", Unit: "V01"})
	if _, err := r.Authenticate(fix.SourceOsmAnd, "a", key); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the revoked key after re-adding = %v, want ErrDeviceKey", err)
	}
	if _, err := r.Authenticate(fix.SourceOsmAnd, "a", key2); err != nil {
		t.Errorf("the new key = %v", err)
	}
}

func testSeedKeepsRevoked(t *testing.T, open registryOpener) {
	r := open(t, realtimetest.CityName(t))
	specs := []Spec{{ID: "V01", Unit: "V01", Key: "demo-V01"}, {ID: "V02", Unit: "V02", Key: "demo-V02"}}
	if n, err := r.Seed(realtimetest.Context(t), specs); n != 2 || err != nil {
		t.Fatalf("Seed = %d, %v, want 2", n, err)
	}
	if _, err := r.Revoke(realtimetest.Context(t), "V01"); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Seed(realtimetest.Context(t), specs); n != 0 || err != nil {
		t.Fatalf("Seed again = %d, %v, want 0", n, err)
	}
	if _, err := r.Authenticate(fix.SourceOsmAnd, "V01", "demo-V01"); !errors.Is(err, ErrRevoked) {
		t.Errorf("V01 after a second Seed = %v, want still revoked", err)
	}
	if _, err := r.Authenticate(fix.SourceOsmAnd, "V02", "demo-V02"); err != nil {
		t.Errorf("V02 = %v", err)
	}
}

// testShared: what one instance adds and revokes, another knows at
// once.
func testShared(t *testing.T, open registryOpener) {
	city := realtimetest.CityName(t)
	a := open(t, city)
	_, key := mustAdd(t, a, Spec{ID: "x", Unit: "V01"})
	mustAdd(t, a, Spec{ID: "x.jt808", Unit: "V01", Phone: "13900000009", Terminal: "X"})
	b := open(t, city)
	if _, err := b.Authenticate(fix.SourceOsmAnd, "x", key); err != nil {
		t.Fatalf("second instance after Load: %v", err)
	}
	_, key2 := mustAdd(t, a, Spec{ID: "y", Unit: "V02"})
	realtimetest.WaitFor(t, "the second instance to learn of y", func() bool {
		_, err := b.Authenticate(fix.SourceOsmAnd, "y", key2)
		return err == nil
	})
	start := time.Now()
	for _, id := range []string{"x", "x.jt808"} {
		if _, err := a.Revoke(realtimetest.Context(t), id); err != nil {
			t.Fatal(err)
		}
	}
	realtimetest.WaitFor(t, "the second instance to refuse x", func() bool {
		_, err := b.Terminal("13900000009")
		_, err2 := b.Authenticate(fix.SourceOsmAnd, "x", key)
		return err != nil && errors.Is(err2, ErrRevoked)
	})
	if d := time.Since(start); d > time.Second {
		t.Errorf("revocation reached the second instance after %v, want well under a second", d)
	}
}

func TestDeviceMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	r := NewRegistry(Config{Metrics: m})
	mustAdd(t, r, Spec{ID: "a", Unit: "V01"})
	r.Authenticate(fix.SourceOsmAnd, "a", "wrong")
	r.Authenticate(fix.SourceOsmAnd, "a", "wrong")
	r.Authenticate(fix.SourceJT808, "b", "x")
	r.Terminal("42")
	r.Register(context.Background(), "43", "T")
	for _, tc := range []struct {
		source, reason string
		want           float64
	}{
		{fix.SourceOsmAnd, "bad_device_key", 2},
		{fix.SourceJT808, "unknown_device", 3},
		{fix.SourceNMEA, "device_revoked", 0},
	} {
		var got dto.Metric
		if err := m.refusals.WithLabelValues(tc.source, tc.reason).Write(&got); err != nil || got.GetCounter().GetValue() != tc.want {
			t.Errorf("refusals{%s,%s} = %v, want %v", tc.source, tc.reason, got.GetCounter().GetValue(), tc.want)
		}
	}
}

func TestDeviceNilRegistry(t *testing.T) {
	var r *Registry
	if _, err := r.Authenticate(fix.SourceOsmAnd, "a", "k"); !errors.Is(err, ErrUnknown) {
		t.Errorf("nil registry Authenticate = %v, want ErrUnknownDevice", err)
	}
	if _, err := r.Terminal("1"); !errors.Is(err, ErrUnknown) {
		t.Errorf("nil registry Terminal = %v, want ErrUnknownDevice", err)
	}
}

func TestDemoDevices(t *testing.T) {
	plan := patroltest.SquarePlan(t)
	specs := DemoSpecs(plan)
	u := plan.Units[0].ID
	if len(specs) != 3*len(plan.Units) {
		t.Fatalf("%d demo devices, want 3 a unit", len(specs))
	}
	want := []Spec{{ID: u, Unit: u, Protocol: fix.SourceOsmAnd, Key: "demo-" + u},
		{ID: u + ".nmea", Unit: u, Protocol: fix.SourceNMEA, Key: "demo-" + u + ".nmea"},
		{ID: u + ".jt808", Unit: u, Protocol: fix.SourceJT808, Phone: "13900000001", Terminal: u}}
	if !slices.Equal(specs[:3], want) {
		t.Errorf("demo devices of the first unit = %+v, want %+v", specs[:3], want)
	}
	r := NewRegistry(Config{})
	if n, err := r.Seed(context.Background(), specs); err != nil || n != len(specs) {
		t.Fatalf("Seed(demo) = %d, %v", n, err)
	}
}

// FuzzDeviceSpec adds arbitrary devices: a malformed one is refused with
// ErrBad, and one that is taken authenticates with its key, or, a
// terminal, registers with its phone and terminal id and authenticates
// with the code it drew. Records read back from Redis go through the
// same JSON form, checked to round-trip.
func FuzzDeviceSpec(f *testing.F) {
	for _, s := range [][6]string{
		{"V01", "V01", "", "", "", "demo-V01"}, {"car-1", "V02", "jt808", "013900000002", "T2", ""},
		{"860000000000001", "F1", "nmea", "", "", ""}, {"a,b", "V01", "", "", "", ""}, {"x", "V01", "", "4eb6fb4afd9e", "x", ""},
		{"x", "", "", "0", "", "k"}, {"x", "V01", "osmand", "00000000000000000000", "", "a*b"}, {"x", "V01", "", "+86", "\x00", " "},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	f.Fuzz(func(t *testing.T, id, unit, proto, phone, terminal, key string) {
		ctx := context.Background()
		r := NewRegistry(Config{Logger: slog.New(slog.DiscardHandler)})
		spec := Spec{ID: id, Unit: unit, Protocol: proto, Phone: phone, Terminal: terminal, Key: key}
		d, k, err := r.Add(ctx, spec)
		if err != nil {
			if !errors.Is(err, ErrBad) {
				t.Fatalf("Add(%+v) = %v, want ErrBad", spec, err)
			}
			return
		}
		if key != "" && k != key {
			t.Fatalf("Add handed back key %q, want %q", k, key)
		}
		if d.Protocol == fix.SourceJT808 {
			if got, err := r.Terminal(d.Phone); err != nil || got != d {
				t.Fatalf("Terminal(%q) = %+v, %v", d.Phone, got, err)
			}
			if _, k, err = r.Register(ctx, d.Phone, d.Terminal); err != nil {
				t.Fatalf("Register(%q, %q) = %v", d.Phone, d.Terminal, err)
			}
		}
		got, err := r.Authenticate(d.Protocol, id, k)
		if err != nil || got.ID != d.ID || got.Protocol != d.Protocol {
			t.Fatalf("Authenticate(%s, %q) = %+v, %v, want %+v", d.Protocol, id, got, err, d)
		}
		rec := *r.index().byID[id]
		j, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var back record
		if err := json.Unmarshal(j, &back); err != nil || back.Device.ID != rec.ID || back.Unit != rec.Unit ||
			back.Protocol != rec.Protocol || back.Phone != rec.Phone || back.Terminal != rec.Terminal ||
			back.KeySum != rec.KeySum || back.CodeSum != rec.CodeSum || !back.Created.Equal(rec.Created) {
			t.Fatalf("record %s read back as %+v, %v", j, back, err)
		}
		var fields map[string]any
		if err := json.Unmarshal(j, &fields); err != nil {
			t.Fatal(err)
		}
		for name := range fields {
			if !slices.Contains([]string{"id", "unit", "protocol", "phone", "terminal", "created", "key_sha256", "code_sha256"}, name) {
				t.Fatalf("record %s has a field %q", j, name)
			}
		}
	})
}

// TestLocalDevices seeds a demo's devices on one registry of a city in
// Redis: they authenticate there, are listed and revoked there, and a
// second registry of the city, or one opened after, knows none of them;
// a device of the shared registry with a demo device's id wins over it.
func TestLocalDevices(t *testing.T) {
	open := redisRegistryOpener(redistest.Start(t).Client(store.NewRedisClient))
	ctx := realtimetest.Context(t)
	a, b := open(t, "local"), open(t, "local")
	plan := patroltest.SquarePlan(t)
	specs := DemoSpecs(plan)
	if _, _, err := a.Add(ctx, Spec{ID: specs[1].ID, Unit: specs[1].Unit, Key: "real-key-of-the-second"}); err != nil {
		t.Fatal(err)
	}
	realtimetest.WaitFor(t, "b sees the shared device", func() bool { _, ok := b.Device(specs[1].ID); return ok })
	n, err := a.SeedLocal(ctx, specs)
	if err != nil || n != len(specs)-1 {
		t.Fatalf("SeedLocal = %d, %v; want %d (all but the one shared)", n, err, len(specs)-1)
	}
	first := specs[0]
	if _, err := a.Authenticate(fix.SourceOsmAnd, first.ID, first.Key); err != nil {
		t.Errorf("demo device on its registry: %v", err)
	}
	if _, err := a.Authenticate(fix.SourceOsmAnd, specs[1].ID, specs[1].Key); !errors.Is(err, ErrWrongKey) {
		t.Errorf("demo key of an id the shared registry holds: %v, want ErrWrongKey", err)
	}
	if _, _, err := a.Register(ctx, specs[2].Phone, specs[2].Terminal); err != nil {
		t.Errorf("demo terminal on its registry: %v", err)
	}
	list, err := a.List(ctx)
	if err != nil || len(list) != len(specs) {
		t.Errorf("List = %d devices, %v; want %d", len(list), err, len(specs))
	}
	for name, r := range map[string]*Registry{"another server": b, "a server started after": open(t, "local")} {
		if _, err := r.Authenticate(fix.SourceOsmAnd, first.ID, first.Key); !errors.Is(err, ErrUnknown) {
			t.Errorf("demo device on %s: %v, want ErrUnknown", name, err)
		}
		if list, err := r.List(ctx); err != nil || len(list) != 1 {
			t.Errorf("List on %s = %v, %v; want the shared device alone", name, list, err)
		}
	}
	if _, err := a.Revoke(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(fix.SourceOsmAnd, first.ID, first.Key); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked demo device: %v, want ErrRevoked", err)
	}
}
