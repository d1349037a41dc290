package simulate

import (
	"cmp"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/jt808"
)

// Protocol is how a run sends its fixes.
type Protocol string

// The protocols a run speaks.
const (
	OsmAnd Protocol = "osmand" // HTTP GET /api/v1/osmand, a fix per request
	JSON   Protocol = "json"   // HTTP POST /api/v1/fixes, batches
	JT808  Protocol = "jt808"  // JT/T 808 over TCP, a connection per terminal
	NMEA   Protocol = "nmea"   // NMEA 0183 over TCP, a connection per tracker
)

// tcp reports whether p speaks over a TCP connection per terminal, with
// fix times in whole seconds.
func (p Protocol) tcp() bool { return p == JT808 || p == NMEA }

// Default TCP ports of the terminal protocols on the server's host.
const (
	JT808Port = "5015"
	NMEAPort  = "5016"
)

// MaxJT808Batch is the most locations a 0x0704 frame of a run holds: 3
// bytes of count and type, then 2 + 31 bytes per location (the fixed 28
// and the satellites item) within the 1023-byte body.
const MaxJT808Batch = (jt808.MaxBody - 3) / (2 + 31)

// Config says what a run drives and how. The zero value of each field is
// documented with it; Run replaces a zero that has a default (see
// WithDefaults).
type Config struct {
	// Server is the base URL of the server, http or https; a trailing
	// slash is dropped. Zero: http://127.0.0.1:8080.
	Server string
	// Token is the bearer token of the fixes sent (a device token).
	// Zero: none is sent.
	Token string
	// ViewerToken is the bearer token of what simulate reads: the plan,
	// the server's /metrics and the live feed. Zero: Token.
	ViewerToken string
	// Protocol is how fixes are sent. Zero: OsmAnd.
	Protocol Protocol
	// Units is how many units of the server's plan to drive, the first
	// ones after Skip; at least 1. Zero: 88 (the demo city).
	Units int
	// Skip is how many units of the plan come before the first one driven,
	// so that runs side by side drive units of their own. Zero: none.
	Skip int
	// Rate is the fixes per second per unit, or per connection with Conns:
	// in (0, 100000] Hz, at most 1000 over HTTP, whose fix times are
	// milliseconds. Above 1 Hz, JT808 and NMEA (whose times are whole
	// seconds) replay each unit's track in accelerated time, 1 s of fix time
	// per fix. Zero: 1 Hz.
	Rate float64
	// Duration is how long fixes are sent. Zero: 30 s.
	Duration time.Duration
	// Warmup is the first part of the run, whose fixes count as sent but
	// not as latency samples: a unit's first fix places it and changes its
	// whole reach, which steady tracking does not. Zero: none.
	Warmup time.Duration
	// Watchers is how many websocket clients on /api/v1/live measure
	// fix-to-map latency. Zero: none.
	Watchers int
	// Concurrency is the number of HTTP workers (OsmAnd, JSON). Zero: 32.
	Concurrency int
	// Batch is the fixes per JSON request (at most fix.MaxBatch), or the
	// locations per JT/T 808 frame: 1 sends 0x0200, more send 0x0704
	// batches (at most MaxJT808Batch). Zero: 1.
	Batch int
	// Conns is the number of TCP connections of JT808 and NMEA, at least
	// Units; the connections of one unit take turns in its fixes, so their
	// fix times never collide. Zero: one per unit.
	Conns int
	// JT808Addr is the host:port of the server's JT/T 808 port. Zero:
	// Server's host, port JT808Port.
	JT808Addr string
	// NMEAAddr is the host:port of the server's NMEA port. Zero: Server's
	// host, port NMEAPort.
	NMEAAddr string
	// OsmAndAddr is the host:port of the server's OsmAnd port, where OsmAnd
	// fixes go (at /, in Server's scheme). Zero: Server's /api/v1/osmand.
	OsmAndAddr string
	// Devices is a file of the devices provisioned for the units, the
	// answers of POST /api/v1/devices: a unit in it has that id, phone and
	// key, and sends OsmAnd fixes with the key instead of Token. Zero: the
	// demo devices' convention (see identityOf).
	Devices string
	// MaxAge is the server's too_old limit, which bounds how far back an
	// accelerated replay starts; more than 2 minutes. Zero: 24 h.
	MaxAge time.Duration
	// Drain is how long to wait for the answers to the last fixes. Zero:
	// no wait.
	Drain time.Duration
	// Progress is the time between two progress lines. Zero: 1 s.
	Progress time.Duration
	// Terminal says that the output is a terminal, where the progress
	// rewrites one line with \r. Zero: a line each time.
	Terminal bool
	// Proxy chooses the proxy of each HTTP request and websocket dial, as
	// http.Transport's Proxy does. Zero: none, the server is dialled
	// directly.
	Proxy func(*http.Request) (*url.URL, error)
}

