package realtime

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"time"
)

// NMEAConfig configures a NMEAServer. The zero value of each field is its
// documented default.
type NMEAConfig struct {
	// Addr is the TCP address ListenAndRun listens on; default ":5016".
	Addr string
	// Devices is the registry the $PGID,<device>,<key> login is checked
	// against: the device must be active and the key its key. Default: an
	// empty registry, which knows no device.
	Devices *DeviceRegistry
	// KeyOptional lets a login without a key ($PGID,<device>) in for an
	// active device: only for a server on loopback that asks no
	// credentials (the demo).
	KeyOptional bool
	// Ingest takes fixes and returns a result per fix (City.Ingest). It
	// is required and must be safe for concurrent use.
	Ingest func(ctx context.Context, fixes []Fix) ([]Result, error)
	// IdleTimeout is how long a connection may stay silent before it is
	// closed; default 3 minutes. The server closes a silent connection
	// between IdleTimeout and IdleTimeout plus an eighth of it (at most a
	// second) after its last byte.
	IdleTimeout time.Duration
	// MaxConns is how many connections are served at once; more are
	// closed at once. Default 10,000.
	MaxConns int
	// Metrics counts lines that cannot be read (not those of sentence
	// types it does not take); nil counts nothing.
	Metrics *DeviceMetrics
	// Logger receives connection events; default slog.Default().
	Logger *slog.Logger
	// Now is the clock that dates a GGA sentence (which carries only a
	// time of day) when the connection has sent no RMC date; default
	// time.Now.
	Now func() time.Time
}

func (c NMEAConfig) withDefaults() NMEAConfig {
	if c.Addr == "" {
		c.Addr = ":5016"
	}
	if c.Devices == nil {
		c.Devices = NewDeviceRegistry(DeviceConfig{})
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 3 * time.Minute
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 10000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// NMEAServer takes GPS positions from legacy trackers that stream NMEA
// 0183 over TCP: a "$PGID,<device>,<key>" line names the device and shows
// its key, then RMC and GGA sentences of any talker follow, one per line
// (LF or CR LF). It sends nothing back. Sentences before the login,
// sentences of other types and malformed ones are dropped; a login the
// registry refuses closes the connection, and so does the next sentence
// once the device is revoked. A fix is made of each valid RMC, with the altitude of a GGA
// of the same second sent before it; GGA sentences make fixes on their
// own only until the connection's first RMC (a RMC of the same second as
// such a fix adds nothing).
//
// Its methods are safe for concurrent use; it holds no state between
// connections besides its configuration.
type NMEAServer struct {
	cfg NMEAConfig
	sem chan struct{}
}

// NewNMEAServer returns a server with cfg. It starts no goroutine.
func NewNMEAServer(cfg NMEAConfig) *NMEAServer {
	cfg = cfg.withDefaults()
	return &NMEAServer{cfg: cfg, sem: make(chan struct{}, cfg.MaxConns)}
}

// ListenAndRun listens on Config.Addr and runs the server until ctx ends.
func (s *NMEAServer) ListenAndRun(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("realtime: nmea listen %s: %w", s.cfg.Addr, err)
	}
	return s.Run(ctx, ln)
}

// Run accepts connections on ln until ctx ends, then closes ln and every
// connection and returns nil once their goroutines are done. It owns one
// goroutine per connection. It returns an error, after the same clean-up,
// when ln fails for a reason other than a timeout.
func (s *NMEAServer) Run(ctx context.Context, ln net.Listener) error {
	return runTCP(ctx, ln, s.sem, s.cfg.Logger.With("proto", SourceNMEA), s.serve)
}

var errNMEALongLine = fmt.Errorf("%w: line longer than %d bytes", ErrNMEASentence, NMEAMaxLine)

// serve reads lines from conn until the tracker goes away, stays silent
// past IdleTimeout, or logs in as an unknown device.
func (s *NMEAServer) serve(ctx context.Context, conn net.Conn) {
	log := s.cfg.Logger.With("proto", SourceNMEA, "remote", conn.RemoteAddr().String())
	r := bufio.NewReaderSize(conn, NMEAMaxLine+2)
	idle := newIdleDeadline(conn, s.cfg.IdleTimeout)
	ns := &nmeaSession{now: s.cfg.Now, ggaFix: -1}
	for {
		if !buffersDelimiter(r, '\n') {
			if err := idle.arm(); err != nil {
				log.Debug("disconnected", "err", err, "unit", ns.unit)
				return
			}
		}
		line, err := readNMEALine(r)
		switch {
		case errors.Is(err, errNMEALongLine):
			s.cfg.Metrics.Malformed(SourceNMEA)
			log.Debug("line dropped", "err", err)
			continue
		case err != nil:
			log.Debug("disconnected", "err", err, "unit", ns.unit)
			return
		}
		n, err := DecodeNMEA(line)
		if err != nil {
			if !errors.Is(err, ErrNMEAUnsupported) {
				s.cfg.Metrics.Malformed(SourceNMEA)
			}
			log.Debug("line dropped", "err", err)
			continue
		}
		if n.Kind == NMEALogin {
			dev := deviceCheck{device: n.Device, key: n.Key, keyOptional: s.cfg.KeyOptional}
			d, err := dev.check(s.cfg.Devices, SourceNMEA)
			if err != nil {
				log.Info("login refused; closing", "device", n.Device, "err", err)
				return
			}
			log.Info("logged in", "device", d.ID, "unit", d.Unit)
			ns.login(d.Unit, dev)
			continue
		}
		if ns.unit == "" {
			log.Debug("sentence before login dropped", "kind", n.Kind)
			continue
		}
		if err := ns.dev.recheck(s.cfg.Devices, SourceNMEA); err != nil {
			log.Info("device refused; closing", "device", ns.dev.device, "err", err)
			return
		}
		if f, ok := ns.sentence(n); ok {
			s.ingest(ctx, log, f)
		}
	}
}

// readNMEALine returns the next line, valid until the next read. A line
// longer than NMEAMaxLine is discarded and reported as errNMEALongLine.
func readNMEALine(r *bufio.Reader) ([]byte, error) {
	b, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n')
		}
		if err != nil {
			return nil, err
		}
		return nil, errNMEALongLine
	}
	return b, err
}

