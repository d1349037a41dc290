package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/access"
	"github.com/patrolgrid/patrolgrid/realtime/demo"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/jt808"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/nmea"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
	"github.com/patrolgrid/patrolgrid/web"
)

type serveConfig struct {
	listen         string
	demo           bool
	planFile       string
	res            int
	tiles          string
	viewerTokens   string
	deviceTokens   string
	dispTokens     string
	planTokens     string
	adminTokens    string
	credentials    string
	jt808Listen    string
	nmeaListen     string
	osmandListen   string
	tick           time.Duration
	staleAfter     time.Duration
	lostAfter      time.Duration
	moveLimit      time.Duration
	followBusy     int
	gapHold        time.Duration
	warningAck     time.Duration
	redisURL       string
	redisCity      string
	maxAge         time.Duration
	maxOutsideKM   float64
	readTimeout    time.Duration
	tlsCert        string
	maxConns       int
	deviceRate     float64
	addressRate    float64
	historyEntries int64
	loginTimeout   time.Duration
	tlsKey         string
	writeTimeout   time.Duration
	idleTimeout    time.Duration
	osm            string
	profile        string
	cacheDir       string
	snap           float64
	// given holds the names of the flags set on the command line or by
	// their environment variable.
	given map[string]bool
}

func serveFlags(cfg *serveConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to serve HTTP on")
	fs.BoolVar(&cfg.demo, "demo", false, "move the plan's units with the built-in simulation (along the streets with --osm), with demo devices of public keys; only on loopback, where without tokens it serves without credentials")
	planFlags(fs, cfg)
	fs.StringVar(&cfg.tiles, "tiles", "", "raster tile URL template {z}/{x}/{y} for the map (default: none, offline)")
	fs.StringVar(&cfg.viewerTokens, "viewer-token", "", "comma-separated tokens that may read the API, map and live feed")
	fs.StringVar(&cfg.deviceTokens, "device-token", "", "comma-separated tokens that may send fixes and statuses for any unit (fleet gateways)")
	fs.StringVar(&cfg.dispTokens, "dispatcher-token", "", "comma-separated tokens that may read what viewers read, report incidents, dispatch units and set statuses")
	fs.StringVar(&cfg.planTokens, "planner-token", "", "comma-separated tokens that may read what viewers read, design, edit and evaluate plans and save plan versions")
	fs.StringVar(&cfg.adminTokens, "admin-token", "", "comma-separated tokens that may do everything: devices (/api/v1/devices), the audit log, all the others may")
	fs.StringVar(&cfg.credentials, "credentials", "", "`file` of tokens by their SHA-256, a line each: role label sha256 (see patrolgrid token)")
	fs.StringVar(&cfg.jt808Listen, "jt808-listen", ":5015", "TCP address of the JT/T 808 terminal server; empty: none "+
		"(default: port 5015 on --listen's host when that is loopback, a free port when --listen's port is 0)")
	fs.StringVar(&cfg.nmeaListen, "nmea-listen", ":5016", "TCP address of the NMEA tracker server; empty: none (default as --jt808-listen, port 5016)")
	fs.StringVar(&cfg.osmandListen, "osmand-listen", ":5055", "HTTP address of the OsmAnd (Traccar Client) port, answering at /; empty: none "+
		"(default as --jt808-listen, port 5055)")
	fs.DurationVar(&cfg.tick, "tick", 25*time.Millisecond, "shortest time between two live diffs")
	fs.DurationVar(&cfg.staleAfter, "stale-after", time.Minute, "a unit whose latest fix is older is stale: each of its ETAs grows by the fix's age")
	fs.DurationVar(&cfg.lostAfter, "lost-after", 5*time.Minute, "a unit whose latest fix is older is lost: it leaves coverage and an alert opens")
	moveFlags(fs, cfg)
	fs.DurationVar(&cfg.maxAge, "max-age", 24*time.Hour, "a fix older than this when it arrives is refused (too_old)")
	fs.Float64Var(&cfg.maxOutsideKM, "max-outside-km", 50, "a unit's first fix farther than this from the bound of the city is refused (outside_city); negative: no limit")
	fs.Int64Var(&cfg.historyEntries, "history-entries", 1_000_000, "with --redis: the fix stream keeps about this many entries (batches of fixes, statuses, incidents) at most, as well as 24 hours at most")
	fs.IntVar(&cfg.maxConns, "max-conns", 10000, "most connections served at once on each listener: on a device port (JT/T 808, NMEA, OsmAnd) more are closed at once, on the API's they wait to be taken")
	fs.DurationVar(&cfg.loginTimeout, "login-timeout", 30*time.Second, "a JT/T 808 or NMEA connection that has not logged in by then is closed")
	fs.Float64Var(&cfg.deviceRate, "device-rate", 50, "fixes a second each device may send, twice that at once; more are refused (OsmAnd 429) and counted; 0: no limit")
	fs.Float64Var(&cfg.addressRate, "address-rate", 100, "requests a second each address but loopback may make to the API and the OsmAnd port, twice that at once; more are answered 429; 0: no limit")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS on --listen and the OsmAnd port (with --tls-key)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.DurationVar(&cfg.readTimeout, "read-timeout", 30*time.Second, "longest an HTTP request may take to arrive, body included")
	fs.DurationVar(&cfg.writeTimeout, "write-timeout", 2*time.Minute, "longest an HTTP answer may take, from the end of its request's header (live websockets are not held to it)")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 2*time.Minute, "longest an HTTP connection may wait for its next request")
	fs.DurationVar(&cfg.gapHold, "gap-hold", 10*time.Second, "how long a zone stays in or out of gap before an alert says so")
	fs.DurationVar(&cfg.warningAck, "warning-ack", 2*time.Minute, "a warning not acknowledged for this long rises a level, up to red")
	roadFlags(fs, cfg)
	fs.StringVar(&cfg.redisURL, "redis", "", "keep live state in Redis, shared by every server of the city: redis://host:port[/db], "+
		"rediss://..., redis+cluster://h1:p1,h2:p2,..., redis+sentinel://h1:p1,.../master (default: in this process's memory)")
	fs.StringVar(&cfg.redisCity, "redis-city", "", "the city's name in Redis keys pg:{name}:... (default: the --plan file's city, or else the demo city's); "+
		"its active plan is kept there: a --plan file replaces it, and without --plan the stored one is served")
	return fs
}

