package realtime

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
)

// JT808Config configures a JT808Server. The zero value of each field is
// its documented default.
type JT808Config struct {
	// Addr is the TCP address ListenAndRun listens on; default ":5015".
	Addr string
	// Devices is the registry of terminals: a terminal registers (0x0100)
	// when its phone is the phone of an active device, and is answered
	// with that device's key as its authentication code; it authenticates
	// (0x0102) with that key. Default: an empty registry, which knows no
	// terminal.
	Devices *DeviceRegistry
	// Ingest takes the fixes of one message and returns a result per fix
	// (City.Ingest). It is required and must be safe for concurrent use;
	// it must not keep fixes, whose array the server reuses.
	Ingest func(ctx context.Context, fixes []Fix) ([]Result, error)
	// IdleTimeout is how long a connection may stay silent before it is
	// closed; default 3 minutes (terminals send a heartbeat every 60 s
	// by default). The server closes a silent connection between
	// IdleTimeout and IdleTimeout plus an eighth of it (at most a second)
	// after its last byte.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to a terminal, which carries the
	// replies to every frame of one read; default 10 s.
	WriteTimeout time.Duration
	// MaxConns is how many connections are served at once; more are
	// closed at once. Default 10,000.
	MaxConns int
	// Metrics counts frames that cannot be read; nil counts nothing.
	Metrics *DeviceMetrics
	// Logger receives connection events; default slog.Default().
	Logger *slog.Logger
	// Now is the clock that stamps a location sent without a time;
	// default time.Now.
	Now func() time.Time
}

func (c JT808Config) withDefaults() JT808Config {
	if c.Addr == "" {
		c.Addr = ":5015"
	}
	if c.Devices == nil {
		c.Devices = NewDeviceRegistry(DeviceConfig{})
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 3 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
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

// JT808Server takes GPS positions from JT/T 808 (2013 and 2019) vehicle
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
type JT808Server struct {
	cfg JT808Config
	sem chan struct{}
}

// NewJT808Server returns a server with cfg. It starts no goroutine.
func NewJT808Server(cfg JT808Config) *JT808Server {
	cfg = cfg.withDefaults()
	return &JT808Server{cfg: cfg, sem: make(chan struct{}, cfg.MaxConns)}
}

// ListenAndRun listens on Config.Addr and runs the server until ctx ends.
func (s *JT808Server) ListenAndRun(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("realtime: jt808 listen %s: %w", s.cfg.Addr, err)
	}
	return s.Run(ctx, ln)
}

// Run accepts connections on ln until ctx ends, then closes ln and every
// connection and returns nil once their goroutines are done. It owns one
// goroutine per connection. It returns an error, after the same clean-up,
// when ln fails for a reason other than a timeout.
func (s *JT808Server) Run(ctx context.Context, ln net.Listener) error {
	return runTCP(ctx, ln, s.sem, s.cfg.Logger.With("proto", SourceJT808), s.serve)
}

// jt808Session is the state of one terminal connection, owned by its
// goroutine.
type jt808Session struct {
	s         *JT808Server
	log       *slog.Logger
	r         *bufio.Reader
	w         *bufio.Writer // replies, flushed before a read that may block
	idle      *idleDeadline
	buf       []byte // unescaped message
	out       []byte // reply frame
	serial    uint16 // of the platform's messages
	phone     string // authenticated phone (JT808Phone form); "" before
	unit      string
	dev       deviceCheck // the authenticated device; checked again when the registry changes
	lastPhone string      // of the last header, whose string the next one of the same phone shares
	fixes     []Fix       // of the message being ingested
	general   [5]byte     // the body of a general reply
}

// serve reads frames from conn and answers them until the terminal goes
// away, stays silent past IdleTimeout, or a write fails. Replies are
// buffered and written together once every frame read so far is answered,
// before the next read that may block, so a terminal that sends many
// frames at once gets their replies, in order, in one write.
func (s *JT808Server) serve(ctx context.Context, conn net.Conn) {
	ss := &jt808Session{s: s, log: s.cfg.Logger.With("proto", SourceJT808, "remote", conn.RemoteAddr().String()),
		r: bufio.NewReaderSize(conn, JT808MaxFrame), w: bufio.NewWriterSize(deadlineWriter{conn, s.cfg.WriteTimeout}, 4096),
		idle: newIdleDeadline(conn, s.cfg.IdleTimeout), buf: make([]byte, 0, 256), out: make([]byte, 0, 64)}
	ss.log.Debug("connected")
	for {
		if !buffersDelimiter(ss.r, jt808Flag) {
			if err := ss.w.Flush(); err != nil {
				ss.log.Info("closing", "err", fmt.Errorf("realtime: jt808 reply: %w", err), "unit", ss.unit)
				return
			}
			if err := ss.idle.arm(); err != nil {
				ss.log.Debug("disconnected", "err", err, "unit", ss.unit)
				return
			}
		}
		frame, err := readJT808Frame(ss.r)
		switch {
		case errors.Is(err, errJT808Oversize):
			ss.s.cfg.Metrics.Malformed(SourceJT808)
			ss.log.Info("frame dropped", "err", err)
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
	}
}

var errJT808Oversize = fmt.Errorf("%w: longer than %d bytes without a flag", ErrJT808Frame, JT808MaxFrame)

// readJT808Frame returns the bytes up to the next flag, without it; it is
// empty between two flags. The slice is valid until the next read. A run
// longer than JT808MaxFrame is discarded and reported as errJT808Oversize.
func readJT808Frame(r *bufio.Reader) ([]byte, error) {
	b, err := r.ReadSlice(jt808Flag)
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice(jt808Flag)
		}
		if err != nil {
			return nil, err
		}
		return nil, errJT808Oversize
	}
	if err != nil {
		return nil, err
	}
	return b[:len(b)-1], nil
}

