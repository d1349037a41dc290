package jt808

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/paulmach/orb"
)

// JT/T 808 framing: a frame is 0x7e, the escaped message, 0x7e. Inside it
// 0x7e travels as 0x7d 0x02 and 0x7d as 0x7d 0x01. The message is the
// header, the body and one check byte, the XOR of header and body.
const (
	flag   = 0x7e
	escape = 0x7d
	// MaxBody is the largest body a message can carry: its length
	// is a 10-bit field of the header.
	MaxBody = 1<<10 - 1
	// MaxFrame is the largest escaped frame, flags included, in
	// bytes: a 2019 header with packet fields (21 bytes), the largest
	// body and the check byte, each byte possibly escaped, plus two flags.
	MaxFrame = 2*(21+MaxBody+1) + 2
)

// Message ids of JT/T 808 that the server speaks.
const (
	MsgTerminalReply  uint16 = 0x0001 // terminal general reply
	MsgHeartbeat      uint16 = 0x0002
	MsgLogout         uint16 = 0x0003
	MsgRegister       uint16 = 0x0100
	MsgAuthenticate   uint16 = 0x0102
	MsgLocation       uint16 = 0x0200
	MsgLocationBatch  uint16 = 0x0704
	MsgPlatformReply  uint16 = 0x8001 // platform general reply
	MsgRegisterAnswer uint16 = 0x8100
)

// Results of a platform general reply (0x8001) and of a register answer
// (0x8100), as the standard numbers them.
const (
	Success     byte = 0 // 0x8001 and 0x8100
	Failure     byte = 1 // 0x8001
	BadMessage  byte = 2 // 0x8001
	Unsupported byte = 3 // 0x8001
	// NoSuchTerminal is the 0x8100 result for a terminal the
	// platform does not know.
	NoSuchTerminal byte = 4
)

// The ways a JT/T 808 frame or body is malformed; callers tell them apart
// with errors.Is. The wrapping message says what exactly is wrong.
var (
	// ErrFrame reports a frame that cannot be a message: bad
	// escape, wrong check byte, too short, too long, or a body length
	// that disagrees with the header.
	ErrFrame = errors.New("malformed jt808 frame")
	// ErrBody reports a message whose body does not hold what its id
	// promises: a truncated location, coordinates out of range, a time
	// that is not BCD or not a date.
	ErrBody = errors.New("malformed jt808 body")
)

// Header is the header of a JT/T 808 message. The zero value is a
// 2013 header of message 0 from phone 000000000000.
type Header struct {
	// ID is the message id (0x0200 for a location).
	ID uint16
	// V2019 is set for a 2019 header: bit 14 of the properties, a
	// protocol version byte and a 10-byte phone.
	V2019 bool
	// Version is the protocol version byte of a 2019 header (1 for the
	// first 2019 edition); unused in 2013 headers.
	Version byte
	// Phone is the terminal phone number as the hex digits of its BCD
	// field: 12 digits in a 2013 header, 20 in a 2019 one, leading zeros
	// kept ("013912345678"). Digits a-f appear only if a terminal sends
	// them. See Phone for the form device lookups use.
	Phone string
	// Serial is the message serial number, counted by the sender.
	Serial uint16
	// Encryption is bits 10 to 12 of the properties: 0 plain, 1 RSA.
	Encryption byte
	// Packets and Packet are the total number of packets and the number
	// of this one (from 1) of a fragmented message; both 0 otherwise.
	Packets, Packet uint16
}

// Fragmented reports whether the message is one packet of several.
func (h Header) Fragmented() bool { return h.Packets != 0 }

// Phone returns the phone of a header without its leading zeros, the
// form under which terminals are registered ("013912345678" is
// "13912345678"); "0" for a phone of zeros.
func Phone(h Header) string {
	if h.Phone == "" {
		return "0"
	}
	return device.TrimPhone(h.Phone)
}

// Message is one decoded JT/T 808 message.
type Message struct {
	Header Header
	// Body is the message body, unescaped; it aliases the buffer the
	// frame was decoded into.
	Body []byte
}

// DecodeFrame decodes one frame: the bytes between two 0x7e flags,
// with or without the flags themselves. It unescapes into a new buffer,
// checks the XOR check byte, reads the 2013 or 2019 header and checks the
// body length against it. Errors wrap ErrFrame. It does not look
// into the body; see DecodeLocation and DecodeBatch. It is safe
// for concurrent use.
func DecodeFrame(frame []byte) (Message, error) {
	raw, err := unescape(make([]byte, 0, len(frame)), frame)
	if err != nil {
		return Message{}, err
	}
	return decodeRaw(raw)
}

