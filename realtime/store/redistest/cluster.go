package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterWait bounds each wait of the cluster helpers: for the cluster to
// form, and for a failover to complete.
const clusterWait = 20 * time.Second

// Cluster is a Redis Cluster of masters, each with as many replicas as
// StartClusterReplicas was asked for (none for StartCluster).
type Cluster struct {
	tb       testing.TB
	nodes    []*Server   // the masters it started with, in the order of their slot ranges
	replicas [][]*Server // per master of nodes, its replicas
}

// StartCluster starts n cluster masters (each as Start would, stopped when
// the test ends), splits the 16384 slots evenly between them and waits
// until every node reports the cluster ok.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return StartClusterReplicas(tb, n, 0)
}

// StartClusterReplicas is StartCluster with replicas replicas for each of
// the n masters: it returns once every replica has synchronised with its
// master and every node knows it as that master's replica, so that it can
// take over (Failover).
func StartClusterReplicas(tb testing.TB, n, replicas int) *Cluster {
	tb.Helper()
	rc := &Cluster{tb: tb, replicas: make([][]*Server, n)}
	for range n {
		rc.nodes = append(rc.nodes, start(tb, true))
	}
	for i := range rc.nodes {
		for range replicas {
			rc.replicas[i] = append(rc.replicas[i], start(tb, true))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	for i, node := range rc.nodes {
		lo, hi := i*16384/n, (i+1)*16384/n-1
		rc.do(ctx, node, "CLUSTER", "ADDSLOTSRANGE", lo, hi)
		rc.do(ctx, node, "CLUSTER", "SET-CONFIG-EPOCH", i+1)
		for _, other := range rc.nodes[:i] {
			rc.meet(ctx, node, other)
		}
	}
	for _, node := range rc.all()[n:] {
		rc.meet(ctx, node, rc.nodes[0])
	}
	rc.waitOK(ctx)
	ids := make([]string, n)
	for i, master := range rc.nodes {
		ids[i] = rc.nodeID(ctx, master)
		for _, r := range rc.replicas[i] {
			rc.do(ctx, r, "CLUSTER", "REPLICATE", ids[i])
		}
	}
	for i, master := range rc.nodes {
		rc.waitReplicas(ctx, master, ids[i], rc.replicas[i])
	}
	return rc
}

// all returns every node: the masters it started with, then the replicas.
func (rc *Cluster) all() []*Server {
	all := append([]*Server(nil), rc.nodes...)
	for _, rs := range rc.replicas {
		all = append(all, rs...)
	}
	return all
}

// do runs a command on node, failing the test on an error.
func (rc *Cluster) do(ctx context.Context, node *Server, args ...any) any {
	rc.tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: node.addr})
	defer c.Close()
	v, err := c.Do(ctx, args...).Result()
	if err != nil {
		rc.tb.Fatalf("cluster node %s: %v: %v", node.addr, args, err)
	}
	return v
}

// meet makes node meet other.
func (rc *Cluster) meet(ctx context.Context, node, other *Server) {
	rc.tb.Helper()
	host, port, _ := net.SplitHostPort(other.addr)
	rc.do(ctx, node, "CLUSTER", "MEET", host, port)
}

// nodeID returns the cluster node id of node.
func (rc *Cluster) nodeID(ctx context.Context, node *Server) string {
	rc.tb.Helper()
	id, _ := rc.do(ctx, node, "CLUSTER", "MYID").(string)
	return id
}

// waitOK waits until every node reports the cluster ok and knows every
// node.
func (rc *Cluster) waitOK(ctx context.Context) {
	rc.tb.Helper()
	all := rc.all()
	for _, node := range all {
		rc.await(ctx, node, "cluster ok", func(c *redis.Client) (bool, string, error) {
			info, err := c.ClusterInfo(ctx).Result()
			return strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(all))), info, err
		})
	}
}

// waitReplicas waits until each replica of master, whose node id is id,
// has synchronised with it and every node sees each as master's replica:
// a manual failover needs both (the master hands over to a replica it
// knows, and the other masters vote only for a replica).
func (rc *Cluster) waitReplicas(ctx context.Context, master *Server, id string, replicas []*Server) {
	rc.tb.Helper()
	for _, r := range replicas {
		rc.await(ctx, r, "replica in sync", func(c *redis.Client) (bool, string, error) {
			info, err := c.Info(ctx, "replication").Result()
			return strings.Contains(info, "master_link_status:up") &&
				strings.Contains(info, "master_sync_in_progress:0"), info, err
		})
	}
	for _, node := range rc.all() {
		rc.await(ctx, node, "replicas of "+master.addr+" known", func(c *redis.Client) (bool, string, error) {
			lines, err := c.Do(ctx, "CLUSTER", "REPLICAS", id).StringSlice()
			return err == nil && len(lines) == len(replicas), fmt.Sprint(lines), err
		})
	}
}