// planFlags defines the flags that choose the plan and its resolution.
func planFlags(fs *flag.FlagSet, cfg *serveConfig) {
	fs.StringVar(&cfg.planFile, "plan", "", "plan JSON file (default: the embedded Horqin demo city)")
	fs.IntVar(&cfg.res, "res", 0, "H3 resolution of coverage (default: the plan's, 10 for the demo city)")
}

// moveFlags defines the flags that bound move-ups.
func moveFlags(fs *flag.FlagSet, cfg *serveConfig) {
	fs.DurationVar(&cfg.moveLimit, "move-limit", dispatch.DefaultMoveLimit, "longest drive a move-up may take")
	fs.IntVar(&cfg.followBusy, "follow-busy", 0, "busy responding units from which move-ups go only to the posts of the compliance table's row "+
		"for the units left (default: a quarter of the plan's responding units; -1: never)")
}

// roadFlags defines the flags of the road network that gives travel times.
func roadFlags(fs *flag.FlagSet, cfg *serveConfig) {
	fs.StringVar(&cfg.osm, "osm", "", "OSM extract (.osm.pbf, .osm, .osm.bz2) whose roads give travel times (default: none, the H3 lattice)")
	fs.StringVar(&cfg.profile, "profile", "default", "road profile file with --osm: a built-in name ("+strings.Join(data.ProfileNames(), ", ")+") or a JSON file")
	fs.StringVar(&cfg.cacheDir, "cache-dir", "", "writable folder for compiled road graphs (default: the user cache folder's patrolgrid)")
	fs.Float64Var(&cfg.snap, "snap", float64(road.DefaultSnapRadius), "with --osm: farthest a fix may lie from a road, in metres, before its unit is off the network")
}

