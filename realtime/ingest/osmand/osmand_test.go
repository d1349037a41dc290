package osmand

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/paulmach/orb"
)

// epsilon is the tolerance for decoded numbers: far below the
// precision any client sends (1e-9 degrees is 0.1 mm).
const epsilon = 1e-9

// requestsFile is the shared file of real OsmAnd requests.
const requestsFile = "osmand/traccar-requests.txt"

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// testCase is one request and what Decode makes of it.
type testCase struct {
	name        string
	query       string // raw URL query
	contentType string
	body        string
	want        fix.Fix // compared when wantErr is nil or ErrNoPosition
	wantErr     error   // the sentinel, or nil
	wantInErr   string  // a substring of the error message, such as the field
}

// fix returns an OsmAnd fix of unit at (lon, lat) with the unknowns set.
func wantFix(unit string, lon, lat float64) fix.Fix {
	f := newFix(unit)
	f.Point = orb.Point{lon, lat}
	return f
}

// with returns f changed by set.
func with(f fix.Fix, set func(*fix.Fix)) fix.Fix { set(&f); return f }

func at(s string) func(*fix.Fix) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return func(f *fix.Fix) { f.Time = t }
}

func unplaced(unit string) fix.Fix { return newFix(unit) }

func queryCases() []testCase {
	base := wantFix("123456", 30, 60)
	return []testCase{
		{name: "unix seconds", query: "id=123456&timestamp=1377177267&lat=60.0&lon=30.0",
			want: with(base, at("2013-08-22T13:14:27Z"))},
		{name: "unix milliseconds", query: "id=123456&timestamp=1442068686579&lat=60.0&lon=30.0",
			want: with(base, at("2015-09-12T14:38:06.579Z"))},
		{name: "largest seconds", query: "id=123456&timestamp=2147483646&lat=60&lon=30",
			want: with(base, at("2038-01-19T03:14:06Z"))},
		{name: "smallest milliseconds", query: "id=123456&timestamp=2147483647&lat=60&lon=30",
			want: with(base, at("1970-01-25T20:31:23.647Z"))},
		{name: "iso utc", query: "id=123456&timestamp=2016-01-27T18%3A55%3A47Z&lat=60&lon=30",
			want: with(base, at("2016-01-27T18:55:47Z"))},
		{name: "iso fraction utc", query: "id=123456&timestamp=2025-06-15T13:45:12.862Z&lat=60&lon=30",
			want: with(base, at("2025-06-15T13:45:12.862Z"))},
		{name: "iso no zone is utc", query: "id=123456&timestamp=2016-01-27T18:55:47&lat=60&lon=30",
			want: with(base, at("2016-01-27T18:55:47Z"))},
		{name: "iso fraction no zone", query: "id=123456&timestamp=2016-01-27T18:55:47.250&lat=60&lon=30",
			want: with(base, at("2016-01-27T18:55:47.25Z"))},
		{name: "iso offset", query: "id=123456&timestamp=2016-01-27T20:55:47%2B02:00&lat=60&lon=30",
			want: with(base, at("2016-01-27T18:55:47Z"))},
		{name: "iso offset with unescaped plus", query: "id=123456&timestamp=2016-01-27T20:55:47+02:00&lat=60&lon=30",
			want: with(base, at("2016-01-27T18:55:47Z"))},
		{name: "iso offset without colon", query: "id=123456&timestamp=2016-01-27T10:55:47.5-0800&lat=60&lon=30",
			want: with(base, at("2016-01-27T18:55:47.5Z"))},
		{name: "date space time is utc", query: "id=123456&timestamp=2014-06-04+09%3A10%3A11&lat=60&lon=30",
			want: with(base, at("2014-06-04T09:10:11Z"))},
		{name: "no timestamp is zero time", query: "id=123456&lat=60&lon=30", want: base},
		{name: "deviceid", query: "deviceid=123456&lat=60&lon=30", want: base},
		{name: "id before deviceid", query: "deviceid=other&id=123456&lat=60&lon=30", want: base},
		{name: "location", query: "id=123456&location=60.0,30.0", want: base},
		{name: "lat and lon before location", query: "id=123456&location=1,2&lat=60&lon=30", want: base},
		{name: "speed in knots", query: "id=123456&lat=60&lon=30&speed=10",
			want: with(base, func(f *fix.Fix) { f.SpeedMPS = 10 * 1852.0 / 3600 })},
		{name: "zero speed and bearing", query: "id=123456&lat=60&lon=30&speed=0.0&bearing=0.0",
			want: with(base, func(f *fix.Fix) { f.SpeedMPS, f.Heading = 0, 0 })},
		{name: "negative speed and bearing are unknown", query: "id=123456&lat=60&lon=30&speed=-1&bearing=-0.5",
			want: base},
		{name: "heading", query: "id=123456&lat=60&lon=30&heading=271.5",
			want: with(base, func(f *fix.Fix) { f.Heading = 271.5 })},
		{name: "bearing before heading", query: "id=123456&lat=60&lon=30&heading=1&bearing=2",
			want: with(base, func(f *fix.Fix) { f.Heading = 2 })},
		{name: "heading kept as sent", query: "id=123456&lat=60&lon=30&bearing=725",
			want: with(base, func(f *fix.Fix) { f.Heading = 725 })},
		{name: "altitude accuracy battery", query: "id=123456&lat=60&lon=30&altitude=-12.5&accuracy=4.2&batt=87",
			want: with(base, func(f *fix.Fix) { f.AltitudeM, f.AccuracyM, f.Battery = -12.5, 4.2, 87 })},
		{name: "negative battery is unknown", query: "id=123456&lat=60&lon=30&batt=-1", want: base},
		{name: "unknown parameters ignored",
			query: "id=123456&lat=60&lon=30&hdop=6.0&vacc=0&hacc=0&ignition=true&rpm=933&valid=false&cell=257,02,16,2224&wifi=00-14-22-01-23-45,-80",
			want:  base},
		{name: "empty values are absent", query: "id=123456&lat=60&lon=30&timestamp=&speed=&bearing=&batt=&altitude=",
			want: base},
		{name: "spaces trimmed", query: "id=+123456+&lat=+60&lon=30+", want: base},
		{name: "southern and western", query: "id=123456&lat=-33.8688&lon=-151.2093",
			want: wantFix("123456", -151.2093, -33.8688)},
		{name: "out of range kept for validation", query: "id=123456&lat=91&lon=181&timestamp=0",
			want: with(wantFix("123456", 181, 91), at("1970-01-01T00:00:00Z"))},

		{name: "no device", query: "timestamp=1377177267&lat=60.0&lon=30.0", wantErr: ErrNoDevice},
		{name: "blank device", query: "id=%20&lat=60.0&lon=30.0", wantErr: ErrNoDevice},
		{name: "no device before bad field", query: "lat=x", wantErr: ErrNoDevice},
		{name: "lat not a number", query: "id=1&lat=north&lon=30", wantErr: ErrBadField, wantInErr: `"lat"`},
		{name: "lat NaN", query: "id=1&lat=NaN&lon=30", wantErr: ErrBadField, wantInErr: `"lat"`},
		{name: "lon infinite", query: "id=1&lat=60&lon=-Inf", wantErr: ErrBadField, wantInErr: `"lon"`},
		{name: "speed NaN", query: "id=1&lat=60&lon=30&speed=nan", wantErr: ErrBadField, wantInErr: `"speed"`},
		{name: "bearing infinite", query: "id=1&lat=60&lon=30&bearing=infinity", wantErr: ErrBadField, wantInErr: `"bearing"`},
		{name: "altitude overflows", query: "id=1&lat=60&lon=30&altitude=1e400", wantErr: ErrBadField, wantInErr: `"altitude"`},
		{name: "accuracy not a number", query: "id=1&lat=60&lon=30&accuracy=5m", wantErr: ErrBadField, wantInErr: `"accuracy"`},
		{name: "battery not a number", query: "id=1&lat=60&lon=30&batt=full", wantErr: ErrBadField, wantInErr: `"batt"`},
		{name: "timestamp not a time", query: "id=1&lat=60&lon=30&timestamp=yesterday", wantErr: ErrBadField, wantInErr: `"timestamp"`},
		{name: "timestamp too large", query: "id=1&lat=60&lon=30&timestamp=99999999999999999999", wantErr: ErrBadField, wantInErr: `"timestamp"`},
		{name: "location one number", query: "id=1&location=60.0", wantErr: ErrBadField, wantInErr: `"location"`},
		{name: "location not numbers", query: "id=1&location=60.0,east", wantErr: ErrBadField, wantInErr: `"location"`},
		{name: "location NaN", query: "id=1&location=NaN,30", wantErr: ErrBadField, wantInErr: `"location"`},
		{name: "bad field before no position", query: "id=1&speed=fast", wantErr: ErrBadField, wantInErr: `"speed"`},
		{name: "lat without lon", query: "id=123456&lat=60", wantErr: ErrNoPosition, want: unplaced("123456"),
			wantInErr: "lat without lon"},
		{name: "lon without lat", query: "id=123456&lon=30&location=60,30", wantErr: ErrNoPosition, want: unplaced("123456"),
			wantInErr: "lon without lat"},
		{name: "cell towers only", query: "id=123456&timestamp=1377177267&cell=257,02,16,2224&wifi=00-14-22-01-23-45,-80&batt=50",
			wantErr: ErrNoPosition,
			want: with(unplaced("123456"), func(f *fix.Fix) {
				at("2013-08-22T13:14:27Z")(f)
				f.Battery = 50
			})},
	}
}

