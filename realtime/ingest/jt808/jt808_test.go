package jt808

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/paulmach/orb"
)

// capturedFrame is one line of jt808/traccar-frames.txt.
type capturedFrame struct {
	line  int
	id    string // message id as written, "0200"
	check string // the reference decoder's check, "verifyPosition"
	frame []byte // the whole frame, flags included
}

// readFrames reads the shared frames file: "# ..." comment lines,
// then "id check hex" per frame.
func readFrames(tb testing.TB, path string) []capturedFrame {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []capturedFrame
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Fields(line)
		if len(p) != 3 {
			tb.Fatalf("%s:%d: %d fields, want 3", path, n, len(p))
		}
		b, err := hex.DecodeString(p[2])
		if err != nil {
			tb.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, capturedFrame{line: n, id: p[0], check: p[1], frame: b})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// decodeCaptured decodes a frame of the shared file. The reference
// decoder's tests hand frames to the decoder after its frame decoder has
// unescaped them, so some lines hold a bare 0x7e or 0x7d inside; when
// escaped decoding fails on that, the content is taken as unescaped.
func decodeCaptured(frame []byte) (Message, error) {
	m, err := DecodeFrame(frame)
	if err != nil && len(frame) >= 2 && (strings.Contains(err.Error(), "flag 0x7e inside") || strings.Contains(err.Error(), "escape 0x7d")) {
		return decodeRaw(append([]byte(nil), frame[1:len(frame)-1]...))
	}
	return m, err
}

func TestJT808TraccarFrames(t *testing.T) {
	frames := readFrames(t, datatest.File(t, "jt808/traccar-frames.txt"))
	if len(frames) != 78 {
		t.Fatalf("read %d frames, want 78", len(frames))
	}
	var decoded, locFrames, locs, locErrs int
	for _, fr := range frames {
		m, err := decodeCaptured(fr.frame)
		if err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Errorf("line %d (%s): error %v does not wrap ErrJT808Frame", fr.line, fr.id, err)
			}
			t.Logf("line %d (%s %s): %v", fr.line, fr.id, fr.check, err)
		} else {
			decoded++
			if got := hex.EncodeToString([]byte{byte(m.Header.ID >> 8), byte(m.Header.ID)}); got != fr.id {
				t.Errorf("line %d: id %s, want %s", fr.line, got, fr.id)
			}
		}
		if fr.id != "0200" && fr.id != "0704" {
			continue
		}
		locFrames++
		got, err := frameLocations(m, err)
		if err != nil {
			locErrs++
			if !errors.Is(err, ErrFrame) && !errors.Is(err, ErrBody) || !strings.Contains(err.Error(), ":") {
				t.Errorf("line %d (%s): unclear error %v", fr.line, fr.id, err)
			}
			t.Logf("line %d (%s %s): refused: %v", fr.line, fr.id, fr.check, err)
			continue
		}
		if fr.check == "verifyPositions" && len(got) < 2 {
			t.Errorf("line %d: %d locations, want several", fr.line, len(got))
		}
		for _, l := range got {
			if math.Abs(l.Point.Lat()) > 90 || math.Abs(l.Point.Lon()) > 180 {
				t.Errorf("line %d: location %v out of range", fr.line, l.Point)
			}
		}
		locs += len(got)
	}
	t.Logf("%d frames: %d decoded; %d location frames gave %d locations, %d refused with an error",
		len(frames), decoded, locFrames, locs, locErrs)
	// Every location frame decodes but one whose check byte is wrong in
	// the capture (the reference decoder does not check it).
	if locErrs > 1 || locFrames != 54 || locs < 67 {
		t.Errorf("%d of %d location frames refused, %d locations, want at most 1 of 54 and 67 locations", locErrs, locFrames, locs)
	}
}

// frameLocations returns the locations of a 0x0200 or 0x0704 message.
func frameLocations(m Message, err error) ([]Location, error) {
	if err != nil {
		return nil, err
	}
	if m.Header.ID == MsgLocation {
		l, err := DecodeLocation(m.Body)
		return []Location{l}, err
	}
	b, err := DecodeBatch(m.Body)
	return b.Locations, err
}