// runServe parses args (without the subcommand name) and serves until ctx
// ends or a part of the server fails.
func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseServeArgs(args, os.LookupEnv)
	if err != nil {
		return err
	}
	access, err := accessFor(cfg)
	if err != nil {
		return err
	}
	addrs, err := ingestAddrs(cfg, access.Open || cfg.demo)
	if err != nil {
		return err
	}
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	live, closeStore, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	travel, err := openTravelTimes(ctx, cfg, live.plan, stdout)
	if err != nil {
		return err
	}
	parts, err := newServeParts(ctx, cfg, live, travel, access, logger, stdout)
	if err != nil {
		return err
	}
	lns, err := listenAll(ctx, cfg.listen, addrs)
	if err != nil {
		return err
	}
	lns.http = netutil.LimitListener(lns.http, cfg.maxConns) // the others' servers cap their own
	lns = lns.withTLS(tlsConfig)
	printStartup(stdout, live.plan, travel, lns)
	return parts.run(ctx, cfg.demo, lns)
}

// parseServeArgs reads the flags of serve, each of which may also come
// from the environment (see parseFlags).
func parseServeArgs(args []string, lookupEnv func(string) (string, bool)) (serveConfig, error) {
	var cfg serveConfig
	var err error
	if cfg.given, err = parseFlags(serveFlags(&cfg), args, lookupEnv); err != nil {
		return cfg, err
	}
	if cfg.maxAge <= 0 {
		return cfg, fmt.Errorf("--max-age %v: want a positive duration", cfg.maxAge)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read-timeout", cfg.readTimeout}, {"write-timeout", cfg.writeTimeout}, {"idle-timeout", cfg.idleTimeout},
		{"login-timeout", cfg.loginTimeout}} {
		if d.v <= 0 {
			return cfg, fmt.Errorf("--%s %v: want a positive duration", d.name, d.v)
		}
	}
	if cfg.historyEntries < 1 {
		return cfg, fmt.Errorf("--history-entries %d: want at least 1", cfg.historyEntries)
	}
	if cfg.maxConns < 1 {
		return cfg, fmt.Errorf("--max-conns %d: want at least 1", cfg.maxConns)
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return cfg, errors.New("--tls-cert and --tls-key: give both or neither")
	}
	if cfg.maxOutsideKM == 0 || math.IsNaN(cfg.maxOutsideKM) {
		return cfg, fmt.Errorf("--max-outside-km %v: want a positive distance, or a negative one for no limit", cfg.maxOutsideKM)
	}
	return cfg, nil
}

// serveParts are the long-lived parts of serve, wired to one another and
// not yet running.
type serveParts struct {
	plan    *patrol.Plan
	router  geo.Router
	roads   *road.Network // the demo motion drives on it; nil on the lattice
	hub     *realtime.Hub
	city    *realtime.City
	devices *device.Registry
	web     web.Config    // of the API and the OsmAnd port
	ingest  ingest.Config // of the terminal servers
	http    httpTimeouts  // of the API's server
}

// httpTimeouts bound the API server's connections (--read-timeout,
// --write-timeout, --idle-timeout), so that a client that sends slowly,
// reads slowly or stays idle holds no connection for long.
type httpTimeouts struct{ read, write, idle time.Duration }

// newServeParts builds the city of live's plan over travel and the parts
// around it: the metrics registry, the live hub, the device registry, and
// the configurations of the web API and the ingest servers.
func newServeParts(ctx context.Context, cfg serveConfig, live liveStore, travel travelTimes, who web.Access,
	logger *slog.Logger, stdout io.Writer) (*serveParts, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hub := realtime.NewHub(realtime.HubConfig{})
	deviceMetrics := device.NewMetrics(reg)
	devices, err := openDevices(ctx, cfg, live.plan, live, device.Config{Metrics: deviceMetrics, Logger: logger}, stdout)
	if err != nil {
		return nil, err
	}
	demand, err := cityDemand(live.plan, travel.router.Grid(), travel.net)
	if err != nil {
		return nil, err
	}
	city, err := realtime.NewCity(live.plan, travel.router, live.store, hub,
		realtime.CityConfig{Tick: cfg.tick, Demand: demand, StaleAfter: cfg.staleAfter, LostAfter: cfg.lostAfter, MoveLimit: cfg.moveLimit, FollowBusy: cfg.followBusy, GapHold: cfg.gapHold, Logger: logger,
			Warnings:   warning.NewBook(warning.Config{AckWithin: cfg.warningAck}),
			Validation: fix.Limits{MaxAge: cfg.maxAge, MaxOutside: geo.Meters(cfg.maxOutsideKM * 1000)},
			Metrics:    realtime.NewMetrics(reg, hub)})
	if err != nil {
		return nil, err
	}
	history, err := cityHistory(live.plan)
	if err != nil {
		return nil, err
	}
	records, err := access.Open(live.client, live.city)
	if err != nil {
		return nil, err
	}
	return &serveParts{http: httpTimeouts{cfg.readTimeout, cfg.writeTimeout, cfg.idleTimeout},
		plan: live.plan, router: travel.router, roads: travel.net, hub: hub, city: city, devices: devices,
		web: web.Config{Access: who, Tiles: cfg.tiles, Roads: travel.roads, Gatherer: reg, Logger: logger, Devices: devices,
			Metrics: deviceMetrics, Plans: plansOf(live.store), Audit: records, Sessions: records, History: history, AddressLimits: ingest.NewLimits(cfg.addressRate)},
		ingest: ingest.Config{Devices: devices, Ingest: city.Ingest, Logger: logger, Metrics: deviceMetrics,
			MaxConns: cfg.maxConns, LoginTimeout: cfg.loginTimeout, DeviceLimits: ingest.NewLimits(cfg.deviceRate)}}, nil
}