// unescape appends the unescaped content of frame to dst, dropping a
// leading and a trailing flag.
func unescape(dst, frame []byte) ([]byte, error) {
	if len(frame) > 0 && frame[0] == flag {
		frame = frame[1:]
	}
	if len(frame) > 0 && frame[len(frame)-1] == flag {
		frame = frame[:len(frame)-1]
	}
	for i := 0; i < len(frame); i++ {
		b := frame[i]
		switch {
		case b == flag:
			return nil, fmt.Errorf("%w: flag 0x7e inside the frame at byte %d", ErrFrame, i)
		case b != escape:
			dst = append(dst, b)
		case i+1 < len(frame) && frame[i+1] == 0x02:
			dst, i = append(dst, flag), i+1
		case i+1 < len(frame) && frame[i+1] == 0x01:
			dst, i = append(dst, escape), i+1
		default:
			return nil, fmt.Errorf("%w: escape 0x7d at byte %d not followed by 0x01 or 0x02", ErrFrame, i)
		}
	}
	return dst, nil
}

// decodeRaw decodes an unescaped message: header, body, check byte.
func decodeRaw(raw []byte) (Message, error) { return decodeRawFrom(raw, "") }

// decodeRawFrom is decodeRaw for a connection whose last header
// had phone: a header of the same phone shares that string instead of
// allocating its own.
func decodeRawFrom(raw []byte, phone string) (Message, error) {
	const min2013 = 2 + 2 + 6 + 2 + 1
	if len(raw) < min2013 {
		return Message{}, fmt.Errorf("%w: %d bytes, want at least %d", ErrFrame, len(raw), min2013)
	}
	var sum byte
	for _, b := range raw[:len(raw)-1] {
		sum ^= b
	}
	if got := raw[len(raw)-1]; got != sum {
		return Message{}, fmt.Errorf("%w: check byte 0x%02x, want 0x%02x", ErrFrame, got, sum)
	}
	h, n, bodyLen, err := decodeHeader(raw[:len(raw)-1], phone)
	if err != nil {
		return Message{}, err
	}
	if got := len(raw) - 1 - n; got != bodyLen {
		return Message{}, fmt.Errorf("%w: message 0x%04x body is %d bytes, header says %d",
			ErrFrame, h.ID, got, bodyLen)
	}
	return Message{Header: h, Body: raw[n : len(raw)-1]}, nil
}

// decodeHeader reads the header at the start of b and returns it,
// its length in bytes and the body length it announces; its Phone is
// phone when b holds that phone.
func decodeHeader(b []byte, phone string) (h Header, n, bodyLen int, err error) {
	h.ID = binary.BigEndian.Uint16(b)
	props := binary.BigEndian.Uint16(b[2:])
	bodyLen = int(props & MaxBody)
	h.Encryption = byte(props >> 10 & 0x7)
	h.V2019 = props&(1<<14) != 0
	fragmented := props&(1<<13) != 0
	n, phoneLen := 4, 6
	if h.V2019 {
		n, phoneLen = 5, 10
	}
	need := n + phoneLen + 2
	if fragmented {
		need += 4
	}
	if len(b) < need {
		return h, 0, 0, fmt.Errorf("%w: message 0x%04x header needs %d bytes, frame has %d",
			ErrFrame, h.ID, need, len(b))
	}
	if h.V2019 {
		h.Version = b[4]
	}
	h.Phone = bCDString(b[n:n+phoneLen], phone)
	n += phoneLen
	h.Serial = binary.BigEndian.Uint16(b[n:])
	n += 2
	if fragmented {
		h.Packets, h.Packet = binary.BigEndian.Uint16(b[n:]), binary.BigEndian.Uint16(b[n+2:])
		n += 4
		if h.Packets == 0 {
			return h, 0, 0, fmt.Errorf("%w: message 0x%04x is fragmented into 0 packets", ErrFrame, h.ID)
		}
	}
	return h, n, bodyLen, nil
}

const hexDigits = "0123456789abcdef"

// bCDString returns the nibbles of b as hex digits: same when it
// spells them.
func bCDString(b []byte, same string) string {
	if spellsBCD(same, b) {
		return same
	}
	s := make([]byte, 2*len(b))
	for i, x := range b {
		s[2*i], s[2*i+1] = hexDigits[x>>4], hexDigits[x&0xf]
	}
	return string(s)
}