func bodyCases() []testCase {
	base := wantFix("123456", 30, 60)
	return []testCase{
		{name: "form body", contentType: formType, body: "id=123456&lat=60&lon=30", want: base},
		{name: "form body with charset", contentType: formType + "; charset=UTF-8", body: "id=123456&lat=60&lon=30",
			want: base},
		{name: "form merged with query", query: "id=123456&speed=10", contentType: formType, body: "lat=60&lon=30",
			want: with(base, func(f *fix.Fix) { f.SpeedMPS = 10 * 1852.0 / 3600 })},
		{name: "form wins over query", query: "id=other&lat=1&lon=2", contentType: formType,
			body: "id=123456&lat=60&lon=30", want: base},
		{name: "form without content type", body: "id=123456&lat=60&lon=30", want: base},
		{name: "empty form body reads query", query: "id=123456&lat=60&lon=30", contentType: formType, want: base},
		{name: "other body ignored", query: "id=123456", contentType: "text/plain", body: "lat=60&lon=30",
			wantErr: ErrNoPosition, want: unplaced("123456")},
		{name: "form not form data", contentType: formType, body: "id=1&lat=%zz", wantErr: ErrBadField, wantInErr: `"body"`},

		{name: "json traccar client", contentType: jsonType,
			body: `{"location":{"event":"motionchange","is_moving":false,"timestamp":"2021-07-21T08:06:34.444Z","odometer":0,` +
				`"coords":{"latitude":-6.1148096,"longitude":106.6837015,"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,` +
				`"heading":63,"altitude":35.7},"battery":{"is_charging":false,"level":0.79},"extras":{}},"device_id":"8737767034"}`,
			want: with(wantFix("8737767034", 106.6837015, -6.1148096), func(f *fix.Fix) {
				at("2021-07-21T08:06:34.444Z")(f)
				f.AccuracyM, f.SpeedMPS, f.Heading, f.AltitudeM, f.Battery = 3.8, 18.67, 63, 35.7, 79
			})},
		{name: "json unknowns", contentType: jsonType,
			body: `{"device_id":"123456","location":{"coords":{"latitude":60,"longitude":30,"speed":-1,"heading":-1},"battery":{"level":-1}}}`,
			want: base},
		{name: "json full battery", contentType: jsonType,
			body: `{"device_id":"123456","location":{"coords":{"latitude":60,"longitude":30},"battery":{"level":1}}}`,
			want: with(base, func(f *fix.Fix) { f.Battery = 100 })},
		{name: "json sniffed without content type",
			body: "\n  {\"device_id\":\"123456\",\"location\":{\"coords\":{\"latitude\":60,\"longitude\":30}}}",
			want: base},
		{name: "json sniffed under another content type", contentType: "text/plain",
			body: `{"device_id":"123456","location":{"coords":{"latitude":60,"longitude":30}}}`, want: base},
		{name: "json with charset", contentType: "application/json; charset=utf-8",
			body: `{"device_id":"123456","location":{"coords":{"latitude":60,"longitude":30}}}`, want: base},
		{name: "json numeric device id", contentType: jsonType,
			body: `{"device_id":123456,"location":{"coords":{"latitude":60,"longitude":30}}}`, want: base},
		{name: "json device from query", query: "id=123456", contentType: jsonType,
			body: `{"location":{"coords":{"latitude":60,"longitude":30}}}`, want: base},
		{name: "json device wins over query", query: "id=other", contentType: jsonType,
			body: `{"device_id":"123456","location":{"coords":{"latitude":60,"longitude":30}}}`, want: base},
		{name: "json unix milliseconds", contentType: jsonType,
			body: `{"device_id":"123456","location":{"timestamp":1442068686579,"coords":{"latitude":60,"longitude":30}}}`,
			want: with(base, at("2015-09-12T14:38:06.579Z"))},
		{name: "json unix seconds string", contentType: jsonType,
			body: `{"device_id":"123456","location":{"timestamp":"1377177267","coords":{"latitude":60,"longitude":30}}}`,
			want: with(base, at("2013-08-22T13:14:27Z"))},
		{name: "json empty timestamp is zero time", contentType: jsonType,
			body: `{"device_id":"123456","location":{"timestamp":"","coords":{"latitude":60,"longitude":30}}}`,
			want: base},

		{name: "json no device", contentType: jsonType,
			body: `{"location":{"coords":{"latitude":60,"longitude":30}}}`, wantErr: ErrNoDevice},
		{name: "json blank device", contentType: jsonType,
			body: `{"device_id":"  ","location":{"coords":{"latitude":60,"longitude":30}}}`, wantErr: ErrNoDevice},
		{name: "json device object", contentType: jsonType,
			body: `{"device_id":{"id":1},"location":{}}`, wantErr: ErrBadField, wantInErr: `"device_id"`},
		{name: "json no location", contentType: jsonType, body: `{"device_id":"123456"}`,
			wantErr: ErrNoPosition, want: unplaced("123456")},
		{name: "json no coords", contentType: jsonType,
			body:    `{"device_id":"123456","location":{"timestamp":"2021-07-21T08:06:34Z","battery":{"level":0.5}}}`,
			wantErr: ErrNoPosition, want: with(unplaced("123456"), func(f *fix.Fix) {
				at("2021-07-21T08:06:34Z")(f)
				f.Battery = 50
			})},
		{name: "json no longitude", contentType: jsonType,
			body:    `{"device_id":"123456","location":{"coords":{"latitude":60,"speed":2}}}`,
			wantErr: ErrNoPosition, want: with(unplaced("123456"), func(f *fix.Fix) { f.SpeedMPS = 2 })},
		{name: "json latitude a string", contentType: jsonType,
			body:    `{"device_id":"1","location":{"coords":{"latitude":"60","longitude":30}}}`,
			wantErr: ErrBadField, wantInErr: `"location.coords.latitude"`},
		{name: "json speed overflows", contentType: jsonType,
			body:    `{"device_id":"1","location":{"coords":{"latitude":60,"longitude":30,"speed":1e400}}}`,
			wantErr: ErrBadField, wantInErr: `"location.coords.speed"`},
		{name: "json location an array", contentType: jsonType,
			body:    `{"device_id":"1","location":[{"coords":{"latitude":60,"longitude":30}}]}`,
			wantErr: ErrBadField, wantInErr: `"location"`},
		{name: "json bad timestamp", contentType: jsonType,
			body:    `{"device_id":"1","location":{"timestamp":"soon","coords":{"latitude":60,"longitude":30}}}`,
			wantErr: ErrBadField, wantInErr: `"location.timestamp"`},
		{name: "json timestamp a bool", contentType: jsonType,
			body:    `{"device_id":"1","location":{"timestamp":true,"coords":{"latitude":60,"longitude":30}}}`,
			wantErr: ErrBadField, wantInErr: `"location.timestamp"`},
		{name: "json truncated", contentType: jsonType, body: `{"device_id":"1","location":{`,
			wantErr: ErrBadField, wantInErr: `"body"`},
		{name: "json not an object", contentType: jsonType, body: `[1,2]`,
			wantErr: ErrBadField, wantInErr: `"body"`},
	}
}

