// Command patrolgrid runs the patrol coverage service and its tools.
//
//	patrolgrid serve [flags]      the live service (API, map, ingest)
//	patrolgrid simulate [flags]   stream OsmAnd fixes to a running server
//
// Every flag can also be set by an environment variable: --listen is
// PATROLGRID_LISTEN, --viewer-token is PATROLGRID_VIEWER_TOKEN, and so on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // zone hours need Asia/Shanghai on machines without tzdata
)

const usage = `usage: patrolgrid <command> [flags]

commands:
  serve      run the live coverage service (try: patrolgrid serve --demo)
  simulate   stream OsmAnd fixes to a running server and report latency
  isochrone  print the cells a road trip reaches within a time limit (OSM extract)

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
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// envDefaults sets every flag of fs that was not given on the command line
// from its environment variable PATROLGRID_<NAME>, with dashes as
// underscores.
func envDefaults(fs *flag.FlagSet, given map[string]bool) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "PATROLGRID_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

// parse parses args into fs, then fills the flags not given from the
// environment.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return envDefaults(fs, given)
}
