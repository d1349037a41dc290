package main

import (
	"errors"
	"flag"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		{"listen", "PATROLGRID_LISTEN"},
		{"viewer-token", "PATROLGRID_VIEWER_TOKEN"},
		{"jt808-listen", "PATROLGRID_JT808_LISTEN"},
		{"max-age", "PATROLGRID_MAX_AGE"},
		{"v", "PATROLGRID_V"},
	} {
		if got := envName(tc.flag); got != tc.want {
			t.Errorf("envName(%q) = %q, want %q", tc.flag, got, tc.want)
		}
	}
}

// testFlags is the flag set of TestParseFlags: a string, a dashed
// string, an int, a duration and a bool.
type testFlags struct {
	name, fooBar string
	n            int
	d            time.Duration
	b            bool
}

func newTestFlags(v *testFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&v.name, "name", "default", "")
	fs.StringVar(&v.fooBar, "foo-bar", "fb", "")
	fs.IntVar(&v.n, "n", 7, "")
	fs.DurationVar(&v.d, "d", time.Second, "")
	fs.BoolVar(&v.b, "b", false, "")
	return fs
}

func TestParseFlags(t *testing.T) {
	defaults := testFlags{name: "default", fooBar: "fb", n: 7, d: time.Second}
	with := func(edit func(*testFlags)) testFlags { v := defaults; edit(&v); return v }
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		want      testFlags
		wantGiven []string
		wantErr   string // a substring of the error; "" for none
	}{
		{name: "defaults", want: defaults},
		{name: "command line", args: []string{"--name", "x", "-n=3", "--d", "2m", "-b"},
			want: with(func(v *testFlags) { v.name, v.n, v.d, v.b = "x", 3, 2*time.Minute, true }), wantGiven: []string{"b", "d", "n", "name"}},
		{name: "environment", env: map[string]string{"PATROLGRID_NAME": "y", "PATROLGRID_N": "4", "PATROLGRID_D": "90s",
			"PATROLGRID_B": "true"},
			want: with(func(v *testFlags) { v.name, v.n, v.d, v.b = "y", 4, 90*time.Second, true }), wantGiven: []string{"b", "d", "n", "name"}},
		{name: "dashes are underscores", env: map[string]string{"PATROLGRID_FOO_BAR": "z", "PATROLGRID_FOO-BAR": "no"},
			want: with(func(v *testFlags) { v.fooBar = "z" }), wantGiven: []string{"foo-bar"}},
		{name: "command line wins", args: []string{"--n", "5"}, env: map[string]string{"PATROLGRID_N": "6", "PATROLGRID_NAME": "y"},
			want: with(func(v *testFlags) { v.n, v.name = 5, "y" }), wantGiven: []string{"n", "name"}},
		{name: "command line wins over a bad variable", args: []string{"--n", "5"}, env: map[string]string{"PATROLGRID_N": "many"},
			want: with(func(v *testFlags) { v.n = 5 }), wantGiven: []string{"n"}},
		{name: "empty variable is an empty value", env: map[string]string{"PATROLGRID_FOO_BAR": ""},
			want: with(func(v *testFlags) { v.fooBar = "" }), wantGiven: []string{"foo-bar"}},
		{name: "other variables ignored", env: map[string]string{"PATROLGRID_OTHER": "1", "NAME": "x", "patrolgrid_name": "x"},
			want: defaults},

		{name: "bad variable", env: map[string]string{"PATROLGRID_N": "many"}, wantErr: `test: PATROLGRID_N="many": `},
		{name: "bad duration variable", env: map[string]string{"PATROLGRID_D": "5"}, wantErr: "PATROLGRID_D"},
		{name: "empty variable of a number", env: map[string]string{"PATROLGRID_N": ""}, wantErr: `PATROLGRID_N=""`},
		{name: "unknown flag", args: []string{"--fast"}, wantErr: "test: flag provided but not defined: -fast"},
		{name: "bad flag value", args: []string{"--n", "many"}, wantErr: "test: invalid value"},
		{name: "extra argument", args: []string{"--n", "1", "now"}, wantErr: `test: unexpected argument "now"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got testFlags
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			given, err := parseFlags(newTestFlags(&got), tc.args, lookup)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseFlags(%q) error = %v, want one containing %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) error = %v, want nil", tc.args, err)
			}
			if got != tc.want {
				t.Errorf("parseFlags(%q) set %+v, want %+v", tc.args, got, tc.want)
			}
			if g := slices.Sorted(maps.Keys(given)); !slices.Equal(g, tc.wantGiven) {
				t.Errorf("parseFlags(%q) given = %q, want %q", tc.args, g, tc.wantGiven)
			}
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	var v testFlags
	_, err := parseFlags(newTestFlags(&v), []string{"-h"}, func(string) (string, bool) { return "", false })
	if !errors.Is(err, flag.ErrHelp) || err != flag.ErrHelp {
		t.Errorf("parseFlags(-h) error = %v, want flag.ErrHelp itself", err)
	}
}

// TestServeEnvironment checks the variables README.md documents for
// serve: every flag has one, and an empty ingest address turns its server
// off.
func TestServeEnvironment(t *testing.T) {
	env := map[string]string{"PATROLGRID_VIEWER_TOKEN": "v1,v2", "PATROLGRID_DEVICE_TOKEN": "d", "PATROLGRID_LISTEN": "127.0.0.1:0",
		"PATROLGRID_JT808_LISTEN": "", "PATROLGRID_MAX_AGE": "1h", "PATROLGRID_DEMO": "1"}
	var cfg serveConfig
	given, err := parseFlags(serveFlags(&cfg), nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	want := serveConfig{viewerTokens: "v1,v2", deviceTokens: "d", listen: "127.0.0.1:0", jt808Listen: "", maxAge: time.Hour, demo: true}
	if cfg.viewerTokens != want.viewerTokens || cfg.deviceTokens != want.deviceTokens || cfg.listen != want.listen ||
		cfg.jt808Listen != want.jt808Listen || cfg.maxAge != want.maxAge || cfg.demo != want.demo {
		t.Errorf("serve from the environment = %+v, want %+v", cfg, want)
	}
	cfg.given = given
	in, err := ingestAddrs(cfg, false)
	if err != nil || in.jt808 != "" || in.nmea != "127.0.0.1:0" {
		t.Errorf("ingestAddrs = %+v, %v; want JT/T 808 off (PATROLGRID_JT808_LISTEN empty) and NMEA on a free port", in, err)
	}
}

// TestServeLimitFlags refuses limits that would refuse every fix.
func TestServeLimitFlags(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	for _, args := range [][]string{{"--max-age", "0s"}, {"--max-outside-km", "0"}, {"--max-outside-km", "NaN"},
		{"--max-conns", "0"}, {"--history-entries", "0"}, {"--login-timeout", "0s"}, {"--read-timeout", "-1s"}} {
		if _, err := parseServeArgs(args, none); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("serve %v: error %v, want one naming %s", args, err, args[0])
		}
	}
	cfg, err := parseServeArgs([]string{"--max-outside-km", "-1"}, none)
	if err != nil || cfg.maxOutsideKM != -1 {
		t.Errorf("serve --max-outside-km -1: %+v, %v; want no limit", cfg.maxOutsideKM, err)
	}
}
