package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// planUsage lists the plan subcommands.
const planUsage = `usage: patrolgrid plan <subcommand> [flags]

  design --out F [flags]  design unit areas and posts for the plan's city, balanced by demand
  evaluate [flags]        score a plan's coverage, backup, workload and unit areas
  compare A B [flags]     score two plan files (demo: the demo city) side by side and draw each as SVG
  export [flags]          write a plan as GeoJSON (unit areas outlined, posts, zones) or its unit areas as CSV
  import [flags]          read unit areas and posts from GeoJSON or areas from CSV into a plan, and write it
  export-lp [flags]       write the post placement of a plan's units as an LP file for an exact solver, or score its solution
`

// runPlan runs a plan subcommand.
func runPlan(ctx context.Context, args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(stdout, planUsage)
		return flag.ErrHelp
	case args[0] == "design":
		return runDesign(ctx, args[1:], stdout)
	case args[0] == "evaluate":
		return runEvaluate(ctx, args[1:], stdout)
	case args[0] == "compare":
		return runCompare(ctx, args[1:], stdout)
	case args[0] == "export":
		return runExport(ctx, args[1:], stdout)
	case args[0] == "import":
		return runImport(args[1:], stdout)
	case args[0] == "export-lp":
		return runExportLP(ctx, args[1:], stdout)
	}
	fmt.Fprint(stdout, planUsage)
	return fmt.Errorf("plan: unknown subcommand %q", args[0])
}

// evaluateConfig is what plan evaluate scores.
type evaluateConfig struct {
	city      serveConfig // plan and road flags
	incidents string
	days      patrol.DateRange // of the history
	format    string
}