// spellsBCD reports whether s is the nibbles of b as hex digits.
func spellsBCD(s string, b []byte) bool {
	if len(s) != 2*len(b) {
		return false
	}
	for i, x := range b {
		if s[2*i] != hexDigits[x>>4] || s[2*i+1] != hexDigits[x&0xf] {
			return false
		}
	}
	return true
}

// AppendFrame appends to dst the frame of a message with header h and
// body: flag, escaped header, body and check byte, flag. The phone is
// padded on the left with zeros to 12 digits (20 for a 2019 header);
// Packets and Packet are written when Packets is not 0. It fails, wrapping
// ErrFrame, when the body is longer than MaxBody, the phone is
// too long or not hex digits, or Encryption is above 7.
func AppendFrame(dst []byte, h Header, body []byte) ([]byte, error) {
	phone, err := phoneBCD(h)
	if err != nil {
		return dst, err
	}
	if len(body) > MaxBody || h.Encryption > 7 {
		return dst, fmt.Errorf("%w: body of %d bytes (max %d) or encryption %d (max 7)",
			ErrFrame, len(body), MaxBody, h.Encryption)
	}
	props := uint16(len(body)) | uint16(h.Encryption)<<10
	if h.Fragmented() {
		props |= 1 << 13
	}
	var hdr [21]byte
	binary.BigEndian.PutUint16(hdr[0:], h.ID)
	n := 4
	if h.V2019 {
		props |= 1 << 14
		hdr[4], n = h.Version, 5
	}
	binary.BigEndian.PutUint16(hdr[2:], props)
	n += copy(hdr[n:], phone[:phoneLen(h)])
	binary.BigEndian.PutUint16(hdr[n:], h.Serial)
	n += 2
	if h.Fragmented() {
		binary.BigEndian.PutUint16(hdr[n:], h.Packets)
		binary.BigEndian.PutUint16(hdr[n+2:], h.Packet)
		n += 4
	}
	var sum byte
	dst = append(dst, flag)
	dst, sum = appendEscaped(dst, hdr[:n], sum)
	dst, sum = appendEscaped(dst, body, sum)
	dst, _ = appendEscaped(dst, []byte{sum}, 0)
	return append(dst, flag), nil
}

// appendEscaped appends b escaped to dst and folds b into sum.
func appendEscaped(dst, b []byte, sum byte) ([]byte, byte) {
	for _, x := range b {
		sum ^= x
		switch x {
		case flag:
			dst = append(dst, escape, 0x02)
		case escape:
			dst = append(dst, escape, 0x01)
		default:
			dst = append(dst, x)
		}
	}
	return dst, sum
}

// phoneLen is the length in bytes of the BCD phone field of h.
func phoneLen(h Header) int {
	if h.V2019 {
		return 10
	}
	return 6
}

// phoneBCD returns the BCD field of the header's phone in its first
// phoneLen(h) bytes.
func phoneBCD(h Header) (out [10]byte, err error) {
	size := phoneLen(h)
	if len(h.Phone) > 2*size {
		return out, fmt.Errorf("%w: phone %q has more than %d digits", ErrFrame, h.Phone, 2*size)
	}
	pad := 2*size - len(h.Phone)
	for i := 0; i < len(h.Phone); i++ {
		d := hexValue(h.Phone[i])
		if d < 0 {
			return out, fmt.Errorf("%w: phone %q is not digits", ErrFrame, h.Phone)
		}
		j := pad + i
		out[j/2] |= byte(d) << (4 * (1 - j%2))
	}
	return out, nil
}

func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Location is one location report: the body of 0x0200, or one item
// of a 0x0704 batch.
type Location struct {
	// Alarm is the alarm word; bit 0 is the emergency button.
	Alarm uint32
	// Status is the status word: bit 0 ACC on, bit 1 positioned, bit 2
	// south latitude, bit 3 west longitude.
	Status uint32
	// Point is the position in (lon, lat) order, degrees on WGS 84 (the
	// standard's datum; GCJ-02 terminals are taken as they come), signed
	// by the south and west bits, to 1e-6 degree.
	Point orb.Point
	// AltitudeM is the altitude in metres (a signed 16-bit field).
	AltitudeM float64
	// SpeedKPH is the ground speed in km/h, sent in 1/10 km/h.
	SpeedKPH float64
	// Direction is the course in degrees clockwise from north, 0 to 359
	// as sent; terminals may send larger values, which mean unknown.
	Direction uint16
	// Time is the fix time in UTC. The terminal sends it as BCD
	// YYMMDDhhmmss in UTC+8; a field of zeros is the zero Time.
	Time time.Time
	// MileageKM is extra item 0x01 (odometer, 1/10 km); negative when
	// absent.
	MileageKM float64
	// Satellites is extra item 0x31 (GNSS satellites in use); -1 when
	// absent.
	Satellites int
	// Signal is extra item 0x30 (mobile signal strength); -1 when absent.
	Signal int
}

