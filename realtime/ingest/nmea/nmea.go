package nmea

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// knotMPS is one knot in metres per second.
const knotMPS = 1852.0 / 3600.0

// MaxLine is the longest line the decoder and server take, in
// bytes. NMEA 0183 allows 82; trackers add proprietary fields.
const MaxLine = 512

// The ways an NMEA line is refused; callers tell them apart with
// errors.Is. The wrapping message says what exactly is wrong.
var (
	// ErrChecksum reports a sentence whose "*hh" checksum is not two
	// hex digits or is not the XOR of the bytes between '$' and '*'.
	ErrChecksum = errors.New("nmea checksum mismatch")
	// ErrSentence reports a line that is not a sentence, or a RMC or
	// GGA sentence with a field that cannot be read: too few fields, a
	// time, date, coordinate or number that is not one or is out of range.
	ErrSentence = errors.New("malformed nmea sentence")
	// ErrUnsupported reports a well-formed sentence of a type other
	// than RMC, GGA and the $PGID login.
	ErrUnsupported = errors.New("unsupported nmea sentence")
)

// Kind names the sentence a Sentence value came from.
type Kind string

// The sentences Decode reads.
const (
	RMC   Kind = "RMC"  // recommended minimum: time, date, position, speed, course
	GGA   Kind = "GGA"  // fix data: time, position, quality, satellites, HDOP, altitude
	Login Kind = "PGID" // $PGID,<device>[,<key>]: the tracker names itself
)

// Sentence is one decoded sentence: a RMC or GGA position, or a $PGID login.
// Unknown numeric fields are -1 (a negative value sent means unknown too),
// and unknown altitude and position NaN.
type Sentence struct {
	Kind Kind
	// Talker is the talker id of a RMC or GGA ("GP", "GN", "GB", ...).
	Talker string
	// Device is the device id of a login, trimmed of spaces.
	Device string
	// Key is the device key of a login, trimmed of spaces; empty when the
	// login carries none.
	Key string
	// TimeOfDay is the UTC time of the fix since midnight; negative when
	// the field is empty.
	TimeOfDay time.Duration
	// Date is the UTC date of a RMC at midnight; zero for GGA or an empty
	// field. Two-digit years 80-99 are 1980-1999, 00-79 are 2000-2079.
	Date time.Time
	// Valid reports a fix: RMC status A, or GGA quality above 0.
	Valid bool
	// Point is the position in (lon, lat) order, degrees; NaN when the
	// fields are empty.
	Point orb.Point
	// SpeedKnots is the RMC ground speed in knots.
	SpeedKnots float64
	// Course is the RMC course over ground, degrees clockwise from true
	// north.
	Course float64
	// AltitudeM is the GGA altitude above mean sea level, in metres; NaN
	// when absent.
	AltitudeM float64
	// HDOP is the GGA horizontal dilution of precision.
	HDOP float64
	// Satellites is the GGA number of satellites in use, 0 to 999.
	Satellites int
}

// Time returns the full UTC time of a sentence that carries a date and a
// time; the zero Time otherwise.
func (n Sentence) Time() time.Time {
	if n.Date.IsZero() || n.TimeOfDay < 0 {
		return time.Time{}
	}
	return n.Date.Add(n.TimeOfDay)
}

// Decode decodes one line: "$", the sentence, an optional "*hh"
// checksum, optional trailing CR LF and spaces. A checksum, when present,
// must match; a sentence without one is taken, as some trackers send
// none. It reads RMC and GGA of any talker and the $PGID,<device> login;
// other sentences are ErrUnsupported. Errors wrap ErrChecksum,
// ErrSentence or ErrUnsupported. It is safe for concurrent use.
func Decode(line []byte) (Sentence, error) {
	fields, err := fields(line)
	if err != nil {
		return Sentence{}, err
	}
	head := fields[0]
	switch {
	case head == "PGID":
		return decodeLogin(fields)
	case len(head) == 5 && head[2:] == "RMC":
		return decodeRMC(fields)
	case len(head) == 5 && head[2:] == "GGA":
		return decodeGGA(fields)
	}
	return Sentence{}, fmt.Errorf("%w: %.16q", ErrUnsupported, head)
}

