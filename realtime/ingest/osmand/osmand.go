package osmand

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/paulmach/orb"
)

// knotMPS is one knot in metres per second.
const knotMPS = 1852.0 / 3600.0

// The reasons Decode fails; callers tell them apart with errors.Is.
// All three describe a malformed request, never a server fault.
var (
	// ErrNoDevice reports a request without a device id: no id or deviceid
	// parameter and, in the JSON form, no device_id.
	ErrNoDevice = errors.New("no device id")
	// ErrNoPosition reports a request from a device that carries no
	// position: no lat and lon, no location, or no coords in the JSON form.
	ErrNoPosition = errors.New("no position")
	// ErrBadField reports a value that cannot be read: not a number, not
	// finite (NaN, Inf), not a time, or a body that is not valid JSON or
	// form data. The message names the field ("speed", "location", "body").
	ErrBadField = errors.New("bad field")
)

// Decode decodes one position report of the OsmAnd protocol, the
// protocol of the Traccar Client and OsmAnd apps, sent by GET or POST.
//
// query is the URL query of the request. body is the request body (nil for
// GET) and contentType its Content-Type header:
//   - application/json, or any body whose first non-space byte is '{', is
//     the Traccar Client JSON form: {"device_id":"..","location":{
//     "timestamp":"..","coords":{"latitude","longitude","speed","heading",
//     "accuracy","altitude"},"battery":{"level"}}}. Speed is in m/s and
//     battery.level in [0, 1] (it becomes percent). A missing device_id is
//     taken from the query's id or deviceid.
//   - application/x-www-form-urlencoded, or a non-empty body with no content
//     type, is form data merged with the query; form values win.
//   - any other body is ignored and only the query is read.
//
// Query and form parameters: id or deviceid (the unit); lat and lon in
// degrees, or location=lat,lon; timestamp as Unix seconds, Unix
// milliseconds (any integer of magnitude at least 2^31-1), ISO 8601 with or
// without fraction and zone (no zone means UTC), or "yyyy-MM-dd HH:mm:ss"
// in UTC; speed in knots; bearing or heading in degrees; altitude and
// accuracy in metres; batt in percent. A negative speed, heading or battery
// means unknown and becomes -1. Empty values count as absent. Other
// parameters (hdop, cell, wifi, valid, ...) are ignored.
//
// A request without a timestamp yields a fix whose Time.IsZero(): the
// caller stamps it with the receive time. Values are decoded as sent, with
// no range or plausibility checks (validation does that); NaN and infinite
// numbers are ErrBadField.
//
// The error wraps ErrNoDevice, ErrBadField or ErrNoPosition. A body (or a
// JSON device_id) that cannot be read is ErrBadField; after that the
// checks run in that order: device, fields, position. With ErrNoPosition
// the fix is still returned with every other field decoded and Point set
// to NaN, so that the caller can note that the unit was heard from; with
// the other errors the fix is the zero Fix. It is safe for concurrent use.
func Decode(query url.Values, contentType string, body []byte) (fix.Fix, error) {
	switch bodyKindOf(contentType, body) {
	case jsonBody:
		return decodeJSON(query, body)
	case formBody:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return fix.Fix{}, badField("body", "", "not form data")
		}
		return decodeParams(merge(form, query))
	default:
		return decodeParams(query)
	}
}

type bodyKind int

const (
	noBody bodyKind = iota
	formBody
	jsonBody
)

// bodyKindOf tells how to read body given its content type.
func bodyKindOf(contentType string, body []byte) bodyKind {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return noBody
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case body[0] == '{', err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
		return jsonBody
	case err == nil && mt == "application/x-www-form-urlencoded", strings.TrimSpace(contentType) == "":
		return formBody
	}
	return noBody
}

// merge returns the values of a followed by those of b, key by key.
func merge(a, b url.Values) url.Values {
	m := make(url.Values, len(a)+len(b))
	for k, vs := range a {
		m[k] = append(m[k], vs...)
	}
	for k, vs := range b {
		m[k] = append(m[k], vs...)
	}
	return m
}

// newFix returns a fix of unit with every optional field unknown.
func newFix(unit string) fix.Fix {
	return fix.Fix{Unit: unit, Point: orb.Point{math.NaN(), math.NaN()},
		SpeedMPS: -1, Heading: -1, Battery: -1, Source: fix.SourceOsmAnd}
}

