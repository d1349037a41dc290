package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/access"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

//go:embed static
var static embed.FS

// Config sets up the HTTP server. The zero value serves nothing without a
// token and has no metrics.
type Config struct {
	Access Access
	// Tiles is a raster tile URL template ({z}/{x}/{y}) for the map's base
	// layer; empty draws no tiles (offline).
	Tiles string
	// Roads, when not nil, is the road graph travel times run on (the car
	// profile's): GET /api/v1/config says "travel":"road" and
	// GET /api/v1/roads serves its streets for the map's base layer. Nil
	// means lattice travel times, and /api/v1/roads is 404.
	Roads *road.Graph
	// Devices is the device registry: OsmAnd requests show their device's
	// key, and /api/v1/devices manages it. Nil is an empty registry in
	// memory.
	Devices *device.Registry
	// Metrics counts OsmAnd requests that cannot be read and requests over
	// a rate limit; nil counts nothing.
	Metrics *device.Metrics
	// AddressLimits limits the requests of each address but loopback ones
	// (a proxy on this machine, the tests) to the API; nil: none. Over it,
	// 429 rate_limited with Retry-After: 1.
	AddressLimits *ingest.Limits
	// DeviceLimits limits the fixes of each device on /api/v1/osmand, as
	// ingest.Config.DeviceLimits; nil: none.
	DeviceLimits *ingest.Limits
	// Plans keeps the planner's named plan versions; nil keeps them in
	// this process's memory.
	Plans store.Plans
	// History is the city's incident history, the calls hotspots are
	// found in with those reported since; nil is none.
	History []patrol.Incident
	// Audit records every change made through the server, and Sessions
	// the browsers' logins; nil keeps them in this process's memory.
	Audit    access.Audit
	Sessions access.Sessions
	// SessionTTL is how long a login lasts; zero means 12 hours.
	SessionTTL time.Duration
	// Gatherer provides /metrics; nil serves an empty page.
	Gatherer prometheus.Gatherer
	// Logger receives request errors; default slog.Default().
	Logger *slog.Logger
}

// Server answers HTTP for one city.
type Server struct {
	city     *realtime.City
	hub      *realtime.Hub
	cfg      Config
	upgrader websocket.Upgrader
	roads    roadLayer
	// osmandHandler answers /api/v1/osmand as the OsmAnd port does.
	osmandHandler *osmand.Handler
	plans         store.Plans
	auditLog      access.Audit
	sessions      access.Sessions
	keys          keyring
	files         http.FileSystem // the embedded static folder
	// designing lets one design run at a time: a design keeps a core busy
	// for seconds, and a second one at once waits for nobody's benefit.
	designing sync.Mutex
}

// NewHandler returns the HTTP handler of city, whose live clients are on
// hub.
func NewHandler(city *realtime.City, hub *realtime.Hub, cfg Config) http.Handler {
	return newServer(city, hub, cfg).routes()
}

func newServer(city *realtime.City, hub *realtime.Hub, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.NewRegistry()
	}
	if cfg.Devices == nil {
		cfg.Devices = device.NewRegistry(device.Config{Logger: cfg.Logger})
	}
	mem := store.NewMemory(store.MemoryConfig{})
	if cfg.Plans == nil {
		cfg.Plans = mem
	}
	records := &access.Memory{}
	if cfg.Audit == nil {
		cfg.Audit = records
	}
	if cfg.Sessions == nil {
		cfg.Sessions = records
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	sub, _ := fs.Sub(static, "static")
	return &Server{city: city, hub: hub, cfg: cfg, plans: cfg.Plans, auditLog: cfg.Audit, sessions: cfg.Sessions,
		keys: newKeyring(cfg.Access), files: http.FS(sub), upgrader: websocket.Upgrader{
			ReadBufferSize: 1024, WriteBufferSize: 16 << 10, CheckOrigin: sameOrigin,
			EnableCompression: true,
		}, osmandHandler: osmand.NewHandler(OsmAndConfig(city, cfg))}
}

// OsmAndConfig returns the configuration of the OsmAnd protocol that the
// API's /api/v1/osmand answers with, for the OsmAnd port to answer alike:
// fixes go to city, device keys are checked against cfg.Devices, and
// cfg.Access's device tokens are fleet gateways'.
func OsmAndConfig(city *realtime.City, cfg Config) osmand.Config {
	return osmand.Config{
		Config: ingest.Config{Devices: cfg.Devices, Ingest: city.Ingest, Metrics: cfg.Metrics, Logger: cfg.Logger,
			DeviceLimits: cfg.DeviceLimits},
		Open: cfg.Access.Open, GatewayTokens: cfg.Access.DeviceTokens,
	}
}

// newEngine returns a gin engine that answers unknown paths and methods
// with the API's JSON errors.
func newEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { fail(c, http.StatusNotFound, "not_found", "no such resource") })
	r.NoMethod(func(c *gin.Context) {
		fail(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed here")
	})
	return r
}