// printStartup says what is served and where.
func printStartup(w io.Writer, plan *patrol.Plan, travel travelTimes, lns listeners) {
	fmt.Fprintf(w, "patrolgrid: %s: %d units, %d zones, %d cells at H3 resolution %d (%s)\n",
		plan.Name, len(plan.Units), len(plan.Zones), travel.grid.Len(), plan.Resolution, travel.name)
	if plan.Notice != "" {
		fmt.Fprintf(w, "patrolgrid: %s\n", plan.Notice)
	}
	fmt.Fprintf(w, "patrolgrid: map and API on %s://%s/\n", cmp.Or(lns.scheme, "http"), lns.http.Addr())
	lns.print(w)
}

// run runs every part under one errgroup until ctx ends or one fails, the
// demo motion too when withDemo is set, and serves on lns: the API and
// map on lns.http, each ingest server on its own listener.
func (p *serveParts) run(ctx context.Context, withDemo bool, lns listeners) error {
	g, ctx := errgroup.WithContext(ctx)
	p.runCity(ctx, g, withDemo)
	srv := &http.Server{Handler: web.NewHandler(p.city, p.hub, p.web), ReadHeaderTimeout: min(10*time.Second, p.http.read),
		ReadTimeout: p.http.read, WriteTimeout: p.http.write, IdleTimeout: p.http.idle,
		// What net/http logs itself is what peers got wrong before any
		// handler ran (TLS handshakes, mostly): debug, so a peer cannot
		// fill the log. Handlers' panics are gin's to recover and log.
		ErrorLog: slog.NewLogLogger(cmp.Or(p.web.Logger, slog.Default()).Handler(), slog.LevelDebug)}
	serveHTTP(ctx, g, srv, lns.http)
	p.serveIngest(ctx, g, lns)
	return g.Wait()
}

// runCity runs the hub, the city, the device registry, the time-of-day
// band of the road network, and with withDemo the demo motion (on the
// road network's streets when serve has one), under g.
func (p *serveParts) runCity(ctx context.Context, g *errgroup.Group, withDemo bool) {
	g.Go(func() error { return ignoreCancel(p.hub.Run(ctx)) })
	g.Go(func() error { return ignoreCancel(p.city.Run(ctx)) })
	g.Go(func() error { return ignoreCancel(p.devices.Run(ctx)) })
	if br, ok := p.router.(*road.BandRouter); ok {
		g.Go(func() error { return ignoreCancel(br.Run(ctx)) })
	}
	if withDemo {
		motion := demo.New(p.plan, demo.Config{Hold: p.city.Live, Roads: p.roads})
		g.Go(func() error {
			return ignoreCancel(motion.Run(ctx, func(ctx context.Context, fixes []fix.Fix) error {
				_, err := p.city.Ingest(ctx, fixes)
				return err
			}))
		})
	}
}

