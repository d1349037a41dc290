package road

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// OpenNetwork returns the road network of the extract file osm built
// with profiles, loaded from its compiled graph file in cacheDir (see
// GraphCachePath) when that is not older than osm, and imported otherwise
// (then written there for the next start). A graph file that cannot be
// read is removed and the extract imported again. Without a usable cache
// folder it imports every time. It never writes beside the extract.
//
// It reports on progress, unless that is nil, what it does (lines that
// start "patrolgrid: "), the import's progress (lines that start
// "import: ") and the nodes and edges of each graph.
func OpenNetwork(ctx context.Context, osm, cacheDir string, profiles *ProfileFile, progress io.Writer) (*Network, error) {
	out := progress
	if out == nil {
		out = io.Discard
	}
	cache, err := GraphCachePath(cacheDir, osm, profiles)
	if err != nil {
		fmt.Fprintf(out, "patrolgrid: no road graph cache (%v): importing %s\n", err, osm)
	}
	start := time.Now()
	fresh := cache != "" && cacheFresh(cache, osm)
	net, err := LoadNetwork(ctx, osm, cache, profiles, progress)
	if err != nil && fresh {
		fmt.Fprintf(out, "patrolgrid: graph file %s unreadable (%v): importing %s again\n", cache, err, osm)
		if err = os.Remove(cache); err == nil {
			fresh = false
			net, err = LoadNetwork(ctx, osm, cache, profiles, progress)
		}
	}
	if err != nil {
		return nil, err
	}
	how := "imported " + osm
	if fresh {
		how = "loaded graph file " + cache
	} else if cache != "" {
		how += ", wrote " + cache
	}
	fmt.Fprintf(out, "patrolgrid: road network %s in %v:", how, time.Since(start).Round(time.Millisecond))
	for _, g := range net.Graphs {
		nodes, edges := g.Len()
		fmt.Fprintf(out, " %s %d nodes %d edges;", g.Name, nodes, edges)
	}
	fmt.Fprintln(out)
	return net, nil
}

// GraphCachePath returns the compiled graph file of extract osm built
// with profiles, in dir (default: the user cache folder's patrolgrid),
// creating the folder. The name, such as
// monaco-default-0123456789ab.graph, carries a hash of the extract's
// absolute path and the profile file, so another extract or profile never
// reads it; it never lies next to the extract, which may be read-only.
func GraphCachePath(dir, osm string, profiles *ProfileFile) (string, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, "patrolgrid")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(osm)
	if err != nil {
		return "", err
	}
	pj, err := json.Marshal(profiles)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s", abs, pj)
	name := strings.SplitN(filepath.Base(osm), ".", 2)[0]
	return filepath.Join(dir, fmt.Sprintf("%s-%s-%x.graph", name, profiles.Name, h.Sum(nil)[:6])), nil
}

// LoadNetwork returns the road network of the extract file osm built
// with profiles: read from graphFile when that is set, exists and is not
// older than osm (any age when osm is ""), else imported from osm and,
// when graphFile is set, written there. Import progress goes to progress
// unless it is nil.
func LoadNetwork(ctx context.Context, osm, graphFile string, profiles *ProfileFile, progress io.Writer) (*Network, error) {
	if graphFile != "" && cacheFresh(graphFile, osm) {
		f, err := os.Open(graphFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		net, err := ReadNetwork(bufio.NewReader(f))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", graphFile, err)
		}
		return net, nil
	}
	if osm == "" {
		return nil, fmt.Errorf("graph file %s is missing and no OSM extract is given", graphFile)
	}
	net, err := importOSMFile(ctx, osm, profiles, progress)
	if err != nil {
		return nil, err
	}
	if graphFile != "" {
		if err := writeGraphFile(graphFile, net); err != nil {
			return nil, err
		}
	}
	return net, nil
}

// cacheFresh reports whether the graph file exists and is not older than
// the extract (any age when there is no extract).
func cacheFresh(graphFile, osm string) bool {
	c, err := os.Stat(graphFile)
	if err != nil {
		return false
	}
	if osm == "" {
		return true
	}
	o, err := os.Stat(osm)
	return err == nil && !c.ModTime().Before(o.ModTime())
}

// importOSMFile imports an OSM extract file, reporting progress to
// progress unless it is nil.
func importOSMFile(ctx context.Context, path string, profiles *ProfileFile, progress io.Writer) (*Network, error) {
	format, ok := OSMFormatOf(path)
	if !ok {
		return nil, fmt.Errorf("%s: unknown extract format (want .osm.pbf, .osm or .osm.bz2)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	icfg := ImportConfig{Profiles: profiles}
	if progress != nil {
		icfg.Progress = func(p ImportProgress) { reportImport(progress, p) }
	}
	net, err := ImportOSM(ctx, bufio.NewReaderSize(f, 1<<20), format, icfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// reportImport writes one line of import progress to w.
func reportImport(w io.Writer, p ImportProgress) {
	if p.Graph == nil {
		fmt.Fprintf(w, "import: %d nodes, %d ways read\n", p.Nodes, p.Ways)
		return
	}
	st := p.Graph
	fmt.Fprintf(w, "import: %s: %d ways, %d nodes, %d edges, %.1f km kept; dropped %d nodes, %d edges, %.1f km outside the largest of %d strongly connected components\n",
		strings.TrimPrefix(p.Stage, "build "), st.Ways, st.Nodes, st.Edges, st.KeptKm, st.DroppedNodes, st.DroppedEdges, st.DroppedKm, st.Components)
}

// writeGraphFile writes net to path through a temporary file, so a
// reader never sees half a graph file.
func writeGraphFile(path string, net *Network) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = WriteNetwork(w, net)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write graph file %s: %w", path, err)
	}
	return nil
}
