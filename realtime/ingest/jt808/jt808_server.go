package jt808

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
)

// Config configures a Server: the settings every ingest server takes.
// Config.Devices is the registry of terminals: a terminal registers
// (0x0100) when its phone is the phone of an active device, and is
// answered with that device's key as its authentication code; it
// authenticates (0x0102) with that key. Config.Now stamps a location sent
// without a time. Terminals send a heartbeat every 60 s by default, well
// inside the default IdleTimeout of 3 minutes.
type Config struct {
	ingest.Config
}

// Server takes GPS positions from JT/T 808 (2013 and 2019) vehicle
// terminals over TCP. A terminal registers (0x0100, answered by 0x8100
// with its device's key as the authentication code, or result 4 "no such
// terminal" when its phone is no active device's), authenticates with
// that key (0x0102), then sends heartbeats (0x0002), locations (0x0200)
// and batches of locations (0x0704), each answered by a general reply
// (0x8001). The locations of a terminal that has not authenticated on the
// connection are refused. Every other message gets a general reply too,
// except the terminal's own general replies (0x0001). Each message of an
// authenticated connection is checked against the registry first: once
// its device is revoked, the next message closes the connection.
//
// Locations with the positioned status bit clear are answered but not
// ingested. A malformed frame is answered with result 2 when its header
// can be read and dropped otherwise; it never ends the connection.
//
// Its methods are safe for concurrent use; it holds no state between
// connections besides its configuration.
type Server struct {
	*ingest.TCPServer
	cfg     Config
	peers   ingest.PeerLog // of terminals' bad input before they authenticate
	backoff ingest.Backoff // of addresses whose terminals fail to log in
}

// NewServer returns a server with cfg. It starts no goroutine.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: Config{Config: cfg.WithDefaults()}}
	s.TCPServer = ingest.NewTCPServer(fix.SourceJT808, s.cfg.Config, s.serve)
	return s
}

// session is the state of one terminal connection, owned by its
// goroutine.
type session struct {
	s         *Server
	log       *slog.Logger
	remote    net.Addr
	failures  int  // failed registrations and authentications
	closing   bool // after the replies to the frames read so far
	r         *bufio.Reader
	w         *bufio.Writer // replies, flushed before a read that may block
	idle      *ingest.IdleDeadline
	buf       []byte // unescaped message
	out       []byte // reply frame
	serial    uint16 // of the platform's messages
	phone     string // authenticated phone (Phone form); "" before
	unit      string
	dev       device.Check // the authenticated device; checked again when the registry changes
	lastPhone string       // of the last header, whose string the next one of the same phone shares
	fixes     []fix.Fix    // of the message being ingested
	general   [5]byte      // the body of a general reply
}

// serve reads frames from conn and answers them until the terminal goes
// away, stays silent past IdleTimeout, or a write fails. Replies are
// buffered and written together once every frame read so far is answered,
// before the next read that may block, so a terminal that sends many
// frames at once gets their replies, in order, in one write.
func (s *Server) serve(ctx context.Context, conn net.Conn) {
	ss := &session{s: s, log: s.cfg.Logger.With("proto", fix.SourceJT808, "remote", conn.RemoteAddr().String()), remote: conn.RemoteAddr(),
		r: bufio.NewReaderSize(conn, MaxFrame), w: bufio.NewWriterSize(ingest.NewDeadlineWriter(conn, s.cfg.WriteTimeout), 4096),
		idle: ingest.NewIdleDeadline(conn, s.cfg.IdleTimeout), buf: make([]byte, 0, 256), out: make([]byte, 0, 64)}
	ss.log.Debug("connected")
	ss.idle.LoginBy(time.Now().Add(s.cfg.LoginTimeout))
	if s.backoff.ShutOut(ss.remote, s.cfg.Now()) {
		s.cfg.Metrics.ShutOut(fix.SourceJT808)
		ss.bad("closing: the address is shut out for failed logins")
		return
	}
	for {
		if !ingest.BuffersDelimiter(ss.r, flag) {
			if err := ss.w.Flush(); err != nil {
				ss.log.Info("closing", "err", fmt.Errorf("jt808: reply: %w", err), "unit", ss.unit)
				return
			}
			if err := ss.idle.Arm(); err != nil {
				ss.log.Debug("disconnected", "err", err, "unit", ss.unit)
				return
			}
		}
		frame, err := readFrame(ss.r)
		switch {
		case errors.Is(err, errOversize):
			ss.s.cfg.Metrics.Malformed(fix.SourceJT808)
			ss.bad("frame dropped", "err", err)
			continue
		case err != nil:
			ss.log.Debug("disconnected", "err", err, "unit", ss.unit)
			return
		case len(frame) == 0:
			continue
		}
		if err := ss.frame(ctx, frame); err != nil {
			ss.w.Flush() // the replies to the frames before
			ss.log.Info("closing", "err", err, "unit", ss.unit)
			return
		}
		if ss.closing {
			ss.w.Flush()
			return
		}
	}
}