// await polls node with check until it reports done, failing the test
// with what for when ctx ends first.
func (rc *Cluster) await(ctx context.Context, node *Server, what string,
	check func(*redis.Client) (done bool, last string, err error)) {
	rc.tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: node.addr})
	defer c.Close()
	for {
		done, last, err := check(c)
		if done {
			return
		}
		if ctx.Err() != nil {
			rc.tb.Fatalf("cluster node %s: no %s within %v: %v %s", node.addr, what, clusterWait, err, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Nodes returns the masters the cluster started with, in the order of
// their slot ranges (after a Failover, one of them may be a replica).
func (rc *Cluster) Nodes() []*Server { return rc.nodes }

// Replicas returns the replicas started for master, one of Nodes.
func (rc *Cluster) Replicas(master *Server) []*Server {
	for i, m := range rc.nodes {
		if m == master {
			return rc.replicas[i]
		}
	}
	return nil
}

// MasterOf returns the node that serves key's hash slot as master now,
// as the cluster's first node sees it.
func (rc *Cluster) MasterOf(key string) *Server {
	rc.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	slot, _ := rc.do(ctx, rc.nodes[0], "CLUSTER", "KEYSLOT", key).(int64)
	addr, err := slotMaster(ctx, rc.nodes[0], int(slot))
	if err != nil {
		rc.tb.Fatalf("master of %q (slot %d): %v", key, slot, err)
	}
	for _, node := range rc.all() {
		if node.addr == addr {
			return node
		}
	}
	rc.tb.Fatalf("master of %q (slot %d) is %s, not a node of the cluster", key, slot, addr)
	return nil
}

// slotMaster returns the address of the master of slot, as node sees it.
func slotMaster(ctx context.Context, node *Server, slot int) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: node.addr})
	defer c.Close()
	ranges, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return "", err
	}
	for _, r := range ranges {
		if r.Start <= slot && slot <= r.End && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("no node serves slot %d", slot)
}

// Failover runs CLUSTER FAILOVER on replica, a coordinated manual failover
// (its master stops taking writes until the replica has caught up, then
// the replica takes over its slots), and waits until every node sees
// replica as the master of those slots. It returns how long that took.
func (rc *Cluster) Failover(replica *Server) time.Duration {
	rc.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	start := time.Now()
	rc.do(ctx, replica, "CLUSTER", "FAILOVER")
	rc.await(ctx, replica, "promotion", func(c *redis.Client) (bool, string, error) {
		role, err := c.Do(ctx, "ROLE").Slice()
		return err == nil && len(role) > 0 && role[0] == "master", fmt.Sprint(role), err
	})
	firsts := rc.ownSlots(ctx, replica)
	for _, node := range rc.all() {
		rc.await(ctx, node, "new master seen", func(*redis.Client) (bool, string, error) {
			for _, slot := range firsts {
				if addr, err := slotMaster(ctx, node, slot); addr != replica.addr {
					return false, fmt.Sprintf("slot %d served by %s", slot, addr), err
				}
			}
			return true, "", nil
		})
	}
	return time.Since(start)
}

// ownSlots returns the first slot of each slot range node serves as
// master, as node sees it; it fails the test when node serves none.
func (rc *Cluster) ownSlots(ctx context.Context, node *Server) []int {
	rc.tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: node.addr})
	defer c.Close()
	ranges, err := c.ClusterSlots(ctx).Result()
	var firsts []int
	for _, r := range ranges {
		if len(r.Nodes) > 0 && r.Nodes[0].Addr == node.addr {
			firsts = append(firsts, r.Start)
		}
	}
	if len(firsts) == 0 {
		rc.tb.Fatalf("cluster node %s serves no slot after its promotion: %v %v", node.addr, ranges, err)
	}
	return firsts
}

// URL returns the redis+cluster:// URL of the cluster, listing every node,
// replicas included.
func (rc *Cluster) URL() string {
	all := rc.all()
	addrs := make([]string, len(all))
	for i, n := range all {
		addrs[i] = n.addr
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// Client returns a cluster client built by newClient from URL, closed when
// the test ends.
func (rc *Cluster) Client(newClient NewClientFunc) redis.UniversalClient {
	rc.tb.Helper()
	return client(rc.tb, newClient, rc.URL())
}
