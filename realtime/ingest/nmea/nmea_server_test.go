package nmea

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/patrolgrid/patrolgrid/data/datatest"
	pgeo "github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// sendAll writes b on a new connection to addr, half-closes it and waits
// until the server closes it, so that every line has been handled.
func sendAll(t *testing.T, addr string, b []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Fatalf("waiting for the server to finish: %v", err)
	}
}

// TestNMEAServerReplaysLogs sends each shared gpsd log, after a login,
// through the server over TCP and checks the track that arrives.
func TestNMEAServerReplaysLogs(t *testing.T) {
	for _, lg := range logs {
		t.Run(lg.file, func(t *testing.T) {
			lines := readLog(t, datatest.File(t, "nmea/"+lg.file))
			rec := &realtimetest.RecordingIngest{}
			devices := device.NewRegistry(device.Config{})
			_, key := citytest.MustAdd(t, devices, device.Spec{ID: "TRK1", Unit: "U-TRK1", Protocol: fix.SourceNMEA})
			srv := NewServer(Config{Config: ingest.Config{Ingest: rec.Ingest, Logger: slog.New(slog.DiscardHandler), Devices: devices}})
			addr := realtimetest.ServeTCP(t, srv)
			var b bytes.Buffer
			b.WriteString("$PGID,TRK1," + key + "\r\n")
			for _, l := range lines {
				b.Write(l)
				b.WriteString("\r\n")
			}
			sendAll(t, addr, b.Bytes())

			got, want := rec.Fixes(), logTrack(lines)
			if len(got) != len(want) {
				t.Fatalf("%d fixes, want %d (the log's RMC sentences with a fix)", len(got), len(want))
			}
			var far, length float64
			segments := 1 // a log may splice captures: time going back starts a new one
			for i, f := range got {
				if !f.Time.Truncate(time.Second).Equal(want[i]) {
					t.Errorf("fix %d at %v, want %v", i, f.Time, want[i])
				}
				if f.Unit != "U-TRK1" || f.Source != fix.SourceNMEA || f.SpeedMPS < 0 || f.SpeedMPS > 50 {
					t.Errorf("fix %d = %+v", i, f)
				}
				far = max(far, geo.Distance(f.Point, lg.where))
				if i == 0 {
					continue
				}
				d, dt := geo.Distance(f.Point, got[i-1].Point), f.Time.Sub(got[i-1].Time).Seconds()
				switch {
				case dt < 0:
					segments++
				case dt == 0 || d/dt > 60:
					t.Errorf("fix %d: %vs after the previous, %.0f m away", i, dt, d)
				default:
					length += d
				}
			}
			t.Logf("%d fixes in %d segments from %v, track %.0f m, at most %.1f km from %v",
				len(got), segments, got[0].Time, length, far/1000, lg.where)
			if far > 30e3 {
				t.Errorf("a fix %.1f km from where the log was recorded", far/1000)
			}
		})
	}
}

func TestNMEAServerEndToEnd(t *testing.T) {
	c := citytest.StartSquare(t, nil)
	var post orb.Point
	for _, u := range c.Plan().Units {
		if u.ID == "F1" {
			post = pgeo.CellCenter(u.Post)
		}
	}
	devices := device.NewRegistry(device.Config{})
	_, key := citytest.MustAdd(t, devices, device.Spec{ID: "860000000000001", Unit: "F1", Protocol: fix.SourceNMEA})
	srv := NewServer(Config{Config: ingest.Config{Ingest: c.Ingest, Logger: slog.New(slog.DiscardHandler), Now: c.Clock.Now, Devices: devices}})
	addr := realtimetest.ServeTCP(t, srv)

	silent, err := net.Dial("tcp", addr) // says nothing and must block no one
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	at := c.Clock.Now().Add(-time.Minute)
	rmc := func(at time.Time, dLat float64) []byte {
		return Append(nil, Sentence{Kind: RMC, TimeOfDay: at.Sub(at.Truncate(24 * time.Hour)), Date: at.Truncate(24 * time.Hour),
			Valid: true, Point: orb.Point{post.Lon(), post.Lat() + dLat}, SpeedKnots: 1, Course: 180, AltitudeM: math.NaN()})
	}
	write := func(b []byte) {
		t.Helper()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	write(rmc(at.Add(-10*time.Second), 0.001)) // before the login: dropped
	write([]byte("$PGID,860000000000001," + key + "\r\n"))
	write(rmc(at, 0))
	realtimetest.WaitFor(t, "F1's fix", func() bool {
		v := citytest.UnitView(c.City, "F1")
		return v.Time != nil && v.Time.Equal(at) && math.Abs(*v.Lat-post.Lat()) < 1e-5 && *v.Heading == 180
	})
	var w []byte
	w = append(w, "garbage\n$GPRMC,bad*00\r\n"...)
	w = append(w, strings.Repeat("x", 4*MaxLine)+"\n"...)     // too long: dropped
	w = append(w, rmc(at.Add(5*time.Second), 0.0001)[:10]...) // split across writes
	write(w)
	time.Sleep(10 * time.Millisecond)
	write(rmc(at.Add(5*time.Second), 0.0001)[10:])
	realtimetest.WaitFor(t, "F1's second fix", func() bool {
		v := citytest.UnitView(c.City, "F1")
		return v.Time != nil && v.Time.Equal(at.Add(5*time.Second)) && math.Abs(*v.Lat-(post.Lat()+0.0001)) < 1e-5
	})

	// An unknown device, a wrong key and a missing one are shown the door.
	for _, login := range []string{"$PGID,nobody," + key, "$PGID,860000000000001,guess", "$PGID,860000000000001"} {
		if !closedAfter(t, addr, login+"\r\n") {
			t.Errorf("connection still open after %q, want it closed", login)
		}
	}

	// Once the device is revoked, its next sentence closes the connection.
	if _, err := devices.Revoke(context.Background(), "860000000000001"); err != nil {
		t.Fatal(err)
	}
	write(rmc(at.Add(10*time.Second), 0))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read after a sentence of a revoked device = %v, want EOF", err)
	}
	if v := citytest.UnitView(c.City, "F1"); !v.Time.Equal(at.Add(5 * time.Second)) {
		t.Errorf("F1's latest fix at %v after revocation, want the one before it (%v)", v.Time, at.Add(5*time.Second))
	}
}

