package jt808

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuteLittleDevil/go-jt808/protocol/jt808"
	"github.com/cuteLittleDevil/go-jt808/protocol/model"
	"github.com/cuteLittleDevil/go-jt808/protocol/utils"
	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// terminal is a test terminal written with this package's encoder.
type terminal struct {
	t      *testing.T
	conn   net.Conn
	r      *bufio.Reader
	h      Header
	serial uint16
	id     string // the terminal id it registers with; "" is terminalID of its phone
}

// terminalID is the terminal id the tests provision a phone's terminal
// with: T and the phone's last 6 digits.
func terminalID(phone string) string { return "T" + phone[max(0, len(phone)-6):] }

// addTerminal provisions the terminal of phone (without leading zeros)
// as device id of unit.
func addTerminal(t *testing.T, r *device.Registry, id, unit, phone string) {
	t.Helper()
	citytest.MustAdd(t, r, device.Spec{ID: id, Unit: unit, Phone: phone, Terminal: terminalID(phone)})
}

// codeOf registers the terminal of phone with the registry itself, as a
// registration over another connection would, and returns its code.
func codeOf(t *testing.T, r *device.Registry, phone string) string {
	t.Helper()
	_, code, err := r.Register(context.Background(), phone, terminalID(phone))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func dial(t *testing.T, addr string, h Header) *terminal {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &terminal{t: t, conn: conn, r: bufio.NewReader(conn), h: h}
}

// frame returns the frame of message id with body and the next serial.
func (c *terminal) frame(id uint16, body []byte) []byte {
	c.t.Helper()
	c.serial++
	h := c.h
	h.ID, h.Serial = id, c.serial
	b, err := AppendFrame(nil, h, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

func (c *terminal) write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message from the server.
func (c *terminal) read() Message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		b, err := c.r.ReadSlice(flag)
		if err != nil {
			c.t.Fatalf("read reply: %v", err)
		}
		if len(b) == 1 {
			continue
		}
		m, err := DecodeFrame(b)
		if err != nil {
			c.t.Fatalf("reply % x: %v", b, err)
		}
		if m.Header.Phone != c.h.Phone || m.Header.V2019 != c.h.V2019 {
			c.t.Fatalf("reply header %+v, want phone %s 2019 %v", m.Header, c.h.Phone, c.h.V2019)
		}
		return m
	}
}

// general sends id with body and returns the result of the general reply.
func (c *terminal) general(id uint16, body []byte) byte {
	c.t.Helper()
	c.write(c.frame(id, body))
	return c.generalReply(id, c.serial)
}

func (c *terminal) generalReply(id, serial uint16) byte {
	c.t.Helper()
	m := c.read()
	if m.Header.ID != MsgPlatformReply || len(m.Body) != 5 ||
		binary.BigEndian.Uint16(m.Body) != serial || binary.BigEndian.Uint16(m.Body[2:]) != id {
		c.t.Fatalf("reply to 0x%04x #%d = 0x%04x % x, want a general reply to it", id, serial, m.Header.ID, m.Body)
	}
	return m.Body[4]
}

// register sends 0x0100 and returns the result and auth code.
func (c *terminal) register() (byte, string) {
	c.t.Helper()
	id := c.id
	if id == "" {
		id = terminalID(Phone(c.h))
	}
	c.write(c.frame(MsgRegister, AppendRegister(nil, c.h.V2019, Register{Maker: "PGRID", Model: "test", TerminalID: id}, "TEST")))
	m := c.read()
	if m.Header.ID != MsgRegisterAnswer || len(m.Body) < 3 || binary.BigEndian.Uint16(m.Body) != c.serial {
		c.t.Fatalf("register answer 0x%04x % x", m.Header.ID, m.Body)
	}
	return m.Body[2], string(m.Body[3:])
}

func TestJT808ServerEndToEnd(t *testing.T) {
	c := citytest.StartSquare(t, nil)
	pt := geo.CellCenter(c.Plan().Units[0].Post) // V1
	devices := device.NewRegistry(device.Config{})
	addTerminal(t, devices, "car-1", "V1", "13912345678")
	srv := NewServer(Config{Config: ingest.Config{Ingest: c.Ingest, Logger: slog.New(slog.DiscardHandler), Now: c.Clock.Now, Devices: devices}})
	addr := realtimetest.ServeTCP(t, srv)

	silent, err := net.Dial("tcp", addr) // says nothing and must block no one
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	term := dial(t, addr, Header{Phone: "013912345678"})
	at := c.Clock.Now().Add(-30 * time.Second)
	loc := func(at time.Time, dLat float64) []byte {
		return AppendLocation(nil, Location{Status: 2, Point: orb.Point{pt.Lon(), pt.Lat() + dLat},
			SpeedKPH: 36, Direction: 90, Time: at, MileageKM: -1, Satellites: 9, Signal: -1})
	}
	if got := term.general(MsgLocation, loc(at, 0)); got != Failure {
		t.Fatalf("location before authentication: result %d, want %d (refused)", got, Failure)
	}
	if got := term.general(MsgAuthenticate, []byte("guess")); got != Failure {
		t.Fatalf("authenticate with a wrong code: result %d, want %d", got, Failure)
	}
	term.id = "T000000"
	if result, code := term.register(); result != NoSuchTerminal || code != "" {
		t.Fatalf("register with another terminal id = %d %q, want %d and no code", result, code, NoSuchTerminal)
	}
	term.id = ""
	result, code := term.register()
	if result != Success || len(code) != 32 {
		t.Fatalf("register = %d %q, want success and a code of 32 hex digits", result, code)
	}
	if got := term.general(MsgAuthenticate, []byte(code)); got != Success {
		t.Fatalf("authenticate: result %d, want success", got)
	}
	if got := term.general(MsgHeartbeat, nil); got != Success {
		t.Fatalf("heartbeat: result %d, want success", got)
	}
	if got := term.general(MsgLocation, loc(at, 0)); got != Success {
		t.Fatalf("location: result %d, want success", got)
	}
	realtimetest.WaitFor(t, "V1's first fix", func() bool {
		v := citytest.UnitView(c.City, "V1")
		return v.Time != nil && v.Time.Equal(at) && math.Abs(*v.Lat-pt.Lat()) < 1e-6 && math.Abs(*v.SpeedMPS-10) < 1e-9
	})

	// A batch, two frames in one write, and noise between frames.
	batch := AppendBatch(nil, Batch{Locations: []Location{
		{Status: 2, Point: orb.Point{pt.Lon(), pt.Lat() + 0.0001}, Time: at.Add(10 * time.Second), MileageKM: -1, Satellites: -1, Signal: -1},
		{Status: 2, Point: orb.Point{pt.Lon(), pt.Lat() + 0.0002}, Time: at.Add(20 * time.Second), MileageKM: -1, Satellites: -1, Signal: -1},
	}})
	var w []byte
	w = append(w, "noise"...)
	w = append(w, term.frame(MsgLocationBatch, batch)...)
	bad := term.frame(MsgHeartbeat, nil)
	bad[len(bad)-2] ^= 0x55 // wrong check byte: dropped without a reply
	w = append(w, bad...)
	w = append(w, bytes.Repeat([]byte{1}, 2*MaxFrame)...) // oversize run: dropped
	w = append(w, term.frame(0x0900, []byte("pass-through"))...)
	term.write(w)
	if got := term.generalReply(MsgLocationBatch, term.serial-2); got != Success {
		t.Fatalf("batch: result %d, want success", got)
	}
	if got := term.generalReply(0x0900, term.serial); got != Success {
		t.Fatalf("other message: result %d, want success", got)
	}
	realtimetest.WaitFor(t, "V1's batch", func() bool {
		v := citytest.UnitView(c.City, "V1")
		return v.Time != nil && v.Time.Equal(at.Add(20*time.Second)) && math.Abs(*v.Lat-(pt.Lat()+0.0002)) < 1e-6
	})
	if got := term.general(MsgLocation, loc(at.Add(25*time.Second), 0)[:20]); got != BadMessage {
		t.Fatalf("short location: result %d, want %d", got, BadMessage)
	}

	// A location under another phone on the same connection is refused,
	// as is an unknown terminal's registration.
	other := dial(t, addr, Header{V2019: true, Version: 1, Phone: "00000000013900000002"})
	if result, code := other.register(); result != NoSuchTerminal || code != "" {
		t.Fatalf("unknown terminal register = %d %q, want %d and no code", result, code, NoSuchTerminal)
	}
	term.h.Phone = "013900000002"
	if got := term.general(MsgLocation, loc(at.Add(30*time.Second), 0)); got != Failure {
		t.Fatalf("location of another phone: result %d, want %d", got, Failure)
	}
	term.h.Phone = "013912345678"
	if got := term.general(MsgLogout, nil); got != Success {
		t.Fatalf("logout: result %d", got)
	}
	if got := term.general(MsgLocation, loc(at.Add(30*time.Second), 0)); got != Failure {
		t.Fatalf("location after logout: result %d, want %d", got, Failure)
	}
}

func TestJT808ServerIdleTimeout(t *testing.T) {
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), IdleTimeout: 50 * time.Millisecond,
		Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}})
	addr := realtimetest.ServeTCP(t, srv)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read on an idle connection = %v, want EOF (closed by the server)", err)
	}
}

