package redistest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the master name a Sentinel started by StartSentinel
// watches.
const MasterName = "pgmaster"

// Sentinel is a redis-server --sentinel process watching one master. Its
// embedded Server is the Sentinel process itself (Addr, Stop, Kill,
// Restart...).
type Sentinel struct {
	*Server
}

// StartSentinel starts a Sentinel watching master under MasterName and
// waits until it knows the master's address; it is stopped when the test
// ends. Like Start, it skips or fails the test without redis-server.
func StartSentinel(tb testing.TB, master *Server) *Sentinel {
	tb.Helper()
	Require(tb)
	s := &Server{tb: tb, dir: tb.TempDir(), master: master.addr, addr: freeLoopbackAddr(tb)}
	if err := s.start(); err != nil {
		tb.Fatalf("start redis-server --sentinel: %v (log: %s)", err, s.log())
	}
	tb.Cleanup(s.Stop)
	c := redis.NewSentinelClient(&redis.Options{Addr: s.addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		addr, err := c.GetMasterAddrByName(context.Background(), MasterName).Result()
		if err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == master.addr {
			return &Sentinel{s}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("Sentinel does not know master %s: %v %v", master.addr, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SentinelURL returns the redis+sentinel:// URL that finds the master
// through this Sentinel.
func (s *Sentinel) SentinelURL() string {
	return "redis+sentinel://" + s.addr + "/" + MasterName
}

// SentinelClient returns a client built by newClient from SentinelURL,
// which finds the master through this Sentinel, closed when the test ends.
func (s *Sentinel) SentinelClient(newClient NewClientFunc) redis.UniversalClient {
	s.tb.Helper()
	return client(s.tb, newClient, s.SentinelURL())
}
