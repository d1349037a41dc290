package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/uber/h3-go/v4"
)

// osmTestData returns the path of an extract in the shared test data
// folder, skipping the test when it is missing, or failing it when
// CI=true or PATROLGRID_REQUIRE=1.
func osmTestData(t *testing.T, name string) string {
	t.Helper()
	return datatest.File(t, "osm/"+name)
}

// runIsochroneCmd runs patrolgrid isochrone with args and returns stdout.
func runIsochroneCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"isochrone"}, args...), &out, &errb)
	return out.String(), err
}

// parseReachCSV checks the cell,eta_s format and returns ETAs by cell.
func parseReachCSV(t *testing.T, out string) map[string]float64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "cell,eta_s" {
		t.Fatalf("header = %q, want cell,eta_s", lines[0])
	}
	m := map[string]float64{}
	prev := -1.0
	for _, l := range lines[1:] {
		cell, eta, _ := strings.Cut(l, ",")
		v, err := strconv.ParseFloat(eta, 64)
		if err != nil || !h3.Cell(h3.IndexFromString(cell)).IsValid() || v < prev {
			t.Fatalf("row %q: want a valid cell and a non-decreasing ETA in seconds", l)
		}
		prev, m[cell] = v, v
	}
	return m
}

func TestIsochroneCSV(t *testing.T) {
	osm := osmTestData(t, "monaco.osm.pbf")
	cache := filepath.Join(t.TempDir(), "monaco.graph")
	args := []string{"--osm", osm, "--from", "43.7396,7.4280", "--limit", "2m", "--cache", cache}
	out, err := runIsochroneCmd(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	imported := parseReachCSV(t, out)
	if len(imported) < 20 {
		t.Fatalf("2-minute car isochrone reached %d cells, want dozens", len(imported))
	}
	for _, v := range imported {
		if v > 120 {
			t.Fatalf("ETA %v s beyond the 2m limit", v)
		}
	}
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("cache not written: %v", err)
	}
	again, err := runIsochroneCmd(t, args...) // now from the cache
	if err != nil {
		t.Fatal(err)
	}
	if again != out {
		t.Errorf("isochrone from the cached graph differs from the imported one")
	}
	foot, err := runIsochroneCmd(t, "--cache", cache, "--from", "43.7396,7.4280", "--limit", "2m", "--mode", "foot")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(parseReachCSV(t, foot)); n >= len(imported) {
		t.Errorf("foot reached %d cells in 2m, want fewer than the car's %d", n, len(imported))
	}
}

func TestIsochroneGeoJSON(t *testing.T) {
	osm := osmTestData(t, "shanghai-central.osm")
	out, err := runIsochroneCmd(t, "--osm", osm, "--from", "31.2304,121.4737", "--limit", "1m", "--format", "geojson", "--res", "9")
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry struct {
				Type string `json:"type"`
			} `json:"geometry"`
			Properties struct {
				Cell string  `json:"cell"`
				ETA  float64 `json:"eta_s"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &fc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
		t.Fatalf("got type %q with %d features, want a non-empty FeatureCollection", fc.Type, len(fc.Features))
	}
	for _, f := range fc.Features {
		if f.Geometry.Type != "Polygon" || h3.Cell(h3.IndexFromString(f.Properties.Cell)).Resolution() != 9 || f.Properties.ETA > 60 {
			t.Fatalf("feature %+v: want a res-9 hexagon within 60 s", f)
		}
	}
}

func TestIsochroneRejects(t *testing.T) {
	osm := osmTestData(t, "shanghai-central.osm")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no extract", []string{"--from", "31.23,121.47"}, "--osm or --cache"},
		{"bad from", []string{"--osm", osm, "--from", "121.47"}, "LAT,LON"},
		{"bad format", []string{"--osm", osm, "--from", "31.23,121.47", "--format", "kml"}, "csv or geojson"},
		{"bad mode", []string{"--osm", osm, "--from", "31.23,121.47", "--mode", "boat"}, "no profile \"boat\""},
		{"bad profile", []string{"--osm", osm, "--from", "31.23,121.47", "--profile", "nope"}, "neither built in"},
		{"off network", []string{"--osm", osm, "--from", "31.10,121.30"}, "off the car network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runIsochroneCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("isochrone %v error = %v, want one saying %q", tc.args, err, tc.want)
			}
		})
	}
}