// Positioned reports whether the terminal had a GNSS fix (status bit 1).
func (l Location) Positioned() bool { return l.Status&(1<<1) != 0 }

// locationLen is the length of the fixed part of a location.
const locationLen = 28

// utc8 is the time zone of JT/T 808 times (UTC+8, Beijing time).
var utc8 = time.FixedZone("UTC+8", 8*3600)

// DecodeLocation decodes a location body (that of 0x0200): the fixed
// 28 bytes, then the extra items (id, length, value), of which 0x01,
// 0x30 and 0x31 are read and the rest skipped. Extra bytes that do not
// form whole items are ignored, as terminals append vendor data. Errors
// wrap ErrBody and say what is wrong: a body shorter than 28 bytes, a
// latitude above 90 or longitude above 180 degrees, a time that is not BCD
// or not a date. It is safe for concurrent use.
func DecodeLocation(body []byte) (Location, error) {
	l := Location{MileageKM: -1, Satellites: -1, Signal: -1}
	if len(body) < locationLen {
		return l, fmt.Errorf("%w: location is %d bytes, want at least %d", ErrBody, len(body), locationLen)
	}
	be := binary.BigEndian
	l.Alarm, l.Status = be.Uint32(body), be.Uint32(body[4:])
	lat, lon := float64(be.Uint32(body[8:]))/1e6, float64(be.Uint32(body[12:]))/1e6
	if lat > 90 || lon > 180 {
		return l, fmt.Errorf("%w: latitude %.6f or longitude %.6f out of range", ErrBody, lat, lon)
	}
	if l.Status&(1<<2) != 0 {
		lat = -lat
	}
	if l.Status&(1<<3) != 0 {
		lon = -lon
	}
	l.Point = orb.Point{lon, lat}
	l.AltitudeM = float64(int16(be.Uint16(body[16:])))
	l.SpeedKPH = float64(be.Uint16(body[18:])) / 10
	l.Direction = be.Uint16(body[20:])
	t, err := decodeBCDTime(body[22:28])
	if err != nil {
		return l, err
	}
	l.Time = t
	l.readExtras(body[locationLen:])
	return l, nil
}

// readExtras reads the extra items it knows and skips the others,
// stopping at an item that does not fit.
func (l *Location) readExtras(b []byte) {
	for len(b) >= 2 {
		id, n := b[0], int(b[1])
		if len(b) < 2+n {
			return
		}
		v := b[2 : 2+n]
		switch {
		case id == 0x01 && n == 4:
			l.MileageKM = float64(binary.BigEndian.Uint32(v)) / 10
		case id == 0x30 && n == 1:
			l.Signal = int(v[0])
		case id == 0x31 && n == 1:
			l.Satellites = int(v[0])
		}
		b = b[2+n:]
	}
}

// decodeBCDTime reads BCD YYMMDDhhmmss in UTC+8 (years 2000 to 2099).
func decodeBCDTime(b []byte) (time.Time, error) {
	var f [6]int
	zero := true
	for i, x := range b {
		hi, lo := int(x>>4), int(x&0xf)
		if hi > 9 || lo > 9 {
			return time.Time{}, fmt.Errorf("%w: time % x is not BCD", ErrBody, b)
		}
		f[i] = 10*hi + lo
		zero = zero && x == 0
	}
	if zero {
		return time.Time{}, nil
	}
	t := time.Date(2000+f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, utc8)
	if t.Month() != time.Month(f[1]) || t.Day() != f[2] || t.Hour() != f[3] || t.Minute() != f[4] || t.Second() != f[5] {
		return time.Time{}, fmt.Errorf("%w: time %02d-%02d-%02d %02d:%02d:%02d is not a date",
			ErrBody, f[0], f[1], f[2], f[3], f[4], f[5])
	}
	return t.UTC(), nil
}