func (s *Server) routes() http.Handler {
	r := newEngine()
	r.Use(s.cfg.Access.guard)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.Use(s.limitAddress) // every route from here on

	r.GET("/login", s.loginPage)
	r.POST("/login", s.login)
	r.POST("/logout", s.logout)

	view := s.viewer()
	r.GET("/metrics", view, gin.WrapH(promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{})))
	api := r.Group("/api/v1")
	api.GET("/plan", view, s.plan)
	api.GET("/config", view, s.config)
	api.GET("/units", view, s.units)
	api.GET("/coverage", view, s.coverage)
	api.GET("/gaps", view, s.gaps)
	api.GET("/compliance", view, s.compliance)
	api.GET("/live", view, s.live)
	api.GET("/roads", view, s.roadsGeoJSON)
	api.GET("/replay", view, s.replay)
	api.GET("/hotspots", view, s.hotspots)
	api.GET("/warnings", view, s.listWarnings)
	api.GET("/report", view, s.shiftReport(false))
	for _, step := range []string{"acknowledge", "handle", "close"} {
		api.POST("/warnings/:id/"+step, s.dispatcher(), s.warningStep(step))
	}

	device := s.device()
	api.POST("/fixes", device, s.fixes)
	api.GET("/osmand", s.osmand) // the device's key or a device token: osmandUnit
	api.POST("/osmand", s.osmand)
	api.PUT("/units/:id/status", s.status(), s.setStatus)

	dispatcher := s.dispatcher()
	api.GET("/incidents", view, s.listIncidents)
	api.GET("/incidents/:id", view, s.getIncident)
	api.POST("/incidents", dispatcher, s.reportIncident)
	api.POST("/incidents/:id/dispatch", dispatcher, s.dispatchIncident)
	api.POST("/incidents/:id/close", dispatcher, s.closeIncident)

	planning := s.planner()
	api.GET("/planner/evaluate", view, s.evaluateLive)
	api.POST("/planner/evaluate", planning, s.evaluatePlan)
	api.POST("/planner/design", planning, s.design)
	api.POST("/planner/cells", planning, s.editPlan(planner.MoveCell))
	api.POST("/planner/posts", planning, s.editPlan(movePost))
	api.GET("/planner/versions", planning, s.listVersions)
	api.GET("/planner/versions/:name", planning, s.loadVersion)
	api.PUT("/planner/versions/:name", planning, s.saveVersion)

	admin := s.admin()
	api.GET("/audit", admin, s.listAudit)
	api.POST("/devices", admin, s.addDevice)
	api.GET("/devices", admin, s.listDevices)
	api.GET("/devices/:id", admin, s.getDevice)
	api.DELETE("/devices/:id", admin, s.revokeDevice)

	files := http.FileServer(s.files)
	page := func(c *gin.Context) { files.ServeHTTP(c.Writer, c.Request) }
	r.GET("/", view, page)
	r.GET("/planner", view, func(c *gin.Context) { c.FileFromFS("planner.html", s.files) })
	r.GET("/report", view, s.shiftReport(true))
	r.GET("/style.css", view, page)
	r.GET("/dist/*file", view, page)
	return r
}

// limitAddress answers 429 a request over its address's limit.
func (s *Server) limitAddress(c *gin.Context) {
	host := ingest.Host(c.Request.RemoteAddr)
	if s.cfg.AddressLimits == nil || LoopbackHost(host) || s.cfg.AddressLimits.Allow(host, 1, time.Now()) {
		c.Next()
		return
	}
	s.cfg.Metrics.Limited("api", "address")
	answer(c, osmand.Limited)
}

// sameOrigin accepts requests from pages of this server, its scheme and
// host, and from clients that send no Origin (devices, tools).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u, err := url.Parse(o)
	return err == nil && u.Scheme == scheme && u.Host == r.Host && u.User == nil
}

// guard refuses what a browser may be made to send by another site: a
// request that changes something (any method but GET, HEAD and OPTIONS)
// from a page of another origin, 403 cross_origin, as a form or a fetch
// of text/plain needs no preflight; and on an open server, which asks no
// credential, any request whose Host is not a loopback name or address,
// 403 bad_host, as a site whose name resolves to 127.0.0.1 would send.
func (a Access) guard(c *gin.Context) {
	switch r := c.Request; {
	case a.Open && !LoopbackHost(r.Host):
		fail(c, http.StatusForbidden, "bad_host", "an open demo server answers only to a loopback host name")
	case r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions && !sameOrigin(r):
		fail(c, http.StatusForbidden, "cross_origin", "a page of another origin may not change anything here")
	default:
		c.Next()
	}
}

// LoopbackHost reports whether host (a Host header or a listening
// address, with or without a port) names this machine: localhost or a
// loopback address.
func LoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