// TestJT808TraccarFramesThroughSession hands every shared frame to an
// authenticated session, as the server would, and checks the replies.
func TestJT808TraccarFramesThroughSession(t *testing.T) {
	frames := readFrames(t, datatest.File(t, "jt808/traccar-frames.txt"))
	var fixes, registered, refused int
	devices := device.NewRegistry(device.Config{}) // every captured terminal is registered
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), Devices: devices, Ingest: func(_ context.Context, f []fix.Fix) ([]fix.Result, error) {
		fixes += len(f)
		return make([]fix.Result, len(f)), nil
	}}})
	// Each terminal is provisioned with the terminal id its registration
	// shows, if any; one whose id is not printable text cannot be, and is
	// refused.
	ids := map[string]string{}
	for _, fr := range frames {
		if m, err := decodeCaptured(fr.frame); err == nil && m.Header.ID == MsgRegister {
			if r, err := DecodeRegister(m.Header, m.Body); err == nil && printable(r.TerminalID) {
				ids[Phone(m.Header)] = r.TerminalID
			}
		}
	}
	for _, fr := range frames {
		m, err := decodeCaptured(fr.frame)
		if err != nil {
			continue
		}
		phone := Phone(m.Header)
		spec := device.Spec{ID: "t" + phone, Unit: "V1", Phone: phone, Terminal: cmp.Or(ids[phone], "none")}
		if _, err := devices.Seed(context.Background(), []device.Spec{spec}); err != nil {
			t.Fatal(err)
		}
		ss := &session{s: srv, log: srv.cfg.Logger, phone: Phone(m.Header), unit: "V1"}
		id, body := ss.handle(context.Background(), m)
		switch {
		case m.Header.ID == MsgTerminalReply:
			if id != 0 {
				t.Errorf("line %d: reply 0x%04x to a terminal reply", fr.line, id)
			}
		case m.Header.ID == MsgRegister && ids[phone] == "":
			if id != MsgRegisterAnswer || len(body) != 3 || body[2] != NoSuchTerminal {
				t.Errorf("line %d: register of a terminal id not provisioned answered 0x%04x % x", fr.line, id, body)
			}
			refused++
		case m.Header.ID == MsgRegister:
			registered++
			if id != MsgRegisterAnswer || len(body) < 3 || body[2] != Success {
				t.Errorf("line %d: register answered 0x%04x % x", fr.line, id, body)
			}
		case id != MsgPlatformReply || len(body) != 5:
			t.Errorf("line %d: answered 0x%04x % x, want a general reply", fr.line, id, body)
		}
	}
	t.Logf("%d fixes ingested; %d registrations answered, %d refused (terminal id not text)", fixes, registered, refused)
	if registered == 0 {
		t.Error("no registration answered")
	}
	if fixes < 50 {
		t.Errorf("%d fixes ingested, want at least 50", fixes)
	}
}

func TestJT808FrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Header
		body []byte
	}{
		{"2013 heartbeat", Header{ID: MsgHeartbeat, Phone: "013912345678", Serial: 7}, nil},
		{"2013 body with flag and escape bytes", Header{ID: 0x0900, Phone: "013912345678", Serial: 0x7e7d},
			[]byte{0x7e, 0x7d, 0x01, 0x02, 0x7d, 0x7e}},
		{"2019 header, 20-digit phone", Header{ID: MsgLocation, V2019: true, Version: 1,
			Phone: "00000866496077582164", Serial: 1}, bytes.Repeat([]byte{0x7e}, 40)},
		{"fragmented", Header{ID: 0x0801, Phone: "013912345678", Packets: 3, Packet: 2}, []byte("abc")},
		{"RSA bit", Header{ID: 0x0900, Phone: "013912345678", Encryption: 1}, []byte{1}},
		{"largest body", Header{ID: 0x0900, Phone: "013912345678"}, bytes.Repeat([]byte{0x7d}, MaxBody)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame, err := AppendFrame(nil, tc.h, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if len(frame) > MaxFrame || bytes.IndexByte(frame[1:len(frame)-1], flag) >= 0 {
				t.Fatalf("frame of %d bytes with a flag inside", len(frame))
			}
			m, err := DecodeFrame(frame)
			if err != nil {
				t.Fatal(err)
			}
			if m.Header != tc.h || !bytes.Equal(m.Body, tc.body) {
				t.Errorf("DecodeJT808Frame = %+v % x, want %+v % x", m.Header, m.Body, tc.h, tc.body)
			}
		})
	}
}

