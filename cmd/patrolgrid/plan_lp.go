package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// runExportLP writes the post placement of the plan's units over their
// areas as an LP file, or with --solution scores a solver's answer to it
// against the planner's own posts.
func runExportLP(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg evaluateConfig
	var units int
	var ids, out, solution string
	fs := flag.NewFlagSet("plan export-lp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planFlags(fs, &cfg.city)
	roadFlags(fs, &cfg.city)
	daysFlag(fs, &cfg.days, "weigh cells by")
	fs.StringVar(&cfg.incidents, "incidents", "", "incident history CSV that weighs cells (default: the demo city's own)")
	fs.IntVar(&units, "units", 0, "place only this many responding units, those whose posts are nearest the city's centre (default: every unit)")
	fs.StringVar(&ids, "unit-ids", "", "place only these units, comma-separated")
	fs.StringVar(&out, "out", "", "file to write the LP to (default: standard output)")
	fs.StringVar(&solution, "solution", "", "instead of writing the LP, read a CBC solution of it (cbc F.lp solve solu FILE) "+
		"and score its posts against the planner's")
	if err := parseExchangeFlags(fs, args, stdout, "Writes the post placement of a plan's units over their areas (a maximal covering with backup "+
		"and the zones' rules,\nthe objective the planner's design maximises) as a mixed-integer program in CPLEX LP format."); err != nil {
		return helpIsNoError(err)
	}
	if units < 0 || units > 0 && ids != "" {
		return fmt.Errorf("plan export-lp: give --units (at least 1) or --unit-ids, not both")
	}
	plan, err := loadPlan(cfg.city.planFile, cfg.city.res)
	if err != nil {
		return err
	}
	log := stdout
	if solution == "" && out == "" {
		log = io.Discard // the LP goes to stdout
	}
	m, err := openModel(ctx, cfg, plan, log)
	if err != nil {
		return err
	}
	var chosen []string
	switch {
	case units > 0:
		chosen = planner.CentralUnits(plan, units)
	case ids != "":
		chosen = strings.Split(ids, ",")
	}
	ps, err := planner.NewPosts(plan, m.router, m.demand, chosen)
	if err != nil {
		return err
	}
	start := time.Now()
	ps.Solve(nil)
	took := time.Since(start)
	if solution == "" {
		if out == "" {
			return ps.WriteLP(stdout)
		}
		return writeFile(out, ps.WriteLP)
	}
	own := ps.Value()
	f, err := os.Open(solution)
	if err != nil {
		return err
	}
	defer f.Close()
	cells, status, err := ps.ReadSolution(f)
	if err != nil {
		return err
	}
	if err := ps.Set(cells); err != nil {
		return err
	}
	exact := ps.Value()
	fmt.Fprintf(stdout, "planner's posts %.3f in %v; the solution's %.3f (%s): the planner at %.3f%% of it\n",
		own, took.Round(time.Microsecond), exact, status, 100*own/exact)
	return nil
}