// TestJT808ServerRevoked: a revoked terminal's open connection is closed
// at its next message, and it can neither register nor authenticate
// again.
func TestJT808ServerRevoked(t *testing.T) {
	devices := device.NewRegistry(device.Config{})
	addTerminal(t, devices, "car-1", "V1", "13912345678")
	addTerminal(t, devices, "car-2", "V1", "13912345679")
	key := codeOf(t, devices, "13912345678")
	rec := &realtimetest.RecordingIngest{}
	srv := NewServer(Config{Config: ingest.Config{Ingest: rec.Ingest, Logger: slog.New(slog.DiscardHandler), Devices: devices}})
	addr := realtimetest.ServeTCP(t, srv)
	term := dial(t, addr, Header{Phone: "013912345678"})
	if got := term.general(MsgAuthenticate, []byte(key)); got != Success {
		t.Fatalf("authenticate with the code of a registration on another connection: result %d, want success", got)
	}
	other := dial(t, addr, Header{Phone: "013912345679"})
	_, key2 := other.register()
	if got := other.general(MsgAuthenticate, []byte(key2)); got != Success {
		t.Fatalf("second terminal: result %d", got)
	}
	if _, err := devices.Revoke(context.Background(), "car-1"); err != nil {
		t.Fatal(err)
	}
	term.write(term.frame(MsgHeartbeat, nil))
	term.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := term.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("read after a message of a revoked terminal = %v, want EOF (closed)", err)
	}
	if got := other.general(MsgHeartbeat, nil); got != Success {
		t.Errorf("the other device of the unit: heartbeat result %d, want success", got)
	}
	again := dial(t, addr, Header{Phone: "013912345678"})
	if result, code := again.register(); result != NoSuchTerminal || code != "" {
		t.Errorf("register after revocation = %d %q, want %d", result, code, NoSuchTerminal)
	}
	if got := again.general(MsgAuthenticate, []byte(key)); got != Failure {
		t.Errorf("authenticate after revocation: result %d, want %d", got, Failure)
	}
}