// AppendLocation appends the location body of l to dst: the fixed
// 28 bytes and the extra items 0x01, 0x30 and 0x31 of those that are not
// negative. The south and west status bits are set from the signs of the
// point; the time is written in UTC+8, and a zero Time as zeros. It is the
// inverse of DecodeLocation for times in 2000 to 2099 and values in
// the fields' ranges.
func AppendLocation(dst []byte, l Location) []byte {
	be := binary.BigEndian
	status := l.Status &^ (1<<2 | 1<<3)
	lat, lon := l.Point[1], l.Point[0]
	if lat < 0 {
		status |= 1 << 2
	}
	if lon < 0 {
		status |= 1 << 3
	}
	dst = be.AppendUint32(dst, l.Alarm)
	dst = be.AppendUint32(dst, status)
	dst = be.AppendUint32(dst, uint32(math.Round(math.Abs(lat)*1e6)))
	dst = be.AppendUint32(dst, uint32(math.Round(math.Abs(lon)*1e6)))
	dst = be.AppendUint16(dst, uint16(int16(l.AltitudeM)))
	dst = be.AppendUint16(dst, uint16(math.Round(l.SpeedKPH*10)))
	dst = be.AppendUint16(dst, l.Direction)
	dst = appendTime(dst, l.Time)
	if l.MileageKM >= 0 {
		dst = be.AppendUint32(append(dst, 0x01, 4), uint32(math.Round(l.MileageKM*10)))
	}
	if l.Signal >= 0 {
		dst = append(dst, 0x30, 1, byte(l.Signal))
	}
	if l.Satellites >= 0 {
		dst = append(dst, 0x31, 1, byte(l.Satellites))
	}
	return dst
}

// appendTime appends t as BCD YYMMDDhhmmss in UTC+8.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, 0, 0, 0, 0, 0, 0)
	}
	t = t.In(utc8)
	for _, v := range [6]int{t.Year() % 100, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()} {
		dst = append(dst, byte(v/10<<4|v%10))
	}
	return dst
}

// Batch is a decoded 0x0704 body.
type Batch struct {
	// Backfill is set for locations recorded in a blind area (no
	// network) and sent late; clear for a normal batch.
	Backfill bool
	// Locations holds the items in the order sent.
	Locations []Location
}

// DecodeBatch decodes a 0x0704 body: a count, a type byte, then per
// item a 2-byte length and a location body. On an error it returns the
// locations decoded before the bad item, and the error wraps ErrBody
// and names the item (from 1). A count that disagrees with the items
// present is an error after the items that are whole. It is safe for
// concurrent use.
func DecodeBatch(body []byte) (Batch, error) {
	var b Batch
	if len(body) < 3 {
		return b, fmt.Errorf("%w: batch is %d bytes, want at least 3", ErrBody, len(body))
	}
	n := int(binary.BigEndian.Uint16(body))
	b.Backfill = body[2] == 1
	rest := body[3:]
	b.Locations = make([]Location, 0, min(n, len(rest)/(2+locationLen)))
	for i := 1; i <= n; i++ {
		if len(rest) < 2 {
			return b, fmt.Errorf("%w: batch says %d locations, holds %d", ErrBody, n, i-1)
		}
		size := int(binary.BigEndian.Uint16(rest))
		if len(rest) < 2+size {
			return b, fmt.Errorf("%w: batch item %d says %d bytes, %d left", ErrBody, i, size, len(rest)-2)
		}
		l, err := DecodeLocation(rest[2 : 2+size])
		if err != nil {
			return b, fmt.Errorf("batch item %d: %w", i, err)
		}
		b.Locations = append(b.Locations, l)
		rest = rest[2+size:]
	}
	return b, nil
}

// AppendBatch appends the 0x0704 body of b to dst.
func AppendBatch(dst []byte, b Batch) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(b.Locations)))
	kind := byte(0)
	if b.Backfill {
		kind = 1
	}
	dst = append(dst, kind)
	for _, l := range b.Locations {
		at := len(dst)
		dst = AppendLocation(append(dst, 0, 0), l)
		binary.BigEndian.PutUint16(dst[at:], uint16(len(dst)-at-2))
	}
	return dst
}

// Fix returns the fix of unit that a location reports: speed in m/s,
// heading unknown (-1) when the direction is above 359, accuracy and
// battery unknown, fix.SourceJT808 "jt808". A zero Time stays zero (the ingest
// stamps it with the receive time).
func Fix(unit string, l Location) fix.Fix {
	heading := float64(l.Direction)
	if l.Direction > 359 {
		heading = -1
	}
	return fix.Fix{Unit: unit, Time: l.Time, Point: l.Point, SpeedMPS: l.SpeedKPH / 3.6, Heading: heading,
		AltitudeM: l.AltitudeM, Battery: -1, Source: fix.SourceJT808}
}
