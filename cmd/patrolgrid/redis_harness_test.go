package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis is one redis-server process the test started on a free
// loopback port, with its data in a temporary folder and an append-only
// file, so that stopping and starting it again keeps the data. It is a
// trimmed copy of the realtime package's test harness (a _test file of
// another package cannot be imported).
type testRedis struct {
	t       *testing.T
	addr    string
	dir     string
	cluster bool
	cmd     *exec.Cmd
	exited  chan struct{}
}

// requireRedisServer skips the test when redis-server is not installed,
// or fails it when CI=true or PATROLGRID_REQUIRE=1.
func requireRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("PATROLGRID_REQUIRE") == "1" {
			t.Fatalf("redis-server is required here (CI=true or PATROLGRID_REQUIRE=1): %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
}

// startTestRedis starts a redis-server (a cluster node when cluster is
// set) that is stopped when the test ends.
func startTestRedis(t *testing.T, cluster bool) *testRedis {
	t.Helper()
	requireRedisServer(t)
	s := &testRedis{t: t, dir: t.TempDir(), cluster: cluster}
	for attempt := 0; ; attempt++ {
		s.addr = freeAddr(t)
		err := s.start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("start redis-server: %v (log: %s)", err, s.log())
		}
	}
	t.Cleanup(s.Stop)
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs redis-server on s.addr and waits until it answers PING.
func (s *testRedis) start() error {
	_, port, _ := net.SplitHostPort(s.addr)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--daemonize", "no",
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "no",
		"--logfile", filepath.Join(s.dir, "redis.log")}
	if s.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
	}
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(s.cmd, s.exited)
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
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
	}
}

// Stop ends redis-server with SIGTERM (it writes out its append-only
// file) and waits for it.
func (s *testRedis) Stop() {
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

// Restart starts a stopped server again on the same port and folder.
func (s *testRedis) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("restart redis-server: %v (log: %s)", err, s.log())
	}
}

// URL returns the server's redis:// URL.
func (s *testRedis) URL() string { return "redis://" + s.addr }

func (s *testRedis) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// startTestCluster starts n cluster masters without replicas, splits the
// 16384 slots evenly between them, waits until every node reports the
// cluster ok and returns its redis+cluster:// URL.
func startTestCluster(t *testing.T, n int) string {
	t.Helper()
	nodes := make([]*testRedis, n)
	addrs := make([]string, n)
	for i := range nodes {
		nodes[i] = startTestRedis(t, true)
		addrs[i] = nodes[i].addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, node := range nodes {
		c := redis.NewClient(&redis.Options{Addr: node.addr})
		err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", i*16384/n, (i+1)*16384/n-1).Err()
		if err == nil {
			err = c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		}
		for _, other := range nodes[:i] {
			host, port, _ := net.SplitHostPort(other.addr)
			if err == nil {
				err = c.ClusterMeet(ctx, host, port).Err()
			}
		}
		_ = c.Close()
		if err != nil {
			t.Fatalf("cluster node %s: %v", node.addr, err)
		}
	}
	for _, node := range nodes {
		c := redis.NewClient(&redis.Options{Addr: node.addr})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("cluster node %s not ok after 20 s: %v %s", node.addr, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = c.Close()
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}
