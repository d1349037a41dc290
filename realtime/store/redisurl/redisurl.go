// Package redisurl opens go-redis clients from URLs that name a single
// node, a Cluster or a Sentinel-managed master.
package redisurl

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The URL forms New takes.
const (
	// redis[s]://[user:pass@]host:port[/db][?options]: one node.
	schemeRedis = "redis"
	// redis[s]+cluster://[user:pass@]h1:p1,h2:p2,...[?options]: a cluster,
	// from any of its nodes.
	schemeCluster = "+cluster"
	// redis[s]+sentinel://[user:pass@]s1:p1,s2:p2,.../master[/db][?options]:
	// the master named master, found through its Sentinels (user and
	// password are the Sentinels').
	schemeSentinel = "+sentinel"
)

// defaultDialerRetries is how many times a client dials before a command
// fails, unless the URL says (dialer_retries): one, so that while Redis is
// down a command fails in milliseconds (the command itself is still retried,
// max_retries, default 3) and ingest can answer 503 at once.
const defaultDialerRetries = 1

// New returns a client for rawURL, one of
//
//	redis://[user:pass@]host:port[/db][?options]              a single node
//	redis+cluster://[user:pass@]h1:p1,h2:p2,...[?options]      a cluster, seeded by any nodes
//	redis+sentinel://[user:pass@]s1:p1,.../master[/db][?options] a Sentinel-managed master
//
// with rediss in place of redis for TLS. Options are go-redis's URL query
// options (dial_timeout=2s, pool_size=20, ...). Context deadlines bound
// every command; a failed dial is not repeated (see defaultDialerRetries).
// The caller closes the client.
func New(rawURL string) (redis.UniversalClient, error) {
	c, err := newRedisClient(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %q: %w", redactURL(rawURL), err)
	}
	return c, nil
}

// newRedisClient is New without the URL in its errors.
func newRedisClient(rawURL string) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, errors.New("no scheme")
	}
	base, mode := scheme, ""
	if i := strings.IndexByte(scheme, '+'); i >= 0 {
		base, mode = scheme[:i], scheme[i:]
	}
	if base != schemeRedis && base != schemeRedis+"s" {
		return nil, fmt.Errorf("scheme %q, want redis or rediss", scheme)
	}
	switch mode {
	case "":
		return newNodeClient(rawURL)
	case schemeCluster:
		return newClusterClient(base, rest)
	case schemeSentinel:
		return newSentinelClient(base, rest)
	}
	return nil, fmt.Errorf("scheme %q, want redis, redis+cluster or redis+sentinel", scheme)
}

// newNodeClient returns a client of the one node at rawURL.
func newNodeClient(rawURL string) (redis.UniversalClient, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	storeClientOptions(&o.ContextTimeoutEnabled, &o.DialerRetries)
	return redis.NewClient(o), nil
}

// newClusterClient returns a client of the cluster whose seed nodes rest
// lists (see seedURL).
func newClusterClient(base, rest string) (redis.UniversalClient, error) {
	u, err := seedURL(base, rest, false)
	if err != nil {
		return nil, err
	}
	o, err := redis.ParseClusterURL(u)
	if err != nil {
		return nil, err
	}
	storeClientOptions(&o.ContextTimeoutEnabled, &o.DialerRetries)
	return redis.NewClusterClient(o), nil
}

// newSentinelClient returns a client of the master that rest names,
// found through the Sentinels it lists (see seedURL).
func newSentinelClient(base, rest string) (redis.UniversalClient, error) {
	u, err := seedURL(base, rest, true)
	if err != nil {
		return nil, err
	}
	o, err := redis.ParseFailoverURL(u)
	if err != nil {
		return nil, err
	}
	storeClientOptions(&o.ContextTimeoutEnabled, &o.DialerRetries)
	return redis.NewFailoverClient(o), nil
}

// storeClientOptions sets, on the options of any kind of client, what the
// store wants of every client: context deadlines bound commands, and a
// failed dial is not repeated unless the URL says so.
func storeClientOptions(contextTimeout *bool, dialerRetries *int) {
	*contextTimeout = true
	*dialerRetries = cmp.Or(*dialerRetries, defaultDialerRetries)
}

// seedURL rewrites "[user@]h1,h2,.../path?q" into the go-redis form
// "base://[user@]h1/path?q&addr=h2&...", moving a Sentinel master name
// (the first path segment) into master_name.
func seedURL(base, rest string, sentinel bool) (string, error) {
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	user := ""
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		user, hosts = hosts[:i+1], hosts[i+1:]
	}
	addrs := strings.Split(hosts, ",")
	if slices.Contains(addrs, "") {
		return "", errors.New("empty host in the host list")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", err
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	if path, err = seedPath(path, q, sentinel); err != nil {
		return "", err
	}
	u := base + "://" + user + addrs[0]
	if path != "" {
		u += "/" + path
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

// seedPath returns the path of seedURL's URL: none for a cluster, and for
// a Sentinel the db after the master name, which it moves into q.
func seedPath(path string, q url.Values, sentinel bool) (string, error) {
	if !sentinel {
		if path != "" {
			return "", errors.New("a cluster URL has no path")
		}
		return "", nil
	}
	master, db, _ := strings.Cut(path, "/")
	if master == "" {
		return "", errors.New("no master name: want redis+sentinel://host:port,.../master")
	}
	q.Set("master_name", master)
	return db, nil
}

// redactURL hides the password of a URL for error messages.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndexByte(strings.SplitN(rest, "/", 2)[0], '@')
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
