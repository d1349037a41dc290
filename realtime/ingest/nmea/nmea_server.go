package nmea

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
)

// Config configures a Server. Config.Devices is the registry the
// $PGID,<device>,<key> login is checked against: the device must be active
// and the key its key. Config.Now dates a GGA sentence (which carries only
// a time of day) when the connection has sent no RMC date. The server
// writes nothing, so WriteTimeout is unused.
type Config struct {
	ingest.Config
	// KeyOptional lets a login without a key ($PGID,<device>) in for an
	// active device: only for a server on loopback that asks no
	// credentials (the demo).
	KeyOptional bool
}

// Server takes GPS positions from legacy trackers that stream NMEA
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
type Server struct {
	*ingest.TCPServer
	cfg     Config
	peers   ingest.PeerLog // of refused logins
	backoff ingest.Backoff // of addresses whose logins keep failing
}

// NewServer returns a server with cfg. It starts no goroutine.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: cfg}
	s.cfg.Config = cfg.WithDefaults()
	s.TCPServer = ingest.NewTCPServer(fix.SourceNMEA, s.cfg.Config, s.serve)
	return s
}

// loginRefused counts a refused login from addr, which closes its
// connection: every ingest.MaxAuthFailures-th shuts the address out for a
// while (ingest.Backoff). It is logged at most once per address a minute.
func (s *Server) loginRefused(log *slog.Logger, addr net.Addr, device string, err error) {
	now := s.cfg.Now()
	d := s.backoff.Fail(addr, now)
	if d > 0 {
		s.cfg.Metrics.ShutOut(fix.SourceNMEA)
	}
	if s.peers.Allow(addr, now) {
		log.Info("login refused; closing", "device", device, "err", err, "shut_out", d)
	}
}

var errLongLine = fmt.Errorf("%w: line longer than %d bytes", ErrSentence, MaxLine)

// serve reads lines from conn until the tracker goes away, stays silent
// past IdleTimeout, or logs in as an unknown device.
func (s *Server) serve(ctx context.Context, conn net.Conn) {
	log := s.cfg.Logger.With("proto", fix.SourceNMEA, "remote", conn.RemoteAddr().String())
	r := bufio.NewReaderSize(conn, MaxLine+2)
	idle := ingest.NewIdleDeadline(conn, s.cfg.IdleTimeout)
	idle.LoginBy(time.Now().Add(s.cfg.LoginTimeout))
	ns := &session{now: s.cfg.Now, ggaFix: -1}
	if s.backoff.ShutOut(conn.RemoteAddr(), s.cfg.Now()) {
		s.cfg.Metrics.ShutOut(fix.SourceNMEA)
		if s.peers.Allow(conn.RemoteAddr(), s.cfg.Now()) {
			log.Info("closing: the address is shut out for failed logins")
		}
		return
	}
	for {
		if !ingest.BuffersDelimiter(r, '\n') {
			if err := idle.Arm(); err != nil {
				log.Debug("disconnected", "err", err, "unit", ns.unit)
				return
			}
		}
		line, err := readLine(r)
		switch {
		case errors.Is(err, errLongLine):
			s.cfg.Metrics.Malformed(fix.SourceNMEA)
			log.Debug("line dropped", "err", err)
			continue
		case err != nil:
			log.Debug("disconnected", "err", err, "unit", ns.unit)
			return
		}
		n, err := Decode(line)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) {
				s.cfg.Metrics.Malformed(fix.SourceNMEA)
			}
			log.Debug("line dropped", "err", err)
			continue
		}
		if n.Kind == Login {
			dev := device.Check{Device: n.Device, Key: n.Key, KeyOptional: s.cfg.KeyOptional}
			d, err := dev.Check(s.cfg.Devices, fix.SourceNMEA)
			if err != nil {
				s.loginRefused(log, conn.RemoteAddr(), n.Device, err)
				return
			}
			s.backoff.Forgive(conn.RemoteAddr())
			log.Info("logged in", "device", d.ID, "unit", d.Unit)
			idle.LoggedIn()
			ns.login(d.Unit, dev)
			continue
		}
		if ns.unit == "" {
			log.Debug("sentence before login dropped", "kind", n.Kind)
			continue
		}
		if err := ns.dev.Recheck(s.cfg.Devices, fix.SourceNMEA); err != nil {
			log.Info("device refused; closing", "device", ns.dev.Device, "err", err)
			return
		}
		if f, ok := ns.sentence(n); ok {
			if !s.cfg.DeviceLimits.Allow(fix.SourceNMEA+":"+ns.dev.Device, 1, s.cfg.Now()) {
				s.cfg.Metrics.Limited(fix.SourceNMEA, "device")
				log.Debug("fix over the device's rate limit dropped", "unit", ns.unit)
				continue
			}
			s.ingest(ctx, log, f)
		}
	}
}

