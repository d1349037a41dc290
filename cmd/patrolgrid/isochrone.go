package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
)

type isochroneConfig struct {
	osm     string
	cache   string
	profile string
	from    string
	mode    string
	band    string
	limit   time.Duration
	res     int
	snap    float64
	format  string
	repeat  int
	verbose bool
}

func isochroneFlags(cfg *isochroneConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("isochrone", flag.ContinueOnError)
	fs.StringVar(&cfg.osm, "osm", "", "OSM extract: .osm.pbf, .osm or .osm.bz2")
	fs.StringVar(&cfg.cache, "cache", "", "road graph file: loaded instead of importing --osm when present and newer, written after an import otherwise")
	fs.StringVar(&cfg.profile, "profile", "default", "profile file: the name of a built-in one ("+strings.Join(data.ProfileNames(), ", ")+") or a JSON file")
	fs.StringVar(&cfg.from, "from", "", "start point as LAT,LON in degrees")
	fs.StringVar(&cfg.mode, "mode", road.ModeCar, "travel profile in the profile file: car, bike or foot")
	fs.StringVar(&cfg.band, "band", "", "time-of-day band whose speed factor applies: peak, off-peak or night (default: none)")
	fs.DurationVar(&cfg.limit, "limit", 5*time.Minute, "longest travel time")
	fs.IntVar(&cfg.res, "res", geo.DefaultResolution, "H3 resolution of the cells")
	fs.Float64Var(&cfg.snap, "snap", float64(road.DefaultSnapRadius), "snapping distance to the nearest road in metres")
	fs.StringVar(&cfg.format, "format", "csv", "output: csv (cell,eta_s) or geojson (hexagons)")
	fs.IntVar(&cfg.repeat, "repeat", 0, "time this many isochrones after the first and print the median to stderr")
	fs.BoolVar(&cfg.verbose, "v", false, "report import progress and graph statistics on stderr")
	return fs
}

// runIsochrone prints the cells reachable from a point within a time
// limit on the road network of an OSM extract, with their ETAs.
func runIsochrone(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg isochroneConfig
	if _, err := parseFlags(isochroneFlags(&cfg), args, os.LookupEnv); err != nil {
		return err
	}
	from, err := parseLatLon(cfg.from)
	if err != nil {
		return fmt.Errorf("isochrone: --from: %w", err)
	}
	if err := checkIsochroneFlags(cfg); err != nil {
		return err
	}
	profiles, err := loadProfileFile(cfg.profile)
	if err != nil {
		return err
	}
	if _, ok := profiles.Profile(cfg.mode); !ok {
		return fmt.Errorf("isochrone: profile file %q has no profile %q (it has %s)", profiles.Name, cfg.mode, strings.Join(profiles.Names(), ", "))
	}
	var progress io.Writer
	if cfg.verbose {
		progress = os.Stderr
	}
	net, err := road.LoadNetwork(ctx, cfg.osm, cfg.cache, profiles, progress)
	if err != nil {
		return err
	}
	reach, grid, err := isochrone(net, cfg, from)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	if cfg.format == "geojson" {
		err = writeReachGeoJSON(w, grid, reach)
	} else {
		err = writeReachCSV(w, grid, reach)
	}
	if err != nil {
		return err
	}
	return w.Flush()
}

func checkIsochroneFlags(cfg isochroneConfig) error {
	switch {
	case cfg.osm == "" && cfg.cache == "":
		return errors.New("isochrone: --osm or --cache is required")
	case cfg.format != "csv" && cfg.format != "geojson":
		return fmt.Errorf("isochrone: --format %q: want csv or geojson", cfg.format)
	case cfg.limit <= 0 || cfg.limit > time.Hour:
		return fmt.Errorf("isochrone: --limit %v out of (0, 1h]", cfg.limit)
	case cfg.res < 0 || cfg.res > 15:
		return fmt.Errorf("isochrone: --res %d out of [0, 15]", cfg.res)
	case cfg.snap <= 0:
		return fmt.Errorf("isochrone: --snap %v: want a positive distance", cfg.snap)
	}
	return nil
}

