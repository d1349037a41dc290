package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
)

// runDesign designs a plan for the city of the template plan and writes
// it to --out, with its evaluation against the template's.
func runDesign(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg evaluateConfig
	var mix, out string
	var seed uint64
	fs := flag.NewFlagSet("plan design", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planFlags(fs, &cfg.city)
	roadFlags(fs, &cfg.city)
	fs.StringVar(&cfg.incidents, "incidents", "", "incident history CSV whose demand the areas share (default: the demo city's own; every cell alike for another plan)")
	fs.StringVar(&mix, "mix", "vehicle=30,ebike=20,foot=20,post=8,joint=6,video=4", "units per mechanism of the plan")
	fs.Uint64Var(&seed, "seed", 1, "seed of the areas' first sites: the same seed designs the same plan")
	fs.StringVar(&out, "out", "", "file to write the designed plan JSON to (required)")
	if err := parseExchangeFlags(fs, args, stdout, "Designs a plan for the city of --plan (the demo city by default): its grid split into one contiguous area\n"+
		"per unit of --mix, balanced by the demand of the incident history, each with a post placed for 3-minute coverage.\n"+
		"It keeps the plan's boundary, profiles, mechanisms and zones, writes the new plan to --out and prints both scored."); err != nil {
		return helpIsNoError(err)
	}
	if out == "" {
		return errors.New("plan design: --out is required")
	}
	counts, err := planner.ParseMix(mix)
	if err != nil {
		return err
	}
	template, err := loadPlan(cfg.city.planFile, cfg.city.res)
	if err != nil {
		return err
	}
	router, err := planRouter(ctx, cfg.city, template, stdout)
	if err != nil {
		return err
	}
	demand, err := planDemand(cfg.incidents, template, router.Grid())
	if err != nil {
		return err
	}
	start, last, tty := time.Now(), -1, isTerminal(stdout)
	plan, err := planner.Design(template, router, demand, planner.DesignConfig{Mix: counts, Seed: seed, Progress: func(done float64) {
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
	var evs [2]planner.Evaluation
	for i, p := range []*planner.Evaluation{&evs[0], &evs[1]} {
		if *p, err = planner.Evaluate([]*patrol.Plan{template, plan}[i], router, demand); err != nil {
			return err
		}
	}
	return writeComparison(stdout, evs, "the plan given", out)
}

// bar returns n marks of a progress bar.
func bar(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '='
	}
	return string(b)
}