// fields checks the framing and checksum of line and splits it.
func fields(line []byte) ([]string, error) {
	line = bytes.TrimRight(line, " \t\r\n")
	if len(line) > MaxLine {
		return nil, fmt.Errorf("%w: %d bytes, max %d", ErrSentence, len(line), MaxLine)
	}
	if len(line) < 2 || line[0] != '$' {
		return nil, fmt.Errorf("%w: %.20q does not start with $", ErrSentence, line)
	}
	body := line[1:]
	if i := bytes.IndexByte(body, '*'); i >= 0 {
		sum, err := strconv.ParseUint(string(body[i+1:]), 16, 8)
		if err != nil || len(body)-i-1 != 2 {
			return nil, fmt.Errorf("%w: checksum field %.8q is not two hex digits", ErrChecksum, body[i+1:])
		}
		var x byte
		for _, b := range body[:i] {
			x ^= b
		}
		if byte(sum) != x {
			return nil, fmt.Errorf("%w: sentence says %02X, bytes give %02X", ErrChecksum, sum, x)
		}
		body = body[:i]
	}
	return strings.Split(string(body), ","), nil
}

// decodeLogin reads $PGID,<device>[,<key>].
func decodeLogin(f []string) (Sentence, error) {
	if len(f) < 2 || strings.TrimSpace(f[1]) == "" {
		return Sentence{}, fmt.Errorf("%w: $PGID without a device id", ErrSentence)
	}
	if len(f) > 3 {
		return Sentence{}, fmt.Errorf("%w: $PGID with %d fields, want a device id and a key at most", ErrSentence, len(f)-1)
	}
	n := Sentence{Kind: Login, Device: strings.TrimSpace(f[1]), TimeOfDay: -1}
	if len(f) == 3 {
		n.Key = strings.TrimSpace(f[2])
	}
	for _, fd := range []struct{ name, v string }{{"device id", n.Device}, {"key", n.Key}} {
		for _, r := range fd.v {
			if r < 0x21 || r > 0x7e {
				return Sentence{}, fmt.Errorf("%w: $PGID %s %q is not printable ASCII", ErrSentence, fd.name, fd.v)
			}
		}
	}
	return n, nil
}

// newSentence returns a position sentence with every field unknown.
func newSentence(kind Kind, talker string) Sentence {
	return Sentence{Kind: kind, Talker: talker, TimeOfDay: -1, Point: orb.Point{math.NaN(), math.NaN()},
		SpeedKnots: -1, Course: -1, AltitudeM: math.NaN(), HDOP: -1, Satellites: -1}
}

// decodeRMC reads $xxRMC,time,status,lat,N,lon,E,knots,course,date,...
func decodeRMC(f []string) (Sentence, error) {
	n := newSentence(RMC, f[0][:2])
	if len(f) < 10 {
		return Sentence{}, fmt.Errorf("%w: RMC has %d fields, want at least 10", ErrSentence, len(f))
	}
	p := fieldParser{f: f}
	n.TimeOfDay = p.timeOfDay(1)
	n.Valid = f[2] == "A"
	n.Point = p.point(3)
	n.SpeedKnots = unknown(p.number(7, -1))
	n.Course = unknown(p.number(8, -1))
	n.Date = p.date(9)
	return n, p.err
}

// decodeGGA reads $xxGGA,time,lat,N,lon,E,quality,sats,hdop,alt,M,sep,M,...
func decodeGGA(f []string) (Sentence, error) {
	n := newSentence(GGA, f[0][:2])
	if len(f) < 10 {
		return Sentence{}, fmt.Errorf("%w: GGA has %d fields, want at least 10", ErrSentence, len(f))
	}
	p := fieldParser{f: f}
	n.TimeOfDay = p.timeOfDay(1)
	n.Point = p.point(2)
	n.Valid = p.number(6, 0) > 0
	if sats := p.number(7, -1); sats >= 0 && sats < 1000 {
		n.Satellites = int(sats)
	}
	n.HDOP = unknown(p.number(8, -1))
	n.AltitudeM = p.number(9, math.NaN())
	return n, p.err
}

// unknown maps any negative value to -1, unknown.
func unknown(x float64) float64 {
	if x < 0 {
		return -1
	}
	return x
}

// fieldParser reads the fields of a sentence, keeping the first error.
type fieldParser struct {
	f   []string
	err error
}

func (p *fieldParser) fail(i int, why string) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s field %d %.16q %s", ErrSentence, p.f[0], i, p.f[i], why)
	}
}

// number returns field i as a finite number, or def when it is empty.
func (p *fieldParser) number(i int, def float64) float64 {
	s := strings.TrimSpace(p.f[i])
	if s == "" {
		return def
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		p.fail(i, "is not a number")
		return def
	}
	return x
}