// goTerminal drives the server with go-jt808's encoders and decoders.
type goTerminal struct {
	t      *testing.T
	conn   net.Conn
	header *jt808.Header
	frames *jt808.FrameReader
	serial uint16
	queue  [][]byte
}

// newGoTerminal builds the library's header for phone by decoding
// a heartbeat assembled from the library's BCD and check-byte helpers.
func newGoTerminal(t *testing.T, addr, phone string, v2019 bool) *goTerminal {
	raw := []byte{0x00, 0x02, 0x00, 0x00}
	digits := 12
	if v2019 {
		raw[2] = 0x40
		raw = append(raw, 1)
		digits = 20
	}
	raw = append(raw, utils.String2Bcd(phone, digits)...)
	raw = append(raw, 0, 0)
	raw = append(raw, utils.CreateVerifyCode(raw))
	seed := jt808.NewJTMessage()
	if err := seed.Decode(append(append([]byte{0x7e}, raw...), 0x7e)); err != nil {
		t.Fatalf("go-jt808 seed header: %v", err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &goTerminal{t: t, conn: conn, header: seed.Header, frames: jt808.NewFrameReader()}
}

// send writes message id with body; it returns the serial used.
func (c *goTerminal) send(id uint16, body []byte) uint16 {
	c.t.Helper()
	c.serial++
	c.header.ReplyID, c.header.PlatformSerialNumber = id, c.serial
	for _, p := range c.header.EncodePackets(body) {
		if _, err := c.conn.Write(p); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.serial
}

// next returns the next message from the server, decoded by go-jt808.
func (c *goTerminal) next() *jt808.JTMessage {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1024)
	for len(c.queue) == 0 {
		n, err := c.conn.Read(buf)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		for _, f := range c.frames.ReadFrames(buf[:n]) {
			c.queue = append(c.queue, append([]byte(nil), f...))
		}
	}
	m := jt808.NewJTMessage()
	if err := m.Decode(c.queue[0]); err != nil {
		c.t.Fatalf("go-jt808 decode % x: %v", c.queue[0], err)
	}
	c.queue = c.queue[1:]
	return m
}

// general sends id with body and returns the 0x8001 result.
func (c *goTerminal) general(id uint16, body []byte) byte {
	c.t.Helper()
	serial := c.send(id, body)
	var p model.P0x8001
	if err := p.Parse(c.next()); err != nil || p.RespondID != id || p.RespondSerialNumber != serial {
		c.t.Fatalf("general reply to 0x%04x #%d = %+v, %v", id, serial, p, err)
	}
	return p.Result
}

func TestJT808ServerGoJT808Client(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v2019   bool
		version uint8 // go-jt808's: 2 for 2013, 3 for 2019
		phone   string
		unit    string
	}{
		{"2013", false, 2, "13912345678", "V1"},
		{"2019", true, 3, "19912345678", "E1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := citytest.StartSquare(t, nil)
			var post orb.Point
			for _, u := range c.Plan().Units {
				if u.ID == tc.unit {
					post = geo.CellCenter(u.Post)
				}
			}
			devices := device.NewRegistry(device.Config{})
			citytest.MustAdd(t, devices, device.Spec{ID: "term-" + tc.name, Unit: tc.unit, Phone: tc.phone, Terminal: "T000001"})
			srv := NewServer(Config{Config: ingest.Config{Ingest: c.Ingest, Logger: slog.New(slog.DiscardHandler), Devices: devices}})
			term := newGoTerminal(t, realtimetest.ServeTCP(t, srv), tc.phone, tc.v2019)

			reg := &model.T0x0100{ProvinceID: 15, CityID: 502, ManufacturerID: "PGRID", TerminalModel: "PG-1",
				TerminalID: "T000001", PlateColor: 1, LicensePlateNumber: "蒙G12345", Version: 2}
			if tc.v2019 {
				reg.Version = 3
			}
			serial := term.send(0x0100, reg.Encode())
			var ans model.P0x8100
			if err := ans.Parse(term.next()); err != nil || ans.Result != 0 || ans.RespondSerialNumber != serial || len(ans.AuthCode) != 32 {
				t.Fatalf("register answer %+v, %v", ans, err)
			}
			auth := &model.T0x0102{AuthCode: ans.AuthCode, Version: 2}
			if tc.v2019 {
				auth = &model.T0x0102{AuthCodeLen: uint8(len(ans.AuthCode)), AuthCode: ans.AuthCode,
					TerminalIMEI: "860000000000001", SoftwareVersion: "1.0", Version: 3}
			}
			if got := term.general(0x0102, auth.Encode()); got != 0 {
				t.Fatalf("authenticate: result %d", got)
			}
			if got := term.general(0x0002, (&model.T0x0002{}).Encode()); got != 0 {
				t.Fatalf("heartbeat: result %d", got)
			}
			at := c.Clock.Now().Add(-time.Minute)
			item := func(at time.Time, dLat float64) model.T0x0200LocationItem {
				return model.T0x0200LocationItem{StatusSign: 2, Latitude: uint32(math.Round((post.Lat() + dLat) * 1e6)),
					Longitude: uint32(math.Round(post.Lon() * 1e6)), Altitude: 180, Speed: 180, Direction: 45,
					DateTime: at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")}
			}
			if got := term.general(0x0200, (&model.T0x0200{T0x0200LocationItem: item(at, 0)}).Encode()); got != 0 {
				t.Fatalf("location: result %d", got)
			}
			realtimetest.WaitFor(t, tc.unit+"'s fix from go-jt808", func() bool {
				v := citytest.UnitView(c.City, tc.unit)
				return v.Time != nil && v.Time.Equal(at) && math.Abs(*v.Lat-post.Lat()) < 1e-6 &&
					math.Abs(*v.SpeedMPS-5) < 1e-9 && *v.Heading == 45
			})
			batch := &model.T0x0704{Num: 2, LocationType: 1, Items: []model.T0x0704LocationItem{
				{T0x0200LocationItem: item(at.Add(10*time.Second), 0.0001)},
				{T0x0200LocationItem: item(at.Add(20*time.Second), 0.0002)},
			}}
			if got := term.general(0x0704, batch.Encode()); got != 0 {
				t.Fatalf("batch: result %d", got)
			}
			realtimetest.WaitFor(t, tc.unit+"'s batch from go-jt808", func() bool {
				v := citytest.UnitView(c.City, tc.unit)
				return v.Time != nil && v.Time.Equal(at.Add(20*time.Second)) && math.Abs(*v.Lat-(post.Lat()+0.0002)) < 1e-6
			})
		})
	}
}

// failingListener fails every Accept after the first.
type failingListener struct {
	net.Listener
	n int
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.n++; l.n > 1 {
		return nil, errors.New("listener broke")
	}
	return l.Listener.Accept()
}

func TestJT808ServerListenerFailureClosesConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), Ingest: (&realtimetest.RecordingIngest{}).Ingest}})
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background(), &failingListener{Listener: ln}) }()
	conn, err := net.Dial("tcp", ln.Addr().String()) // silent, far from its idle timeout
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listener broke") {
			t.Errorf("Run = %v, want the listener's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its listener failed")
	}
}