// decodeParams decodes the query (or form) form of the protocol.
func decodeParams(v url.Values) (fix.Fix, error) {
	_, unit := param(v, "id", "deviceid")
	if unit == "" {
		return fix.Fix{}, errNoDevice("id or deviceid")
	}
	f := newFix(unit)
	p := params{v: v}
	f.Time = p.time("timestamp")
	if speed := p.float(-1, "speed"); speed >= 0 {
		f.SpeedMPS = speed * knotMPS
	}
	f.Heading = unknown(p.float(-1, "bearing", "heading"))
	f.AltitudeM = p.float(0, "altitude")
	f.AccuracyM = p.float(0, "accuracy")
	f.Battery = unknown(p.float(-1, "batt"))
	pt, why := p.point()
	if p.err != nil {
		return fix.Fix{}, p.err
	}
	if why != "" {
		return f, errNoPosition(unit, why)
	}
	f.Point = pt
	return f, nil
}

// params reads typed parameters, keeping the first error.
type params struct {
	v   url.Values
	err error
}

// float returns the value of the first of keys that is present, or def
// when none is or after an earlier error.
func (p *params) float(def float64, keys ...string) float64 {
	key, s := param(p.v, keys...)
	if s == "" || p.err != nil {
		return def
	}
	return p.parse(key, s)
}

// time returns the time in key, or the zero time when it is absent.
func (p *params) time(key string) time.Time {
	_, s := param(p.v, key)
	if s == "" || p.err != nil {
		return time.Time{}
	}
	t, ok := parseTime(s)
	if !ok {
		p.err = badField(key, s, "not a time")
	}
	return t
}

// point returns the position from lat and lon, or else from location;
// when there is none it returns why.
func (p *params) point() (pt orb.Point, why string) {
	_, lat := param(p.v, "lat")
	_, lon := param(p.v, "lon")
	switch {
	case lat != "" && lon != "":
		return orb.Point{p.float(0, "lon"), p.float(0, "lat")}, ""
	case lat != "":
		return pt, "lat without lon"
	case lon != "":
		return pt, "lon without lat"
	}
	_, loc := param(p.v, "location")
	if loc == "" {
		return pt, "no lat and lon or location"
	}
	latS, lonS, found := strings.Cut(loc, ",")
	if !found && p.err == nil {
		p.err = badField("location", loc, "want lat,lon")
	}
	pt[1] = p.parse("location", latS)
	pt[0] = p.parse("location", lonS)
	return pt, ""
}

// parse returns s as a finite number for field, or 0 after an error.
func (p *params) parse(field, s string) float64 {
	if p.err != nil {
		return 0
	}
	x, err := float(field, s)
	p.err = err
	return x
}

// param returns the first of keys with a non-blank value, and that
// value trimmed of spaces; "" when there is none.
func param(v url.Values, keys ...string) (key, value string) {
	for _, k := range keys {
		for _, s := range v[k] {
			if s = strings.TrimSpace(s); s != "" {
				return k, s
			}
		}
	}
	return "", ""
}

// float parses s as a finite float64 for the named field.
func float(field, s string) (float64, error) {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, badField(field, s, "not a number")
	case err != nil, math.IsNaN(x), math.IsInf(x, 0):
		return 0, badField(field, s, "not a finite number")
	}
	return x, nil
}

// unknown maps any negative value to -1, the Fix "unknown".
func unknown(x float64) float64 {
	if x < 0 {
		return -1
	}
	return x
}

// parseTime reads a timestamp: an integer below 2^31-1 in magnitude
// is Unix seconds, a larger one Unix milliseconds; otherwise ISO 8601 or
// "yyyy-MM-dd HH:mm:ss", in UTC unless a zone is given. The result is UTC.
func parseTime(s string) (time.Time, bool) {
	if isDecimal(s) { // else ParseInt would only make an error
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n > -math.MaxInt32 && n < math.MaxInt32 {
				return time.Unix(n, 0).UTC(), true
			}
			return time.UnixMilli(n).UTC(), true
		}
	}
	if strings.Contains(s, "T") {
		// An unescaped '+' of a zone offset arrives as a space.
		s = strings.ReplaceAll(s, " ", "+")
	}
	// The layouts clients send; each takes a fraction after the seconds.
	layouts := [...]string{
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05Z07",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
	}
	for _, layout := range layouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// isDecimal tells whether s is an optionally signed run of decimal digits.
