package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/simulate"
)

func TestParseSimulateArgs(t *testing.T) {
	defaults := simulate.Config{Server: "http://127.0.0.1:8080", Protocol: "osmand", Units: 88, Rate: 1, Duration: 30 * time.Second,
		Warmup: 3 * time.Second, Concurrency: 32, Batch: 1, JT808Addr: "127.0.0.1:5015", NMEAAddr: "127.0.0.1:5016",
		MaxAge: 24 * time.Hour, Drain: 5 * time.Second, Progress: time.Second}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    simulate.Config
		wantErr string // a substring of the error; "" for none
	}{
		{name: "defaults", want: defaults},
		{name: "flags",
			args: []string{"--server", "https://pg.example:8443/", "--token", "s3cret", "--units", "5", "--rate", "2.5",
				"--duration", "90s", "--watchers", "3", "--concurrency", "8"},
			want: withSimulate(defaults, func(c *simulate.Config) {
				c.Server, c.Token, c.ViewerToken, c.Units, c.Rate, c.Duration, c.Watchers, c.Concurrency = "https://pg.example:8443", "s3cret", "s3cret", 5, 2.5,
					90*time.Second, 3, 8
				c.JT808Addr, c.NMEAAddr = "pg.example:5015", "pg.example:5016"
			})},
		{name: "jt808 flags",
			args: []string{"--protocol", "jt808", "--units", "88", "--conns", "100", "--rate", "1000", "--batch", "30",
				"--jt808-addr", "10.0.0.9:7015", "--max-age", "12h", "--drain", "1s"},
			want: withSimulate(defaults, func(c *simulate.Config) {
				c.Protocol, c.Conns, c.Rate, c.Batch, c.JT808Addr, c.MaxAge, c.Drain = "jt808", 100, 1000, 30,
					"10.0.0.9:7015", 12*time.Hour, time.Second
			})},
		{name: "json batches", args: []string{"--protocol", "json", "--batch", "500"},
			want: withSimulate(defaults, func(c *simulate.Config) { c.Protocol, c.Batch = "json", 500 })},
		{name: "nmea port from the server's host", args: []string{"--protocol", "nmea", "--server", "http://[::1]:9000"},
			want: withSimulate(defaults, func(c *simulate.Config) {
				c.Protocol, c.Server, c.JT808Addr, c.NMEAAddr = "nmea", "http://[::1]:9000", "[::1]:5015", "[::1]:5016"
			})},
		{name: "single dash and equals", args: []string{"-units=7", "-watchers=1"},
			want: withSimulate(defaults, func(c *simulate.Config) { c.Units, c.Watchers = 7, 1 })},
		{name: "environment",
			env: map[string]string{"PATROLGRID_SERVER": "http://10.0.0.2:9000", "PATROLGRID_TOKEN": "t",
				"PATROLGRID_UNITS": "12", "PATROLGRID_RATE": "0.5", "PATROLGRID_DURATION": "1m",
				"PATROLGRID_WATCHERS": "2", "PATROLGRID_CONCURRENCY": "4"},
			want: withSimulate(defaults, func(c *simulate.Config) {
				c.Server, c.Token, c.ViewerToken, c.Units, c.Rate, c.Duration, c.Watchers, c.Concurrency = "http://10.0.0.2:9000", "t", "t", 12, 0.5,
					time.Minute, 2, 4
				c.JT808Addr, c.NMEAAddr = "10.0.0.2:5015", "10.0.0.2:5016"
			})},
		{name: "flag wins over environment", args: []string{"--units", "3"},
			env:  map[string]string{"PATROLGRID_UNITS": "12", "PATROLGRID_RATE": "2"},
			want: withSimulate(defaults, func(c *simulate.Config) { c.Units, c.Rate = 3, 2 })},
		{name: "empty variable is an empty value", env: map[string]string{"PATROLGRID_TOKEN": ""}, want: defaults},
		{name: "bad variable of a flag given is not read", args: []string{"--units", "3"}, env: map[string]string{"PATROLGRID_UNITS": "many"},
			want: withSimulate(defaults, func(c *simulate.Config) { c.Units = 3 })},

		{name: "bad variable", env: map[string]string{"PATROLGRID_UNITS": "many"}, wantErr: `simulate: PATROLGRID_UNITS="many"`},
		{name: "empty variable of a number", env: map[string]string{"PATROLGRID_UNITS": ""}, wantErr: "PATROLGRID_UNITS"},
		{name: "unknown flag", args: []string{"--fast"}, wantErr: "simulate: flag provided but not defined: -fast"},
		{name: "bad flag value", args: []string{"--units", "none"}, wantErr: "-units"},
		{name: "extra argument", args: []string{"now"}, wantErr: `"now"`},
		{name: "no units", args: []string{"--units", "0"}, wantErr: "--units 0"},
		{name: "zero rate", args: []string{"--rate", "0"}, wantErr: "--rate"},
		{name: "no batch", args: []string{"--batch", "0"}, wantErr: "--batch"},
		{name: "zero duration", args: []string{"--duration", "0s"}, wantErr: "--duration"},
		{name: "no workers", args: []string{"--concurrency", "0"}, wantErr: "--concurrency"},
		{name: "not http", args: []string{"--server", "ftp://host"}, wantErr: "--server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, err := parseSimulateArgs(tc.args, lookup, &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseSimulateArgs(%q) error = %v, want one naming %s", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSimulateArgs(%q) error = %v, want nil", tc.args, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseSimulateArgs(%q) = %+v, want %+v", tc.args, got, tc.want)
			}
		})
	}
}

func withSimulate(c simulate.Config, set func(*simulate.Config)) simulate.Config { set(&c); return c }

func TestParseSimulateArgsHelp(t *testing.T) {
	var usage bytes.Buffer
	_, err := parseSimulateArgs([]string{"-h"}, func(string) (string, bool) { return "", false }, &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseSimulateArgs(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"-server", "-token", "-protocol", "-units", "-rate", "-duration", "-watchers", "-concurrency",
		"-batch", "-conns", "-jt808-addr", "-nmea-addr", "-max-age", "-drain", "PATROLGRID_"} {
		if !strings.Contains(usage.String(), name) {
			t.Errorf("usage = %q, want it to mention %s", usage.String(), name)
		}
	}
}

// TestRunSimulate checks that runSimulate hands the flags to the run: its
// server, token and units reach the server, whose refusal is the error.
func TestRunSimulate(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"no"}}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := runSimulate(context.Background(), []string{"--server", srv.URL + "/", "--token", "guess", "--units", "2"}, &out)
	if err == nil || !strings.Contains(err.Error(), "GET /api/v1/plan: 401 Unauthorized (unauthorized: no)") {
		t.Errorf("runSimulate error = %v, want the server's refusal of the plan", err)
	}
	if want := "GET /api/v1/plan Bearer guess"; got != want {
		t.Errorf("the server got %q, want %q", got, want)
	}
	if err := runSimulate(context.Background(), []string{"-h"}, &out); err != nil || !strings.Contains(out.String(), "Usage: patrolgrid simulate") {
		t.Errorf("runSimulate(-h) = %v, writing %q; want nil and the usage", err, out.String())
	}
}
