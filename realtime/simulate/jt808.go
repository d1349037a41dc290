package simulate

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/ingest/jt808"
)

// jt808Terminal is a JT/T 808 (2013) terminal of a run: it registers
// or goes straight to authentication, then sends the locations of its
// lane as 0x0200 frames or 0x0704 batches, and counts the general replies
// (0x8001) to them. One goroutine writes (run), one reads replies.
type jt808Terminal struct {
	s     *simulation
	unit  Unit
	lane  lane
	stats *stats
	conn  net.Conn
	r     *bufio.Reader
	h     jt808.Header // the terminal's phone; ID and Serial set per message

	// Owned by the writer.
	t0     time.Time
	serial uint16
	body   []byte
	out    []byte           // frames of the round
	frames []jt808Pending   // of the round, without their send time
	locs   []jt808.Location // of the 0x0704 being gathered
	locsAt time.Time        // when the first of locs fell due
	err    error            // of a frame that could not be encoded

	mu      sync.Mutex
	pending []jt808Pending // written frames awaiting their reply, oldest first
	readErr error          // why the reader stopped; set before done closes
	done    chan struct{}  // closed when the reader stops
}

// jt808Pending is a written location frame.
type jt808Pending struct {
	serial   uint16
	fixes    int
	at       time.Time // when it was written
	measured bool      // after the warm-up: its latency counts
}

// jt808Results names the results of a general reply that refuse.
var jt808Results = map[byte]string{
	jt808.Failure:     "jt808_failure",
	jt808.BadMessage:  "jt808_bad_message",
	jt808.Unsupported: "jt808_unsupported",
}

// dialJT808 connects the terminal of ln's unit and authenticates it.
func (s *simulation) dialJT808(ctx context.Context, ln lane, st *stats) (terminal, error) {
	u := s.units[ln.unit]
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.cfg.JT808Addr)
	if err != nil {
		return nil, fmt.Errorf("jt808 terminal %s (unit %s): %w", u.dev.Phone, u.id, err)
	}
	t := &jt808Terminal{s: s, unit: u, lane: ln, stats: st, conn: conn, r: bufio.NewReaderSize(conn, 4096),
		h: jt808.Header{Phone: u.dev.Phone}, done: make(chan struct{})}
	s.logins[ln.unit].Lock()
	err = t.handshake()
	s.logins[ln.unit].Unlock()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("jt808 terminal %s (unit %s) at %s: %w", u.dev.Phone, u.id, s.cfg.JT808Addr, err)
	}
	go t.read() // stopped by close, which waits for it
	return t, nil
}

// handshake registers, which draws the terminal's authentication code,
// and authenticates with the code.
func (t *jt808Terminal) handshake() error {
	if err := t.conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	serial, err := t.writeMessage(jt808.MsgRegister, jt808RegisterBody(t.unit))
	if err != nil {
		return err
	}
	m, err := t.readMessage()
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if m.Header.ID != jt808.MsgRegisterAnswer || len(m.Body) < 3 || binary.BigEndian.Uint16(m.Body) != serial {
		return fmt.Errorf("register: answered by 0x%04x % x, want 0x8100", m.Header.ID, m.Body)
	}
	if m.Body[2] != jt808.Success {
		return fmt.Errorf("register refused: result %d (4: no such terminal)", m.Body[2])
	}
	code := m.Body[3:]
	serial, err = t.writeMessage(jt808.MsgAuthenticate, code)
	if err != nil {
		return err
	}
	m, err = t.readMessage()
	if err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	if m.Header.ID != jt808.MsgPlatformReply || len(m.Body) != 5 || binary.BigEndian.Uint16(m.Body) != serial {
		return fmt.Errorf("authenticate: answered by 0x%04x % x, want 0x8001", m.Header.ID, m.Body)
	}
	if m.Body[4] != jt808.Success {
		return fmt.Errorf("authentication refused: result %d", m.Body[4])
	}
	return t.conn.SetDeadline(time.Time{})
}