// runEvaluate scores the plan of the flags and writes its evaluation.
func runEvaluate(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg evaluateConfig
	fs := flag.NewFlagSet("plan evaluate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planFlags(fs, &cfg.city)
	roadFlags(fs, &cfg.city)
	daysFlag(fs, &cfg.days, "weigh cells by")
	fs.StringVar(&cfg.incidents, "incidents", "", "incident history CSV (time,lon,lat,kind) that weighs cells (default: the demo city's own; "+
		"for another plan the length of road in each cell with --osm, else every cell alike)")
	fs.StringVar(&cfg.format, "format", "text", "output: text or json")
	var remove, offDuty, mechanism, shift, add, at string
	fs.StringVar(&remove, "remove", "", "what-if: comma-separated units taken out of the plan")
	fs.StringVar(&offDuty, "off-duty", "", "what-if: comma-separated units put off duty")
	fs.StringVar(&mechanism, "set-mechanism", "", "what-if: units given another mechanism, as V03=ebike,...")
	fs.StringVar(&shift, "set-shift", "", "what-if: units given other shift hours, as V03=night,F01=22:00-06:00,... (24h, day 08-20, night 20-08 or HH:MM-HH:MM)")
	fs.StringVar(&at, "at", "", "score the plan at this local time of day, HH:MM: units off shift then are off duty")
	fs.StringVar(&add, "add", "", "what-if: units added at posts, as vehicle@8a310eb863affff,... (office staff sent to the street, say)")
	if _, err := parseFlags(fs, args, os.LookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: patrolgrid plan evaluate [flags]\n\nScores a plan with every unit at its post: the demand "+
				"reached within 1, 3 and 5 minutes, backup,\nthe mean drive time, each zone's shares, and the workload, contiguity "+
				"and compactness of the unit areas.\nWith --osm, drives are on the roads at the profiles' base speeds.\n"+
				"Each flag may also be set as PATROLGRID_<FLAG>.\n\nFlags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return err
	}
	if cfg.format != "text" && cfg.format != "json" {
		return fmt.Errorf("plan evaluate: --format %q: want text or json", cfg.format)
	}
	plan, err := loadPlan(cfg.city.planFile, cfg.city.res)
	if err != nil {
		return err
	}
	log := stdout
	if cfg.format == "json" {
		log = io.Discard
	}
	m, err := openModel(ctx, cfg, plan, log)
	if err != nil {
		return err
	}
	w, err := planner.ParseWhatIf(remove, offDuty, mechanism, shift, add)
	if err != nil {
		return err
	}
	if !w.Empty() || at != "" {
		plans, ats, names, err := whatIfPlans(plan, w, at)
		if err != nil {
			return err
		}
		var evs [2]planner.Evaluation
		for i := range evs {
			if evs[i], err = m.score(plans[i], ats[i]); err != nil {
				return err
			}
		}
		if cfg.format == "json" {
			return writeJSON(stdout, map[string]planner.Evaluation{"plan": evs[0], "what_if": evs[1]})
		}
		return writeComparison(stdout, evs, names[0], names[1])
	}
	ev, err := planner.Evaluate(plan, m.router, m.demand)
	if err != nil {
		return err
	}
	if cfg.format == "json" {
		return writeJSON(stdout, ev)
	}
	return writeEvaluation(stdout, ev)
}

// whatIfPlans returns the plans a what-if compares, the times of day to
// score them at (nil: whatever the hour) and their names: the plan and
// the plan changed by w; with at (HH:MM), both at that time of day, or
// without a change the plan and the plan at that time.
func whatIfPlans(plan *patrol.Plan, w planner.WhatIf, at string) (plans [2]*patrol.Plan, ats [2]*time.Duration, names [2]string, err error) {
	changed, err := w.Apply(plan)
	if err != nil {
		return plans, ats, names, err
	}
	plans = [2]*patrol.Plan{plan, changed}
	if at == "" {
		return plans, ats, [2]string{"the plan", "what-if"}, nil
	}
	tod, err := patrol.ParseTimeOfDay(at)
	if err != nil {
		return plans, ats, names, err
	}
	if w.Empty() {
		return plans, [2]*time.Duration{nil, &tod}, [2]string{"the plan", "at " + at}, nil
	}
	return plans, [2]*time.Duration{&tod, &tod}, [2]string{"the plan at " + at, "what-if at " + at}, nil
}

// score evaluates p, at the time of day at when it is not nil.
func (m planModel) score(p *patrol.Plan, at *time.Duration) (planner.Evaluation, error) {
	if at == nil {
		return planner.Evaluate(p, m.router, m.demand)
	}
	return planner.EvaluateAt(p, m.router, m.demand, *at)
}

// planModel is what plans of one city are scored on: the travel times of
// its grid and the demand of its cells.
type planModel struct {
	router geo.Router
	demand patrol.Demand
}

// openModel returns the travel times and demand cfg names for plan's city,
// writing what opening a road network says to log.
func openModel(ctx context.Context, cfg evaluateConfig, plan *patrol.Plan, log io.Writer) (planModel, error) {
	grid, roads, err := cityRoads(ctx, cfg.city, plan, log)
	if err != nil {
		return planModel{}, err
	}
	m := planModel{router: geo.NewLattice(grid)}
	var net *road.Network
	if roads != nil {
		m.router, net = roads.router, roads.net
	}
	m.demand, err = planDemand(cfg.incidents, cfg.days, plan, grid, net, log)
	return m, err
}

// evaluate scores a and b, plans of the model's city.
func (m planModel) evaluate(a, b *patrol.Plan) ([2]planner.Evaluation, error) {
	var evs [2]planner.Evaluation
	for i, p := range []*patrol.Plan{a, b} {
		var err error
		if evs[i], err = m.score(p, nil); err != nil {
			return evs, err
		}
	}
	return evs, nil
}

// sideBySide scores a and b and prints them side by side under their
// names.
func (m planModel) sideBySide(w io.Writer, a, b *patrol.Plan, nameA, nameB string) error {
	evs, err := m.evaluate(a, b)
	if err != nil {
		return err
	}
	return writeComparison(w, evs, nameA, nameB)
}

// planFileOf returns the plan file of name for loadPlan: "" (the demo
// city) for "demo".
func planFileOf(name string) string {
	if name == "demo" {
		return ""
	}
	return name
}

// cityRoads returns the grid of plan's boundary and, with cfg.osm, its
// road network (nil without).
func cityRoads(ctx context.Context, cfg serveConfig, plan *patrol.Plan, log io.Writer) (*geo.Grid, *roads, error) {
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		return nil, nil, fmt.Errorf("grid of the plan boundary: %w", err)
	}
	if cfg.osm == "" {
		return grid, nil, nil
	}
	r, err := openRoads(ctx, cfg, plan, grid, log)
	if err != nil {
		return nil, nil, err
	}
	return grid, &r, nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// planDemand returns the demand of grid's cells: from the incidents file,
// the demo city's history, or for another plan the length of road in each
// cell on the road network net (every cell alike without one), which it
// says on log. Of a history it counts the incidents on days only.
func planDemand(file string, days patrol.DateRange, plan *patrol.Plan, grid *geo.Grid, net *road.Network, log io.Writer) (patrol.Demand, error) {
	var history []patrol.Incident
	var err error
	if file != "" {
		history, err = readHistory(file, plan)
	} else {
		history, err = cityHistory(plan)
	}
	switch {
	case err != nil:
		return nil, err
	case history == nil && days != (patrol.DateRange{}):
		return nil, fmt.Errorf("--days %s: plan %q has no incident history; give it with --incidents", days.String(), plan.Name)
	case file == "" && history == nil && net != nil:
		return roadDemand(grid, net, log)
	}
	loc, err := plan.Location()
	if err != nil {
		return nil, err
	}
	if history, err = days.Filter(history, loc); err != nil {
		return nil, fmt.Errorf("--days: %w", err)
	}
	return patrol.NewDemand(grid, history), nil
}

// writeEvaluation writes ev as text.
func writeEvaluation(w io.Writer, ev planner.Evaluation) error {
	pct := func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
	fmt.Fprintf(w, "plan %s: %d units, %d responding, every unit at its post\n\n", ev.Plan, ev.Units, ev.Responding)
	fmt.Fprintf(w, "demand reached within 1 / 3 / 5 min   %s / %s / %s\n", pct(ev.Coverage.M1), pct(ev.Coverage.M3), pct(ev.Coverage.M5))
	fmt.Fprintf(w, "demand with backup (2 units, 3 min)   %s\n", pct(ev.Backup))
	fmt.Fprintf(w, "mean drive time within 5 min          %.1f s (%s of demand beyond 5 min)\n", ev.MeanETAS, pct(ev.Beyond5M))
	b := ev.Workload
	fmt.Fprintf(w, "workload of the %d unit areas         %.2f to %.2f, max/min %.2f, CV %.3f\n", len(ev.Areas), b.Min, b.Max, b.Ratio, b.CV)
	fmt.Fprintf(w, "areas                                 mean compactness %.3f, %d not contiguous\n\n", b.Compactness, b.Split)
	if len(ev.Zones) == 0 {
		_, err := fmt.Fprintln(w, "no priority zones")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "zone\tname\tkind\tmet\t1 min\t3 min\t5 min\tbackup")
	for _, z := range ev.Zones {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\t%s\n", z.Zone, z.Name, z.Kind, z.Met, pct(z.Shares.M1), pct(z.Shares.M3), pct(z.Shares.M5), pct(z.Backup))
	}
	return tw.Flush()
}