// bad logs the bad input of the terminal: always once it has
// authenticated, before that at most once per address a minute (see
// ingest.PeerLog), so that junk or guessed credentials fill no log; the
// input is counted either way.
func (ss *session) bad(msg string, args ...any) {
	if ss.phone == "" && !ss.s.peers.Allow(ss.remote, ss.s.cfg.Now()) {
		return
	}
	ss.log.Info(msg, args...)
}

var errOversize = fmt.Errorf("%w: longer than %d bytes without a flag", ErrFrame, MaxFrame)

// readFrame returns the bytes up to the next flag, without it; it is
// empty between two flags. The slice is valid until the next read. A run
// longer than MaxFrame is discarded and reported as errOversize.
func readFrame(r *bufio.Reader) ([]byte, error) {
	b, err := r.ReadSlice(flag)
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice(flag)
		}
		if err != nil {
			return nil, err
		}
		return nil, errOversize
	}
	if err != nil {
		return nil, err
	}
	return b[:len(b)-1], nil
}

// frame decodes and answers one frame; an error ends the connection.
func (ss *session) frame(ctx context.Context, frame []byte) error {
	raw, err := unescape(ss.buf[:0], frame)
	if err != nil {
		ss.s.cfg.Metrics.Malformed(fix.SourceJT808)
		ss.bad("frame dropped", "err", err)
		return nil
	}
	ss.buf = raw
	m, err := decodeRawFrom(raw, ss.lastPhone)
	if err != nil {
		ss.s.cfg.Metrics.Malformed(fix.SourceJT808)
		ss.bad("frame dropped", "err", err)
		return nil
	}
	ss.lastPhone = m.Header.Phone
	if err := ss.dev.Recheck(ss.s.cfg.Devices, fix.SourceJT808); err != nil {
		return err
	}
	id, body := ss.handle(ctx, m)
	if id == 0 {
		return nil
	}
	return ss.reply(m.Header, id, body)
}

// reply buffers a message with id and body to the terminal of h.
func (ss *session) reply(h Header, id uint16, body []byte) error {
	ss.serial++
	out, err := AppendFrame(ss.out[:0], Header{ID: id, V2019: h.V2019, Version: h.Version,
		Phone: h.Phone, Serial: ss.serial}, body)
	if err != nil {
		return fmt.Errorf("jt808: reply 0x%04x: %w", id, err)
	}
	ss.out = out
	if _, err := ss.w.Write(out); err != nil {
		return fmt.Errorf("jt808: reply 0x%04x: %w", id, err)
	}
	return nil
}

// handle answers message m: the id and body of the reply, or id 0 for
// none. The body is valid until the next call.
func (ss *session) handle(ctx context.Context, m Message) (uint16, []byte) {
	h := m.Header
	dst := ss.general[:0]
	if h.Encryption != 0 {
		return MsgPlatformReply, generalReply(dst, h, Unsupported)
	}
	switch h.ID {
	case MsgTerminalReply:
		return 0, nil
	case MsgRegister:
		return MsgRegisterAnswer, ss.register(ctx, h, m.Body)
	case MsgAuthenticate:
		return MsgPlatformReply, generalReply(dst, h, ss.authenticate(h, m.Body))
	case MsgLogout:
		ss.logout()
	case MsgLocation, MsgLocationBatch:
		return MsgPlatformReply, generalReply(dst, h, ss.locations(ctx, m))
	}
	return MsgPlatformReply, generalReply(dst, h, Success)
}

// generalReply appends to dst the body of a 0x8001 answering h.
func generalReply(dst []byte, h Header, result byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, h.Serial)
	dst = binary.BigEndian.AppendUint16(dst, h.ID)
	return append(dst, result)
}

// register answers 0x0100: the 0x8100 body, with a new authentication
// code when the terminal's phone and terminal id are a pair the registry
// was given (device.Registry.Register), "no such terminal" otherwise.
func (ss *session) register(ctx context.Context, h Header, body []byte) []byte {
	phone := Phone(h)
	b := binary.BigEndian.AppendUint16(nil, h.Serial)
	reg, err := DecodeRegister(h, body)
	if err != nil {
		ss.bad("register refused", "phone", phone, "err", err)
		ss.loginFailed()
		return append(b, NoSuchTerminal)
	}
	d, code, err := ss.s.cfg.Devices.Register(ctx, phone, reg.TerminalID)
	switch {
	case err != nil && !errors.Is(err, device.ErrRefused):
		// The store failed, not the terminal: it may retry at once.
		ss.log.Warn("register failed", "phone", phone, "err", err)
		return append(b, NoSuchTerminal)
	case err != nil:
		ss.bad("register refused", "phone", phone, "terminal", reg.TerminalID, "err", err)
		ss.loginFailed()
		return append(b, NoSuchTerminal)
	}
	ss.log.Info("registered", "phone", phone, "device", d.ID)
	return append(append(b, Success), code...)
}