func TestDecodeOsmAnd(t *testing.T) {
	for _, group := range []struct {
		name  string
		cases []testCase
	}{{"query", queryCases()}, {"body", bodyCases()}} {
		t.Run(group.name, func(t *testing.T) {
			for _, tc := range group.cases {
				t.Run(tc.name, func(t *testing.T) { checkCase(t, tc) })
			}
		})
	}
}

func checkCase(t *testing.T, tc testCase) {
	t.Helper()
	got, err := decodeCase(tc)
	call := fmt.Sprintf("DecodeOsmAnd(%q, %q, %q)", tc.query, tc.contentType, tc.body)
	switch {
	case tc.wantErr == nil && err != nil:
		t.Fatalf("%s error = %v, want nil", call, err)
	case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
		t.Fatalf("%s error = %v, want %v", call, err, tc.wantErr)
	case err != nil && !strings.Contains(err.Error(), tc.wantInErr):
		t.Errorf("%s error = %q, want it to contain %q", call, err, tc.wantInErr)
	}
	if tc.wantErr != nil && tc.wantErr != ErrNoPosition {
		if !isZeroFix(got) {
			t.Errorf("%s = %+v with error, want the zero Fix", call, got)
		}
		return
	}
	if diff := diffFix(got, tc.want); diff != "" {
		t.Errorf("%s = %+v, want %+v: %s", call, got, tc.want, diff)
	}
}

