package redisurl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestSeedURL(t *testing.T) {
	for _, tc := range []struct {
		name, base, rest string
		sentinel         bool
		want             string
	}{
		{"one seed", "redis", "h1:7000", false, "redis://h1:7000"},
		{"three seeds", "redis", "u:p@h1:7000,h2:7001,h3:7002?dial_timeout=3s", false,
			"redis://u:p@h1:7000?addr=h2%3A7001&addr=h3%3A7002&dial_timeout=3s"},
		{"sentinel", "rediss", "s1:26379,s2:26379/mymaster/3", true,
			"rediss://s1:26379/3?addr=s2%3A26379&master_name=mymaster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := seedURL(tc.base, tc.rest, tc.sentinel)
			if err != nil || got != tc.want {
				t.Errorf("seedURL(%q) = %q, %v, want %q", tc.rest, got, err, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url     string
		cluster bool
		addrs   []string
	}{
		{"redis://127.0.0.1:6379/2", false, []string{"127.0.0.1:6379"}},
		{"rediss://user:secret@cache.example:6380", false, []string{"cache.example:6380"}},
		{"redis+cluster://h1:7000,h2:7001,h3:7002?dial_timeout=3s", true, []string{"h1:7000", "h2:7001", "h3:7002"}},
		{"rediss+cluster://user:secret@h1:7000", true, []string{"h1:7000"}},
		{"redis+sentinel://s1:26379,s2:26379/mymaster", false, nil},
	} {
		c, err := New(tc.url)
		if err != nil {
			t.Errorf("New(%q): %v", tc.url, err)
			continue
		}
		switch c := c.(type) {
		case *redis.ClusterClient:
			if !tc.cluster || fmt.Sprint(c.Options().Addrs) != fmt.Sprint(tc.addrs) {
				t.Errorf("New(%q) = cluster of %v, want cluster %v of %v", tc.url, c.Options().Addrs, tc.cluster, tc.addrs)
			}
		case *redis.Client:
			if tc.cluster || tc.addrs != nil && c.Options().Addr != tc.addrs[0] {
				t.Errorf("New(%q) = client of %s, want %v", tc.url, c.Options().Addr, tc.addrs)
			}
		}
		_ = c.Close()
	}
	for _, bad := range []string{"http://h:1", "h:1", "redis+cluster://", "redis+cluster://h1:1,,h2:2",
		"redis+cluster://h1:1/0", "redis+sentinel://s1:26379", "redis+ring://h:1", "redis://u:hunter2@h:1/x"} {
		c, err := New(bad)
		if err == nil {
			_ = c.Close()
			t.Errorf("New(%q) = nil error, want one", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) error shows the password: %v", bad, err)
		}
	}
}