// readLine returns the next line, valid until the next read. A line
// longer than MaxLine is discarded and reported as errLongLine.
func readLine(r *bufio.Reader) ([]byte, error) {
	b, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n')
		}
		if err != nil {
			return nil, err
		}
		return nil, errLongLine
	}
	return b, err
}

func (s *Server) ingest(ctx context.Context, log *slog.Logger, f fix.Fix) {
	res, err := s.cfg.Ingest(ctx, []fix.Fix{f})
	switch {
	case err != nil:
		log.Warn("ingest failed", "unit", f.Unit, "err", err)
	case len(res) == 1 && res[0].Outcome == fix.Rejected:
		log.Debug("fix rejected", "unit", f.Unit, "reason", fix.Code(res[0].Err), "err", res[0].Err)
	}
}

// session turns the sentences of one connection into fixes. It is
// owned by the connection's goroutine.
type session struct {
	now  func() time.Time
	unit string
	// dev is the device of the login, checked again when the registry
	// changes.
	dev device.Check
	// date is the date of the latest RMC; zero before one.
	date time.Time
	// rmc is set once the tracker has sent a RMC: fixes come from RMC.
	rmc bool
	// gga is the latest valid GGA, to lend its altitude to the RMC of
	// the same second.
	gga Sentence
	// ggaFix is the time of day of the latest fix made of a GGA, so that
	// a RMC of the same second does not repeat it; -1 before one.
	ggaFix time.Duration
}

// login starts the fixes of unit, reported by device with key.
func (ns *session) login(unit string, dev device.Check) {
	*ns = session{now: ns.now, unit: unit, dev: dev, ggaFix: -1}
}

// sentence takes one RMC or GGA and returns the fix it completes, if any.
func (ns *session) sentence(n Sentence) (fix.Fix, bool) {
	switch n.Kind {
	case RMC:
		ns.rmc = true
		if !n.Date.IsZero() {
			ns.date = n.Date
		}
		if !n.Valid || math.IsNaN(n.Point[0]) || n.TimeOfDay < 0 || n.TimeOfDay == ns.ggaFix {
			return fix.Fix{}, false
		}
		f := ns.fix(n)
		if n.SpeedKnots >= 0 {
			f.SpeedMPS = n.SpeedKnots * knotMPS
		}
		if n.Course >= 0 && n.Course < 360 {
			f.Heading = n.Course
		}
		if ns.gga.TimeOfDay == n.TimeOfDay && !math.IsNaN(ns.gga.AltitudeM) {
			f.AltitudeM = ns.gga.AltitudeM
		}
		return f, true
	case GGA:
		if !n.Valid || math.IsNaN(n.Point[0]) || n.TimeOfDay < 0 {
			return fix.Fix{}, false
		}
		ns.gga = n
		if ns.rmc {
			return fix.Fix{}, false
		}
		ns.ggaFix = n.TimeOfDay
		f := ns.fix(n)
		if !math.IsNaN(n.AltitudeM) {
			f.AltitudeM = n.AltitudeM
		}
		return f, true
	}
	return fix.Fix{}, false
}

// fix returns the fix of n's time and position, other fields unknown.
func (ns *session) fix(n Sentence) fix.Fix {
	return fix.Fix{Unit: ns.unit, Time: ns.timeOf(n), Point: n.Point, SpeedMPS: -1, Heading: -1, Battery: -1,
		Source: fix.SourceNMEA}
}

// timeOf dates n: by its own date, else by the date of the latest RMC,
// else the day that puts it nearest to now.
func (ns *session) timeOf(n Sentence) time.Time {
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