func decodeCase(tc testCase) (fix.Fix, error) {
	q, err := url.ParseQuery(tc.query)
	if err != nil {
		return fix.Fix{}, fmt.Errorf("test query %q: %v", tc.query, err)
	}
	var body []byte
	if tc.body != "" {
		body = []byte(tc.body)
	}
	return Decode(q, tc.contentType, body)
}

func isZeroFix(f fix.Fix) bool {
	return f.Unit == "" && f.Time.IsZero() && f.Point == orb.Point{} && f.Source == ""
}

// diffFix names the first field in which got and want differ, "" if none.
// Numbers are compared within epsilon; NaN equals NaN.
func diffFix(got, want fix.Fix) string {
	nums := []struct {
		name      string
		got, want float64
	}{
		{"lon", got.Lon(), want.Lon()}, {"lat", got.Lat(), want.Lat()},
		{"SpeedMPS", got.SpeedMPS, want.SpeedMPS}, {"Heading", got.Heading, want.Heading},
		{"AccuracyM", got.AccuracyM, want.AccuracyM}, {"AltitudeM", got.AltitudeM, want.AltitudeM},
		{"Battery", got.Battery, want.Battery},
	}
	for _, n := range nums {
		if !near(n.got, n.want) {
			return fmt.Sprintf("%s: got %v, want %v", n.name, n.got, n.want)
		}
	}
	switch {
	case got.Unit != want.Unit:
		return fmt.Sprintf("Unit: got %q, want %q", got.Unit, want.Unit)
	case !got.Time.Equal(want.Time):
		return fmt.Sprintf("Time: got %v, want %v", got.Time, want.Time)
	case got.Time.Location() != time.UTC:
		return fmt.Sprintf("Time zone: got %v, want UTC", got.Time.Location())
	case got.Source != want.Source:
		return fmt.Sprintf("Source: got %q, want %q", got.Source, want.Source)
	}
	return ""
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= epsilon
}

