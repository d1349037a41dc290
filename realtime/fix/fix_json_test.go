package fix

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// identicalFix reports whether a and b hold the same values, bit for bit
// (NaN equal to NaN), and the same instants in zones of the same name and
// offset (each parse of an odd offset makes a zone of its own).
func identicalFix(a, b Fix) bool {
	fa := []float64{a.Point[0], a.Point[1], a.SpeedMPS, a.Heading, a.AccuracyM, a.AltitudeM, a.Battery}
	fb := []float64{b.Point[0], b.Point[1], b.SpeedMPS, b.Heading, b.AccuracyM, b.AltitudeM, b.Battery}
	for i := range fa {
		if math.Float64bits(fa[i]) != math.Float64bits(fb[i]) {
			return false
		}
	}
	an, ao := a.Time.Zone()
	bn, bo := b.Time.Zone()
	return a.Unit == b.Unit && a.Source == b.Source && a.Time.Equal(b.Time) && an == bn && ao == bo
}

func identicalFixes(a, b []Fix) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !identicalFix(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestDecodeFixBatch(t *testing.T) {
	at := time.Date(2026, 11, 28, 3, 4, 5, 120000000, time.UTC)
	v01 := Fix{Unit: "V01", Time: at, Point: orb.Point{122.26, 43.62}, SpeedMPS: 8.5, Heading: 90, AccuracyM: 5,
		Battery: -1}
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		body string
		want []Fix
		fast bool // decoded without encoding/json
	}{
		{"bare array", `[{"unit":"V01","time":"2026-11-28T03:04:05.12Z","lat":43.62,"lon":122.26,"speed_mps":8.5,"heading":90,"accuracy_m":5}]`,
			[]Fix{v01}, true},
		{"wrapped, spaced", " {\n \"fixes\" : [ {\"lon\": 122.26, \"lat\":43.62 ,\"unit\":\"V01\",\"heading\":90,\"speed_mps\":8.5,\"accuracy_m\":5,\"time\":\"2026-11-28T11:04:05.12+08:00\"} ] }\r\n",
			[]Fix{{Unit: "V01", Time: at.In(time.FixedZone("", 8*3600)), Point: orb.Point{122.26, 43.62}, SpeedMPS: 8.5, Heading: 90, AccuracyM: 5, Battery: -1}}, true},
		{"missing coordinates, negative speed and heading", `[{"unit":"F01","speed_mps":-3,"heading":-0.5,"battery":-2,"altitude_m":-12.5e0,"source":"x"}]`,
			[]Fix{{Unit: "F01", Point: orb.Point{nan, nan}, SpeedMPS: -1, Heading: -1, Battery: -1, AltitudeM: -12.5, Source: "x"}}, true},
		{"two fixes, last key wins", `[{"unit":"A","unit":"B","lat":1,"lon":2},{"unit":"C","lat":-1E2,"lon":0.5e-1}]`,
			[]Fix{{Unit: "B", Point: orb.Point{2, 1}, SpeedMPS: -1, Heading: -1, Battery: -1},
				{Unit: "C", Point: orb.Point{0.05, -100}, SpeedMPS: -1, Heading: -1, Battery: -1}}, true},
		{"escaped unit", `[{"unit":"V\u00301","lat":1,"lon":2}]`,
			[]Fix{{Unit: "V01", Point: orb.Point{2, 1}, SpeedMPS: -1, Heading: -1, Battery: -1}}, false},
		{"keys match without case, as encoding/json does", `[{"Unit":"V01","LAT":1,"lon":2}]`,
			[]Fix{{Unit: "V01", Point: orb.Point{2, 1}, SpeedMPS: -1, Heading: -1, Battery: -1}}, false},
		{"unknown field and null", `{"fixes":[{"unit":"V01","lat":1,"lon":2,"extra":{"a":[1]},"heading":null}],"n":1}`,
			[]Fix{{Unit: "V01", Point: orb.Point{2, 1}, SpeedMPS: -1, Heading: -1, Battery: -1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeBatch([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !identicalFixes(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			if _, fast := decodeFixBatchFast([]byte(tc.body)); fast != tc.fast {
				t.Errorf("fast path taken: %v, want %v", fast, tc.fast)
			}
		})
	}
}

func TestDecodeFixBatchErrors(t *testing.T) {
	tooMany := "[" + strings.Repeat(`{"unit":"V01","lat":1,"lon":2},`, MaxBatch) + `{"unit":"V01","lat":1,"lon":2}]`
	for _, tc := range []struct{ body, want string }{
		{``, "not a JSON batch"},
		{`[]`, "no fixes"},
		{`{"fixes":[]}`, "no fixes"},
		{`{}`, "no fixes"},
		{` [{"unit":"V01"}]`, "not a JSON batch"}, // a bare array starts the body
		{`[{"unit":"V01","lat":1,"lon":2},]`, "not a JSON batch"},
		{`[{"unit":"V01","lat":01,"lon":2}]`, "not a JSON batch"},
		{`[{"unit":"V01","lat":1e999,"lon":2}]`, "not a JSON batch"},
		{`[{"unit":"V01","lat":"1","lon":2}]`, "not a JSON batch"},
		{`[{"unit":"V01","time":"2026-11-28 03:04:05"}]`, "not a JSON batch"},
		{`[{"unit":"V01"}] x`, "not a JSON batch"},
		{tooMany, fmt.Sprintf("%d fixes in one batch, at most %d", MaxBatch+1, MaxBatch)},
	} {
		_, err := DecodeBatch([]byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60q: error %v, want one saying %q", tc.body, err, tc.want)
		}
	}
}

// The fix lines of the stream and of events read back what was written.
func TestFixLineRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 28, 3, 4, 5, 123456789, time.UTC)
	for _, f := range []Fix{
		{Unit: "V01", Time: at, Point: orb.Point{122.26, 43.62}, SpeedMPS: 8.5, Heading: 0, AccuracyM: 5,
			AltitudeM: 180.25, Battery: 77, Source: "jt808"},
		{Unit: `odd "id" <&>`, Time: at, Point: orb.Point{-0.000001, -89.5}, SpeedMPS: -1, Heading: -1, Battery: -1,
			Source: "osmand"},
	} {
		line := string(AppendJSON(nil, f))
		got, err := ParseJSON(line)
		if err != nil {
			t.Fatal(err)
		}
		if !identicalFix(got, f) {
			t.Errorf("%s: got %+v, want %+v", line, got, f)
		}
		b, err := f.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Fix
		if err := back.UnmarshalJSON(b); err != nil || !identicalFix(back, f) {
			t.Errorf("MarshalJSON %s: read back %+v, %v", b, back, err)
		}
	}
}

// The fast path never disagrees with encoding/json: on whatever it takes,
// the fixes are the same, and encoding/json takes it too.
func FuzzDecodeFixBatch(f *testing.F) {
	for _, s := range []string{
		`[{"unit":"V01","time":"2026-11-28T03:04:05.12Z","lat":43.62,"lon":122.26,"speed_mps":8.5,"heading":90,"accuracy_m":5}]`,
		`{"fixes":[{"unit":"F01","speed_mps":-3,"heading":-0.5,"battery":-2,"altitude_m":-12.5e0,"source":"x"},{}]}`,
		`[{"unit":"A","unit":"B","lat":1,"lon":2},{"unit":"C","lat":-1E2,"lon":0.5e-1,"time":"2026-11-28T11:04:05+08:00"}]`,
		`[{"Unit":"V01","lat":1,"lon":2}]`, `[]`, ` [ ] `, `{"fixes":null}`, `[null]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeFixBatchFast(b)
		if !ok {
			return
		}
		slow, err := decodeFixBatchSlow(b)
		if err != nil {
			t.Fatalf("fast path took %q, encoding/json refuses it: %v", b, err)
		}
		if !identicalFixes(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
		}
	})
}

func FuzzFixUnmarshalJSON(f *testing.F) {
	f.Add([]byte(`{"unit":"V01","time":"2026-11-28T03:04:05.123456789Z","lat":43.62,"lon":122.26,"speed_mps":8.5,"heading":0,"battery":77,"source":"jt808"}`))
	f.Add([]byte(` {"unit":"V\u00301","lat":1,"lon":2} `))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Fix
		s := fixScanner{b: b}
		if !s.fix(&fast) || !s.end() {
			return
		}
		var slow Fix
		if err := slow.unmarshalJSONSlow(b); err != nil {
			t.Fatalf("fast path took %q, encoding/json refuses it: %v", b, err)
		}
		if !identicalFix(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
		}
	})
}

// BenchmarkDecodeFixBatch decodes a batch of 1,000 fixes as the JSON
// ingest endpoint reads it, and through encoding/json alone for reference.
func BenchmarkDecodeFixBatch(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"fixes":[`)
	at := time.Date(2026, 11, 28, 3, 4, 5, 0, time.UTC)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"unit":"V%02d","time":%q,"lat":%.6f,"lon":%.6f,"speed_mps":8.3,"heading":%d,"accuracy_m":5}`,
			i%88+1, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), 43.62+float64(i%50)*0.001,
			122.26+float64(i%70)*0.001, i%360)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	for _, c := range []struct {
		name   string
		decode func([]byte) ([]Fix, error)
	}{{"fast", DecodeBatch}, {"encoding_json", decodeFixBatchSlow}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if fixes, err := c.decode(body); err != nil || len(fixes) != 1000 {
					b.Fatal(len(fixes), err)
				}
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "fixes/s")
		})
	}
}