// WithDefaults returns c with every zero field that has a default set to
// it, and Server without a trailing slash.
func (c Config) WithDefaults() Config {
	c.Server = strings.TrimRight(cmp.Or(c.Server, "http://127.0.0.1:8080"), "/")
	c.Protocol = cmp.Or(c.Protocol, OsmAnd)
	c.ViewerToken = cmp.Or(c.ViewerToken, c.Token)
	c.Units = cmp.Or(c.Units, 88)
	c.Rate = cmp.Or(c.Rate, 1)
	c.Duration = cmp.Or(c.Duration, 30*time.Second)
	c.Concurrency = cmp.Or(c.Concurrency, 32)
	c.Batch = cmp.Or(c.Batch, 1)
	c.JT808Addr = cmp.Or(c.JT808Addr, defaultAddr(c.Server, JT808Port))
	c.NMEAAddr = cmp.Or(c.NMEAAddr, defaultAddr(c.Server, NMEAPort))
	c.MaxAge = cmp.Or(c.MaxAge, 24*time.Hour)
	c.Progress = cmp.Or(c.Progress, time.Second)
	return c
}

// defaultAddr returns the host of server with port; "" when server is
// not a URL.
func defaultAddr(server, port string) string {
	u, err := url.Parse(server)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// osmandEndpoint returns the URL OsmAnd fixes go to, before the query.
func (c Config) osmandEndpoint() string {
	if c.OsmAndAddr == "" {
		return c.Server + "/api/v1/osmand"
	}
	scheme, _, _ := strings.Cut(c.Server, ":")
	return scheme + "://" + c.OsmAndAddr + "/"
}

// Validate reports the first setting out of range, naming it by its flag
// of `patrolgrid simulate`. It takes c as it is: a zero that WithDefaults
// would replace is out of range, so that a value given as 0 is refused.
// Run validates c with its defaults.
func (c Config) Validate() error {
	u, err := url.Parse(c.Server)
	switch {
	case err != nil:
		return fmt.Errorf("simulate: --server %q: %w", c.Server, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("simulate: --server %q: want an http or https URL", c.Server)
	case !slices.Contains([]Protocol{OsmAnd, JSON, JT808, NMEA}, c.Protocol):
		return fmt.Errorf("simulate: --protocol %q: want osmand, json, jt808 or nmea", c.Protocol)
	case c.Units < 1:
		return fmt.Errorf("simulate: --units %d: want at least 1", c.Units)
	case c.Skip < 0:
		return fmt.Errorf("simulate: --skip %d: want 0 or more", c.Skip)
	case !(c.Rate > 0 && c.Rate <= 100000):
		return fmt.Errorf("simulate: --rate %v: want a rate in (0, 100000] Hz", c.Rate)
	case !c.Protocol.tcp() && c.Rate > 1000:
		return fmt.Errorf("simulate: --rate %v: %s fix times are milliseconds, want at most 1000 Hz per unit", c.Rate, c.Protocol)
	case c.Duration <= 0:
		return fmt.Errorf("simulate: --duration %v: want a positive duration", c.Duration)
	}
	return c.validateSenders()
}

// validateSenders is Validate's part for the senders and the server's
// limits.
func (c Config) validateSenders() error {
	switch {
	case c.Watchers < 0:
		return fmt.Errorf("simulate: --watchers %d: want 0 or more", c.Watchers)
	case c.Concurrency < 1:
		return fmt.Errorf("simulate: --concurrency %d: want at least 1", c.Concurrency)
	case c.Batch < 1 || c.Batch > fix.MaxBatch:
		return fmt.Errorf("simulate: --batch %d: want 1 to %d", c.Batch, fix.MaxBatch)
	case c.Protocol == JT808 && c.Batch > MaxJT808Batch:
		return fmt.Errorf("simulate: --batch %d: a JT/T 808 frame holds at most %d locations", c.Batch, MaxJT808Batch)
	case c.Conns != 0 && c.Conns < c.Units:
		return fmt.Errorf("simulate: --conns %d: want at least --units (%d); a connection speaks for one device", c.Conns, c.Units)
	case c.MaxAge <= 2*clockMargin:
		return fmt.Errorf("simulate: --max-age %v: want more than %v", c.MaxAge, 2*clockMargin)
	case c.Drain < 0:
		return fmt.Errorf("simulate: --drain %v: want 0 or more", c.Drain)
	}
	return nil
}
