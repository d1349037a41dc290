package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pgcompare:", err)
		os.Exit(1)
	}
}

type config struct {
	samples, ours, pgrTimes, ourTimes string
	dump                              string
	res                               int
	limit                             float64
	minTier, maxDiff, minRatio        float64
}

func run(args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("pgcompare", flag.ContinueOnError)
	fs.StringVar(&c.samples, "pgr", "", "pgRouting samples CSV: start,lon,lat,eta_s")
	fs.StringVar(&c.ours, "ours", "", "folder of patrolgrid isochrone CSVs named START.csv")
	fs.StringVar(&c.pgrTimes, "pgr-times", "", "CSV start,ms: pgr_drivingDistance time per start")
	fs.StringVar(&c.ourTimes, "our-times", "", "CSV start,us: patrolgrid isochrone median time per start")
	fs.StringVar(&c.dump, "dump", "", "print the cells of this start whose tiers differ")
	fs.IntVar(&c.res, "res", 10, "H3 resolution")
	fs.Float64Var(&c.limit, "limit", 300, "isochrone limit in seconds")
	fs.Float64Var(&c.minTier, "min-tier", 0.98, "target: least share of reached cells in the same tier")
	fs.Float64Var(&c.maxDiff, "max-diff", 5, "target: largest median |ΔETA| in seconds")
	fs.Float64Var(&c.minRatio, "min-ratio", 50, "target: least pgRouting/patrolgrid time ratio")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pgr, err := readSamples(c.samples, c.res)
	if err != nil {
		return err
	}
	return report(out, c, pgr)
}

// reach is the earliest ETA in seconds per cell.
type reach map[h3.Cell]float64

// readSamples reads start,lon,lat,eta_s rows into per-start cell reaches.
func readSamples(path string, res int) (map[string]reach, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	m := map[string]reach{}
	for _, r := range rows {
		if len(r) != 4 {
			return nil, fmt.Errorf("%s: row %v: want start,lon,lat,eta_s", path, r)
		}
		lon, e1 := strconv.ParseFloat(r[1], 64)
		lat, e2 := strconv.ParseFloat(r[2], 64)
		eta, e3 := strconv.ParseFloat(r[3], 64)
		if e1 != nil || e2 != nil || e3 != nil {
			return nil, fmt.Errorf("%s: row %v: bad number", path, r)
		}
		if m[r[0]] == nil {
			m[r[0]] = reach{}
		}
		c := geo.Cell(orb.Point{lon, lat}, res)
		if old, ok := m[r[0]][c]; !ok || eta < old {
			m[r[0]][c] = eta
		}
	}
	return m, nil
}

// readOurs reads a patrolgrid isochrone CSV (cell,eta_s).
func readOurs(path string) (reach, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	m := reach{}
	for _, r := range rows[1:] {
		eta, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: row %v: %w", path, r, err)
		}
		m[h3.Cell(h3.IndexFromString(r[0]))] = eta
	}
	return m, nil
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// tier returns 1, 3 or 5 for the minute tier of an ETA in seconds, and 0
// beyond the limit.
func tier(eta float64, ok bool, limit float64) int {
	switch {
	case !ok || eta > limit:
		return 0
	case eta <= 60:
		return 1
	case eta <= 180:
		return 3
	}
	return 5
}

func report(out io.Writer, c config, pgr map[string]reach) error {
	starts := make([]string, 0, len(pgr))
	for s := range pgr {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	var diffs []float64
	same, union := 0, 0
	fmt.Fprintf(out, "%-8s %8s %8s %8s %10s\n", "start", "pgr", "ours", "sametier", "med|Δ|s")
	for _, s := range starts {
		ours, err := readOurs(filepath.Join(c.ours, s+".csv"))
		if err != nil {
			return err
		}
		sm, un, ds := compare(pgr[s], ours, c.limit)
		if s == c.dump {
			dumpDiffers(out, pgr[s], ours, c.limit)
		}
		same, union, diffs = same+sm, union+un, append(diffs, ds...)
		fmt.Fprintf(out, "%-8s %8d %8d %7.1f%% %10.2f\n", s, len(pgr[s]), len(ours), 100*float64(sm)/float64(un), median(ds))
	}
	share, med := float64(same)/float64(union), median(diffs)
	pgrMS, err := medianColumn(c.pgrTimes)
	if err != nil {
		return err
	}
	ourUS, err := medianColumn(c.ourTimes)
	if err != nil {
		return err
	}
	ratio := pgrMS * 1000 / ourUS
	fmt.Fprintf(out, "\ncells reached by either: %d; in the same 1/3/5-minute tier: %.2f%% (target ≥ %.0f%%)\n", union, 100*share, 100*c.minTier)
	fmt.Fprintf(out, "median |ΔETA| over %d cells both reach: %.2f s (target ≤ %.0f s)\n", len(diffs), med, c.maxDiff)
	fmt.Fprintf(out, "median time: pgr_drivingDistance %.2f ms, patrolgrid isochrone %.1f µs: %.0f× faster (target ≥ %.0f×)\n", pgrMS, ourUS, ratio, c.minRatio)
	if share < c.minTier || med > c.maxDiff || ratio < c.minRatio {
		return fmt.Errorf("a target is missed")
	}
	fmt.Fprintln(out, "all targets met")
	return nil
}

// compare returns how many cells either side reaches fall in the same
// tier, how many cells either reaches, and |ΔETA| over cells both reach.
func compare(pgr, ours reach, limit float64) (same, union int, diffs []float64) {
	seen := map[h3.Cell]bool{}
	for _, m := range []reach{pgr, ours} {
		for c := range m {
			if seen[c] {
				continue
			}
			seen[c] = true
			a, okA := pgr[c]
			b, okB := ours[c]
			ta, tb := tier(a, okA, limit), tier(b, okB, limit)
			if ta == 0 && tb == 0 {
				continue
			}
			union++
			if ta == tb {
				same++
			}
			if okA && okB {
				diffs = append(diffs, math.Abs(a-b))
			}
		}
	}
	return same, union, diffs
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// medianColumn returns the median of the second column of a CSV.
func medianColumn(path string) (float64, error) {
	rows, err := readCSV(path)
	if err != nil {
		return 0, err
	}
	var xs []float64
	for _, r := range rows {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: row %v: %w", path, r, err)
		}
		xs = append(xs, v)
	}
	return median(xs), nil
}

// dumpDiffers prints cell, centre (lat,lon), pgRouting's and patrolgrid's
// ETA for every cell whose tier differs.
func dumpDiffers(out io.Writer, pgr, ours reach, limit float64) {
	for _, m := range []reach{pgr, ours} {
		for c := range m {
			a, okA := pgr[c]
			b, okB := ours[c]
			if tier(a, okA, limit) != tier(b, okB, limit) && (m[c] == a && okA || !okA) {
				p := geo.CellCenter(c)
				fmt.Fprintf(out, "differs %s %.6f,%.6f pgr %v %.1f ours %v %.1f\n", c, p[1], p[0], okA, a, okB, b)
			}
		}
	}
}