// jt808RegisterBody returns a 2013 registration of u's terminal, in
// Tongliao, Inner Mongolia, with a blue plate.
func jt808RegisterBody(u Unit) []byte {
	r := jt808.Register{Province: 15, City: 502, Maker: "PGRID", Model: "simulate", TerminalID: u.dev.Terminal, PlateColor: 1}
	return jt808.AppendRegister(nil, false, r, "SIM-"+u.id)
}

// writeMessage writes one message and returns its serial.
func (t *jt808Terminal) writeMessage(id uint16, body []byte) (uint16, error) {
	t.serial++
	h := t.h
	h.ID, h.Serial = id, t.serial
	b, err := jt808.AppendFrame(nil, h, body)
	if err != nil {
		return 0, err
	}
	_, err = t.conn.Write(b)
	return t.serial, err
}

// readMessage reads the next message during the handshake.
func (t *jt808Terminal) readMessage() (jt808.Message, error) {
	for {
		b, err := t.r.ReadSlice(0x7e)
		if err != nil {
			return jt808.Message{}, err
		}
		if len(b) > 1 {
			return jt808.DecodeFrame(b)
		}
	}
}

func (t *jt808Terminal) ready() error { return nil }

func (t *jt808Terminal) run(ctx context.Context, t0 time.Time) {
	t.t0 = t0
	err := pace(ctx, t0, []lane{t.lane}, tcpMinGap, t.emit, t.flush)
	if err != nil {
		t.stats.update(func(c *counts) { c.failures = addCount(c.failures, "write", 1) })
	}
	t.drain(ctx)
}

// emit adds fix k of lane l to the round: a 0x0200 frame, or a location
// of the 0x0704 being gathered.
func (t *jt808Terminal) emit(l *lane, k int) {
	at := l.series.fixTime(k)
	p, heading := t.unit.At(at.UnixMilli())
	loc := jt808.Location{Status: 0b11, Point: p, SpeedKPH: t.unit.speedMPS * 3.6,
		Direction: uint16(heading) % 360, Time: at, MileageKM: -1, Satellites: 9, Signal: -1}
	if t.s.cfg.Watchers > 0 {
		t.s.sent.put(fixKey{t.unit.id, at.UnixMilli()}, time.Now())
	}
	if t.s.cfg.Batch == 1 {
		t.body = jt808.AppendLocation(t.body[:0], loc)
		t.appendFrame(jt808.MsgLocation, 1)
		return
	}
	if len(t.locs) == 0 {
		t.locsAt = l.series.due(t.t0, k)
	}
	if t.locs = append(t.locs, loc); len(t.locs) == t.s.cfg.Batch {
		t.appendBatch()
	}
}

func (t *jt808Terminal) appendBatch() {
	t.body = jt808.AppendBatch(t.body[:0], jt808.Batch{Locations: t.locs})
	t.appendFrame(jt808.MsgLocationBatch, len(t.locs))
	t.locs = t.locs[:0]
}

// appendFrame adds the frame of message id with t.body to the round.
func (t *jt808Terminal) appendFrame(id uint16, fixes int) {
	t.serial++
	h := t.h
	h.ID, h.Serial = id, t.serial
	out, err := jt808.AppendFrame(t.out, h, t.body)
	if err != nil { // the body fits by construction (MaxJT808Batch)
		t.err = cmp.Or(t.err, err)
		return
	}
	t.out = out
	t.frames = append(t.frames, jt808Pending{serial: t.serial, fixes: fixes})
}

// flush writes the frames of the round; a partial 0x0704 goes when it
// has waited a second, or at the end.
func (t *jt808Terminal) flush(done bool) error {
	if t.err != nil {
		return t.err
	}
	if len(t.locs) > 0 && (done || time.Since(t.locsAt) >= time.Second) {
		t.appendBatch()
	}
	if len(t.out) == 0 {
		return nil
	}
	now := time.Now()
	measured := !now.Before(t.s.measureFrom)
	fixes := 0
	t.mu.Lock()
	for _, f := range t.frames {
		f.at, f.measured = now, measured
		t.pending = append(t.pending, f)
		fixes += f.fixes
	}
	t.mu.Unlock()
	t.stats.sent(fixes)
	out := t.out
	t.out, t.frames = t.out[:0], t.frames[:0]
	if err := t.conn.SetWriteDeadline(now.Add(10 * time.Second)); err != nil {
		return err
	}
	_, err := t.conn.Write(out)
	return err
}