// serveIngest runs, under g, the ingest server of each listener of lns
// that is open: JT/T 808, NMEA and the OsmAnd port.
func (p *serveParts) serveIngest(ctx context.Context, g *errgroup.Group, lns listeners) {
	if lns.jt808 != nil {
		jt := jt808.NewServer(jt808.Config{Config: p.ingest})
		g.Go(func() error { return jt.Run(ctx, lns.jt808) })
	}
	if lns.nmea != nil {
		nm := nmea.NewServer(nmea.Config{Config: p.ingest, KeyOptional: p.web.Access.Open})
		g.Go(func() error { return nm.Run(ctx, lns.nmea) })
	}
	if lns.osmand != nil {
		oc := web.OsmAndConfig(p.city, p.web)
		oc.MaxConns, oc.DeviceLimits, oc.AddressLimits = p.ingest.MaxConns, p.ingest.DeviceLimits, p.web.AddressLimits
		port := osmand.NewServer(oc)
		g.Go(func() error { return port.Run(ctx, lns.osmand) })
	}
}

// serveHTTP serves srv on ln under g until ctx ends, then shuts it down.
func serveHTTP(ctx context.Context, g *errgroup.Group, srv *http.Server, ln net.Listener) {
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(shutdown); errors.Is(err, context.DeadlineExceeded) {
			return srv.Close() // requests still running, or connections that never sent one
		} else if err != nil {
			return err
		}
		return nil
	})
}

// shutdownGrace is how long a stopping server lets requests in progress
// finish before it closes every connection. (Go's Shutdown waits 5 s for
// a connection that has sent nothing yet.)
const shutdownGrace = 2 * time.Second

// ingestListen holds the addresses of the ingest servers; empty for one
// that is off.
type ingestListen struct{ jt808, nmea, osmand string }

// ingestAddrs returns the ingest addresses of cfg. A flag not given
// takes its well-known port on the host of --listen when that is
// loopback (on every interface otherwise), and a free port when --listen's
// port is 0, so that several servers can run side by side. An open server
// (loopback demo, no credentials), and any demo, whose devices' keys are
// public, opens no ingest port beyond loopback: loopbackOnly.
func ingestAddrs(cfg serveConfig, loopbackOnly bool) (ingestListen, error) {
	host, port, err := net.SplitHostPort(cfg.listen)
	if err != nil {
		return ingestListen{}, fmt.Errorf("--listen %q: %w", cfg.listen, err)
	}
	if !web.LoopbackHost(cfg.listen) {
		host = ""
	}
	addr := func(flag, value, wellKnown string) (string, error) {
		if !cfg.given[flag] {
			if port == "0" {
				wellKnown = "0"
			}
			value = net.JoinHostPort(host, wellKnown)
		}
		if loopbackOnly && value != "" && !web.LoopbackHost(value) {
			return "", fmt.Errorf("refusing to open --%s %s beyond loopback for a demo or without credentials: "+
				"give a loopback address", flag, value)
		}
		return value, nil
	}
	var in ingestListen
	if in.jt808, err = addr("jt808-listen", cfg.jt808Listen, "5015"); err != nil {
		return in, err
	}
	if in.nmea, err = addr("nmea-listen", cfg.nmeaListen, "5016"); err != nil {
		return in, err
	}
	in.osmand, err = addr("osmand-listen", cfg.osmandListen, "5055")
	return in, err
}

// openDevices returns the device registry: in this process's memory, or
// in Redis next to the store (client not nil), loaded. With --demo it
// registers the demo devices that were never registered.
func openDevices(ctx context.Context, cfg serveConfig, plan *patrol.Plan, live liveStore,
	dc device.Config, stdout io.Writer) (*device.Registry, error) {
	devices := device.NewRegistry(dc)
	if live.client != nil {
		var err error
		devices, err = device.NewRedisRegistry(live.client, device.RedisConfig{City: live.city, Config: dc})
		if err != nil {
			return nil, err
		}
	}
	if err := devices.Load(ctx); err != nil {
		return nil, err
	}
	if !cfg.demo {
		return devices, nil
	}
	specs := device.DemoSpecs(plan)
	n, err := devices.SeedLocal(ctx, specs)
	if err != nil {
		return nil, fmt.Errorf("demo devices: %w", err)
	}
	if len(specs) > 0 {
		u, nmea, jt := specs[0], specs[1], specs[2]
		fmt.Fprintf(stdout, "patrolgrid: demo devices (%d, in this server's memory only): per unit, OsmAnd id = unit id with key demo-<id>, "+
			"NMEA <unit>.nmea with key demo-<unit>.nmea, JT/T 808 phone 1390000 and the unit's number in the plan in 4 digits with terminal id "+
			"the unit id (%s: key %s; $PGID,%s,%s; phone %s, terminal %s)\n", n, u.ID, u.Key, nmea.ID, nmea.Key, jt.Phone, jt.Terminal)
	}
	return devices, nil
}

