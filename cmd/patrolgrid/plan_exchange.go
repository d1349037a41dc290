package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// runExport writes the plan of the flags as GeoJSON or its unit areas as
// CSV.
func runExport(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg evaluateConfig
	fs := flag.NewFlagSet("plan export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planFlags(fs, &cfg.city)
	daysFlag(fs, &cfg.days, "weigh the workload by")
	fs.StringVar(&cfg.incidents, "incidents", "", "incident history CSV that weighs the areas' workload (default: the demo city's own)")
	fs.StringVar(&cfg.format, "format", "geojson", "geojson (the boundary, zones, posts and unit areas with mechanism and workload) or csv (unit,cell)")
	if err := parseExchangeFlags(fs, args, stdout, "Writes a plan (default: the demo city) as GeoJSON or its unit areas as CSV to standard output."); err != nil {
		return helpIsNoError(err)
	}
	plan, err := loadPlan(cfg.city.planFile, cfg.city.res)
	if err != nil {
		return err
	}
	switch cfg.format {
	case "csv":
		return planner.WriteAreasCSV(stdout, plan)
	case "geojson":
		m, err := openModel(ctx, cfg, plan, io.Discard)
		if err != nil {
			return err
		}
		ev, err := planner.Evaluate(plan, m.router, m.demand)
		if err != nil {
			return err
		}
		return writeJSON(stdout, planner.GeoJSON(plan, ev))
	}
	return fmt.Errorf("plan export: --format %q: want geojson or csv", cfg.format)
}

// runImport reads areas and posts into the plan of the flags and writes
// the new plan.
func runImport(args []string, stdout io.Writer) error {
	var cfg serveConfig
	var fromGeoJSON, fromCSV, out string
	fs := flag.NewFlagSet("plan import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planFlags(fs, &cfg)
	fs.StringVar(&fromGeoJSON, "geojson", "", "GeoJSON file whose area and post features give the units their areas and posts")
	fs.StringVar(&fromCSV, "areas", "", "CSV file (unit,cell) of unit areas")
	fs.StringVar(&out, "out", "", "file to write the new plan JSON to (default: standard output)")
	if err := parseExchangeFlags(fs, args, stdout, "Reads unit areas and posts into a plan (default: the demo city) and writes the new plan as JSON."); err != nil {
		return helpIsNoError(err)
	}
	if (fromGeoJSON == "") == (fromCSV == "") {
		return errors.New("plan import: give one of --geojson and --areas")
	}
	plan, err := loadPlan(cfg.planFile, cfg.res)
	if err != nil {
		return err
	}
	read, file := planner.ReadGeoJSON, fromGeoJSON
	if fromCSV != "" {
		read, file = planner.ReadAreasCSV, fromCSV
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	next, err := read(f, plan)
	if err != nil {
		return fmt.Errorf("plan import: %s: %w", file, err)
	}
	return writePlan(out, stdout, next)
}

// writePlan writes plan as JSON to the file out, or to stdout when out is
// empty.
func writePlan(out string, stdout io.Writer, plan *patrol.Plan) error {
	if out == "" {
		return writeJSON(stdout, plan)
	}
	return writeFile(out, func(w io.Writer) error { return writeJSON(w, plan) })
}

// parseExchangeFlags parses args into fs, writing the usage headed by what
// on -h.
func parseExchangeFlags(fs *flag.FlagSet, args []string, stdout io.Writer, what string) error {
	_, err := parseFlags(fs, args, os.LookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "Usage: patrolgrid %s [flags]\n\n%s\nEach flag may also be set as PATROLGRID_<FLAG>.\n\nFlags:\n", fs.Name(), what)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
	}
	return err
}

// helpIsNoError returns nil for flag.ErrHelp, whose usage is written, and
// err otherwise.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
