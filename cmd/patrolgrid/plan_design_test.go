package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/data/datatest"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// TestPlanDesignBoundary designs the demo city's mix for Wilmington on the
// lattice, saying that the demo city's zones are dropped and scoring the
// design alone, and for Monaco on its roads, where each cell weighs its
// length of road.
func TestPlanDesignBoundary(t *testing.T) {
	dir := t.TempDir()
	wilmington := tempFile(t, dir, "wilmington.geojson", string(data.WilmingtonBoundary()))
	out := filepath.Join(dir, "wilmington.json")
	stdout := runDesignOK(t, "--boundary", wilmington, "--out", out)
	for _, want := range []string{"16 of the plan's 16 zones lie outside the boundary", "designed 88 units", "no priority zones"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "the plan given") {
		t.Errorf("the demo plan, with no unit in Wilmington, is scored beside the design:\n%s", stdout)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plan, err := patrol.ReadPlan(f)
	if err != nil || plan.City != "wilmington" || plan.Timezone != "America/New_York" || len(plan.Units) != 88 || len(plan.Zones) != 0 {
		t.Fatalf("designed plan: %v; city %q, timezone %q, %d units, %d zones", err, plan.City, plan.Timezone, len(plan.Units), len(plan.Zones))
	}

	monaco := tempFile(t, dir, "monaco.geojson", `{"type":"Feature","properties":{"city":"monaco","timezone":"Europe/Monaco"},`+
		`"geometry":{"type":"Polygon","coordinates":[[[7.409,43.724],[7.44,43.724],[7.44,43.752],[7.409,43.752],[7.409,43.724]]]}}`)
	stdout = runDesignOK(t, "--boundary", monaco, "--osm", datatest.File(t, "osm/monaco.osm.pbf"), "--cache-dir", dir,
		"--mix", "vehicle=6,foot=4,video=2", "--out", filepath.Join(dir, "monaco.json"))
	for _, want := range []string{"demand is the length of car road", "designed 12 units"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("Monaco output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestPlanDesignBoundaryErrors: a boundary that is missing, not a
// polygon, too small for a cell, without a road of the extract, or given
// with --from is refused, saying why.
func TestPlanDesignBoundaryErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "plan.json")
	point := tempFile(t, dir, "point.geojson", `{"type":"Feature","properties":{"city":"x","timezone":"UTC"},"geometry":{"type":"Point","coordinates":[7.42,43.73]}}`)
	tiny := tempFile(t, dir, "tiny.geojson", `{"type":"Feature","properties":{"city":"x","timezone":"UTC"},`+
		`"geometry":{"type":"Polygon","coordinates":[[[7.42,43.73],[7.42001,43.73],[7.42001,43.73001],[7.42,43.73]]]}}`)
	wilmington := tempFile(t, dir, "wilmington.geojson", string(data.WilmingtonBoundary()))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing", []string{"--boundary", filepath.Join(dir, "none.geojson")}, "no such file"},
		{"a point", []string{"--boundary", point}, "geometry is a Point, want a Polygon or MultiPolygon"},
		{"too small", []string{"--boundary", tiny}, "no cell of resolution 10"},
		{"with --from", []string{"--boundary", wilmington, "--from", "demo"}, "give one of them"},
		{"no road inside", []string{"--boundary", wilmington, "--osm", datatest.File(t, "osm/monaco.osm.pbf"), "--cache-dir", dir},
			"no road of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, errs bytes.Buffer
			err := run(context.Background(), append([]string{"plan", "design", "--out", out}, tc.args...), &stdout, &errs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("plan design %v: error %v, want one containing %q", tc.args, err, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused design wrote %s (%v)", out, err)
	}
}

// runDesignOK runs plan design with args and returns what it printed.
func runDesignOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, errs bytes.Buffer
	if err := run(context.Background(), append([]string{"plan", "design"}, args...), &stdout, &errs); err != nil {
		t.Fatalf("plan design %v: %v\n%s", args, err, stdout.String())
	}
	return stdout.String()
}

// tempFile writes body to the file name in dir and returns its path.
func tempFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
