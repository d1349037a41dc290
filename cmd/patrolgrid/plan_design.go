package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// runDesign designs a plan for the city of the template plan and writes
// it to --out, with its evaluation against the template's.
func runDesign(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg evaluateConfig
	var mix, out, from, maxMoved, boundary string
	var seed uint64
	fs := flag.NewFlagSet("plan design", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planFlags(fs, &cfg.city)
	roadFlags(fs, &cfg.city)
	daysFlag(fs, &cfg.days, "share among the areas")
	fs.StringVar(&cfg.incidents, "incidents", "", "incident history CSV whose demand the areas share (default: the demo city's own; "+
		"for another plan the length of road in each cell with --osm, else every cell alike)")
	fs.StringVar(&boundary, "boundary", "", "GeoJSON boundary of another city to design for instead of the plan's: a Feature (or a FeatureCollection "+
		"with one) whose Polygon, or MultiPolygon of one polygon, is the city and whose properties give its city and timezone (name and notice optional); "+
		"the plan's zones and units outside it are dropped, so all of the demo city's")
	fs.StringVar(&mix, "mix", "vehicle=30,ebike=20,foot=20,post=8,joint=6,video=4", "units per mechanism of the plan")
	fs.Uint64Var(&seed, "seed", 1, "seed of the areas' first sites: the same seed designs the same plan")
	fs.StringVar(&out, "out", "", "file to write the designed plan JSON to (required)")
	fs.StringVar(&from, "from", "", "redesign this plan (demo: the demo city) with little change instead: its units keep their ids, mechanisms and posts")
	fs.StringVar(&maxMoved, "max-moved", "10%", "with --from: the largest share of the grid's cells that may change unit, as 10% or 0.1")
	if err := parseExchangeFlags(fs, args, stdout, "Designs a plan for the city of --plan (the demo city by default): its grid split into one contiguous area\n"+
		"per unit of --mix, balanced by demand (the incident history; with --osm and none, the length of road in each cell),\n"+
		"each with a post placed for 3-minute coverage. It keeps the plan's boundary, profiles, mechanisms and zones, writes\n"+
		"the new plan to --out and prints both scored. With --boundary it designs for the city inside that boundary instead,\n"+
		"taking the city's name and time zone from it and keeping the plan's resolution, profiles and mechanisms; the plan's\n"+
		"zones outside the boundary are dropped (all 16 of the demo city's, which lie in Horqin), and a plan left with no unit\n"+
		"inside is not scored beside the design."); err != nil {
		return helpIsNoError(err)
	}
	if out == "" {
		return errors.New("plan design: --out is required")
	}
	counts, err := planner.ParseMix(mix)
	if err != nil {
		return err
	}
	template, err := designTemplate(cfg.city, from, boundary, stdout)
	if err != nil {
		return err
	}
	m, err := openModel(ctx, cfg, template, stdout)
	if err != nil {
		return err
	}
	if from != "" {
		return redesign(stdout, m, template, maxMoved, out)
	}
	start, last, tty := time.Now(), -1, isTerminal(stdout)
	plan, err := planner.Design(template, m.router, m.demand, planner.DesignConfig{Mix: counts, Seed: seed, Progress: func(done float64) {
		switch marks := int(done * 20); { // a mark every 5%; on a terminal the bar is redrawn in place, else a line every 25%
		case tty && marks != last:
			fmt.Fprintf(stdout, "\rdesign [%-20s] %3.0f%%", bar(marks), 100*done)
		case !tty && marks/5 != last/5:
			fmt.Fprintf(stdout, "design [%-20s] %3.0f%%\n", bar(marks), 100*done)
		default:
			return
		}
		last = int(done * 20)
	}})
	if tty {
		fmt.Fprintln(stdout)
	}
	if err != nil {
		return err
	}
	if err := writePlan(out, stdout, plan); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "designed %d units in %.1f s, written to %s\n\n", len(plan.Units), time.Since(start).Seconds(), out)
	return m.scoreDesign(stdout, template, plan, out)
}

// scoreDesign prints the evaluation of plan, designed from template and
// written to out, beside template's unless template has no unit.
func (m planModel) scoreDesign(stdout io.Writer, template, plan *patrol.Plan, out string) error {
	if len(template.Units) > 0 {
		return m.sideBySide(stdout, template, plan, "the plan given", out)
	}
	ev, err := planner.Evaluate(plan, m.router, m.demand)
	if err != nil {
		return err
	}
	return writeEvaluation(stdout, ev)
}

// designTemplate returns the plan a design starts from: the plan of from,
// or the --plan file (the demo city by default), over the city of the
// boundary file when that is set.
func designTemplate(cfg serveConfig, from, boundary string, stdout io.Writer) (*patrol.Plan, error) {
	switch {
	case from != "" && boundary != "":
		return nil, errors.New("plan design: --boundary designs for another city and --from keeps a plan's units: give one of them")
	case from != "":
		cfg.planFile = planFileOf(from)
	}
	template, err := loadPlan(cfg.planFile, cfg.res)
	if err != nil || boundary == "" {
		return template, err
	}
	return withBoundary(template, boundary, stdout)
}

// withBoundary returns template over the city of the boundary file, and
// says on stdout which of its zones that leaves out.
func withBoundary(template *patrol.Plan, file string, stdout io.Writer) (*patrol.Plan, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("plan design: --boundary: %w", err)
	}
	defer f.Close()
	b, err := patrol.ReadBoundary(f)
	if err != nil {
		return nil, fmt.Errorf("plan design: --boundary %s: %w", file, err)
	}
	plan, err := template.WithBoundary(b)
	if err != nil {
		return nil, fmt.Errorf("plan design: --boundary %s: %w", file, err)
	}
	var dropped []string
	for _, z := range template.Zones {
		if !slices.ContainsFunc(plan.Zones, func(k patrol.Zone) bool { return k.ID == z.ID }) {
			dropped = append(dropped, z.ID)
		}
	}
	if len(dropped) > 0 {
		fmt.Fprintf(stdout, "plan design: %d of the plan's %d zones lie outside the boundary of %s and are dropped: %s\n",
			len(dropped), len(template.Zones), file, strings.Join(dropped, ", "))
	}
	return plan, nil
}

// redesign rebalances template moving at most maxMoved of its cells,
// writes the plan to out and prints it against template.
func redesign(stdout io.Writer, m planModel, template *patrol.Plan, maxMoved, out string) error {
	share, err := parseShare(maxMoved)
	if err != nil {
		return err
	}
	start := time.Now()
	plan, moved, err := planner.Redesign(template, m.router, m.demand, share, planner.DesignConfig{})
	if err != nil {
		return err
	}
	if err := writePlan(out, stdout, plan); err != nil {
		return err
	}
	cells := m.router.Grid().Len()
	fmt.Fprintf(stdout, "redesigned %d units in %.1f s, %d of %d cells (%.1f%%) moved to another unit, written to %s\n\n",
		len(plan.Units), time.Since(start).Seconds(), moved, cells, 100*float64(moved)/float64(cells), out)
	return m.sideBySide(stdout, template, plan, "the plan given", out)
}

// parseShare reads a share as "10%" or "0.1".
func parseShare(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if strings.HasSuffix(s, "%") {
		v /= 100
	}
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("plan design: --max-moved %q: want a share such as 10%% or 0.1", s)
	}
	return v, nil
}

// bar returns n marks of a progress bar.
func bar(n int) string { return strings.Repeat("=", n) }