// frame decodes and answers one frame; an error ends the connection.
func (ss *jt808Session) frame(ctx context.Context, frame []byte) error {
	raw, err := jt808Unescape(ss.buf[:0], frame)
	if err != nil {
		ss.s.cfg.Metrics.Malformed(SourceJT808)
		ss.log.Info("frame dropped", "err", err)
		return nil
	}
	ss.buf = raw
	m, err := decodeJT808RawFrom(raw, ss.lastPhone)
	if err != nil {
		ss.s.cfg.Metrics.Malformed(SourceJT808)
		ss.log.Info("frame dropped", "err", err)
		return nil
	}
	ss.lastPhone = m.Header.Phone
	if err := ss.dev.recheck(ss.s.cfg.Devices, SourceJT808); err != nil {
		return err
	}
	id, body := ss.handle(ctx, m)
	if id == 0 {
		return nil
	}
	return ss.reply(m.Header, id, body)
}

// reply buffers a message with id and body to the terminal of h.
func (ss *jt808Session) reply(h JT808Header, id uint16, body []byte) error {
	ss.serial++
	out, err := AppendJT808Frame(ss.out[:0], JT808Header{ID: id, V2019: h.V2019, Version: h.Version,
		Phone: h.Phone, Serial: ss.serial}, body)
	if err != nil {
		return fmt.Errorf("realtime: jt808 reply 0x%04x: %w", id, err)
	}
	ss.out = out
	if _, err := ss.w.Write(out); err != nil {
		return fmt.Errorf("realtime: jt808 reply 0x%04x: %w", id, err)
	}
	return nil
}

// handle answers message m: the id and body of the reply, or id 0 for
// none. The body is valid until the next call.
func (ss *jt808Session) handle(ctx context.Context, m JT808Message) (uint16, []byte) {
	h := m.Header
	dst := ss.general[:0]
	if h.Encryption != 0 {
		return JT808MsgPlatformReply, jt808GeneralReply(dst, h, JT808Unsupported)
	}
	switch h.ID {
	case JT808MsgTerminalReply:
		return 0, nil
	case JT808MsgRegister:
		return JT808MsgRegisterAnswer, ss.register(h)
	case JT808MsgAuthenticate:
		return JT808MsgPlatformReply, jt808GeneralReply(dst, h, ss.authenticate(h, m.Body))
	case JT808MsgLogout:
		ss.logout()
	case JT808MsgLocation, JT808MsgLocationBatch:
		return JT808MsgPlatformReply, jt808GeneralReply(dst, h, ss.locations(ctx, m))
	}
	return JT808MsgPlatformReply, jt808GeneralReply(dst, h, JT808Success)
}