// parseLatLon reads "LAT,LON" in degrees into a (lon, lat) point.
func parseLatLon(s string) (orb.Point, error) {
	la, lo, ok := strings.Cut(s, ",")
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(la), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	p := orb.Point{lon, lat}
	if !ok || err1 != nil || err2 != nil || !geo.ValidPoint(p) {
		return orb.Point{}, fmt.Errorf("%q is not LAT,LON in degrees", s)
	}
	return p, nil
}

// loadProfileFile reads a built-in profile file by name, or a JSON file.
func loadProfileFile(name string) (*road.ProfileFile, error) {
	b, ok := data.Profiles(name)
	if !ok {
		var err error
		if b, err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("profile %q is neither built in (%s) nor a readable file: %w", name, strings.Join(data.ProfileNames(), ", "), err)
		}
	}
	pf, err := road.ReadProfileFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	return pf, nil
}

// isochrone runs the isochrone of cfg from on a grid of the cells around
// from that the profile's top speed can reach within the limit, and when
// cfg.repeat > 0 times that many more and prints the median to stderr.
func isochrone(net *road.Network, cfg isochroneConfig, from orb.Point) ([]geo.Reach, *geo.Grid, error) {
	g := net.Graph(cfg.mode)
	if g == nil {
		return nil, nil, fmt.Errorf("isochrone: the road graph has no %q profile", cfg.mode)
	}
	factor := 1.0
	if b, ok := g.Bands[cfg.band]; ok {
		factor = b.Factor
	}
	reachM := g.TopKPH() * factor / 3.6 * cfg.limit.Seconds()
	k := int(math.Ceil(reachM/(float64(road.HexagonEdge(cfg.res))*math.Sqrt(3)))) + 1
	grid, err := geo.NewGrid(h3.GridDisk(geo.Cell(from, cfg.res), k))
	if err != nil {
		return nil, nil, err
	}
	one := &road.Network{Graphs: []*road.Graph{g}} // cells for this profile only
	r := road.NewRouter(one, grid, road.RouterConfig{SnapRadius: geo.Meters(cfg.snap), Band: cfg.band})
	var s geo.Search
	p := geo.Profile{Name: cfg.mode}
	reach, err := r.Isochrone(&s, from, p, cfg.limit, nil)
	if errors.Is(err, road.ErrOffNetwork) {
		return nil, nil, fmt.Errorf("isochrone: %v is off the %s network: no road within %v m", cfg.from, cfg.mode, cfg.snap)
	}
	if err != nil {
		return nil, nil, err
	}
	if cfg.repeat > 0 {
		times := make([]time.Duration, cfg.repeat)
		dst := slices.Clone(reach)
		for i := range times {
			t0 := time.Now()
			dst, _ = r.Isochrone(&s, from, p, cfg.limit, dst[:0])
			times[i] = time.Since(t0)
		}
		slices.Sort(times)
		fmt.Fprintf(os.Stderr, "isochrone: median %.1f µs over %d runs, %d cells\n",
			float64(times[len(times)/2].Nanoseconds())/1000, cfg.repeat, len(dst))
	}
	slices.SortFunc(reach, func(a, b geo.Reach) int {
		return cmp.Or(cmp.Compare(a.ETA, b.ETA), cmp.Compare(grid.Cell(a.Cell), grid.Cell(b.Cell)))
	})
	return reach, grid, nil
}

// writeReachCSV writes the header cell,eta_s and one row per reached
// cell: the H3 index in hex and the ETA in seconds, to the millisecond.
func writeReachCSV(w io.Writer, grid *geo.Grid, reach []geo.Reach) error {
	if _, err := fmt.Fprintln(w, "cell,eta_s"); err != nil {
		return err
	}
	for _, r := range reach {
		if _, err := fmt.Fprintf(w, "%s,%.3f\n", grid.Cell(r.Cell), r.ETA.Seconds()); err != nil {
			return err
		}
	}
	return nil
}

// writeReachGeoJSON writes a FeatureCollection of the reached cells'
// hexagons, each with the properties cell and eta_s.
func writeReachGeoJSON(w io.Writer, grid *geo.Grid, reach []geo.Reach) error {
	fc := geojson.NewFeatureCollection()
	for _, r := range reach {
		c := grid.Cell(r.Cell)
		f := geojson.NewFeature(geo.CellPolygon(c))
		f.Properties["cell"] = c.String()
		f.Properties["eta_s"] = math.Round(r.ETA.Seconds()*1000) / 1000
		fc.Append(f)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(fc)
}
