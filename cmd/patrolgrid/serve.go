package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/web"
)

type serveConfig struct {
	listen       string
	demo         bool
	planFile     string
	res          int
	tiles        string
	viewerTokens string
	deviceTokens string
	tick         time.Duration
	staleAfter   time.Duration
	gapHold      time.Duration
}

func serveFlags(cfg *serveConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to serve HTTP on")
	fs.BoolVar(&cfg.demo, "demo", false, "move the plan's units with the built-in simulation; on loopback, serve without tokens")
	fs.StringVar(&cfg.planFile, "plan", "", "plan JSON file (default: the embedded Horqin demo city)")
	fs.IntVar(&cfg.res, "res", 0, "H3 resolution of coverage (default: the plan's, 10 for the demo city)")
	fs.StringVar(&cfg.tiles, "tiles", "", "raster tile URL template {z}/{x}/{y} for the map (default: none, offline)")
	fs.StringVar(&cfg.viewerTokens, "viewer-token", "", "comma-separated tokens that may read the API, map and live feed")
	fs.StringVar(&cfg.deviceTokens, "device-token", "", "comma-separated tokens that may send fixes and statuses")
	fs.DurationVar(&cfg.tick, "tick", 25*time.Millisecond, "shortest time between two live diffs")
	fs.DurationVar(&cfg.staleAfter, "stale-after", 5*time.Minute, "a unit whose latest fix is older leaves coverage")
	fs.DurationVar(&cfg.gapHold, "gap-hold", 10*time.Second, "how long a zone stays in or out of gap before an alert says so")
	return fs
}

func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg serveConfig
	if err := parse(serveFlags(&cfg), args); err != nil {
		return err
	}
	access, err := accessFor(cfg)
	if err != nil {
		return err
	}
	plan, err := loadPlan(cfg.planFile, cfg.res)
	if err != nil {
		return err
	}
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		return fmt.Errorf("grid of the plan boundary: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	hub := realtime.NewHub(realtime.HubConfig{})
	city, err := realtime.NewCity(plan, geo.NewLattice(grid), realtime.NewMemoryStore(realtime.MemoryConfig{}), hub,
		realtime.CityConfig{Tick: cfg.tick, StaleAfter: cfg.staleAfter, GapHold: cfg.gapHold, Logger: logger,
			Metrics: realtime.NewMetrics(reg, hub)})
	if err != nil {
		return err
	}
	handler := web.NewHandler(city, hub, web.Config{Access: access, Tiles: cfg.tiles, Gatherer: reg, Logger: logger})

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "patrolgrid: %s: %d units, %d zones, %d cells at H3 resolution %d (lattice travel times)\n",
		plan.Name, len(plan.Units), len(plan.Zones), grid.Len(), plan.Resolution)
	if plan.Notice != "" {
		fmt.Fprintf(stdout, "patrolgrid: %s\n", plan.Notice)
	}
	fmt.Fprintf(stdout, "patrolgrid: map and API on http://%s/\n", ln.Addr())

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ignoreCancel(hub.Run(ctx)) })
	g.Go(func() error { return ignoreCancel(city.Run(ctx)) })
	if cfg.demo {
		demo := realtime.NewDemo(plan, realtime.DemoConfig{})
		g.Go(func() error {
			return ignoreCancel(demo.Run(ctx, func(ctx context.Context, fixes []realtime.Fix) error {
				_, err := city.Ingest(ctx, fixes)
				return err
			}))
		})
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	})
	return g.Wait()
}

func ignoreCancel(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// accessFor decides who may call the server: no credential only for the
// demo on a loopback address; anywhere else both kinds of token.
func accessFor(cfg serveConfig) (web.Access, error) {
	a := web.Access{ViewerTokens: splitList(cfg.viewerTokens), DeviceTokens: splitList(cfg.deviceTokens)}
	if cfg.demo && isLoopback(cfg.listen) && len(a.ViewerTokens)+len(a.DeviceTokens) == 0 {
		a.Open = true
		return a, nil
	}
	if len(a.ViewerTokens) == 0 || len(a.DeviceTokens) == 0 {
		return a, fmt.Errorf("refusing to serve %s without credentials: set --viewer-token and --device-token "+
			"(or PATROLGRID_VIEWER_TOKEN and PATROLGRID_DEVICE_TOKEN); only --demo on a loopback address runs open", cfg.listen)
	}
	return a, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func splitList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// loadPlan reads the plan file, or the embedded demo city when file is
// empty, and moves it to resolution res when res is not 0.
func loadPlan(file string, res int) (*patrol.Plan, error) {
	var r io.Reader = bytes.NewReader(data.TongliaoPlan())
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	plan, err := patrol.ReadPlan(r)
	if err != nil {
		return nil, err
	}
	if res != 0 && res != plan.Resolution {
		return plan.WithResolution(res)
	}
	return plan, nil
}
