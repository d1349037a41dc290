package main

import (
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// TestGeneratedMatchesCommitted runs the generator as go generate ./data
// does, into a temporary folder, and compares what it writes file for file
// and byte for byte with data/tongliao, the folder package data embeds
// whole. It fails when a file there was edited, added or removed by hand,
// and when the generator, or a package it uses, changed without the files
// being regenerated.
func TestGeneratedMatchesCommitted(t *testing.T) {
	fresh := t.TempDir()
	if err := run(fresh, defaultSeed, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
	committed := filepath.Join("..", "..", "data", "tongliao")
	names := fileNames(t, fresh)
	if got := fileNames(t, committed); !slices.Equal(got, names) {
		t.Errorf("data/tongliao holds %v, the generator writes %v; run go generate ./data", got, names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(fresh, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(committed, name))
			if err != nil {
				t.Fatal(err)
			}
			if line, g, w, differ := firstDiff(got, want); differ {
				t.Errorf("data/tongliao/%s (%d bytes) differs from a fresh generation (%d bytes) at line %d:\n"+
					"committed: %q\ngenerated: %q\nrun go generate ./data", name, len(got), len(want), line, g, w)
			}
		})
	}
}

// fileNames returns the names of the files in dir, sorted.
func fileNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// firstDiff reports whether a and b differ and, if so, the number (from 1)
// of the first line where they do and up to 40 bytes of each from a little
// before the first differing byte, enough to see what changed in a long
// line of JSON.
func firstDiff(a, b []byte) (line int, ea, eb string, differ bool) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return 0, "", "", false
	}
	from := max(i-10, bytes.LastIndexByte(a[:i], '\n')+1)
	excerpt := func(s []byte) string { return string(s[from:min(len(s), from+40)]) }
	return bytes.Count(a[:i], []byte("\n")) + 1, excerpt(a), excerpt(b), true
}

func readPlan(t *testing.T) *patrol.Plan {
	t.Helper()
	p, err := patrol.ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		t.Fatalf("ReadPlan: %v", err)
	}
	return p
}

func TestPlanShape(t *testing.T) {
	p := readPlan(t)
	if got := len(p.Units); got != 88 {
		t.Errorf("units = %d, want 88", got)
	}
	var mechs []string
	for _, m := range p.Mechanisms {
		mechs = append(mechs, m.ID)
	}
	if want := []string{"vehicle", "ebike", "foot", "post", "joint", "video"}; !slices.Equal(mechs, want) {
		t.Errorf("mechanisms = %v, want %v", mechs, want)
	}
	if got := len(p.Zones); got < 12 {
		t.Errorf("zones = %d, want at least 12", got)
	}
	if !strings.Contains(strings.ToLower(p.Notice), "illustrative") {
		t.Errorf("notice = %q, want it to say the data is illustrative", p.Notice)
	}
	count := map[string]int{}
	off := 0
	for _, u := range p.Units {
		count[u.Mechanism]++
		if u.Status == patrol.OffDuty {
			off++
		}
	}
	want := map[string]int{"vehicle": nVehicle, "ebike": nEbike, "foot": nFoot, "post": nPost, "joint": nJoint, "video": nVideo}
	for m, n := range want {
		if count[m] != n {
			t.Errorf("units of %s = %d, want %d", m, count[m], n)
		}
	}
	if off < 3 || off > 5 {
		t.Errorf("off-duty units = %d, want 3 to 5", off)
	}
}

// TestAreasPartitionBoundary checks that every cell of the boundary
// belongs to exactly one unit, that no unit holds a cell outside it, that
// each area is one piece and holds its post.
func TestAreasPartitionBoundary(t *testing.T) {
	p := readPlan(t)
	owner := map[h3.Cell]string{}
	for _, c := range geo.PolygonCells(p.Boundary, p.Resolution) {
		owner[c] = ""
	}
	for _, u := range p.Units {
		for _, c := range u.Area {
			prev, ok := owner[c]
			switch {
			case !ok:
				t.Errorf("unit %s: cell %v is outside the boundary", u.ID, c)
			case prev != "":
				t.Errorf("cell %v is in the areas of %s and %s", c, prev, u.ID)
			}
			owner[c] = u.ID
		}
		if !slices.Contains(u.Area, u.Post) {
			t.Errorf("unit %s: post %v not in its area", u.ID, u.Post)
		}
		if n := contiguousFrom(u.Area); n != len(u.Area) {
			t.Errorf("unit %s: %d of %d area cells connected, want all", u.ID, n, len(u.Area))
		}
	}
	for c, id := range owner {
		if id == "" {
			t.Errorf("boundary cell %v has no unit", c)
		}
	}
}

