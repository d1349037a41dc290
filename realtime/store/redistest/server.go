package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/redis/go-redis/v9"
)

// NewClientFunc builds a client from a redis://, redis+cluster:// or
// redis+sentinel:// URL; tests pass the client constructor they exercise
// (such as store.NewRedisClient), which this package cannot import.
type NewClientFunc func(url string) (redis.UniversalClient, error)

// Server is one redis-server process the test started on a free loopback
// port, with its data in a temporary folder: stopping and starting it
// again keeps the data (append-only file).
type Server struct {
	tb      testing.TB
	addr    string
	dir     string
	cluster bool
	master  string   // for a Sentinel: the address of the master it watches
	extra   []string // more redis-server arguments
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Option changes how Start starts a server.
type Option func(*Server)

// Args adds redis-server arguments after the harness's own (such as
// "--appendfsync", "always").
func Args(args ...string) Option {
	return func(s *Server) { s.extra = append(s.extra, args...) }
}

// Require skips the test when redis-server is not installed, or fails it
// when CI=true or PATROLGRID_REQUIRE=1; Start, StartCluster and
// StartSentinel call it themselves.
func Require(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		datatest.Missing(tb, "redis-server", err)
	}
}

// Start starts a redis-server that is stopped when the test ends. It skips
// the test when redis-server is not installed, or fails it when CI=true or
// PATROLGRID_REQUIRE=1.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return start(tb, false, opts...)
}

func start(tb testing.TB, cluster bool, opts ...Option) *Server {
	tb.Helper()
	Require(tb)
	s := &Server{tb: tb, dir: tb.TempDir(), cluster: cluster}
	for _, o := range opts {
		o(s)
	}
	for attempt := 0; ; attempt++ {
		s.addr = freeLoopbackAddr(tb)
		err := s.start()
		if err == nil {
			break
		}
		if attempt == 3 {
			tb.Fatalf("start redis-server: %v (log: %s)", err, s.log())
		}
	}
	tb.Cleanup(s.Stop)
	return s
}

func freeLoopbackAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs redis-server on s.addr and waits until it answers PING.
func (s *Server) start() error {
	args, err := s.args()
	if err != nil {
		return err
	}
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(s.cmd, s.exited)
	return s.awaitPing()
}

// args returns the redis-server arguments of s, writing the configuration
// file of a Sentinel.
func (s *Server) args() ([]string, error) {
	_, port, _ := net.SplitHostPort(s.addr)
	if s.master != "" {
		host, mport, _ := net.SplitHostPort(s.master)
		conf := filepath.Join(s.dir, "sentinel.conf")
		text := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor %s %s %s 1\n",
			port, s.dir, filepath.Join(s.dir, "redis.log"), MasterName, host, mport)
		return []string{conf, "--sentinel"}, os.WriteFile(conf, []byte(text), 0o600)
	}
	args := []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--daemonize", "no",
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "no",
		"--logfile", filepath.Join(s.dir, "redis.log")}
	if s.cluster {
		// A replica's first sync starts at once, where a master would
		// wait 5 s for more replicas to share it.
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0")
	}
	return append(args, s.extra...), nil
}

// awaitPing waits until the server s started answers PING, for 10 s at
// most; it stops a server that does not answer.
func (s *Server) awaitPing() error {
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			s.cmd = nil
			return fmt.Errorf("redis-server on %s exited: %w", s.addr, err)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redis-server on %s does not answer: %w", s.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Addr returns the server's host:port on the loopback interface.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.addr }

// Stop ends redis-server with SIGTERM (it flushes its append-only file)
// and waits for it. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Kill ends redis-server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts a stopped server again on the same port and folder.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("restart redis-server: %v (log: %s)", err, s.log())
	}
}

func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Client returns a single-node client built by newClient from URL, closed
// when the test ends.
func (s *Server) Client(newClient NewClientFunc) redis.UniversalClient {
	s.tb.Helper()
	return client(s.tb, newClient, s.URL())
}

func client(tb testing.TB, newClient NewClientFunc, url string) redis.UniversalClient {
	tb.Helper()
	c, err := newClient(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
