package redistest

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of masters without replicas.
type Cluster struct {
	tb    testing.TB
	nodes []*Server
}

// StartCluster starts n cluster masters (each as Start would, stopped when
// the test ends), splits the 16384 slots evenly between them and waits
// until every node reports the cluster ok.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	rc := &Cluster{tb: tb}
	for range n {
		rc.nodes = append(rc.nodes, start(tb, true))
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

func (rc *Cluster) waitOK(ctx context.Context) {
	rc.tb.Helper()
	for _, node := range rc.nodes {
		c := redis.NewClient(&redis.Options{Addr: node.addr})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(rc.nodes))) {
				break
			}
			if ctx.Err() != nil {
				rc.tb.Fatalf("cluster node %s not ok after 20 s: %v %s", node.addr, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = c.Close()
	}
}

// Nodes returns the cluster's servers, in the order of their slot ranges.
func (rc *Cluster) Nodes() []*Server { return rc.nodes }

// URL returns the redis+cluster:// URL of the cluster, listing every node.
func (rc *Cluster) URL() string {
	addrs := make([]string, len(rc.nodes))
	for i, n := range rc.nodes {
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