func TestJT808ServerMaxConns(t *testing.T) {
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), MaxConns: 1, Ingest: (&realtimetest.RecordingIngest{}).Ingest}})
	addr := realtimetest.ServeTCP(t, srv)
	first := dial(t, addr, Header{Phone: "013912345678"})
	if got := first.general(MsgHeartbeat, nil); got != Success {
		t.Fatalf("heartbeat: %d", got)
	}
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read on a connection over MaxConns = %v, want EOF", err)
	}
}

// scriptConn is a connection that serves reads from a script of chunks,
// one chunk per Read, then io.EOF, and logs every read, write and
// deadline in order.
type scriptConn struct {
	net.Conn // nil: only what is overridden below may be called
	chunks   [][]byte
	log      []string
	writes   [][]byte
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		c.log = append(c.log, "read EOF")
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	c.log = append(c.log, "read")
	return n, nil
}

func (c *scriptConn) Write(p []byte) (int, error) {
	c.log = append(c.log, "write")
	c.writes = append(c.writes, slices.Clone(p))
	return len(p), nil
}

func (c *scriptConn) SetReadDeadline(time.Time) error {
	c.log = append(c.log, "read deadline")
	return nil
}

func (c *scriptConn) SetWriteDeadline(time.Time) error {
	c.log = append(c.log, "write deadline")
	return nil
}

