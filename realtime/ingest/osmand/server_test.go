package osmand_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/citytest"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// FuzzOsmAndCredentials sends arbitrary queries, bodies and
// Authorization headers to the OsmAnd port's handler: every answer is 200,
// 400, 401 or 403 with a JSON error, never a failure of the server.
func FuzzOsmAndCredentials(f *testing.F) {
	city := citytest.StartDemo(f)
	devices := device.NewRegistry(device.Config{})
	if _, err := devices.Seed(context.Background(), device.DemoSpecs(city.Plan())); err != nil {
		f.Fatal(err)
	}
	h := osmand.NewServer(osmand.Config{Config: ingest.Config{Devices: devices, Ingest: city.Ingest}, GatewayTokens: []string{"gateway"}}).Handler()
	for _, s := range [][4]string{
		{"id=V01&key=demo-V01&lat=43.62&lon=122.26", "", "", ""},
		{"id=V01&lat=43.62&lon=122.26", "", "", "Basic VjAxOmRlbW8tVjAx"},
		{"id=V01&lat=43.62&lon=122.26", "", "", "Bearer gateway"},
		{"", "application/x-www-form-urlencoded", "id=V02&key=demo-V02&location=43.6,122.2", ""},
		{"key=demo-V03", "application/json", `{"device_id":"V03","location":{"coords":{"latitude":43.6,"longitude":122.2}}}`, ""},
		{"id=V01&key=%zz", "", "", "Basic !!!"},
		{"id=nobody&key=", "application/x-www-form-urlencoded", "key=%", "Bearer "},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, query, contentType, body, auth string) {
		var req fasthttp.Request
		req.Header.SetMethod("POST")
		req.SetRequestURI("/?" + query)
		req.Header.SetContentType(contentType)
		req.Header.Set("Authorization", auth)
		req.SetBodyString(body)
		var c fasthttp.RequestCtx
		c.Init(&req, nil, nil)
		h(&c)
		code, got := c.Response.StatusCode(), c.Response.Body()
		switch code {
		case 200:
		case 400, 401, 403, 413, 503:
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if err := json.Unmarshal(got, &e); err != nil || e.Error.Code == "" {
				t.Fatalf("%d with body %q, want a JSON error", code, got)
			}
		default:
			t.Fatalf("query %q, %q body %q, auth %q: status %d %s", query, contentType, body, auth, code, got)
		}
	})
}

// BenchmarkOsmAndPort measures the OsmAnd port's handler on the demo city
// with the memory store, without the network: decoding, credentials,
// validation and ingest of single-fix GET requests from the city's units in
// turn, each with a fresh timestamp, as under bench/ingest-http.sh.
func BenchmarkOsmAndPort(b *testing.B) {
	city := citytest.StartDemo(b)
	h := osmand.NewServer(osmand.Config{Config: ingest.Config{Ingest: city.Ingest}, GatewayTokens: []string{"gateway"}}).Handler()
	units := city.Plan().Units
	var req fasthttp.Request
	req.Header.Set("Authorization", "Bearer gateway")
	var c fasthttp.RequestCtx
	var uri []byte
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		u := units[i%len(units)]
		i++
		uri = append(uri[:0], "/?id="...)
		uri = append(uri, u.ID...)
		uri = append(uri, "&lat=43.62&lon=122.26&speed=0&accuracy=5&timestamp="...)
		uri = time.Now().UTC().AppendFormat(uri, "2006-01-02T15:04:05.000000Z")
		req.SetRequestURIBytes(uri)
		c.Init(&req, nil, nil)
		h(&c)
		if code := c.Response.StatusCode(); code != 200 {
			b.Fatalf("status %d: %s", code, c.Response.Body())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/request")
}

// TestOsmAndPortRecoversPanic sends two fixes through a port whose ingest
// panics on the first: that request is answered 500 and counted, and the
// next one is taken.
func TestOsmAndPortRecoversPanic(t *testing.T) {
	reg := prometheus.NewRegistry()
	var calls atomic.Int32
	ingestFn := func(_ context.Context, fixes []fix.Fix) ([]fix.Result, error) {
		if calls.Add(1) == 1 {
			panic("a store's bug")
		}
		return make([]fix.Result, len(fixes)), nil
	}
	srv := osmand.NewServer(osmand.Config{Config: ingest.Config{Ingest: ingestFn, Metrics: device.NewMetrics(reg),
		Logger: slog.New(slog.DiscardHandler)}, GatewayTokens: []string{"gateway"}})
	addr := "http://" + realtimetest.ServeTCP(t, srv)
	post := func() int {
		req, err := http.NewRequest("POST", addr+"/?id=V01&lat=43.62&lon=122.26", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer gateway")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(); got != http.StatusInternalServerError {
		t.Errorf("request whose ingest panics: %d, want 500", got)
	}
	if got := post(); got != http.StatusOK {
		t.Errorf("the request after: %d, want 200", got)
	}
	if n := realtimetest.Counter(t, reg, "patrolgrid_panics_total", "source", fix.SourceOsmAnd); n != 1 {
		t.Errorf("%v panics counted, want 1", n)
	}
}