func isDecimal(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// jsonRequest is the Traccar Client JSON form of a report.
type jsonRequest struct {
	DeviceID json.RawMessage `json:"device_id"`
	Location *struct {
		Timestamp json.RawMessage `json:"timestamp"`
		Coords    *struct {
			Latitude  *float64 `json:"latitude"`
			Longitude *float64 `json:"longitude"`
			Accuracy  *float64 `json:"accuracy"`
			Speed     *float64 `json:"speed"`
			Heading   *float64 `json:"heading"`
			Altitude  *float64 `json:"altitude"`
		} `json:"coords"`
		Battery *struct {
			Level *float64 `json:"level"`
		} `json:"battery"`
	} `json:"location"`
}

// decodeJSON decodes the JSON form, taking a missing device id from
// the query.
func decodeJSON(query url.Values, body []byte) (fix.Fix, error) {
	var v jsonRequest
	if err := json.Unmarshal(body, &v); err != nil {
		return fix.Fix{}, jsonError(err)
	}
	unit, err := deviceID(v.DeviceID)
	if err != nil {
		return fix.Fix{}, err
	}
	if unit == "" {
		_, unit = param(query, "id", "deviceid")
	}
	if unit == "" {
		return fix.Fix{}, errNoDevice("device_id")
	}
	f := newFix(unit)
	loc := v.Location
	if loc == nil {
		return f, errNoPosition(unit, "no location")
	}
	if f.Time, err = jsonTime(loc.Timestamp); err != nil {
		return fix.Fix{}, err
	}
	if b := loc.Battery; b != nil && b.Level != nil && *b.Level >= 0 {
		f.Battery = *b.Level * 100
	}
	c := loc.Coords
	if c == nil {
		return f, errNoPosition(unit, "no location.coords")
	}
	f.SpeedMPS = unknown(or(c.Speed, -1))
	f.Heading = unknown(or(c.Heading, -1))
	f.AccuracyM = or(c.Accuracy, 0)
	f.AltitudeM = or(c.Altitude, 0)
	if c.Latitude == nil || c.Longitude == nil {
		return f, errNoPosition(unit, "no latitude and longitude")
	}
	f.Point = orb.Point{*c.Longitude, *c.Latitude}
	return f, nil
}

// jsonError turns a JSON decoding error into ErrBadField, naming the
// field of a type mismatch (such as a location sent as an array).
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return badField(te.Field, "", "want a "+te.Type.String()+", got "+te.Value)
	}
	return badField("body", "", "not a JSON object")
}

// deviceID reads device_id, a string or a number; "" when absent.
func deviceID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", badField("device_id", "", "not a string")
		}
		return strings.TrimSpace(s), nil
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		return string(raw), nil
	}
	return "", badField("device_id", string(raw), "want a string or number")
}

// jsonTime reads location.timestamp, a string in any form the query
// takes or a number of Unix seconds or milliseconds; zero when absent.
func jsonTime(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, badField("location.timestamp", "", "not a string")
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, nil
		}
	}
	t, ok := parseTime(s)
	if !ok {
		return time.Time{}, badField("location.timestamp", s, "not a time")
	}
	return t, nil
}

func or(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func errNoDevice(want string) error {
	return fmt.Errorf("osmand: %w (want %s)", ErrNoDevice, want)
}

func errNoPosition(unit, why string) error {
	return fmt.Errorf("osmand: unit %s: %w: %s", unit, ErrNoPosition, why)
}

// badField returns ErrBadField for field, quoting at most 32 bytes of
// the offending value (none when value is empty).
func badField(field, value, why string) error {
	if value == "" {
		return fmt.Errorf("osmand: %w %q: %s", ErrBadField, field, why)
	}
	if len(value) > 32 {
		value = value[:32] + "..."
	}
	return fmt.Errorf("osmand: %w %q: %s: %q", ErrBadField, field, why, value)
}