func ignoreCancel(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// accessFor decides who may call the server: no credential only for the
// demo on a loopback address; anywhere else an admin token, or a viewer
// and a device token, each of 16 random bytes or more and of one role.
func accessFor(cfg serveConfig) (web.Access, error) {
	a := web.Access{ViewerTokens: web.SplitTokens(cfg.viewerTokens), DeviceTokens: web.SplitTokens(cfg.deviceTokens),
		DispatcherTokens: web.SplitTokens(cfg.dispTokens), PlannerTokens: web.SplitTokens(cfg.planTokens), AdminTokens: web.SplitTokens(cfg.adminTokens)}
	if cfg.demo && !web.LoopbackHost(cfg.listen) {
		return a, fmt.Errorf("refusing --demo on %s: the demo's devices have public keys (demo-<unit>), so it serves only on a loopback address", cfg.listen)
	}
	var err error
	if a.Credentials, err = web.ReadCredentialsFile(cfg.credentials); err != nil {
		return a, err
	}
	if cfg.demo && !slices.ContainsFunc(web.Roles, a.Holds) {
		a.Open = true
		return a, nil
	}
	if !a.Holds(web.RoleAdmin) && (!a.Holds(web.RoleViewer) || !a.Holds(web.RoleDevice)) {
		return a, fmt.Errorf("refusing to serve %s without credentials: set --viewer-token and --device-token, or --admin-token, or "+
			"--credentials (or PATROLGRID_VIEWER_TOKEN, ...); only --demo on a loopback address runs open", cfg.listen)
	}
	return a, a.Check()
}

// loadPlan reads the plan file, or the embedded demo city when file is
// empty, and moves it to resolution res when res is not 0.
func loadPlan(file string, res int) (*patrol.Plan, error) {
	return patrol.LoadPlan(file, data.TongliaoPlan(), res)
}

// openStore returns the live store and the plan to serve: the store in
// this process's memory with the --plan file or the demo city, or with
// --redis the store in Redis, its client, the city's name in its keys and
// the city's active plan (see activePlan); release lets the client go.
func openStore(ctx context.Context, cfg serveConfig, logger *slog.Logger) (live liveStore, release func(), err error) {
	if cfg.redisURL == "" {
		plan, err := loadPlan(cfg.planFile, cfg.res)
		if err != nil {
			return liveStore{}, nil, err
		}
		return liveStore{store: store.NewMemory(store.MemoryConfig{}), plan: plan}, func() {}, nil
	}
	var fromFile *patrol.Plan
	if cfg.planFile != "" {
		if fromFile, err = loadPlan(cfg.planFile, cfg.res); err != nil {
			return liveStore{}, nil, err
		}
	}
	client, err := store.NewRedisClient(cfg.redisURL)
	if err != nil {
		return liveStore{}, nil, err
	}
	live = liveStore{client: client}
	if live.city, err = redisCityName(cfg, fromFile); err == nil {
		var rs *store.Redis
		rs, live.plan, err = openRedisStore(ctx, cfg, client, live.city, fromFile, logger)
		live.store = rs
	}
	if err != nil {
		_ = client.Close()
		return liveStore{}, nil, err
	}
	return live, func() { _ = client.Close() }, nil
}

// plansOf returns the plan versions of st, which the memory and Redis
// stores both keep; nil (versions in the web server's memory) for another.
func plansOf(st store.Store) store.Plans {
	p, _ := st.(store.Plans)
	return p
}

// liveStore is what openStore opens.
type liveStore struct {
	store  store.Store
	plan   *patrol.Plan
	client redis.UniversalClient // nil for the memory store
	city   string                // the city's name in Redis keys
}
