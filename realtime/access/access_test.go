package access

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	storepkg "github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// store is what both kinds hold.
type store interface {
	Audit
	Sessions
}

// opener opens the records of a city; the same city again gives a second
// object on the same records, as another server would have.
type opener func(t *testing.T, city string) store

// TestAccessContract runs the same tests against memory, one
// redis-server and a 3-master Redis Cluster.
func TestAccessContract(t *testing.T) {
	var mu sync.Mutex
	mems := map[string]*Memory{}
	memory := func(t *testing.T, city string) store {
		mu.Lock()
		defer mu.Unlock()
		if mems[city] == nil {
			mems[city] = &Memory{}
		}
		return mems[city]
	}
	redisOpener := func(c redis.UniversalClient) opener {
		return func(t *testing.T, city string) store {
			s, err := NewRedis(c, RedisConfig{City: city})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	for name, open := range map[string]func(t *testing.T) opener{
		"memory": func(*testing.T) opener { return memory },
		"redis":  func(t *testing.T) opener { return redisOpener(redistest.Start(t).Client(storepkg.NewRedisClient)) },
		"cluster": func(t *testing.T) opener {
			return redisOpener(redistest.StartCluster(t, 3).Client(storepkg.NewRedisClient))
		},
	} {
		t.Run(name, func(t *testing.T) {
			o := open(t)
			t.Run("Audit", func(t *testing.T) { testAudit(t, o, realtimetest.CityName(t)) })
			t.Run("Sessions", func(t *testing.T) { testSessions(t, o, realtimetest.CityName(t)) })
		})
	}
}

// testAudit: entries come back newest first, page by page with before,
// the same on another instance, with who, what, when and from where.
func testAudit(t *testing.T, open opener, city string) {
	ctx := realtimetest.Context(t)
	a := open(t, city)
	if list, err := a.ListAudit(ctx, "", 10); err != nil || len(list) != 0 {
		t.Fatalf("ListAudit before any entry = %v, %v", list, err)
	}
	at := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	for i := range 5 {
		e := AuditEntry{At: at.Add(time.Duration(i) * time.Second), By: "dispatcher:desk-3", From: "10.0.0.7",
			Action: "unit.status", Target: fmt.Sprintf("V%02d", i), Detail: "dispatched"}
		if err := a.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	b := open(t, city)
	first, err := b.ListAudit(ctx, "", 3)
	if err != nil || len(first) != 3 || first[0].Target != "V04" || first[2].Target != "V02" {
		t.Fatalf("ListAudit(3) = %+v, %v, want V04, V03, V02", first, err)
	}
	if e := first[0]; e.ID == "" || !e.At.Equal(at.Add(4*time.Second)) || e.By != "dispatcher:desk-3" || e.From != "10.0.0.7" ||
		e.Action != "unit.status" || e.Detail != "dispatched" {
		t.Errorf("newest entry = %+v", e)
	}
	rest, err := b.ListAudit(ctx, first[2].ID, 10)
	if err != nil || len(rest) != 2 || rest[0].Target != "V01" || rest[1].Target != "V00" {
		t.Errorf("ListAudit(before %s) = %+v, %v, want V01, V00", first[2].ID, rest, err)
	}
}

// testSessions: a session is found under its sum by another instance
// until it expires or is deleted.
func testSessions(t *testing.T, open opener, city string) {
	ctx := realtimetest.Context(t)
	a, b := open(t, city), open(t, city)
	s := Session{By: "viewer:wall", Roles: []string{"viewer"}, Expires: time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)}
	if err := a.PutSession(ctx, "sum1", s); err != nil {
		t.Fatal(err)
	}
	got, err := b.Session(ctx, "sum1")
	if err != nil || got.By != s.By || len(got.Roles) != 1 || got.Roles[0] != "viewer" || !got.Expires.Equal(s.Expires) {
		t.Errorf("Session = %+v, %v, want %+v", got, err, s)
	}
	if _, err := b.Session(ctx, "other"); !errors.Is(err, ErrNoSession) {
		t.Errorf("Session of an unknown sum = %v, want ErrNoSession", err)
	}
	if err := a.PutSession(ctx, "past", Session{By: "x", Expires: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Session(ctx, "past"); !errors.Is(err, ErrNoSession) {
		t.Errorf("an expired session = %v, want ErrNoSession", err)
	}
	if err := b.DeleteSession(ctx, "sum1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, "sum1"); !errors.Is(err, ErrNoSession) {
		t.Errorf("a deleted session = %v, want ErrNoSession", err)
	}
}