// request is one line of the shared requests file.
type request struct {
	line    int
	check   string // verifyPosition, verifyAttribute, verifyNotNull, verifyNull
	form    string // GET or POST-JSON
	request string // the path and query, or the JSON body
}

func (r request) decode() (fix.Fix, error) {
	switch r.form {
	case "GET":
		u, err := url.Parse(r.request)
		if err != nil {
			return fix.Fix{}, fmt.Errorf("line %d: request %q: %v", r.line, r.request, err)
		}
		return Decode(u.Query(), "", nil)
	case "POST-JSON":
		return Decode(nil, jsonType, []byte(r.request))
	}
	return fix.Fix{}, fmt.Errorf("line %d: unknown form %q", r.line, r.form)
}

// readRequests reads the shared requests file, or returns nil when
// it is missing and may be.
func readRequests(tb testing.TB, path string) []request {
	tb.Helper()
	file, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer file.Close()
	var reqs []request
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, " ", 3)
		if len(parts) != 3 {
			tb.Fatalf("%s:%d: got %d fields, want check, form and request", path, n, len(parts))
		}
		reqs = append(reqs, request{line: n, check: parts[0], form: parts[1], request: parts[2]})
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return reqs
}

// TestDecodeOsmAndTraccarRequests decodes every real request of the shared
// file and holds the result to the check written beside it:
//
//	verifyPosition  → no error, a unit and a finite position
//	verifyAttribute → as verifyPosition, and the attributes a Fix models
//	                  (battery, accuracy, altitude) decoded; the free-form
//	                  "extras" are outside the Fix model
//	verifyNotNull   → the request decodes to a unit: no error, or
//	                  ErrNoPosition for a request without lat/lon (the
//	                  file's cell-tower-only request), with Unit and Time set
//	verifyNull      → an error; here ErrNoDevice (the request has no id)
func TestDecodeOsmAndTraccarRequests(t *testing.T) {
	reqs := readRequests(t, datatest.File(t, requestsFile))
	if len(reqs) == 0 {
		t.Fatalf("%s: got no requests, want some", requestsFile)
	}
	for _, r := range reqs {
		t.Run(fmt.Sprintf("line %d %s", r.line, r.check), func(t *testing.T) {
			got, err := r.decode()
			switch r.check {
			case "verifyPosition":
				checkPositioned(t, got, err)
			case "verifyAttribute":
				checkPositioned(t, got, err)
				if got.Battery < 0 && got.AccuracyM <= 0 && got.AltitudeM == 0 {
					t.Errorf("decode = %+v, want battery, accuracy or altitude", got)
				}
			case "verifyNotNull":
				if err != nil && !errors.Is(err, ErrNoPosition) {
					t.Fatalf("decode error = %v, want nil or ErrNoPosition", err)
				}
				if got.Unit == "" || got.Time.IsZero() {
					t.Errorf("decode = %+v, want a unit and a time", got)
				}
			case "verifyNull":
				if !errors.Is(err, ErrNoDevice) {
					t.Errorf("decode = %+v, %v; want ErrNoDevice", got, err)
				}
			default:
				t.Errorf("unknown check %q", r.check)
			}
		})
	}
}

