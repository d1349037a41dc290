package ingest

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limitersCap is how many keys a Limits remembers; past it, the idlest
// half is forgotten (a forgotten key starts again with a full bucket).
const limitersCap = 1 << 16

// Limits holds a token bucket per key (a device, an address): each key may
// take Rate a second, Burst at once. A nil *Limits, or one of Rate 0,
// allows everything. It is safe for concurrent use.
type Limits struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	keys  map[string]*keyLimit
}

type keyLimit struct {
	*rate.Limiter
	seen time.Time
}

// NewLimits returns the limits of perSecond a key, twice that at once;
// perSecond 0 is none (nil).
func NewLimits(perSecond float64) *Limits {
	if perSecond <= 0 {
		return nil
	}
	return &Limits{rate: rate.Limit(perSecond), burst: max(1, int(2*perSecond)), keys: map[string]*keyLimit{}}
}

// Allow takes n from key's bucket at now and reports whether it could.
func (l *Limits) Allow(key string, n int, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys[key]
	if k == nil {
		if len(l.keys) >= limitersCap {
			l.forget()
		}
		k = &keyLimit{Limiter: rate.NewLimiter(l.rate, l.burst)}
		l.keys[key] = k
	}
	k.seen = now
	return k.AllowN(now, min(n, l.burst))
}

// forget drops the keys not seen for longest, half of them.
func (l *Limits) forget() {
	var newest, oldest time.Time
	for _, k := range l.keys {
		if newest.IsZero() || k.seen.After(newest) {
			newest = k.seen
		}
		if oldest.IsZero() || k.seen.Before(oldest) {
			oldest = k.seen
		}
	}
	mid := oldest.Add(newest.Sub(oldest) / 2)
	for key, k := range l.keys {
		if !k.seen.After(mid) {
			delete(l.keys, key)
		}
	}
}

// Host returns the host of a remote address, any port, the key of a
// per-address limit.
func Host(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
