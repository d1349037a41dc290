package road

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// triangleXML is a tiny extract of two residential streets:
//
//	2
//	│ ╲      way 10 runs 1→2→3, way 11 runs 3→1, both two-way:
//	1 ── 3   one component of two nodes (1 and 3) and two edges
const triangleXML = `<?xml version="1.0"?><osm version="0.6">
<node id="1" lat="43.7300000" lon="7.4200000"/><node id="2" lat="43.7310000" lon="7.4200000"/>
<node id="3" lat="43.7300000" lon="7.4210000"/>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
<way id="11"><nd ref="3"/><nd ref="1"/><tag k="highway" v="residential"/></way>
</osm>`

// triangleCarImport is the import's report of triangleXML's car graph
// with the default profiles.
const triangleCarImport = "import: car: 2 ways, 2 nodes, 2 edges, 0.3 km kept; " +
	"dropped 0 nodes, 0 edges, 0.0 km outside the largest of 1 strongly connected components\n"

// writeExtract writes triangleXML as dir/triangle.osm and returns its path.
func writeExtract(t *testing.T, dir string) string {
	t.Helper()
	osm := filepath.Join(dir, "triangle.osm")
	if err := os.WriteFile(osm, []byte(triangleXML), 0o644); err != nil {
		t.Fatal(err)
	}
	return osm
}

// touch sets the modification time of path.
func touch(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
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

func TestGraphCachePath(t *testing.T) {
	osm := writeExtract(t, t.TempDir())
	def, pgr := testProfiles(t, "default"), testProfiles(t, "pgrouting")
	dir := filepath.Join(t.TempDir(), "not", "yet")
	got, err := GraphCachePath(dir, osm, def)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := regexp.MatchString(`^triangle-default-[0-9a-f]{12}\.graph$`, filepath.Base(got)); !ok || filepath.Dir(got) != dir {
		t.Errorf("GraphCachePath(%s, %s, default) = %s, want %s/triangle-default-<12 hex digits>.graph", dir, osm, got, dir)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("GraphCachePath did not create %s: %v", dir, err)
	}
	t.Chdir(filepath.Dir(osm))
	if again, err := GraphCachePath(dir, filepath.Base(osm), def); err != nil || again != got {
		t.Errorf("GraphCachePath(%s, relative %s, default) = %s, %v, want %s as for its absolute path", dir, filepath.Base(osm), again, err, got)
	}
	other := writeExtract(t, t.TempDir())
	for _, tc := range []struct {
		name     string
		osm      string
		profiles *ProfileFile
	}{
		{"another profile file", osm, pgr},
		{"another extract of the same name", other, def},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := GraphCachePath(dir, tc.osm, tc.profiles); err != nil || p == got {
				t.Errorf("GraphCachePath(%s, %s, %s) = %s, %v, want another file than %s", dir, tc.osm, tc.profiles.Name, p, err, got)
			}
		})
	}
}

func TestGraphCachePathDefaultDir(t *testing.T) {
	osm := writeExtract(t, t.TempDir())
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	got, err := GraphCachePath("", osm, testProfiles(t, "default"))
	if want := filepath.Join(base, "patrolgrid"); err != nil || filepath.Dir(got) != want {
		t.Errorf("GraphCachePath(\"\", %s, default) = %s, %v, want a file in %s", osm, got, err, want)
	}
	notDir := filepath.Join(home, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := GraphCachePath(notDir, osm, testProfiles(t, "default")); err == nil {
		t.Errorf("GraphCachePath(%s, a file, default) = %s, nil error, want one", notDir, got)
	}
}

// TestLoadRoadNetwork imports the extract into the graph file, then loads
// the file while it is not older than the extract and imports again, never
// reading the file, once the extract is newer.
func TestLoadRoadNetwork(t *testing.T) {
	ctx := context.Background()
	profiles := testProfiles(t, "default")
	dir := t.TempDir()
	osm := writeExtract(t, dir)
	graph := filepath.Join(dir, "triangle.graph")
	var progress bytes.Buffer
	imported, err := LoadNetwork(ctx, osm, graph, profiles, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(progress.String(), triangleCarImport) {
		t.Errorf("import progress = %q, want it to start %q", progress.String(), triangleCarImport)
	}
	loaded, err := LoadNetwork(ctx, "", graph, profiles, nil)
	if err != nil || !reflect.DeepEqual(loaded, imported) {
		t.Errorf("LoadRoadNetwork(no extract, %s) = %v, want the network imported before", graph, err)
	}

	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.WriteFile(graph, []byte("not a graph file"), 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, graph, mtime)
	touch(t, osm, mtime)
	if _, err := LoadNetwork(ctx, osm, graph, profiles, nil); !errors.Is(err, ErrGraphFile) {
		t.Errorf("LoadRoadNetwork(extract as old as the graph file) error = %v, want ErrGraphFile from reading the file", err)
	}
	touch(t, osm, mtime.Add(time.Second))
	if _, err := LoadNetwork(ctx, osm, graph, profiles, nil); err != nil {
		t.Errorf("LoadRoadNetwork(extract newer than the graph file) = %v, want an import", err)
	}
	if _, err := LoadNetwork(ctx, "", graph, profiles, nil); err != nil {
		t.Errorf("LoadRoadNetwork(no extract, %s) after the import = %v, want the rewritten file", graph, err)
	}
	if got, want := listDir(t, dir), []string{"triangle.graph", "triangle.osm"}; !slices.Equal(got, want) {
		t.Errorf("folder after the writes holds %q, want %q (no temporary file)", got, want)
	}
}

func TestLoadRoadNetworkRejects(t *testing.T) {
	dir := t.TempDir()
	profiles := testProfiles(t, "default")
	for _, tc := range []struct {
		name, osm, graph, want string
	}{
		{"no extract, no graph file", "", filepath.Join(dir, "none.graph"), "is missing and no OSM extract"},
		{"unknown format", filepath.Join(dir, "roads.shp"), "", "unknown extract format"},
		{"missing extract", filepath.Join(dir, "none.osm"), "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadNetwork(context.Background(), tc.osm, tc.graph, profiles, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadRoadNetwork(%q, %q) error = %v, want one saying %q", tc.osm, tc.graph, err, tc.want)
			}
		})
	}
}