func checkPositioned(t *testing.T, f fix.Fix, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("decode error = %v, want nil", err)
	}
	if f.Unit == "" || !finite(f.Point[:]...) || f.Source != fix.SourceOsmAnd {
		t.Errorf("decode = %+v, want a unit, a finite position and source %q", f, fix.SourceOsmAnd)
	}
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// FuzzDecodeOsmAnd holds Decode to its contract on any request: it
// never panics; every error wraps one of the three sentinels; a success
// has a unit, a finite position and finite numbers; ErrNoPosition still
// names the unit.
func FuzzDecodeOsmAnd(f *testing.F) {
	for _, tc := range append(queryCases(), bodyCases()...) {
		f.Add(tc.query, tc.contentType, []byte(tc.body))
	}
	if path, ok := datatest.Lookup(f, requestsFile); ok {
		for _, r := range readRequests(f, path) {
			if r.form == "POST-JSON" {
				f.Add("", jsonType, []byte(r.request))
			} else if u, err := url.Parse(r.request); err == nil {
				f.Add(u.RawQuery, "", []byte(nil))
			}
		}
	}
	f.Fuzz(func(t *testing.T, rawQuery, contentType string, body []byte) {
		q, _ := url.ParseQuery(rawQuery) // keeps what parses, as net/http does
		got, err := Decode(q, contentType, body)
		switch {
		case err == nil:
			numbers := []float64{got.Lon(), got.Lat(), got.SpeedMPS, got.Heading, got.AccuracyM, got.AltitudeM, got.Battery}
			if strings.TrimSpace(got.Unit) == "" || !finite(numbers...) {
				t.Fatalf("DecodeOsmAnd = %+v, want a unit and finite numbers", got)
			}
		case errors.Is(err, ErrNoPosition):
			if strings.TrimSpace(got.Unit) == "" {
				t.Fatalf("DecodeOsmAnd = %+v, %v; want a unit with ErrNoPosition", got, err)
			}
		case errors.Is(err, ErrNoDevice), errors.Is(err, ErrBadField):
		default:
			t.Fatalf("DecodeOsmAnd error = %v, want one wrapping a sentinel", err)
		}
	})
}

// BenchmarkDecodeOsmAnd measures a whole request decode: the query form
// includes parsing the raw query, as a handler would.
func BenchmarkDecodeOsmAnd(b *testing.B) {
	const (
		query = "id=V01&lat=43.6173512&lon=122.2633904&timestamp=1795856400000&speed=15.55&bearing=87.5&accuracy=5"
		form  = "id=V01&lat=43.6173512&lon=122.2633904&timestamp=2026-11-28T09:00:00Z&speed=15.55&bearing=87.5&batt=80"
		body  = `{"location":{"timestamp":"2026-11-28T09:00:00.862Z","coords":{"latitude":43.6173512,` +
			`"longitude":122.2633904,"accuracy":5,"speed":8,"heading":87.5,"altitude":180},` +
			`"is_moving":true,"odometer":1520,"event":"motionchange","battery":{"level":0.8,"is_charging":false},` +
			`"activity":{"type":"in_vehicle"},"extras":{}},"device_id":"V01"}`
	)
	for _, bc := range []struct {
		name, query, contentType, body string
	}{
		{"query", query, "", ""},
		{"form", "", formType, form},
		{"json", "", jsonType, body},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			body := []byte(bc.body)
			n := 0
			for b.Loop() {
				q, err := url.ParseQuery(bc.query)
				if err == nil {
					_, err = Decode(q, bc.contentType, body)
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "requests/s")
		})
	}
}