func (c *scriptConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// heartbeats returns n heartbeat frames of h, with serials from first.
func heartbeats(t *testing.T, h Header, first uint16, n int) []byte {
	t.Helper()
	var b []byte
	for i := range n {
		h.ID, h.Serial = MsgHeartbeat, first+uint16(i)
		var err error
		if b, err = AppendFrame(b, h, nil); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// repliedSerials returns the serials that the general replies in b answer.
func repliedSerials(t *testing.T, b []byte) []uint16 {
	t.Helper()
	var out []uint16
	for _, fr := range bytes.Split(b, []byte{flag}) {
		if len(fr) == 0 {
			continue
		}
		m, err := DecodeFrame(fr)
		if err != nil || m.Header.ID != MsgPlatformReply || len(m.Body) != 5 {
			t.Fatalf("reply % x: %+v, %v, want a general reply", fr, m, err)
		}
		out = append(out, binary.BigEndian.Uint16(m.Body))
	}
	return out
}

// TestJT808ServerCoalescesReplies: the replies to the frames of one read
// leave in one write, in order, before the next read; a frame cut by a
// read is answered after the read that completes it; the read deadline
// is not set again within a second, and each write sets its own.
func TestJT808ServerCoalescesReplies(t *testing.T) {
	h := Header{Phone: "013900000001"}
	first := heartbeats(t, h, 1, 50)
	cut := heartbeats(t, h, 51, 4)
	half := len(cut) - 7
	conn := &scriptConn{chunks: [][]byte{first, cut[:half], cut[half:]}}
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler),
		Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}})
	srv.serve(context.Background(), conn)

	wantLog := []string{"read deadline", "read", "write deadline", "write", "read", "write deadline", "write", "read",
		"write deadline", "write", "read EOF"}
	if !slices.Equal(conn.log, wantLog) {
		t.Errorf("connection calls:\n%v\nwant\n%v", conn.log, wantLog)
	}
	var got [][]uint16
	for _, w := range conn.writes {
		got = append(got, repliedSerials(t, w))
	}
	want := [][]uint16{make([]uint16, 50), {51, 52, 53}, {54}}
	for i := range want[0] {
		want[0][i] = uint16(i + 1)
	}
	if len(got) != len(want) {
		t.Fatalf("writes answer serials %v, want %v", got, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("write %d answers serials %v, want %v", i, got[i], want[i])
		}
	}
}