func TestJT808FrameErrors(t *testing.T) {
	good, _ := AppendFrame(nil, Header{ID: MsgHeartbeat, Phone: "13912345678", Serial: 1}, []byte{1, 2})
	fragmented, _ := AppendFrame(nil, Header{ID: 0x0801, Phone: "13912345678", Packets: 2, Packet: 1}, []byte{1})
	with := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{"empty", nil, "0 bytes"},
		{"flags only", []byte{0x7e, 0x7e}, "0 bytes"},
		{"short header", []byte{0x7e, 0x00, 0x02, 0x00, 0x00, 0x02, 0x7e}, "want at least"},
		{"bad check byte", with(func(b []byte) []byte { b[len(b)-2] ^= 0xff; return b }), "check byte"},
		{"escape at end", append(good[:len(good)-1:len(good)-1], 0x7d, 0x7e), "escape 0x7d"},
		{"bad escape", with(func(b []byte) []byte { b[3] = 0x7d; b[4] = 0x03; return b }), "escape 0x7d"},
		{"flag inside", with(func(b []byte) []byte { b[5] = 0x7e; return b }), "flag 0x7e inside"},
		{"body longer than header says", patched(good, func(raw []byte) []byte {
			return append(raw[:len(raw)-1:len(raw)-1], 9, 0)
		}), "header says 2"},
		{"2019 header cut short", patched(good, func(raw []byte) []byte { raw[2] |= 0x40; return raw }), "header needs 17"},
		{"zero packets", patched(fragmented, func(raw []byte) []byte { raw[12], raw[13] = 0, 0; return raw }), "0 packets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeFrame(tc.frame)
			if !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("DecodeJT808Frame(% x) = %v, want ErrJT808Frame saying %q", tc.frame, err, tc.want)
			}
		})
	}
}

// patched unescapes frame, applies f to the raw message (check byte
// last), fixes the check byte and escapes it again.
func patched(frame []byte, f func(raw []byte) []byte) []byte {
	raw, err := unescape(nil, frame)
	if err != nil {
		panic(err)
	}
	raw = f(raw)
	var sum byte
	for _, b := range raw[:len(raw)-1] {
		sum ^= b
	}
	raw[len(raw)-1] = sum
	out, _ := appendEscaped([]byte{flag}, raw, 0)
	return append(out, flag)
}

func TestAppendJT808FrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Header
		body []byte
	}{
		{"phone too long", Header{Phone: "1234567890123"}, nil},
		{"phone not digits", Header{Phone: "13912x45678"}, nil},
		{"body too long", Header{}, make([]byte, MaxBody+1)},
		{"encryption", Header{Encryption: 8}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := AppendFrame(nil, tc.h, tc.body); !errors.Is(err, ErrFrame) {
				t.Errorf("AppendJT808Frame = %v, want ErrJT808Frame", err)
			}
		})
	}
}