// summaryLine matches the line OpenNetwork ends with: how it got
// net, in how long, and net's graphs.
func summaryLine(t *testing.T, how string, net *Network) *regexp.Regexp {
	t.Helper()
	var graphs strings.Builder
	for _, g := range net.Graphs {
		nodes, edges := g.Len()
		fmt.Fprintf(&graphs, " %s %d nodes %d edges;", g.Name, nodes, edges)
	}
	return regexp.MustCompile(`(?m)^patrolgrid: road network ` + regexp.QuoteMeta(how) + ` in [0-9.µm]*s:` +
		regexp.QuoteMeta(graphs.String()) + `\n\z`)
}

// TestOpenNetwork follows the cache through starts of serve: an
// import that writes the graph file, a load from it, a re-import when the
// file is damaged, and imports without a usable cache folder; the
// extract's folder is never written.
func TestOpenNetwork(t *testing.T) {
	ctx := context.Background()
	profiles := testProfiles(t, "default")
	extracts := t.TempDir()
	osm := writeExtract(t, extracts)
	cache := filepath.Join(t.TempDir(), "cache")
	graph, err := GraphCachePath(cache, osm, profiles)
	if err != nil {
		t.Fatal(err)
	}
	open := func(cacheDir string) string {
		t.Helper()
		var out bytes.Buffer
		net, err := OpenNetwork(ctx, osm, cacheDir, profiles, &out)
		if err != nil {
			t.Fatalf("OpenNetwork(%s, %s) = %v", osm, cacheDir, err)
		}
		if n, _ := net.Graph(ModeCar).Len(); n != 2 {
			t.Fatalf("OpenNetwork(%s, %s): car graph of %d nodes, want 2", osm, cacheDir, n)
		}
		return out.String()
	}
	net, err := LoadNetwork(ctx, osm, "", profiles, nil)
	if err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		cacheDir string
		before   func()
		first    string // how the output starts
		how      string
	}{
		{"first start", cache, func() {}, triangleCarImport, "imported " + osm + ", wrote " + graph},
		{"next start", cache, func() {}, "patrolgrid: road network loaded graph file " + graph + " in ", "loaded graph file " + graph},
		{"damaged graph file", cache, func() {
			if err := os.WriteFile(graph, []byte("not a graph file"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "patrolgrid: graph file " + graph + " unreadable (" + graph + ": road: bad road graph file: no header): importing " + osm + " again",
			"imported " + osm + ", wrote " + graph},
		{"cache folder is a file", notDir, func() {}, "patrolgrid: no road graph cache (mkdir " + notDir + ": not a directory): importing " + osm,
			"imported " + osm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.before()
			out := open(tc.cacheDir)
			if !strings.HasPrefix(out, tc.first) {
				t.Errorf("OpenNetwork(%s, %s) output = %q, want it to start %q", osm, tc.cacheDir, out, tc.first)
			}
			if re := summaryLine(t, tc.how, net); !re.MatchString(out) {
				t.Errorf("OpenNetwork(%s, %s) output = %q, want it to end matching %s", osm, tc.cacheDir, out, re)
			}
		})
	}
	if got := listDir(t, extracts); !slices.Equal(got, []string{"triangle.osm"}) {
		t.Errorf("extract folder holds %q, want only triangle.osm", got)
	}
	if _, err := OpenNetwork(ctx, osm, cache, profiles, nil); err != nil {
		t.Errorf("OpenNetwork(%s, %s, no progress) = %v", osm, cache, err)
	}
}