// jt808GeneralReply appends to dst the body of a 0x8001 answering h.
func jt808GeneralReply(dst []byte, h JT808Header, result byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, h.Serial)
	dst = binary.BigEndian.AppendUint16(dst, h.ID)
	return append(dst, result)
}

// register answers 0x0100: the 0x8100 body, with the key of the active
// device of the terminal's phone as the authentication code.
func (ss *jt808Session) register(h JT808Header) []byte {
	phone := JT808Phone(h)
	b := binary.BigEndian.AppendUint16(nil, h.Serial)
	d, key, err := ss.s.cfg.Devices.Terminal(phone)
	if err != nil {
		ss.log.Info("register refused", "phone", phone, "err", err)
		return append(b, JT808NoSuchTerminal)
	}
	ss.log.Info("registered", "phone", phone, "device", d.ID)
	return append(append(b, JT808Success), key...)
}

// authenticate checks a 0x0102 body and returns the reply result. The
// 2013 body is the code; the 2019 one is its length, the code, the IMEI
// (15 bytes) and the software version (20 bytes).
func (ss *jt808Session) authenticate(h JT808Header, body []byte) byte {
	code := body
	if h.V2019 && len(body) > 0 && len(body) >= 1+int(body[0]) {
		code = body[1 : 1+int(body[0])]
	}
	code = bytes.TrimRight(code, "\x00")
	phone := JT808Phone(h)
	d, _, err := ss.s.cfg.Devices.Terminal(phone)
	if err == nil {
		ss.dev = deviceCheck{device: d.ID, key: string(code)}
		d, err = ss.dev.check(ss.s.cfg.Devices, SourceJT808)
	}
	if err != nil {
		ss.log.Info("authentication refused", "phone", phone, "err", err)
		ss.logout()
		return JT808Failure
	}
	ss.phone, ss.unit = phone, d.Unit
	ss.log.Info("authenticated", "phone", phone, "device", d.ID, "unit", d.Unit)
	return JT808Success
}

// logout forgets the authentication of the connection.
func (ss *jt808Session) logout() {
	ss.phone, ss.unit, ss.dev = "", "", deviceCheck{}
}

// locations ingests the locations of a 0x0200 or 0x0704 message and
// returns the reply result: failure for a terminal not authenticated on
// this connection or when ingest fails, bad message when the body is
// malformed (whatever decoded before the fault is still ingested).
func (ss *jt808Session) locations(ctx context.Context, m JT808Message) byte {
	phone := JT808Phone(m.Header)
	if ss.phone == "" || phone != ss.phone {
		ss.log.Info("locations refused: not authenticated", "phone", phone)
		return JT808Failure
	}
	var locs []JT808Location
	var err error
	if m.Header.ID == JT808MsgLocation {
		var l JT808Location
		if l, err = DecodeJT808Location(m.Body); err == nil {
			locs = []JT808Location{l} // does not escape: no allocation
		}
	} else {
		var b JT808Batch
		b, err = DecodeJT808Batch(m.Body)
		locs = b.Locations
	}
	result := JT808Success
	if err != nil {
		ss.s.cfg.Metrics.Malformed(SourceJT808)
		ss.log.Info("malformed locations", "unit", ss.unit, "err", err)
		result = JT808BadMessage
	}
	if !ss.ingest(ctx, locs) {
		result = JT808Failure
	}
	return result
}

// ingest hands the positioned locations to Config.Ingest; false when it
// fails.
func (ss *jt808Session) ingest(ctx context.Context, locs []JT808Location) bool {
	fixes := ss.fixes[:0]
	for _, l := range locs {
		if !l.Positioned() {
			continue
		}
		f := JT808Fix(ss.unit, l)
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
		if r.Outcome == Rejected {
			ss.log.Debug("fix rejected", "unit", ss.unit, "reason", Code(r.Err), "err", r.Err)
		}
	}
	return true
}