func TestJT808Phone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"013912345678", "13912345678"}, {"00000866496077582164", "866496077582164"}, {"000000000000", "0"}, {"", "0"},
	} {
		if got := Phone(Header{Phone: tc.in}); got != tc.want {
			t.Errorf("JT808Phone(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// locationBody returns a location body from its fields.
func locationBody(status uint32, lat, lon uint32, alt, speed, dir uint16, bcdTime string, extra ...byte) []byte {
	b := []byte{0, 0, 0, 1}
	b = append(b, byte(status>>24), byte(status>>16), byte(status>>8), byte(status))
	b = append(b, byte(lat>>24), byte(lat>>16), byte(lat>>8), byte(lat))
	b = append(b, byte(lon>>24), byte(lon>>16), byte(lon>>8), byte(lon))
	b = append(b, byte(alt>>8), byte(alt), byte(speed>>8), byte(speed), byte(dir>>8), byte(dir))
	tm, err := hex.DecodeString(bcdTime)
	if err != nil {
		panic(err)
	}
	return append(append(b, tm...), extra...)
}

const floatTol = 1e-9

func TestDecodeJT808Location(t *testing.T) {
	beijing := "261128180000" // 2026-11-28 18:00 in UTC+8 is 10:00 UTC
	at10 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name               string
		body               []byte
		lat, lon, alt, kph float64
		dir                uint16
		time               time.Time
		mileage            float64
		sats, signal       int
		positioned         bool
		err                string // "" for none
	}{
		{name: "north east, positioned", body: locationBody(2, 43620000, 122260000, 180, 452, 90, beijing),
			lat: 43.62, lon: 122.26, alt: 180, kph: 45.2, dir: 90, time: at10, mileage: -1, sats: -1, signal: -1, positioned: true},
		{name: "south west bits", body: locationBody(2|4|8, 27263378, 153037383, 0, 0, 359, beijing),
			lat: -27.263378, lon: -153.037383, dir: 359, time: at10, mileage: -1, sats: -1, signal: -1, positioned: true},
		{name: "not positioned", body: locationBody(0, 1, 2, 0xffff, 0, 0, beijing),
			lat: 1e-6, lon: 2e-6, alt: -1, time: at10, mileage: -1, sats: -1, signal: -1},
		{name: "time of zeros", body: locationBody(2, 1, 2, 0, 0, 0, "000000000000"),
			lat: 1e-6, lon: 2e-6, mileage: -1, sats: -1, signal: -1, positioned: true},
		{name: "day before in UTC", body: locationBody(2, 1, 2, 0, 0, 0, "261128070000"),
			lat: 1e-6, lon: 2e-6, time: time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC), mileage: -1, sats: -1, signal: -1, positioned: true},
		{name: "extras read and skipped", body: locationBody(2, 1, 2, 0, 0, 0, beijing,
			0x01, 4, 0, 0, 0x30, 0x39, 0x25, 4, 1, 2, 3, 4, 0x30, 1, 27, 0x31, 1, 12, 0xe1, 0),
			lat: 1e-6, lon: 2e-6, time: at10, mileage: 1234.5, sats: 12, signal: 27, positioned: true},
		{name: "truncated extra ignored", body: locationBody(2, 1, 2, 0, 0, 0, beijing, 0x31, 1, 9, 0x01, 4, 0),
			lat: 1e-6, lon: 2e-6, time: at10, mileage: -1, sats: 9, signal: -1, positioned: true},
		{name: "vendor text after the fixed part", body: locationBody(2, 1, 2, 0, 0, 0, beijing, []byte("*M00,45,1")...),
			lat: 1e-6, lon: 2e-6, time: at10, mileage: -1, sats: -1, signal: -1, positioned: true},
		{name: "short", body: locationBody(2, 1, 2, 0, 0, 0, beijing)[:27], err: "27 bytes, want at least 28"},
		{name: "latitude out of range", body: locationBody(2, 90000001, 2, 0, 0, 0, beijing), err: "latitude 90.000001"},
		{name: "longitude out of range", body: locationBody(2, 1, 180000001, 0, 0, 0, beijing), err: "longitude 180.000001"},
		{name: "time not BCD", body: locationBody(2, 1, 2, 0, 0, 0, "26112818000a"), err: "not BCD"},
		{name: "month 13", body: locationBody(2, 1, 2, 0, 0, 0, "261328180000"), err: "not a date"},
		{name: "February 30", body: locationBody(2, 1, 2, 0, 0, 0, "260230180000"), err: "not a date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := DecodeLocation(tc.body)
			if tc.err != "" {
				if !errors.Is(err, ErrBody) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("DecodeJT808Location = %v, want ErrJT808Body saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(l.Point.Lat()-tc.lat) > floatTol || math.Abs(l.Point.Lon()-tc.lon) > floatTol ||
				l.AltitudeM != tc.alt || math.Abs(l.SpeedKPH-tc.kph) > floatTol || l.Direction != tc.dir ||
				!l.Time.Equal(tc.time) || math.Abs(l.MileageKM-tc.mileage) > floatTol || l.Satellites != tc.sats ||
				l.Signal != tc.signal || l.Positioned() != tc.positioned {
				t.Errorf("DecodeJT808Location = %+v (positioned %v), want lat %v lon %v alt %v kph %v dir %v time %v mileage %v sats %v signal %v positioned %v",
					l, l.Positioned(), tc.lat, tc.lon, tc.alt, tc.kph, tc.dir, tc.time, tc.mileage, tc.sats, tc.signal, tc.positioned)
			}
		})
	}
}

func TestDecodeJT808Batch(t *testing.T) {
	item := locationBody(2, 43620000, 122260000, 0, 100, 0, "261128180000")
	batch := func(n uint16, kind byte, items ...[]byte) []byte {
		b := []byte{byte(n >> 8), byte(n), kind}
		for _, it := range items {
			b = append(append(b, byte(len(it)>>8), byte(len(it))), it...)
		}
		return b
	}
	for _, tc := range []struct {
		name     string
		body     []byte
		n        int
		backfill bool
		err      string
	}{
		{"two", batch(2, 0, item, item), 2, false, ""},
		{"backfill", batch(1, 1, item), 1, true, ""},
		{"none", batch(0, 0), 0, false, ""},
		{"short", []byte{0, 1}, 0, false, "2 bytes, want at least 3"},
		{"count above items", batch(3, 0, item, item), 2, false, "says 3 locations, holds 2"},
		{"item cut", batch(2, 0, item, item)[:3+2+len(item)+2+10], 1, false, "item 2 says 28 bytes, 10 left"},
		{"bad item", batch(2, 0, item, item[:20]), 1, false, "batch item 2: malformed jt808 body: location is 20 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DecodeBatch(tc.body)
			if len(b.Locations) != tc.n || b.Backfill != tc.backfill {
				t.Errorf("DecodeJT808Batch = %d locations, backfill %v, want %d, %v", len(b.Locations), b.Backfill, tc.n, tc.backfill)
			}
			if tc.err == "" && err != nil || tc.err != "" && (!errors.Is(err, ErrBody) || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("DecodeJT808Batch error = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestJT808LocationRoundTrip(t *testing.T) {
	in := Batch{Backfill: true, Locations: []Location{
		{Status: 3, Point: orb.Point{-122.26, -43.62}, AltitudeM: -12, SpeedKPH: 61.3, Direction: 271,
			Time: time.Date(2026, 11, 28, 10, 0, 1, 0, time.UTC), MileageKM: 12.5, Satellites: 7, Signal: 20},
		{Status: 2, Point: orb.Point{122.26, 43.62}, MileageKM: -1, Satellites: -1, Signal: -1},
	}}
	out, err := DecodeBatch(AppendBatch(nil, in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Locations) != 2 || !out.Backfill {
		t.Fatalf("round trip = %+v", out)
	}
	for i, l := range out.Locations {
		w := in.Locations[i]
		w.Status = l.Status // with the sign bits
		if math.Abs(l.Point.Lat()-w.Point.Lat()) > floatTol || math.Abs(l.Point.Lon()-w.Point.Lon()) > floatTol {
			t.Errorf("location %d point %v, want %v", i, l.Point, w.Point)
		}
		l.Point = w.Point
		if l != w {
			t.Errorf("location %d = %+v, want %+v", i, l, w)
		}
	}
}

func TestJT808Fix(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	f := Fix("V1", Location{Point: orb.Point{122.26, 43.62}, SpeedKPH: 36, Direction: 400, Time: at, AltitudeM: 5})
	want := fix.Fix{Unit: "V1", Time: at, Point: orb.Point{122.26, 43.62}, SpeedMPS: 10, Heading: -1, AltitudeM: 5, Battery: -1, Source: "jt808"}
	if f != want {
		t.Errorf("JT808Fix = %+v, want %+v", f, want)
	}
}

// FuzzJT808Frame decodes arbitrary frames, checks that what decodes
// encodes back to the same message, and runs the frame through an
// authenticated session. Seeds: the shared captures and synthetic frames.
func FuzzJT808Frame(f *testing.F) {
	if path, ok := datatest.Lookup(f, "jt808/traccar-frames.txt"); ok {
		for _, fr := range readFrames(f, path) {
			f.Add(fr.frame)
			if raw, err := decodeCaptured(fr.frame); err == nil {
				frame, _ := AppendFrame(nil, raw.Header, raw.Body)
				f.Add(frame)
			}
		}
	}
	loc := AppendLocation(nil, Location{Status: 2, Point: orb.Point{122.26, 43.62}, SpeedKPH: 30,
		Time: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), MileageKM: 1, Satellites: 5, Signal: 3})
	for _, h := range []Header{{ID: MsgLocation, Phone: "13912345678"}, {ID: MsgLocation, V2019: true, Version: 1, Phone: "13912345678"}} {
		frame, _ := AppendFrame(nil, h, loc)
		f.Add(frame)
		h.ID = MsgLocationBatch
		frame, _ = AppendFrame(nil, h, AppendBatch(nil, Batch{Locations: []Location{{Status: 2}, {Status: 6}}}))
		f.Add(frame)
	}
	srv := NewServer(Config{Config: ingest.Config{Logger: slog.New(slog.DiscardHandler), Ingest: func(_ context.Context, f []fix.Fix) ([]fix.Result, error) {
		return make([]fix.Result, len(f)), nil
	}}})
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := DecodeFrame(frame)
		if err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Fatalf("DecodeJT808Frame error %v does not wrap ErrJT808Frame", err)
			}
			return
		}
		again, err := AppendFrame(nil, m.Header, m.Body)
		if err != nil {
			t.Fatalf("AppendJT808Frame(%+v) = %v", m.Header, err)
		}
		m2, err := DecodeFrame(again)
		if err != nil || m2.Header != m.Header || !bytes.Equal(m2.Body, m.Body) {
			t.Fatalf("round trip = %+v % x, %v, want %+v % x", m2.Header, m2.Body, err, m.Header, m.Body)
		}
		fuzzLocation(t, m.Body)
		if b, err := DecodeBatch(m.Body); err != nil && !errors.Is(err, ErrBody) {
			t.Fatalf("DecodeJT808Batch error %v does not wrap ErrJT808Body", err)
		} else if len(b.Locations) > len(m.Body)/30 {
			t.Fatalf("DecodeJT808Batch gave %d locations from %d bytes", len(b.Locations), len(m.Body))
		}
		ss := &session{s: srv, log: srv.cfg.Logger, phone: Phone(m.Header), unit: "V1"}
		ss.handle(context.Background(), m)
	})
}

// fuzzLocation checks that a body that decodes as a location
// re-encodes to the same fixed fields.
func fuzzLocation(t *testing.T, body []byte) {
	l, err := DecodeLocation(body)
	if err != nil {
		if !errors.Is(err, ErrBody) {
			t.Fatalf("DecodeJT808Location error %v does not wrap ErrJT808Body", err)
		}
		return
	}
	if math.Abs(l.Point.Lat()) > 90 || math.Abs(l.Point.Lon()) > 180 || l.Time.IsZero() != bytes.Equal(body[22:28], make([]byte, 6)) {
		t.Fatalf("DecodeJT808Location = %+v from % x", l, body)
	}
	l2, err := DecodeLocation(AppendLocation(nil, l))
	if err != nil || l2.Point != l.Point || !l2.Time.Equal(l.Time) || l2.SpeedKPH != l.SpeedKPH || l2.Direction != l.Direction ||
		l2.AltitudeM != l.AltitudeM || l2.Alarm != l.Alarm {
		t.Fatalf("location round trip = %+v, %v, want %+v", l2, err, l)
	}
}

func BenchmarkDecodeJT808(b *testing.B) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	loc := Location{Status: 2, Point: orb.Point{122.26, 43.62}, SpeedKPH: 30, Time: at, MileageKM: 1, Satellites: 5, Signal: 3}
	for _, n := range []int{1, 10} {
		var body []byte
		id := MsgLocation
		if n == 1 {
			body = AppendLocation(nil, loc)
		} else {
			id = MsgLocationBatch
			body = AppendBatch(nil, Batch{Locations: slicesRepeat(loc, n)})
		}
		frame, err := AppendFrame(nil, Header{ID: id, Phone: "13912345678"}, body)
		if err != nil {
			b.Fatal(err)
		}
		name := map[int]string{1: "0x0200", 10: "0x0704x10"}[n]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, len(frame))
			var fixes int
			for b.Loop() {
				raw, _ := unescape(buf[:0], frame)
				m, err := decodeRaw(raw)
				if err != nil {
					b.Fatal(err)
				}
				locs, err := frameLocations(m, nil)
				if err != nil {
					b.Fatal(err)
				}
				fixes += len(locs)
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/s, "frames/s")
			b.ReportMetric(float64(fixes)/s, "fixes/s")
		})
	}
}

func slicesRepeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestJT808PhoneShared: a header of the phone a connection saw last
// shares its string; another phone, or the same digits in a header of
// the other edition, gets its own.
func TestJT808PhoneShared(t *testing.T) {
	raw := func(h Header) []byte {
		fr, err := AppendFrame(nil, h, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fr[1 : len(fr)-1]
	}
	last := "013900000001"
	for _, tc := range []struct {
		name   string
		h      Header
		phone  string
		shared bool
	}{
		{"same phone", Header{Phone: "13900000001"}, "013900000001", true},
		{"other phone", Header{Phone: "13900000002"}, "013900000002", false},
		{"2019 header", Header{Phone: "13900000001", V2019: true}, "00000000013900000001", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := decodeRawFrom(raw(tc.h), last)
			if err != nil {
				t.Fatal(err)
			}
			if m.Header.Phone != tc.phone {
				t.Errorf("phone %q, want %q", m.Header.Phone, tc.phone)
			}
			if shared := unsafe.StringData(m.Header.Phone) == unsafe.StringData(last); shared != tc.shared {
				t.Errorf("phone string shared: %v, want %v", shared, tc.shared)
			}
		})
	}
	dst := make([]byte, 0, 64)
	h := Header{ID: MsgPlatformReply, Phone: "13900000001", Serial: 7}
	if n := testing.AllocsPerRun(100, func() { AppendFrame(dst[:0], h, []byte{1, 2, 3, 4, 5}) }); n != 0 {
		t.Errorf("AppendJT808Frame allocates %v times, want 0", n)
	}
}

