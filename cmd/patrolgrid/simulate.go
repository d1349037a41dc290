package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/simulate"
)

// runSimulate parses args (without the subcommand name) and runs until done or ctx ends.
func runSimulate(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "ops" {
		return runOps(ctx, args[1:], stdout)
	}
	cfg, err := parseSimulateArgs(args, os.LookupEnv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg.Terminal = isTerminal(stdout)
	cfg.Proxy = http.ProxyFromEnvironment
	_, err = simulate.Run(ctx, cfg, stdout)
	return err
}

// isTerminal reports whether w is a terminal, where progress rewrites
// one line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// parseSimulateArgs reads the flags, each of which may also come from the
// environment (see parseFlags), and returns the run they describe with the
// defaults of the fields they leave empty. On -h it writes the usage to
// usage and returns flag.ErrHelp.
func parseSimulateArgs(args []string, lookupEnv func(string) (string, bool), usage io.Writer) (simulate.Config, error) {
	var cfg simulate.Config
	fs := simulateFlags(&cfg)
	if _, err := parseFlags(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "Usage: patrolgrid simulate [flags]\n\nDrives units of the server's plan with fixes "+
				"(OsmAnd, JSON batches, JT/T 808 or NMEA) and measures the server.\nEach flag may also be set as PATROLGRID_<FLAG>.\n\nFlags:")
			fs.SetOutput(usage)
			fs.PrintDefaults()
		}
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg.WithDefaults(), nil
}

// simulateFlags returns the flags of simulate, which set cfg; their
// defaults are simulate's, but for --warmup and --drain.
func simulateFlags(cfg *simulate.Config) *flag.FlagSet {
	def := simulate.Config{}.WithDefaults()
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Server, "server", def.Server, "base `URL` of the patrolgrid server")
	fs.StringVar(&cfg.Token, "token", "", "bearer `token` of the fixes sent (a device token)")
	fs.StringVar(&cfg.ViewerToken, "viewer-token", "", "bearer `token` of the plan, /metrics and the watchers (default --token)")
	fs.StringVar((*string)(&cfg.Protocol), "protocol", string(def.Protocol), "how fixes are sent: osmand (HTTP GET), json (HTTP POST batches), "+
		"jt808 (JT/T 808 over TCP) or nmea (NMEA over TCP)")
	fs.IntVar(&cfg.Units, "units", def.Units, "number of units to drive, the first of the plan after --skip")
	fs.IntVar(&cfg.Skip, "skip", 0, "units of the plan to pass over before the first one driven, so that runs side by side drive units of their own")
	fs.Float64Var(&cfg.Rate, "rate", def.Rate, "fixes per second per unit, or per connection with --conns (`Hz`); above 1 Hz, "+
		"jt808 and nmea (whose times are whole seconds) replay each unit's track in accelerated time, 1 s of fix time per fix")
	fs.DurationVar(&cfg.Duration, "duration", def.Duration, "how long to send fixes")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "latencies of the fixes sent in this first part of the run are not counted: "+
		"a unit's first fix places it and changes its whole reach, which steady tracking does not")
	fs.IntVar(&cfg.Watchers, "watchers", 0, "websocket clients on /api/v1/live measuring fix-to-map latency")
	fs.IntVar(&cfg.Concurrency, "concurrency", def.Concurrency, "HTTP workers (osmand, json)")
	fs.IntVar(&cfg.Batch, "batch", def.Batch, fmt.Sprintf("json: fixes per request (at most %d); jt808: locations per frame, "+
		"1 sends 0x0200, more send 0x0704 batches (at most %d)", fix.MaxBatch, simulate.MaxJT808Batch))
	fs.IntVar(&cfg.Conns, "conns", 0, "jt808, nmea: TCP connections, at least --units (default one per unit); "+
		"connections of one unit take turns in its fixes, so their fix times never collide")
	fs.StringVar(&cfg.JT808Addr, "jt808-addr", "", "`host:port` of the JT/T 808 server (default --server's host, port "+simulate.JT808Port+")")
	fs.StringVar(&cfg.NMEAAddr, "nmea-addr", "", "`host:port` of the NMEA server (default --server's host, port "+simulate.NMEAPort+")")
	fs.StringVar(&cfg.OsmAndAddr, "osmand-addr", "", "`host:port` of the server's OsmAnd port, where osmand fixes go (default --server's /api/v1/osmand)")
	fs.StringVar(&cfg.Devices, "devices", "", "`file` of the devices provisioned for the units, the answers of POST /api/v1/devices: "+
		"their ids, phones and keys, and osmand fixes carry the key instead of --token (default the demo devices' convention)")
	fs.DurationVar(&cfg.MaxAge, "max-age", def.MaxAge, "the server's too_old limit: an accelerated replay starts no further back")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "how long to wait for the answers to the last fixes")
	return fs
}