// loopConn serves a login, then the same chunk of frames on every read,
// reads times, then io.EOF; it discards writes.
type loopConn struct {
	scriptConn
	chunk []byte
	reads int
}

func (c *loopConn) Read(p []byte) (int, error) {
	if len(c.scriptConn.chunks) > 0 {
		return c.scriptConn.Read(p)
	}
	if c.reads == 0 {
		return 0, io.EOF
	}
	c.reads--
	return copy(p, c.chunk), nil
}

func (c *loopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkJT808Session is the server's own cost per 0x0200 frame of an
// authenticated terminal, without the network and without ingest: from
// the bytes read to the reply written, 20 frames per read.
func BenchmarkJT808Session(b *testing.B) {
	devices := device.NewRegistry(device.Config{})
	if _, err := devices.Seed(context.Background(), []device.Spec{{ID: "T1", Unit: "V1", Phone: "13900000001", Terminal: "T1"}}); err != nil {
		b.Fatal(err)
	}
	_, key, err := devices.Register(context.Background(), "13900000001", "T1")
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), Devices: devices,
		Ingest: func(_ context.Context, f []fix.Fix) ([]fix.Result, error) { return make([]fix.Result, len(f)), nil }}})
	h := Header{Phone: "013900000001"}
	frame := func(id, serial uint16, body []byte) []byte {
		h.ID, h.Serial = id, serial
		fr, err := AppendFrame(nil, h, body)
		if err != nil {
			b.Fatal(err)
		}
		return fr
	}
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	const perRead = 20
	var chunk []byte
	for i := range perRead {
		loc := Location{Status: 2, Point: orb.Point{122.26, 43.62}, SpeedKPH: 30, Time: at.Add(time.Duration(i) * time.Second)}
		chunk = append(chunk, frame(MsgLocation, uint16(i+2), AppendLocation(nil, loc))...)
	}
	b.ReportAllocs()
	reads := b.N/perRead + 1
	conn := &loopConn{scriptConn: scriptConn{chunks: [][]byte{frame(MsgAuthenticate, 1, []byte(key))}}, chunk: chunk, reads: reads}
	b.ResetTimer()
	srv.serve(context.Background(), conn)
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(reads*perRead), "ns/frame")
}

