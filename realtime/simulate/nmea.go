package simulate

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/ingest/nmea"
)

// nmeaTracker is a legacy NMEA tracker of a run: a $PGID login line,
// then for each fix a GGA and a RMC of its second (the first fix a RMC
// alone, so that no GGA is ever dated by the server's clock). The server
// answers nothing; a refused login closes the connection.
type nmeaTracker struct {
	s     *simulation
	unit  Unit
	lane  lane
	stats *stats
	conn  net.Conn
	gone  chan struct{} // closed when the server has closed the connection
	out   []byte        // sentences of the round
	fixes int           // in out
	rmc   bool          // a RMC has been written
}

// dialNMEA connects the tracker of ln's unit and logs it in.
func (s *simulation) dialNMEA(ctx context.Context, ln lane, st *stats) (terminal, error) {
	u := s.units[ln.unit]
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.cfg.NMEAAddr)
	if err != nil {
		return nil, fmt.Errorf("nmea tracker %s (unit %s): %w", u.dev.ID, u.id, err)
	}
	t := &nmeaTracker{s: s, unit: u, lane: ln, stats: st, conn: conn, gone: make(chan struct{})}
	if _, err := conn.Write(nmeaLogin(u.dev)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("nmea tracker %s (unit %s): login: %w", u.dev.ID, u.id, err)
	}
	go func() { // stopped by close, which waits for it
		defer close(t.gone)
		_, _ = io.Copy(io.Discard, conn)
	}()
	return t, nil
}

// nmeaLogin returns the login line of dev: $PGID, its id and key.
func nmeaLogin(dev identity) []byte {
	s := "PGID," + dev.ID + "," + dev.Key
	var x byte
	for i := 0; i < len(s); i++ {
		x ^= s[i]
	}
	return fmt.Appendf(nil, "$%s*%02X\r\n", s, x)
}

func (t *nmeaTracker) ready() error {
	select {
	case <-t.gone:
		return fmt.Errorf("nmea tracker %s (unit %s) at %s: login refused: the server closed the connection",
			t.unit.dev.ID, t.unit.id, t.s.cfg.NMEAAddr)
	default:
		return nil
	}
}

func (t *nmeaTracker) run(ctx context.Context, t0 time.Time) {
	if err := pace(ctx, t0, []lane{t.lane}, tcpMinGap, t.emit, t.flush); err != nil {
		t.stats.update(func(c *counts) { c.failures = addCount(c.failures, "write", 1) })
	}
}

// emit adds the sentences of fix k to the round.
func (t *nmeaTracker) emit(l *lane, k int) {
	at := l.series.fixTime(k).UTC()
	p, heading := t.unit.At(at.UnixMilli())
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	if t.rmc {
		t.out = nmea.Append(t.out, nmea.Sentence{Kind: nmea.GGA, TimeOfDay: at.Sub(day), Valid: true,
			Point: p, SpeedKnots: -1, Course: -1, AltitudeM: 180, HDOP: 0.9, Satellites: 9})
	}
	t.out = nmea.Append(t.out, nmea.Sentence{Kind: nmea.RMC, TimeOfDay: at.Sub(day), Date: day, Valid: true,
		Point: p, SpeedKnots: t.unit.speedMPS / knotMPS, Course: heading, AltitudeM: math.NaN(), HDOP: -1, Satellites: -1})
	t.rmc = true
	t.fixes++
	if t.s.cfg.Watchers > 0 {
		t.s.sent.put(fixKey{t.unit.id, at.UnixMilli()}, time.Now())
	}
}

// flush writes the sentences of the round.
func (t *nmeaTracker) flush(bool) error {
	if t.fixes == 0 {
		return nil
	}
	t.stats.sent(t.fixes)
	out := t.out
	t.out, t.fixes = t.out[:0], 0
	if err := t.conn.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	_, err := t.conn.Write(out)
	return err
}

// close closes the connection, after the server has read what was
// written, and waits for the reader.
func (t *nmeaTracker) close() {
	t.conn.Close()
	<-t.gone
}
