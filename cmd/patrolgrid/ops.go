package main

import (
	"context"
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
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
	"github.com/patrolgrid/patrolgrid/patrol/ops"
)

// opsConfig is what simulate ops runs.
type opsConfig struct {
	city         serveConfig // plan and road flags
	incidents    string
	day          string
	days         patrol.DateRange
	service      time.Duration
	movesPerHour int
	workers      int
	format       string
}

func opsFlags(cfg *opsConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("simulate ops", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planFlags(fs, &cfg.city)
	roadFlags(fs, &cfg.city)
	fs.StringVar(&cfg.incidents, "incidents", "", "incident history CSV (time,lon,lat,kind) to replay (default: the demo city's own)")
	fs.StringVar(&cfg.day, "day", "", "replay only this local day, YYYY-MM-DD (default: every day of the history)")
	daysFlag(fs, &cfg.days, "replay")
	fs.DurationVar(&cfg.service, "service", 30*time.Minute, "time a unit spends on scene")
	moveFlags(fs, &cfg.city)
	fs.IntVar(&cfg.movesPerHour, "moves-per-hour", 1, "most move-ups one unit may be given in any hour")
	fs.IntVar(&cfg.workers, "workers", 0, "days simulated at once (default: one per CPU)")
	fs.StringVar(&cfg.format, "format", "text", "output: text (a table) or json")
	return fs
}

// parseOpsArgs reads the flags of simulate ops, each of which may also
// come from the environment (see parseFlags). On -h it writes the usage to
// usage and returns flag.ErrHelp.
func parseOpsArgs(args []string, lookupEnv func(string) (string, bool), usage io.Writer) (opsConfig, error) {
	var cfg opsConfig
	fs := opsFlags(&cfg)
	if _, err := parseFlags(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(usage, "Usage: patrolgrid simulate ops [flags]\n\nReplays days of an incident history in simulated time "+
				"through the coverage engine, the drive-time ranking and the dispatch advisor:\nthe closest available unit "+
				"drives to each incident, stays --service on scene and drives back to its post.\nIt compares the closest unit "+
				"with static posts and with move-ups (one per dispatch, at most --moves-per-hour per unit),\neach day's "+
				"move-ups weighed by the history without that day. With --osm, travel times follow the\nroad profile's "+
				"time-of-day bands at the plan's local hour.\nEach flag may also be set as PATROLGRID_<FLAG>.\n\nFlags:")
			fs.SetOutput(usage)
			fs.PrintDefaults()
		}
		return cfg, err
	}
	switch {
	case cfg.format != "text" && cfg.format != "json":
		return cfg, fmt.Errorf("simulate ops: --format %q: want text or json", cfg.format)
	case cfg.service <= 0:
		return cfg, fmt.Errorf("simulate ops: --service %v: want a positive duration", cfg.service)
	case cfg.city.moveLimit <= 0:
		return cfg, fmt.Errorf("simulate ops: --move-limit %v: want a positive duration", cfg.city.moveLimit)
	case cfg.movesPerHour < 1:
		return cfg, fmt.Errorf("simulate ops: --moves-per-hour %d: want at least 1", cfg.movesPerHour)
	}
	if cfg.day != "" {
		if cfg.days != (patrol.DateRange{}) {
			return cfg, errors.New("simulate ops: --day and --days: give one")
		}
		if err := cfg.days.Set(cfg.day); err != nil {
			return cfg, fmt.Errorf("simulate ops: --day %q: want YYYY-MM-DD", cfg.day)
		}
	}
	return cfg, nil
}

// runOps runs simulate ops and writes its report to stdout.
func runOps(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseOpsArgs(args, os.LookupEnv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	plan, err := loadPlan(cfg.city.planFile, cfg.city.res)
	if err != nil {
		return err
	}
	history, err := readHistory(cfg.incidents, plan)
	if err != nil {
		return err
	}
	loc, err := plan.Location()
	if err != nil {
		return err
	}
	replay, err := cfg.days.Filter(history, loc)
	if err != nil {
		return fmt.Errorf("simulate ops: --days: %w", err)
	}
	days := ops.Days(replay, loc)
	log := stdout
	if cfg.format == "json" {
		log = io.Discard
	}
	sim := ops.Config{Plan: plan, History: history, Service: cfg.service, MoveLimit: cfg.city.moveLimit,
		MovesPerHour: cfg.movesPerHour, FollowBusy: cfg.city.followBusy, Workers: cfg.workers}
	travel, err := opsTravel(ctx, cfg.city, plan, &sim, log)
	if err != nil {
		return err
	}
	rep, err := ops.Run(ctx, sim, days, nil)
	if err != nil {
		return err
	}
	if cfg.format == "json" {
		return writeJSON(stdout, rep)
	}
	return writeOpsTable(stdout, rep, travel, cfg.service)
}

// opsTravel sets the travel times of sim: the lattice of the plan's grid,
// or the road network of cfg.osm in the band of each simulated hour. It
// returns how the report names them.
func opsTravel(ctx context.Context, cfg serveConfig, plan *patrol.Plan, sim *ops.Config, log io.Writer) (string, error) {
	grid, roads, err := cityRoads(ctx, cfg, plan, log)
	if err != nil {
		return "", err
	}
	if roads == nil {
		sim.Router = geo.NewLattice(grid)
		return "lattice travel times", nil
	}
	bands := map[string]dispatch.Router{}
	for h := range 24 {
		b := road.BandAt(roads.profiles, h)
		if bands[b] == nil {
			bands[b] = roads.router.WithBand(b)
		}
	}
	sim.Router = bands[road.BandAt(roads.profiles, 0)]
	sim.RouterAt = func(t time.Time) dispatch.Router { return bands[road.BandAt(roads.profiles, t.In(roads.loc).Hour())] }
	return fmt.Sprintf("road travel times of %s for %s by time-of-day band%s", cfg.osm, roads.onRoads(), roads.onLattice()), nil
}

// writeOpsTable writes rep as a table, a policy per row.
func writeOpsTable(w io.Writer, rep ops.Report, travel string, service time.Duration) error {
	fmt.Fprintf(w, "%d days, %d incidents, %d responding units, %v on scene, %s; simulated in %.1f s\n\n",
		rep.Days, rep.Incidents, rep.Units, service, travel, rep.Elapsed.Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\t≤1 min\t≤3 min\t≤5 min\tlate >3 min\tunserved\tmean s\tp90 s\tmove-ups\treturns\tmoves/unit/h\tmost in an hour\t")
	for _, p := range rep.Policies {
		fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\t%.1f%%\t%d\t%d\t%.1f\t%.1f\t%d\t%d\t%.4f\t%d\t\n", p.Name,
			100*p.Within1M, 100*p.Within3M, 100*p.Within5M, p.Late3M, p.Unserved, p.MeanS, p.P90S,
			p.MoveUps, p.Returns, p.MovesPerUnitHour, p.MaxMovesInHour)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Policies) == 3 && rep.Policies[0].Late3M > 0 {
		st, mu, ref := rep.Policies[0].Late3M, rep.Policies[1].Late3M, rep.Policies[2].Late3M
		_, err := fmt.Fprintf(w, "\nmove-ups: %+.1f%% incidents reached later than 3 minutes (%d against %d with static posts).\n"+
			"Of those %d, %d are late even with no unit ever busy, for where the posts stand, and %d because the nearest units\n"+
			"were busy: the most that move-ups can win back.\n",
			100*float64(mu-st)/float64(st), mu, st, st, ref, st-ref)
		return err
	}
	return nil
}
