package simulate

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWithDefaults(t *testing.T) {
	defaults := Config{Server: "http://127.0.0.1:8080", Protocol: OsmAnd, Units: 88, Rate: 1, Duration: 30 * time.Second,
		Concurrency: 32, Batch: 1, JT808Addr: "127.0.0.1:5015", NMEAAddr: "127.0.0.1:5016",
		MaxAge: 24 * time.Hour, Progress: time.Second}
	given := Config{Server: "https://pg.example:8443", Token: "t", ViewerToken: "t", Protocol: JT808, Units: 3, Rate: 50, Duration: time.Second,
		Warmup: time.Second, Watchers: 2, Concurrency: 4, Batch: 7, Conns: 6, JT808Addr: "10.0.0.9:7015", NMEAAddr: "10.0.0.9:7016",
		MaxAge: time.Hour, Drain: 3 * time.Second, Progress: 200 * time.Millisecond, Terminal: true}
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"zero", Config{}, defaults},
		{"every field given is kept", given, given},
		{"ports on the server's host", Config{Server: "http://[::1]:9000/"}, with(defaults, func(c *Config) {
			c.Server, c.JT808Addr, c.NMEAAddr = "http://[::1]:9000", "[::1]:5015", "[::1]:5016"
		})},
		{"no port for a server that is no URL", Config{Server: "http://a b\x7f"}, with(defaults, func(c *Config) {
			c.Server, c.JT808Addr, c.NMEAAddr = "http://a b\x7f", "", ""
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.WithDefaults(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%+v.WithDefaults() = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func with(c Config, set func(*Config)) Config { set(&c); return c }

func TestValidate(t *testing.T) {
	valid := Config{}.WithDefaults()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // a substring of the error; "" for none
	}{
		{"defaults", valid, ""},
		{"every protocol", with(valid, func(c *Config) { c.Protocol = NMEA }), ""},
		{"zero is refused", Config{}, `--server ""`},
		{"zero units", with(valid, func(c *Config) { c.Units = 0 }), "--units 0"},
		{"negative skip", with(valid, func(c *Config) { c.Skip = -1 }), "--skip -1"},
		{"zero rate", with(valid, func(c *Config) { c.Rate = 0 }), "--rate"},
		{"NaN rate", with(valid, func(c *Config) { c.Rate = math.NaN() }), "--rate"},
		{"rate too high", with(valid, func(c *Config) { c.Rate, c.Protocol = 200000, JT808 }), "--rate"},
		{"rate past milliseconds", with(valid, func(c *Config) { c.Rate = 5000 }), "milliseconds"},
		{"unknown protocol", with(valid, func(c *Config) { c.Protocol = "gt06" }), "--protocol"},
		{"no batch", with(valid, func(c *Config) { c.Batch = 0 }), "--batch"},
		{"batch over a jt808 frame", with(valid, func(c *Config) { c.Protocol, c.Batch = JT808, 31 }), "at most 30"},
		{"fewer connections than units", with(valid, func(c *Config) { c.Protocol, c.Conns = JT808, 10 }), "--conns"},
		{"tiny max age", with(valid, func(c *Config) { c.MaxAge = time.Minute }), "--max-age"},
		{"zero duration", with(valid, func(c *Config) { c.Duration = 0 }), "--duration"},
		{"negative watchers", with(valid, func(c *Config) { c.Watchers = -1 }), "--watchers"},
		{"no workers", with(valid, func(c *Config) { c.Concurrency = 0 }), "--concurrency"},
		{"negative drain", with(valid, func(c *Config) { c.Drain = -time.Second }), "--drain"},
		{"not http", with(valid, func(c *Config) { c.Server = "ftp://host" }), "--server"},
		{"no host", with(valid, func(c *Config) { c.Server = "http://" }), "--server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "simulate: ") {
				t.Errorf("Validate() = %v, want a simulate error naming %s", err, tc.wantErr)
			}
		})
	}
}