// lineCounter is a log handler that counts the lines with each message.
type lineCounter struct {
	mu    sync.Mutex
	lines map[string]int
}

func (c *lineCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *lineCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines[r.Message]++
	return nil
}
func (c *lineCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *lineCounter) WithGroup(string) slog.Handler      { return c }

func (c *lineCounter) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines[msg]
}

// TestJT808ServerJunkLogsOnce sends a thousand broken frames and a
// hundred registrations of unknown phones over two connections from one
// address before any authentication: each kind of line is logged once,
// every broken frame counted.
func TestJT808ServerJunkLogsOnce(t *testing.T) {
	logs := &lineCounter{lines: map[string]int{}}
	reg := prometheus.NewRegistry()
	metrics := device.NewMetrics(reg)
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(logs), Metrics: metrics,
		Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}})
	addr := realtimetest.ServeTCP(t, srv)
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		junk := bytes.Repeat([]byte{flag, 0x01, 0x02, 0x03, flag}, 500)
		if _, err := conn.Write(junk); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	for i := range 100 {
		term := dial(t, addr, Header{Phone: fmt.Sprintf("01390000%04d", i)})
		if got, _ := term.register(); got == 0 {
			t.Fatalf("registration of unknown phone %d answered 0 (success)", i)
		}
		term.conn.Close()
	}
	realtimetest.WaitFor(t, "every broken frame counted", func() bool {
		return realtimetest.Counter(t, reg, "patrolgrid_malformed_input_total", "source", fix.SourceJT808) >= 1000
	})
	if n := logs.count("frame dropped"); n != 1 {
		t.Errorf("%d lines of frames dropped, want 1 for the address", n)
	}
	if n := logs.count("register refused"); n > 1 {
		t.Errorf("%d lines of registrations refused, want at most 1 for the address", n)
	}
}

// TestJT808ServerLoginThrottle guesses terminal phones: the connection
// closes at the fifth failed registration, the address is then shut out
// for a second, then for two after its next five failures, and a
// terminal that authenticates clears it.
func TestJT808ServerLoginThrottle(t *testing.T) {
	devices := device.NewRegistry(device.Config{})
	addTerminal(t, devices, "car-1", "V1", "13912345678")
	key := codeOf(t, devices, "13912345678")
	clock := realtimetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), Devices: devices, Now: clock.Now,
		Metrics: device.NewMetrics(reg), Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}})
	addr := realtimetest.ServeTCP(t, srv)
	closed := func(term *terminal) bool { // by the server: EOF, or a reset when a write came after
		term.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := term.r.ReadByte()
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	guess := func(n int) *terminal {
		term := dial(t, addr, Header{Phone: "013900000000"})
		for i := range n {
			term.h.Phone = fmt.Sprintf("01390000%04d", i)
			if got, code := term.register(); got != NoSuchTerminal || code != "" {
				t.Fatalf("guess %d: %d %q, want %d", i, got, code, NoSuchTerminal)
			}
		}
		return term
	}
	if !closed(guess(ingest.MaxAuthFailures)) {
		t.Fatalf("connection open after %d failed registrations, want closed", ingest.MaxAuthFailures)
	}
	shutOut := func(at time.Duration) bool {
		clock.Set(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC).Add(at))
		term := dial(t, addr, Header{Phone: "013912345678"})
		term.write(term.frame(MsgHeartbeat, nil))
		return closed(term)
	}
	if !shutOut(500 * time.Millisecond) {
		t.Error("a connection half a second after: served, want closed at once")
	}
	if shutOut(1100 * time.Millisecond) {
		t.Error("a connection after the 1 s shut-out: closed, want served")
	}
	closed(guess(ingest.MaxAuthFailures))
	if !shutOut(2900 * time.Millisecond) {
		t.Error("a connection 1.8 s after the second strike: served, want closed (shut out for 2 s)")
	}
	clock.Set(time.Date(2026, 12, 3, 10, 0, 4, 0, time.UTC))
	term := guess(ingest.MaxAuthFailures - 1)
	term.h.Phone = "013912345678"
	if got := term.general(MsgAuthenticate, []byte(key)); got != Success {
		t.Fatalf("authenticate after 4 failures: %d, want success", got)
	}
	closed(guess(ingest.MaxAuthFailures))
	if shutOut(5100 * time.Millisecond) {
		t.Error("after a login, a strike shuts out for 1 s again; closed after 1.1 s")
	}
	if n := realtimetest.Counter(t, reg, "patrolgrid_shut_out_total", "source", fix.SourceJT808); n != 5 {
		t.Errorf("%v connections shut out counted, want 5 (3 strikes, 2 at once)", n)
	}
}