// contiguousFrom returns how many of area's cells are reachable from its
// first cell through neighbouring cells of area.
func contiguousFrom(area []h3.Cell) int {
	in := map[h3.Cell]bool{}
	for _, c := range area {
		in[c] = true
	}
	seen := map[h3.Cell]bool{area[0]: true}
	queue := []h3.Cell{area[0]}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, n := range h3.GridDisk(c, 1) {
			if in[n] && !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	return len(seen)
}

func TestZones(t *testing.T) {
	p := readPlan(t)
	kinds := []string{"commercial", "night_market", "park", "transport", "school", "hospital"}
	perKind := map[string]int{}
	for _, z := range p.Zones {
		perKind[z.Kind]++
		if !slices.Contains(kinds, z.Kind) {
			t.Errorf("zone %s: kind %q, want one of %v", z.ID, z.Kind, kinds)
		}
		for _, v := range z.Area[0] {
			if !planar.PolygonContains(p.Boundary, v) {
				t.Errorf("zone %s: vertex %v outside the boundary", z.ID, v)
			}
		}
		if w, h := extentM(z.Area.Bound()); max(w, h) < 200 || max(w, h) > 800 {
			t.Errorf("zone %s: extent %.0f x %.0f m, want the larger side in [200, 800]", z.ID, w, h)
		}
		if len(z.Hours) == 0 || z.Weight <= 0 || z.Rule.M1.Units < 1 {
			t.Errorf("zone %s: hours %v weight %v rule %+v, want hours, a weight and a 1-minute rule",
				z.ID, z.Hours, z.Weight, z.Rule)
		}
	}
	if perKind["night_market"] < 2 || perKind["park"] < 2 || perKind["transport"] < 1 {
		t.Errorf("zones per kind = %v, want 2+ night markets, 2+ parks and a transport hub", perKind)
	}
}

// extentM returns the east-west and north-south extent of b in metres.
func extentM(b orb.Bound) (w, h float64) {
	mid := b.Center()[1]
	w = float64(geo.Distance(orb.Point{b.Min[0], mid}, orb.Point{b.Max[0], mid}))
	h = float64(geo.Distance(orb.Point{b.Min[0], b.Min[1]}, orb.Point{b.Min[0], b.Max[1]}))
	return w, h
}

func TestBoundarySize(t *testing.T) {
	w, h := extentM(readPlan(t).Boundary.Bound())
	if math.Abs(w-15000) > 1500 || math.Abs(h-12000) > 1500 {
		t.Errorf("boundary extent = %.0f x %.0f m, want about 15000 x 12000", w, h)
	}
}

func TestIncidents(t *testing.T) {
	p := readPlan(t)
	rows, err := csv.NewReader(bytes.NewReader(data.TongliaoIncidents())).ReadAll()
	if err != nil {
		t.Fatalf("read incidents: %v", err)
	}
	if want := []string{"time", "lon", "lat", "kind"}; !slices.Equal(rows[0], want) {
		t.Fatalf("header = %v, want %v", rows[0], want)
	}
	rows = rows[1:]
	if len(rows) < 2000 || len(rows) > 10000 {
		t.Errorf("incidents = %d, want a few thousand", len(rows))
	}
	var first, prev time.Time
	for i, r := range rows {
		tm, err := time.Parse(time.RFC3339, r[0])
		if err != nil || !strings.HasSuffix(r[0], "+08:00") {
			t.Fatalf("row %d: time %q, want RFC 3339 at +08:00 (%v)", i+1, r[0], err)
		}
		if i == 0 {
			first = tm
		}
		if tm.Before(prev) {
			t.Errorf("row %d: time %v before the previous row's %v", i+1, tm, prev)
		}
		prev = tm
		lon, err1 := strconv.ParseFloat(r[1], 64)
		lat, err2 := strconv.ParseFloat(r[2], 64)
		if err1 != nil || err2 != nil || !planar.PolygonContains(p.Boundary, orb.Point{lon, lat}) {
			t.Errorf("row %d: point %s,%s, want a lon,lat inside the boundary", i+1, r[1], r[2])
		}
		if r[3] == "" {
			t.Errorf("row %d: empty kind", i+1)
		}
	}
	if span := prev.Sub(first); span > 90*24*time.Hour || span < 80*24*time.Hour {
		t.Errorf("incidents span %v, want about 90 days", span)
	}
}