// authenticate checks a 0x0102 body and returns the reply result. The
// 2013 body is the code; the 2019 one is its length, the code, the IMEI
// (15 bytes) and the software version (20 bytes).
func (ss *session) authenticate(h Header, body []byte) byte {
	code := body
	if h.V2019 && len(body) > 0 && len(body) >= 1+int(body[0]) {
		code = body[1 : 1+int(body[0])]
	}
	code = bytes.TrimRight(code, "\x00")
	phone := Phone(h)
	d, err := ss.s.cfg.Devices.Terminal(phone)
	if err == nil {
		ss.dev = device.Check{Device: d.ID, Key: string(code), Session: true}
		d, err = ss.dev.Check(ss.s.cfg.Devices, fix.SourceJT808)
	}
	if err != nil {
		ss.bad("authentication refused", "phone", phone, "err", err)
		ss.logout()
		ss.loginFailed()
		return Failure
	}
	ss.s.backoff.Forgive(ss.remote)
	ss.idle.LoggedIn()
	ss.failures = 0
	ss.phone, ss.unit = phone, d.Unit
	ss.log.Info("authenticated", "phone", phone, "device", d.ID, "unit", d.Unit)
	return Success
}

// loginFailed counts a failed registration or authentication: at
// ingest.MaxAuthFailures the connection closes once its replies are
// written, and its address is shut out for a while (ingest.Backoff).
func (ss *session) loginFailed() {
	if ss.failures++; ss.failures < ingest.MaxAuthFailures {
		return
	}
	ss.closing = true
	ss.s.cfg.Metrics.ShutOut(fix.SourceJT808)
	d := ss.s.backoff.Strike(ss.remote, ss.s.cfg.Now())
	ss.bad("closing: too many failed logins", "failures", ss.failures, "shut_out", d)
}

// logout forgets the authentication of the connection.
func (ss *session) logout() {
	ss.phone, ss.unit, ss.dev = "", "", device.Check{}
}

// locations ingests the locations of a 0x0200 or 0x0704 message and
// returns the reply result: failure for a terminal not authenticated on
// this connection or when ingest fails, bad message when the body is
// malformed (whatever decoded before the fault is still ingested).
func (ss *session) locations(ctx context.Context, m Message) byte {
	phone := Phone(m.Header)
	if ss.phone == "" || phone != ss.phone {
		ss.bad("locations refused: not authenticated", "phone", phone)
		return Failure
	}
	var locs []Location
	var err error
	if m.Header.ID == MsgLocation {
		var l Location
		if l, err = DecodeLocation(m.Body); err == nil {
			locs = []Location{l} // does not escape: no allocation
		}
	} else {
		var b Batch
		b, err = DecodeBatch(m.Body)
		locs = b.Locations
	}
	if !ss.s.cfg.DeviceLimits.Allow(fix.SourceJT808+":"+ss.phone, max(1, len(locs)), ss.s.cfg.Now()) {
		ss.s.cfg.Metrics.Limited(fix.SourceJT808, "device")
		ss.bad("locations over the device's rate limit refused", "unit", ss.unit)
		return Failure
	}
	result := Success
	if err != nil {
		ss.s.cfg.Metrics.Malformed(fix.SourceJT808)
		ss.bad("malformed locations", "unit", ss.unit, "err", err)
		result = BadMessage
	}
	if !ss.ingest(ctx, locs) {
		result = Failure
	}
	return result
}

// ingest hands the positioned locations to Config.Ingest; false when it
// fails.
func (ss *session) ingest(ctx context.Context, locs []Location) bool {
	fixes := ss.fixes[:0]
	for _, l := range locs {
		if !l.Positioned() {
			continue
		}
		f := Fix(ss.unit, l)
		if f.Time.IsZero() {
			f.Time = ss.s.cfg.Now()
		}
		fixes = append(fixes, f)
	}
	ss.fixes = fixes
	if len(fixes) == 0 {
		return true
	}
	res, err := ss.s.cfg.Ingest(ctx, fixes)
	if err != nil {
		ss.log.Warn("ingest failed", "unit", ss.unit, "err", err)
		return false
	}
	for _, r := range res {
		if r.Outcome == fix.Rejected {
			ss.log.Debug("fix rejected", "unit", ss.unit, "reason", fix.Code(r.Err), "err", r.Err)
		}
	}
	return true
}