// TestRegisterBody: a 0x0100 body written by go-jt808 decodes to its
// terminal id in both editions, and AppendRegister writes what
// DecodeRegister reads.
func TestRegisterBody(t *testing.T) {
	for _, v2019 := range []bool{false, true} {
		want := Register{Province: 15, City: 502, Maker: "PGRID", Model: "simulate", TerminalID: "V05", PlateColor: 1}
		got, err := DecodeRegister(Header{V2019: v2019}, AppendRegister(nil, v2019, want, "SIM-V05"))
		if err != nil || got != want {
			t.Errorf("2019 %v: DecodeRegister(AppendRegister(%+v)) = %+v, %v", v2019, want, got, err)
		}
		if _, err := DecodeRegister(Header{V2019: v2019}, make([]byte, 24)); !errors.Is(err, ErrBody) {
			t.Errorf("2019 %v: a short body = %v, want ErrBody", v2019, err)
		}
	}
}

// printable reports whether s is 1 to 30 printable ASCII characters, as a
// terminal id given to the registry must be.
func printable(s string) bool {
	return s != "" && len(s) <= 30 && !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' })
}

// FuzzJT808Register decodes arbitrary 0x0100 bodies: no panic, an error
// wrapping ErrBody for a refusal, and what decodes is written back to a
// body that decodes the same.
func FuzzJT808Register(f *testing.F) {
	f.Add(false, AppendRegister(nil, false, Register{Province: 15, City: 502, Maker: "PGRID", Model: "m", TerminalID: "V05"}, "SIM"))
	f.Add(true, AppendRegister(nil, true, Register{Maker: "PGRID", TerminalID: strings.Repeat("T", 30)}, ""))
	f.Add(false, make([]byte, 25))
	f.Add(false, []byte{0, 1})
	f.Fuzz(func(t *testing.T, v2019 bool, body []byte) {
		h := Header{V2019: v2019}
		r, err := DecodeRegister(h, body)
		if err != nil {
			if !errors.Is(err, ErrBody) {
				t.Fatalf("DecodeRegister = %v, want ErrBody", err)
			}
			return
		}
		if !v2019 && len(body) < 37 {
			return // a 2011 body; AppendRegister writes the 2013 layout
		}
		back, err := DecodeRegister(h, AppendRegister(nil, v2019, r, ""))
		if err != nil || back != r {
			t.Fatalf("%+v written back decodes as %+v, %v", r, back, err)
		}
	})
}