// timeOfDay reads hhmmss[.sss] in field i; negative when empty.
func (p *fieldParser) timeOfDay(i int) time.Duration {
	s := p.f[i]
	if s == "" {
		return -1
	}
	if len(s) < 6 || !digits(s[:6]) {
		p.fail(i, "is not hhmmss")
		return -1
	}
	h, m, _ := atoi(s[0:2]), atoi(s[2:4]), atoi(s[4:6])
	sec, err := strconv.ParseFloat(s[4:], 64)
	if err != nil || h > 23 || m > 59 || sec >= 60 {
		p.fail(i, "is not a time of day")
		return -1
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(math.Round(sec*1000))*time.Millisecond
}

// date reads ddmmyy in field i; zero when empty.
func (p *fieldParser) date(i int) time.Time {
	s := p.f[i]
	if s == "" {
		return time.Time{}
	}
	if len(s) != 6 || !digits(s) {
		p.fail(i, "is not ddmmyy")
		return time.Time{}
	}
	d, m, y := atoi(s[0:2]), atoi(s[2:4]), atoi(s[4:6])
	if y < 80 {
		y += 2000
	} else {
		y += 1900
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		p.fail(i, "is not a date")
		return time.Time{}
	}
	return t
}

// point reads lat, N|S, lon, E|W from field i on; NaN when both are
// empty.
func (p *fieldParser) point(i int) orb.Point {
	nan := orb.Point{math.NaN(), math.NaN()}
	if len(p.f) < i+4 {
		p.fail(0, "has too few fields")
		return nan
	}
	if p.f[i] == "" && p.f[i+2] == "" {
		return nan
	}
	lat := p.degrees(i, 90, "N", "S")
	lon := p.degrees(i+2, 180, "E", "W")
	if p.err != nil {
		return nan
	}
	return orb.Point{lon, lat}
}

// degrees reads a (d)ddmm.mmm field at i and its hemisphere at i+1.
func (p *fieldParser) degrees(i int, limit float64, pos, neg string) float64 {
	x, err := strconv.ParseFloat(p.f[i], 64)
	if err != nil || x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		p.fail(i, "is not ddmm.mmmm")
		return 0
	}
	deg := math.Floor(x / 100)
	minutes := x - 100*deg
	v := deg + minutes/60
	if minutes >= 60 || v > limit {
		p.fail(i, "is out of range")
		return 0
	}
	switch p.f[i+1] {
	case pos:
	case neg:
		v = -v
	default:
		p.fail(i+1, "is not "+pos+" or "+neg)
	}
	return v
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi returns the value of a string of digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = 10*n + int(s[i]-'0')
	}
	return n
}

// Append appends the sentence of n (a RMC, GGA or login, with
// talker "GP" when n.Talker is empty), its checksum and CR LF to dst;
// the inverse of Decode to the precision written (1e-5 minute,
// 1 ms, 0.001 knot and degree, 0.01 m and HDOP).
func Append(dst []byte, n Sentence) []byte {
	var b strings.Builder
	talker := n.Talker
	if talker == "" {
		talker = "GP"
	}
	switch n.Kind {
	case Login:
		b.WriteString("PGID," + n.Device)
		if n.Key != "" {
			b.WriteString("," + n.Key)
		}
	case GGA:
		q := 0
		if n.Valid {
			q = 1
		}
		fmt.Fprintf(&b, "%sGGA,%s,%s,%d,%s,%s,%s,M,,M,,", talker, formatTime(n.TimeOfDay), formatPoint(n.Point), q,
			formatNum(float64(n.Satellites), "%02.0f"), formatNum(n.HDOP, "%.2f"), formatAltitude(n.AltitudeM))
	default:
		st, date := "V", ""
		if n.Valid {
			st = "A"
		}
		if !n.Date.IsZero() {
			date = n.Date.Format("020106")
		}
		fmt.Fprintf(&b, "%sRMC,%s,%s,%s,%s,%s,%s,,,A", talker, formatTime(n.TimeOfDay), st, formatPoint(n.Point),
			formatNum(n.SpeedKnots, "%.3f"), formatNum(n.Course, "%.3f"), date)
	}
	var x byte
	s := b.String()
	for i := 0; i < len(s); i++ {
		x ^= s[i]
	}
	return fmt.Appendf(dst, "$%s*%02X\r\n", s, x)
}

func formatTime(d time.Duration) string {
	if d < 0 {
		return ""
	}
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d%02d%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

func formatNum(x float64, format string) string {
	if x < 0 || math.IsNaN(x) {
		return ""
	}
	return fmt.Sprintf(format, x)
}

func formatAltitude(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return fmt.Sprintf("%.2f", x)
}

func formatPoint(pt orb.Point) string {
	if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) {
		return ",,,"
	}
	dm := func(v float64, width int, pos, neg string) string {
		h := pos
		if v < 0 {
			v, h = -v, neg
		}
		deg := math.Floor(v)
		minutes := math.Round((v-deg)*60*1e5) / 1e5
		if minutes >= 60 {
			deg, minutes = deg+1, 0
		}
		return fmt.Sprintf("%0*.0f%08.5f,%s", width, deg, minutes, h)
	}
	return dm(pt[1], 2, "N", "S") + "," + dm(pt[0], 3, "E", "W")
}
