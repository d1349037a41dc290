package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"
)

// fixJSON is the wire form of a Fix: the position as separate lat and lon
// fields, which is how every GPS client writes it.
type fixJSON struct {
	Unit      string     `json:"unit"`
	Time      *time.Time `json:"time"`
	Lat       *float64   `json:"lat"`
	Lon       *float64   `json:"lon"`
	SpeedMPS  *float64   `json:"speed_mps,omitempty"`
	Heading   *float64   `json:"heading,omitempty"`
	AccuracyM float64    `json:"accuracy_m,omitempty"`
	AltitudeM float64    `json:"altitude_m,omitempty"`
	Battery   *float64   `json:"battery,omitempty"`
	Source    string     `json:"source,omitempty"`
}

// MarshalJSON writes the fix with "lat" and "lon" fields.
func (f Fix) MarshalJSON() ([]byte, error) {
	lat, lon := f.Lat(), f.Lon()
	v := fixJSON{Unit: f.Unit, Time: &f.Time, Lat: &lat, Lon: &lon,
		AccuracyM: f.AccuracyM, AltitudeM: f.AltitudeM, Source: f.Source}
	if f.SpeedMPS >= 0 {
		v.SpeedMPS = &f.SpeedMPS
	}
	if f.Heading >= 0 {
		v.Heading = &f.Heading
	}
	if f.Battery >= 0 {
		v.Battery = &f.Battery
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a fix with "lat" and "lon" fields; a missing
// coordinate becomes NaN so that validation rejects it, and missing speed,
// heading or battery become unknown (-1).
func (f *Fix) UnmarshalJSON(b []byte) error {
	if s := (fixScanner{b: b}); s.fix(f) && s.end() {
		return nil
	}
	return f.unmarshalJSONSlow(b)
}

// unmarshalJSONSlow is UnmarshalJSON through encoding/json: the reference
// the fast path must agree with, and the path of any input it declines.
func (f *Fix) unmarshalJSONSlow(b []byte) error {
	var v fixJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Fix{Unit: v.Unit, Time: givenTime(v.Time), Point: orb.Point{nan(v.Lon), nan(v.Lat)},
		SpeedMPS: unknown(v.SpeedMPS), Heading: unknown(v.Heading), Battery: unknown(v.Battery),
		AccuracyM: v.AccuracyM, AltitudeM: v.AltitudeM, Source: v.Source}
	return nil
}

// unsetClock is the time of a fix that gives the zero time: a time, not
// the absence of one, as old as a receiver's clock that was never set, so
// that validation refuses it (ErrBadTime) where a fix without a time is
// stamped with the server's clock.
var unsetClock = time.Unix(0, 0).UTC()

// givenTime returns the time of a fix whose "time" field read as *t (nil:
// no such field).
func givenTime(t *time.Time) time.Time {
	switch {
	case t == nil:
		return time.Time{}
	case t.IsZero():
		return unsetClock
	}
	return *t
}

func nan(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func unknown(p *float64) float64 {
	if p == nil || *p < 0 {
		return -1
	}
	return *p
}

// MaxBatch is the most fixes DecodeBatch takes in one batch.
const MaxBatch = 10000

// DecodeBatch decodes a batch of fixes: {"fixes": [...]} or a bare
// array of fixes.
func DecodeBatch(body []byte) ([]Fix, error) {
	fixes, ok := decodeFixBatchFast(body)
	if !ok {
		var err error
		if fixes, err = decodeFixBatchSlow(body); err != nil {
			return nil, err
		}
	}
	switch {
	case len(fixes) == 0:
		return nil, errors.New("no fixes in the batch")
	case len(fixes) > MaxBatch:
		return nil, fmt.Errorf("%d fixes in one batch, at most %d", len(fixes), MaxBatch)
	}
	return fixes, nil
}

// decodeFixBatchSlow is DecodeBatch through encoding/json.
func decodeFixBatchSlow(body []byte) ([]Fix, error) {
	var fixes []Fix
	var err error
	if len(body) > 0 && body[0] == '[' {
		err = json.Unmarshal(body, &fixes)
	} else {
		var v struct {
			Fixes []Fix `json:"fixes"`
		}
		err = json.Unmarshal(body, &v)
		fixes = v.Fixes
	}
	if err != nil {
		return nil, fmt.Errorf("body is not a JSON batch of fixes: %w", err)
	}
	return fixes, nil
}

// decodeFixBatchFast decodes the batches fix senders write, several times
// faster than encoding/json: ok is false for anything it does not handle
// (escapes, unknown or differently cased keys, nulls, non-ASCII strings,
// invalid JSON), which then goes the slow way, so that both ways give the
// same fixes and errors (FuzzDecodeFixBatch checks it).
func decodeFixBatchFast(b []byte) (fixes []Fix, ok bool) {
	s := fixScanner{b: b}
	wrapped := s.peek() != '[' // as decodeFixBatchSlow decides
	if wrapped {
		s.space()
		if !s.next('{') {
			return nil, false
		}
		s.space()
		if key, ok := s.str(); !ok || string(key) != "fixes" || !s.colon() {
			return nil, false
		}
	}
	if s.peek() != '[' {
		return nil, false
	}
	s.i++
	fixes = make([]Fix, 0, min(len(b)/minFixJSON+1, MaxBatch+1))
	for s.space(); ; {
		if len(fixes) == 0 && s.peek() == ']' {
			s.i++
			break
		}
		var f Fix
		if !s.fix(&f) {
			return nil, false
		}
		fixes = append(fixes, f)
		s.space()
		if !s.next(',') {
			if !s.next(']') {
				return nil, false
			}
			break
		}
		s.space()
	}
	if wrapped {
		s.space()
		if !s.next('}') {
			return nil, false
		}
	}
	return fixes, s.end()
}

// minFixJSON is about the shortest JSON of a fix with a unit, time and
// position, for sizing a batch.
const minFixJSON = 64

// fixScanner reads the JSON of fixes at b[i:] (see decodeFixBatchFast).
// Each method returns false when the input is not what it handles.
type fixScanner struct {
	b []byte
	i int
}

func (s *fixScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// next consumes c if it comes next.
func (s *fixScanner) next(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// space skips JSON white space.
func (s *fixScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (s *fixScanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// colon consumes white space, a colon and white space.
func (s *fixScanner) colon() bool {
	s.space()
	ok := s.next(':')
	s.space()
	return ok
}

// str reads a string of printable ASCII without escapes and returns its
// contents, which alias b.
func (s *fixScanner) str() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// num reads a number in JSON's grammar that is a finite float64.
func (s *fixScanner) num() (float64, bool) {
	start := s.i
	s.next('-')
	if !s.digits(true) {
		return 0, false
	}
	if s.next('.') && !s.digits(false) {
		return 0, false
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits(false) {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(s.b[start:s.i]), 64)
	return v, err == nil
}

// digits reads one or more digits; with integer, a leading zero only alone.
func (s *fixScanner) digits(integer bool) bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - start
	return n > 0 && !(integer && n > 1 && s.b[start] == '0')
}

// fix reads one fix object into f, as Fix.UnmarshalJSON would.
func (s *fixScanner) fix(f *Fix) bool {
	if !s.next('{') {
		return false
	}
	*f = Fix{Point: orb.Point{math.NaN(), math.NaN()}, SpeedMPS: -1, Heading: -1, Battery: -1}
	s.space()
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.str()
		if !ok || !s.colon() {
			return false
		}
		if !s.field(f, key) {
			return false
		}
		s.space()
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
		s.space()
	}
}

// field reads the value of key into f.
func (s *fixScanner) field(f *Fix, key []byte) bool {
	switch string(key) {
	case "unit", "source", "time":
		start := s.i
		v, ok := s.str()
		if !ok {
			return false
		}
		switch key[0] {
		case 'u':
			f.Unit = string(v)
		case 's':
			f.Source = string(v)
		default:
			var t time.Time
			if t.UnmarshalJSON(s.b[start:s.i]) != nil {
				return false
			}
			f.Time = givenTime(&t)
		}
		return true
	}
	v, ok := s.num()
	if !ok {
		return false
	}
	switch string(key) {
	case "lat":
		f.Point[1] = v
	case "lon":
		f.Point[0] = v
	case "speed_mps":
		f.SpeedMPS = unknown(&v)
	case "heading":
		f.Heading = unknown(&v)
	case "battery":
		f.Battery = unknown(&v)
	case "accuracy_m":
		f.AccuracyM = v
	case "altitude_m":
		f.AltitudeM = v
	default:
		return false
	}
	return true
}

// AppendJSON appends f as Fix.MarshalJSON writes it (the same fields,
// read back by Fix.UnmarshalJSON and ParseJSON), without reflection: this
// is the hot path of ingest. f's floats must be finite.
func AppendJSON(b []byte, f Fix) []byte {
	b = append(b, `{"unit":`...)
	b = AppendJSONString(b, f.Unit)
	b = append(b, `,"time":"`...)
	b = f.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","lat":`...)
	b = strconv.AppendFloat(b, f.Lat(), 'f', -1, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, f.Lon(), 'f', -1, 64)
	for _, o := range []struct {
		name string
		v    float64
		ok   bool
	}{{"speed_mps", f.SpeedMPS, f.SpeedMPS >= 0}, {"heading", f.Heading, f.Heading >= 0},
		{"accuracy_m", f.AccuracyM, f.AccuracyM != 0}, {"altitude_m", f.AltitudeM, f.AltitudeM != 0},
		{"battery", f.Battery, f.Battery >= 0}} {
		if o.ok {
			b = append(b, `,"`...)
			b = append(b, o.name...)
			b = append(b, `":`...)
			b = strconv.AppendFloat(b, o.v, 'f', -1, 64)
		}
	}
	if f.Source != "" {
		b = append(b, `,"source":`...)
		b = AppendJSONString(b, f.Source)
	}
	return append(b, '}')
}

// AppendJSONString appends s as a JSON string; anything but plain
// printable ASCII goes through encoding/json.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ParseJSON reads a fix that AppendJSON or MarshalJSON wrote, its time
// in UTC.
func ParseJSON(line string) (Fix, error) {
	var f Fix
	if err := f.UnmarshalJSON([]byte(line)); err != nil {
		return Fix{}, err
	}
	f.Time = f.Time.UTC()
	return f, nil
}
