package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
	"github.com/patrolgrid/patrolgrid/patrol/planner/picture"
)

// runCompare scores plans A and B (args[0] and args[1], "demo" for the
// demo city) on the travel times and demand of the flags that follow,
// prints them side by side and draws each.
func runCompare(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg evaluateConfig
	var pictures string
	fs := flag.NewFlagSet("plan compare", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	roadFlags(fs, &cfg.city)
	fs.IntVar(&cfg.city.res, "res", 0, "H3 resolution of coverage (default: each plan's)")
	daysFlag(fs, &cfg.days, "weigh cells by")
	fs.StringVar(&cfg.incidents, "incidents", "", "incident history CSV that weighs cells (default: the demo city's for the demo city; for another "+
		"the length of road in each cell with --osm, else every cell alike)")
	fs.StringVar(&pictures, "pictures", ".", "folder to write A's and B's pictures into (SVG, named after the plan files); empty: none")
	if len(args) < 2 || strings.HasPrefix(args[0], "-") || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(stdout, "Usage: patrolgrid plan compare A B [flags]\n\nScores plan files A and B (demo: the demo city) as plan evaluate does, "+
			"prints them side by side\nand draws each: unit areas, posts, the boundary, zones green where their rule is met, red where not.\n\nFlags:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("plan compare: want two plan files, A and B, before the flags")
	}
	if _, err := parseFlags(fs, args[2:], os.LookupEnv); err != nil {
		return err
	}
	var evs [2]planner.Evaluation
	for i, file := range args[:2] {
		plan, ev, err := evaluateFile(ctx, cfg, file)
		if err != nil {
			return fmt.Errorf("plan compare: %s: %w", file, err)
		}
		evs[i] = ev
		if pictures != "" {
			if err := writePicture(filepath.Join(pictures, pictureName(args[0], args[1], i)), plan, ev); err != nil {
				return err
			}
		}
	}
	return writeComparison(stdout, evs, args[0], args[1])
}

// evaluateFile loads and scores the plan in file ("demo" for the demo
// city).
func evaluateFile(ctx context.Context, cfg evaluateConfig, file string) (*patrol.Plan, planner.Evaluation, error) {
	plan, err := loadPlan(planFileOf(file), cfg.city.res)
	if err != nil {
		return nil, planner.Evaluation{}, err
	}
	m, err := openModel(ctx, cfg, plan, io.Discard)
	if err != nil {
		return nil, planner.Evaluation{}, err
	}
	ev, err := planner.Evaluate(plan, m.router, m.demand)
	return plan, ev, err
}

// pictureName names the picture of plan i (0 for A, 1 for B) after its
// file, with an a- or b- in front when both files have the same name.
func pictureName(a, b string, i int) string {
	base := func(f string) string { return strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)) }
	name := base([]string{a, b}[i])
	if base(a) == base(b) {
		name = []string{"a-", "b-"}[i] + name
	}
	return name + ".svg"
}

func writePicture(path string, plan *patrol.Plan, ev planner.Evaluation) error {
	return writeFile(path, func(w io.Writer) error { return picture.WriteSVG(w, plan, ev) })
}

// writeFile creates the file path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeComparison prints the two evaluations side by side.
func writeComparison(w io.Writer, evs [2]planner.Evaluation, a, b string) error {
	pct := func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
	met := func(ev planner.Evaluation) string {
		n, active := 0, 0
		for _, z := range ev.Zones {
			if z.Active {
				active++
				if z.Met {
					n++
				}
			}
		}
		if active < len(ev.Zones) {
			return fmt.Sprintf("%d of %d active", n, active)
		}
		return fmt.Sprintf("%d of %d", n, len(ev.Zones))
	}
	rows := []struct {
		name string
		of   func(planner.Evaluation) string
	}{
		{"plan", func(e planner.Evaluation) string { return e.Plan }},
		{"units (responding)", func(e planner.Evaluation) string { return fmt.Sprintf("%d (%d)", e.Units, e.Responding) }},
		{"demand within 1 min", func(e planner.Evaluation) string { return pct(e.Coverage.M1) }},
		{"demand within 3 min", func(e planner.Evaluation) string { return pct(e.Coverage.M3) }},
		{"demand within 5 min", func(e planner.Evaluation) string { return pct(e.Coverage.M5) }},
		{"demand with backup", func(e planner.Evaluation) string { return pct(e.Backup) }},
		{"mean drive time (s)", func(e planner.Evaluation) string { return fmt.Sprintf("%.1f", e.MeanETAS) }},
		{"zones meeting their rule", met},
		{"workload max/min", func(e planner.Evaluation) string { return fmt.Sprintf("%.2f", e.Workload.Ratio) }},
		{"workload CV", func(e planner.Evaluation) string { return fmt.Sprintf("%.3f", e.Workload.CV) }},
		{"mean compactness", func(e planner.Evaluation) string { return fmt.Sprintf("%.3f", e.Workload.Compactness) }},
		{"areas not contiguous", func(e planner.Evaluation) string { return fmt.Sprint(e.Workload.Split) }},
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tA: %s\tB: %s\n", a, b)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.name, r.of(evs[0]), r.of(evs[1]))
	}
	return tw.Flush()
}
