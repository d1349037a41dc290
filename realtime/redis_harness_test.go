package realtime

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

// redisServer is one redis-server process the test started on a free
// loopback port, with its data in a temporary folder: stopping and
// starting it again keeps the data (append-only file).
type redisServer struct {
	tb      testing.TB
	addr    string
	dir     string
	cluster bool
	master  string   // for a Sentinel: the address of the master it watches
	extra   []string // more redis-server arguments
	cmd     *exec.Cmd
	exited  chan struct{}
}

// redisServerPath returns the redis-server binary, skipping the test when
// there is none, or failing it when CI=true or PATROLGRID_REQUIRE=1.
func redisServerPath(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("PATROLGRID_REQUIRE") == "1" {
			tb.Fatalf("redis-server is required here (CI=true or PATROLGRID_REQUIRE=1): %v", err)
		}
		tb.Skipf("redis-server not found: %v", err)
	}
	return path
}

// startRedis starts a redis-server that is stopped when the test ends;
// extra arguments follow the harness's own (such as "--appendfsync",
// "always").
func startRedis(tb testing.TB, cluster bool, extra ...string) *redisServer {
	tb.Helper()
	redisServerPath(tb)
	s := &redisServer{tb: tb, dir: tb.TempDir(), cluster: cluster, extra: extra}
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
func (s *redisServer) start() error {
	_, port, _ := net.SplitHostPort(s.addr)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--daemonize", "no",
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "no",
		"--logfile", filepath.Join(s.dir, "redis.log")}
	if s.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
	}
	args = append(args, s.extra...)
	if s.master != "" {
		host, mport, _ := net.SplitHostPort(s.master)
		conf := filepath.Join(s.dir, "sentinel.conf")
		text := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor %s %s %s 1\n",
			port, s.dir, filepath.Join(s.dir, "redis.log"), sentinelMaster, host, mport)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return err
		}
		args = []string{conf, "--sentinel"}
	}
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(s.cmd, s.exited)
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

// Stop ends redis-server with SIGTERM (it flushes its append-only file)
// and waits for it.
func (s *redisServer) Stop() {
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
func (s *redisServer) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts a stopped server again on the same port and folder.
func (s *redisServer) Restart() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("restart redis-server: %v (log: %s)", err, s.log())
	}
}

func (s *redisServer) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Client returns a single-node client closed when the test ends.
func (s *redisServer) Client() redis.UniversalClient {
	c, err := NewRedisClient("redis://" + s.addr)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// redisCluster is a cluster of masters without replicas.
type redisCluster struct {
	tb    testing.TB
	nodes []*redisServer
}

// startRedisCluster starts n masters, splits the 16384 slots between them
// and waits until every node reports the cluster ok.
func startRedisCluster(tb testing.TB, n int) *redisCluster {
	tb.Helper()
	rc := &redisCluster{tb: tb}
	for range n {
		rc.nodes = append(rc.nodes, startRedis(tb, true))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, node := range rc.nodes {
		c := redis.NewClient(&redis.Options{Addr: node.addr})
		lo, hi := i*16384/n, (i+1)*16384/n-1
		err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err()
		if err == nil {
			err = c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		}
		for _, other := range rc.nodes[:i] {
			host, port, _ := net.SplitHostPort(other.addr)
			if err == nil {
				err = c.ClusterMeet(ctx, host, port).Err()
			}
		}
		_ = c.Close()
		if err != nil {
			tb.Fatalf("cluster node %s: %v", node.addr, err)
		}
	}
	rc.waitOK(ctx)
	return rc
}

func (rc *redisCluster) waitOK(ctx context.Context) {
	rc.tb.Helper()
	for _, node := range rc.nodes {
		c := redis.NewClient(&redis.Options{Addr: node.addr})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(rc.nodes))) {
				break
			}
			if ctx.Err() != nil {
				rc.tb.Fatalf("cluster node %s not ok: %v %s", node.addr, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = c.Close()
	}
}

// URL returns the redis+cluster URL of the cluster.
func (rc *redisCluster) URL() string {
	addrs := make([]string, len(rc.nodes))
	for i, n := range rc.nodes {
		addrs[i] = n.addr
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// Client returns a cluster client closed when the test ends.
func (rc *redisCluster) Client() redis.UniversalClient {
	c, err := NewRedisClient(rc.URL())
	if err != nil {
		rc.tb.Fatal(err)
	}
	rc.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// sentinelMaster is the master name the test Sentinel watches.
const sentinelMaster = "pgmaster"

// startRedisSentinel starts a Sentinel watching master and waits until it
// knows the master's address; it is stopped when the test ends.
func startRedisSentinel(tb testing.TB, master *redisServer) *redisServer {
	tb.Helper()
	redisServerPath(tb)
	s := &redisServer{tb: tb, dir: tb.TempDir(), master: master.addr, addr: freeLoopbackAddr(tb)}
	if err := s.start(); err != nil {
		tb.Fatalf("start redis-server --sentinel: %v (log: %s)", err, s.log())
	}
	tb.Cleanup(s.Stop)
	c := redis.NewSentinelClient(&redis.Options{Addr: s.addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		addr, err := c.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
		if err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == master.addr {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("Sentinel does not know master %s: %v %v", master.addr, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SentinelClient returns a client that finds the master through this
// Sentinel, closed when the test ends.
func (s *redisServer) SentinelClient() redis.UniversalClient {
	c, err := NewRedisClient("redis+sentinel://" + s.addr + "/" + sentinelMaster)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.tb.Cleanup(func() { _ = c.Close() })
	return c
}
