package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // zone hours need Asia/Shanghai on machines without tzdata
)

const usage = `usage: patrolgrid <command> [flags]

commands:
  serve      run the live coverage service (try: patrolgrid serve --demo)
  simulate   stream OsmAnd fixes to a running server and report latency
             (simulate ops: replay an incident history, static posts against move-ups)
  isochrone  print the cells a road trip reaches within a time limit (OSM extract)
  plan       plan design, evaluate, compare, export, import: design, score and draw plans, exchange them with a GIS
  token      draw a token for a role and print it, and its line for serve --credentials

Run "patrolgrid <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "patrolgrid:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, stdout)
	case "simulate":
		return runSimulate(ctx, rest, stdout)
	case "isochrone":
		return runIsochrone(ctx, rest, stdout)
	case "plan":
		return runPlan(ctx, rest, stdout)
	case "token":
		return runToken(rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
