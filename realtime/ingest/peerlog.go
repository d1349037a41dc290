package ingest

import (
	"net"
	"sync"
	"time"
)

// PeerLogEvery is how often a PeerLog lets one address speak.
const PeerLogEvery = time.Minute

// peerLogCap is how many addresses a PeerLog remembers before it forgets
// those it last let speak over PeerLogEvery ago.
const peerLogCap = 4096

// PeerLog decides which log lines about the bad input of peers that have
// not authenticated are written: at most one per address (its host, any
// port) per PeerLogEvery, so that a peer sending junk, or guessing
// credentials, fills no log. The input is counted all the same (see
// device.Metrics). Its zero value is ready; it is safe for concurrent use.
type PeerLog struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// Allow reports whether a line about addr may be written at now, and if
// so counts it as written.
func (p *PeerLog) Allow(addr net.Addr, now time.Time) bool {
	host := hostOf(addr)
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.last[host]; ok && now.Sub(t) < PeerLogEvery {
		return false
	}
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	if len(p.last) >= peerLogCap {
		for h, t := range p.last {
			if now.Sub(t) >= PeerLogEvery {
				delete(p.last, h)
			}
		}
		if len(p.last) >= peerLogCap {
			return false // a flood of addresses: say nothing new until they age
		}
	}
	p.last[host] = now
	return true
}