// TestJT808ServerLoginTimeout closes a terminal that keeps sending
// heartbeats without authenticating once LoginTimeout is past, and keeps
// one that authenticated.
func TestJT808ServerLoginTimeout(t *testing.T) {
	devices := device.NewRegistry(device.Config{})
	addTerminal(t, devices, "car-1", "V1", "13912345678")
	key := codeOf(t, devices, "13912345678")
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), Devices: devices,
		LoginTimeout: 300 * time.Millisecond, Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}})
	addr := realtimetest.ServeTCP(t, srv)
	anonymous, member := dial(t, addr, Header{Phone: "013912345679"}), dial(t, addr, Header{Phone: "013912345678"})
	if got := member.general(MsgAuthenticate, []byte(key)); got != Success {
		t.Fatalf("authenticate: %d", got)
	}
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		member.general(MsgHeartbeat, nil)
		_, err := anonymous.conn.Write(anonymous.frame(MsgHeartbeat, nil))
		anonymous.conn.SetReadDeadline(time.Now().Add(time.Second))
		for b := []byte{flag}; err == nil && len(b) == 1; { // the reply, past its opening flag
			b, err = anonymous.r.ReadSlice(flag)
		}
		if err != nil {
			if took := time.Since(start); took < 250*time.Millisecond || took > 1500*time.Millisecond {
				t.Errorf("unauthenticated terminal closed after %v, want about the 300 ms login timeout", took)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("unauthenticated terminal still served 2 s after it connected, heartbeats answered")
}

// TestJT808ServerDeviceRateLimit: a terminal past its device's limit has
// its locations refused (result 1) and counted, and keeps its connection.
func TestJT808ServerDeviceRateLimit(t *testing.T) {
	devices := device.NewRegistry(device.Config{})
	addTerminal(t, devices, "car-1", "V1", "13912345678")
	reg := prometheus.NewRegistry()
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), Devices: devices, Metrics: device.NewMetrics(reg),
		DeviceLimits: ingest.NewLimits(2), Ingest: func(_ context.Context, f []fix.Fix) ([]fix.Result, error) { return make([]fix.Result, len(f)), nil }}})
	term := dial(t, realtimetest.ServeTCP(t, srv), Header{Phone: "013912345678"})
	_, code := term.register()
	if got := term.general(MsgAuthenticate, []byte(code)); got != Success {
		t.Fatalf("authenticate: %d", got)
	}
	at := time.Now().Add(-time.Minute)
	var results []byte
	for i := range 6 {
		loc := AppendLocation(nil, Location{Status: 2, Point: orb.Point{122.26, 43.62}, Time: at.Add(time.Duration(i) * time.Second),
			MileageKM: -1, Satellites: -1, Signal: -1})
		results = append(results, term.general(MsgLocation, loc))
	}
	if !bytes.Equal(results[:4], []byte{Success, Success, Success, Success}) || results[5] != Failure {
		t.Errorf("6 locations at once of a terminal limited to 2 a second (4 at once): results %v, want 4 successes then failures", results)
	}
	if got := term.general(MsgHeartbeat, nil); got != Success {
		t.Errorf("heartbeat after the limit: %d, want the connection served", got)
	}
	if n := realtimetest.Counter(t, reg, "patrolgrid_rate_limited_total", "source", fix.SourceJT808, "limit", "device"); n < 1 {
		t.Errorf("patrolgrid_rate_limited_total{jt808,device} = %v, want at least 1", n)
	}
}