func (s *NMEAServer) ingest(ctx context.Context, log *slog.Logger, f Fix) {
	res, err := s.cfg.Ingest(ctx, []Fix{f})
	switch {
	case err != nil:
		log.Warn("ingest failed", "unit", f.Unit, "err", err)
	case len(res) == 1 && res[0].Outcome == Rejected:
		log.Debug("fix rejected", "unit", f.Unit, "reason", Code(res[0].Err), "err", res[0].Err)
	}
}

// nmeaSession turns the sentences of one connection into fixes. It is
// owned by the connection's goroutine.
type nmeaSession struct {
	now  func() time.Time
	unit string
	// dev is the device of the login, checked again when the registry
	// changes.
	dev deviceCheck
	// date is the date of the latest RMC; zero before one.
	date time.Time
	// rmc is set once the tracker has sent a RMC: fixes come from RMC.
	rmc bool
	// gga is the latest valid GGA, to lend its altitude to the RMC of
	// the same second.
	gga NMEA
	// ggaFix is the time of day of the latest fix made of a GGA, so that
	// a RMC of the same second does not repeat it; -1 before one.
	ggaFix time.Duration
}

// login starts the fixes of unit, reported by device with key.
func (ns *nmeaSession) login(unit string, dev deviceCheck) {
	*ns = nmeaSession{now: ns.now, unit: unit, dev: dev, ggaFix: -1}
}

// sentence takes one RMC or GGA and returns the fix it completes, if any.
func (ns *nmeaSession) sentence(n NMEA) (Fix, bool) {
	switch n.Kind {
	case NMEARMC:
		ns.rmc = true
		if !n.Date.IsZero() {
			ns.date = n.Date
		}
		if !n.Valid || math.IsNaN(n.Point[0]) || n.TimeOfDay < 0 || n.TimeOfDay == ns.ggaFix {
			return Fix{}, false
		}
		f := ns.fix(n)
		if n.SpeedKnots >= 0 {
			f.SpeedMPS = n.SpeedKnots * nmeaKnotMPS
		}
		if n.Course >= 0 && n.Course < 360 {
			f.Heading = n.Course
		}
		if ns.gga.TimeOfDay == n.TimeOfDay && !math.IsNaN(ns.gga.AltitudeM) {
			f.AltitudeM = ns.gga.AltitudeM
		}
		return f, true
	case NMEAGGA:
		if !n.Valid || math.IsNaN(n.Point[0]) || n.TimeOfDay < 0 {
			return Fix{}, false
		}
		ns.gga = n
		if ns.rmc {
			return Fix{}, false
		}
		ns.ggaFix = n.TimeOfDay
		f := ns.fix(n)
		if !math.IsNaN(n.AltitudeM) {
			f.AltitudeM = n.AltitudeM
		}
		return f, true
	}
	return Fix{}, false
}

// fix returns the fix of n's time and position, other fields unknown.
func (ns *nmeaSession) fix(n NMEA) Fix {
	return Fix{Unit: ns.unit, Time: ns.timeOf(n), Point: n.Point, SpeedMPS: -1, Heading: -1, Battery: -1,
		Source: SourceNMEA}
}

// timeOf dates n: by its own date, else by the date of the latest RMC,
// else the day that puts it nearest to now.
func (ns *nmeaSession) timeOf(n NMEA) time.Time {
	if t := n.Time(); !t.IsZero() {
		return t
	}
	if !ns.date.IsZero() {
		return ns.date.Add(n.TimeOfDay)
	}
	now := ns.now().UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(n.TimeOfDay)
	switch d := t.Sub(now); {
	case d > 12*time.Hour:
		t = t.AddDate(0, 0, -1)
	case d < -12*time.Hour:
		t = t.AddDate(0, 0, 1)
	}
	return t
}