// closedAfter writes b on a new connection to addr and reports whether
// the server closes it (EOF, or a reset when it closed before reading b).
func closedAfter(t *testing.T, addr, b string) bool {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, b)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestNMEAServerKeyOptional: on the loopback demo, a login without a key
// is taken for an active device; a wrong key is still refused.
func TestNMEAServerKeyOptional(t *testing.T) {
	devices := device.NewRegistry(device.Config{})
	citytest.MustAdd(t, devices, device.Spec{ID: "V01", Unit: "V01", Protocol: fix.SourceNMEA, Key: "demo-V01"})
	citytest.MustAdd(t, devices, device.Spec{ID: "V02", Unit: "V02", Protocol: fix.SourceNMEA})
	if _, err := devices.Revoke(context.Background(), "V02"); err != nil {
		t.Fatal(err)
	}
	rec := &realtimetest.RecordingIngest{}
	srv := NewServer(Config{Config: ingest.Config{Ingest: rec.Ingest, Logger: slog.New(slog.DiscardHandler), Devices: devices}, KeyOptional: true})
	addr := realtimetest.ServeTCP(t, srv)
	rmc := "$GPRMC,100000,A,4337.0000,N,12215.0000,E,0.0,0.0,281126,,\r\n"
	sendAll(t, addr, []byte("$PGID,V01\r\n"+rmc))
	if got := rec.Fixes(); len(got) != 1 || got[0].Unit != "V01" {
		t.Errorf("fixes after a login without key = %+v, want one of V01", got)
	}
	for _, login := range []string{"$PGID,V01,guess", "$PGID,V02", "$PGID,V03"} {
		if !closedAfter(t, addr, login+"\r\n") {
			t.Errorf("connection still open after %q, want it closed", login)
		}
	}
}

// TestNMEAServerIdleTimeout: a tracker that logs in and then falls silent
// is closed once IdleTimeout has passed, not before.
func TestNMEAServerIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), IdleTimeout: idle,
		Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}})
	addr := realtimetest.ServeTCP(t, srv)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Write([]byte("$GPGGA,,,,,,0,,,,,,,,*66\r\n")); err != nil { // dropped before login
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read on an idle connection = %v, want EOF (closed by the server)", err)
	}
	if silent := time.Since(start); silent < idle {
		t.Errorf("closed after %v of silence, want at least %v", silent, idle)
	}
}

// TestNMEAServerLoginThrottle refuses five logins from one address, which
// then is shut out for a second: its next connection is closed at once,
// even with the right key, and taken once the second is past.
func TestNMEAServerLoginThrottle(t *testing.T) {
	devices := device.NewRegistry(device.Config{})
	_, key := citytest.MustAdd(t, devices, device.Spec{ID: "TRK1", Unit: "V01", Protocol: fix.SourceNMEA})
	clock := realtimetest.NewClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	rec := &realtimetest.RecordingIngest{}
	srv := NewServer(Config{Config: ingest.Config{Ingest: rec.Ingest, Logger: slog.New(slog.DiscardHandler), Devices: devices, Now: clock.Now}})
	addr := realtimetest.ServeTCP(t, srv)
	for i := range ingest.MaxAuthFailures {
		if !closedAfter(t, addr, fmt.Sprintf("$PGID,TRK1,guess%d\r\n", i)) {
			t.Fatalf("guess %d: connection open, want closed", i)
		}
	}
	login := "$PGID,TRK1," + key + "\r\n$GPRMC,100000,A,4337.0000,N,12215.0000,E,0.0,0.0,031226,,\r\n"
	if !closedAfter(t, addr, login) {
		t.Error("the right login while shut out: connection open, want closed at once")
	}
	clock.Set(clock.Now().Add(1100 * time.Millisecond))
	sendAll(t, addr, []byte(login))
	realtimetest.WaitFor(t, "the fix of the login after the shut-out", func() bool { return len(rec.Fixes()) == 1 })
}