// read counts the general replies to location frames until the
// connection closes.
func (t *jt808Terminal) read() {
	defer close(t.done)
	var buf []byte
	for {
		b, err := t.r.ReadSlice(0x7e)
		if err != nil {
			t.mu.Lock()
			t.readErr = err
			t.mu.Unlock()
			return
		}
		if len(b) <= 1 {
			continue
		}
		serial, id, result, ok := jt808Reply(b[:len(b)-1], &buf)
		if !ok || id != jt808.MsgLocation && id != jt808.MsgLocationBatch {
			continue
		}
		now := time.Now()
		p, skipped, ok := t.answered(serial)
		t.stats.update(func(c *counts) {
			c.outcome(outcome{failed, "no_reply"}, int64(skipped))
			if !ok {
				return
			}
			o := outcome{kind: accepted}
			if result != jt808.Success {
				o = outcome{rejected, jt808Results[result]}
				if o.code == "" {
					o.code = fmt.Sprintf("jt808_result_%d", result)
				}
			}
			c.outcome(o, int64(p.fixes))
			if p.measured {
				c.lat.record(now.Sub(p.at))
			}
		})
	}
}

// answered takes the pending frame of serial and those written before
// it, which the server skipped; ok is false for a serial not pending.
func (t *jt808Terminal) answered(serial uint16) (p jt808Pending, skippedFixes int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, q := range t.pending {
		if q.serial == serial {
			for _, s := range t.pending[:i] {
				skippedFixes += s.fixes
			}
			t.pending = t.pending[i+1:]
			return q, skippedFixes, true
		}
	}
	return p, 0, false
}

// drain waits at most cfg.Drain for the replies to every written frame.
func (t *jt808Terminal) drain(ctx context.Context) {
	deadline := time.Now().Add(t.s.cfg.Drain)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		n := len(t.pending)
		t.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-t.done:
			return
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// close closes the connection, waits for the reader and counts the
// frames left without a reply.
func (t *jt808Terminal) close() {
	t.conn.Close()
	<-t.done
	t.mu.Lock()
	fixes := 0
	for _, p := range t.pending {
		fixes += p.fixes
	}
	t.pending = nil
	reason := "no_reply"
	if t.readErr != nil && !errors.Is(t.readErr, net.ErrClosed) {
		reason = "connection_lost"
	}
	t.mu.Unlock()
	t.stats.update(func(c *counts) { c.outcome(outcome{failed, reason}, int64(fixes)) })
}

// jt808Reply reads a platform general reply (0x8001) from a frame
// without its flags: the serial and id of the message it answers and the
// result. ok is false for any other message and for a malformed frame.
// *buf is reused for the unescaped bytes.
func jt808Reply(frame []byte, buf *[]byte) (serial, id uint16, result byte, ok bool) {
	b := (*buf)[:0]
	for i := 0; i < len(frame); i++ {
		c := frame[i]
		if c == 0x7d {
			if i+1 == len(frame) || frame[i+1] != 0x01 && frame[i+1] != 0x02 {
				return 0, 0, 0, false
			}
			i++
			c = 0x7c + frame[i]
		}
		b = append(b, c)
	}
	*buf = b
	if len(b) < 13 {
		return 0, 0, 0, false
	}
	var sum byte
	for _, x := range b[:len(b)-1] {
		sum ^= x
	}
	props := binary.BigEndian.Uint16(b[2:])
	hdr := 12
	if props&(1<<14) != 0 {
		hdr = 17
	}
	if props&(1<<13) != 0 {
		hdr += 4
	}
	if sum != b[len(b)-1] || binary.BigEndian.Uint16(b) != jt808.MsgPlatformReply ||
		props&jt808.MaxBody != 5 || len(b) != hdr+5+1 {
		return 0, 0, 0, false
	}
	body := b[hdr:]
	return binary.BigEndian.Uint16(body), binary.BigEndian.Uint16(body[2:]), body[4], true
}
