package ingest

import (
	"net"
	"sync"
	"time"
)

// MaxAuthFailures is how many failed logins (registrations,
// authentications) a connection may make before it is closed.
const MaxAuthFailures = 5

// The shut-out of an address whose connections keep failing to log in:
// the first lasts backoffFirst, each next one twice the one before, up to
// backoffMax; an address that logs in is forgiven.
const (
	backoffFirst = time.Second
	backoffMax   = 5 * time.Minute
	backoffCap   = 4096 // addresses remembered before the forgotten are dropped
)

// Backoff shuts out the addresses (hosts, any port) whose connections
// were closed for failing to log in MaxAuthFailures times: while shut out,
// an address's new connections are closed at once, so that guessing
// credentials takes longer the longer it goes on. Connections already
// logged in are not touched. Its zero value is ready; it is safe for
// concurrent use.
type Backoff struct {
	mu    sync.Mutex
	peers map[string]*backoffPeer
}

type backoffPeer struct {
	next     time.Duration // of the next shut-out
	until    time.Time
	failures int // since the last shut-out (Fail)
}

func hostOf(addr net.Addr) string {
	if h, _, err := net.SplitHostPort(addr.String()); err == nil {
		return h
	}
	return addr.String()
}

// Strike shuts addr out from now, for twice as long as the time before,
// and returns for how long.
func (b *Backoff) Strike(addr net.Addr, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.peer(addr, now)
	if p == nil {
		return 0
	}
	d := p.next
	p.until, p.next, p.failures = now.Add(d), min(2*d, backoffMax), 0
	return d
}

// Fail counts a failed login of addr, for a protocol whose connection
// closes at its first (an NMEA login): at every MaxAuthFailures-th, addr
// is struck (see Strike) and Fail returns the shut-out, 0 otherwise.
func (b *Backoff) Fail(addr net.Addr, now time.Time) time.Duration {
	b.mu.Lock()
	p := b.peer(addr, now)
	if p == nil {
		b.mu.Unlock()
		return 0
	}
	p.failures++
	n := p.failures
	b.mu.Unlock()
	if n < MaxAuthFailures {
		return 0
	}
	return b.Strike(addr, now)
}

// peer returns the record of addr, made when new; nil when too many
// addresses are remembered. b.mu must be held.
func (b *Backoff) peer(addr net.Addr, now time.Time) *backoffPeer {
	if b.peers == nil {
		b.peers = map[string]*backoffPeer{}
	}
	if len(b.peers) >= backoffCap {
		for h, p := range b.peers {
			if now.Sub(p.until) > backoffMax {
				delete(b.peers, h)
			}
		}
	}
	p := b.peers[hostOf(addr)]
	if p == nil && len(b.peers) >= backoffCap {
		return nil // a flood of addresses: each is still held to MaxAuthFailures a connection
	}
	if p == nil {
		p = &backoffPeer{next: backoffFirst}
		b.peers[hostOf(addr)] = p
	}
	return p
}

// ShutOut reports whether addr is shut out at now.
func (b *Backoff) ShutOut(addr net.Addr, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.peers[hostOf(addr)]
	return p != nil && now.Before(p.until)
}

// Forgive forgets the strikes of addr, one of whose connections logged
// in.
func (b *Backoff) Forgive(addr net.Addr) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.peers, hostOf(addr))
}
