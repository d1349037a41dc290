package ops

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
)

// Config describes a simulation.
type Config struct {
	// Plan is the city, which must be valid (see patrol.Plan.Validate).
	Plan *patrol.Plan
	// Router gives the travel times, as the live engine uses them.
	Router dispatch.Router
	// RouterAt, when not nil, gives the travel times in force at a time
	// (a road network in the time-of-day band of its local hour), on
	// Router's grid; the simulation switches to them as each day's clock
	// turns. Without it, Router holds all day.
	RouterAt func(time.Time) dispatch.Router
	// History weighs the cost of a dispatch (see patrol.NewDemand): each
	// day is weighed by the history without that day's incidents, so no
	// move is guided by the incidents it is judged on.
	History []patrol.Incident
	// Service is the time a unit spends on scene; default 30 minutes.
	Service time.Duration
	// MoveLimit bounds the drive time of a move-up; default
	// dispatch.DefaultMoveLimit.
	MoveLimit time.Duration
	// MovesPerHour is how many move-ups a unit may be given in any hour;
	// default 1.
	MovesPerHour int
	// FollowBusy is how many responding units must be busy before
	// move-ups follow the compliance table (see dispatch.Advisor.Follow);
	// default dispatch.DefaultFollowBusy, negative for never.
	FollowBusy int
	// Workers is how many days run at once; default GOMAXPROCS.
	Workers int
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Service == 0 {
		c.Service = 30 * time.Minute
	}
	if c.MoveLimit == 0 {
		c.MoveLimit = dispatch.DefaultMoveLimit
	}
	if c.MovesPerHour == 0 {
		c.MovesPerHour = 1
	}
	if c.FollowBusy == 0 && c.Plan != nil {
		c.FollowBusy = dispatch.DefaultFollowBusy(c.Plan)
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return c
}

// Policy is a way of dispatching.
type Policy struct {
	Name string
	// MoveUps tells whether a dispatch may move another unit up.
	MoveUps bool
	// Reference tells that the policy is no way of working but a bound:
	// the closest unit answers and never leaves its post, as if every
	// unit were always free. What is late under it is late because of
	// where the posts are; the rest of another policy's late incidents
	// are late because the nearest units were busy, the part move-ups can
	// win back.
	Reference bool
}

// Policies are the policies a simulation compares: the closest available
// unit with every other unit at its post, the same with move-ups, and for
// reference the posts with no unit ever busy.
var Policies = []Policy{
	{Name: "closest unit, static posts"},
	{Name: "closest unit, move-ups", MoveUps: true},
	{Name: "reference: no unit ever busy", Reference: true},
}

// Result is how one policy did over the days simulated.
type Result struct {
	Name string `json:"name"`
	// Reference marks the bound of Policy.Reference.
	Reference bool `json:"reference,omitempty"`
	// Incidents is how many incidents were simulated, Unserved how many
	// of them no unit could reach within 30 minutes of their report.
	Incidents int `json:"incidents"`
	Unserved  int `json:"unserved"`
	// Within1M, Within3M and Within5M are the shares (0 to 1) of
	// incidents reached within 1, 3 and 5 minutes of their report.
	Within1M float64 `json:"within_1m"`
	Within3M float64 `json:"within_3m"`
	Within5M float64 `json:"within_5m"`
	// Late3M is how many incidents were reached later than 3 minutes, or
	// not at all.
	Late3M int `json:"late_3m"`
	// MeanS and P90S are the mean and 90th percentile of the response
	// time of the served incidents, in seconds.
	MeanS float64 `json:"mean_s"`
	P90S  float64 `json:"p90_s"`
	// MoveUps is how many move-ups were ordered, Returns how many drives
	// home of units that had moved up; MovesPerUnitHour is both over the
	// responding units and the hours simulated.
	MoveUps          int     `json:"move_ups"`
	Returns          int     `json:"returns"`
	MovesPerUnitHour float64 `json:"moves_per_unit_hour"`
	// MaxMovesInHour is the most move-ups one unit was given in any hour.
	MaxMovesInHour int `json:"max_moves_in_hour"`
}

// Report is the outcome of a simulation.
type Report struct {
	Days      int `json:"days"`
	Incidents int `json:"incidents"`
	// Units is how many units respond to incidents.
	Units    int      `json:"units"`
	Policies []Result `json:"policies"`
	// Elapsed is the wall time the simulation took.
	Elapsed time.Duration `json:"-"`
}

// Day is one local day's incidents.
type Day struct {
	Date      string // YYYY-MM-DD in the plan's time zone
	Incidents []patrol.Incident
}

// Days splits incidents into local days of loc, in order of date, each
// day's incidents in order of time.
func Days(incidents []patrol.Incident, loc *time.Location) []Day {
	byDate := map[string][]patrol.Incident{}
	for _, in := range incidents {
		d := in.Time.In(loc).Format(time.DateOnly)
		byDate[d] = append(byDate[d], in)
	}
	out := make([]Day, 0, len(byDate))
	for d, list := range byDate {
		slices.SortStableFunc(list, func(a, b patrol.Incident) int { return a.Time.Compare(b.Time) })
		out = append(out, Day{Date: d, Incidents: list})
	}
	slices.SortFunc(out, func(a, b Day) int { return cmp.Compare(a.Date, b.Date) })
	return out
}

// ErrNoIncidents is returned for a simulation of no incidents.
var ErrNoIncidents = errors.New("ops: no incidents to simulate")

// Run simulates days under every policy of Policies, calling progress
// (when not nil) after each day and policy done, and stops early when ctx
// ends.
func Run(ctx context.Context, cfg Config, days []Day, progress func(done, total int)) (Report, error) {
	start := time.Now()
	cfg = cfg.withDefaults()
	rep := Report{Days: len(days), Units: len(dispatch.Responding(cfg.Plan))}
	for _, d := range days {
		rep.Incidents += len(d.Incidents)
	}
	if rep.Incidents == 0 {
		return Report{}, ErrNoIncidents
	}
	outs, err := runAll(ctx, cfg, days, progress)
	if err != nil {
		return Report{}, err
	}
	for p, pol := range Policies {
		r := summarize(pol.Name, outs[p], rep.Units, len(days))
		r.Reference = pol.Reference
		rep.Policies = append(rep.Policies, r)
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// runAll simulates every day under every policy on cfg.Workers
// goroutines and returns the outcomes by policy, in day order.
func runAll(ctx context.Context, cfg Config, days []Day, progress func(done, total int)) ([][]dayOutcome, error) {
	type job struct{ day, policy int }
	jobs := make(chan job)
	outs := make([][]dayOutcome, len(Policies))
	for p := range outs {
		outs[p] = make([]dayOutcome, len(days))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int
	)
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				out, err := simulateDay(ctx, cfg, days[j.day], Policies[j.policy])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("ops: %s, %s: %w", days[j.day].Date, Policies[j.policy].Name, err)
					cancel()
				}
				outs[j.policy][j.day] = out
				done++
				if progress != nil {
					progress(done, len(days)*len(Policies))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for d := range days {
		for p := range Policies {
			select {
			case jobs <- job{d, p}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return outs, firstErr
}

// summarize pools the outcomes of one policy's days.
func summarize(name string, days []dayOutcome, units, nDays int) Result {
	r := Result{Name: name}
	var times []time.Duration
	for _, d := range days {
		r.Incidents += d.incidents
		r.Unserved += d.incidents - len(d.responses)
		times = append(times, d.responses...)
		r.MoveUps += d.moveUps
		r.Returns += d.returns
		r.MaxMovesInHour = max(r.MaxMovesInHour, d.maxMovesInHour)
	}
	var within [3]int
	var sum time.Duration
	for _, t := range times {
		sum += t
		for i, limit := range patrol.Limits {
			if t <= limit {
				within[i]++
			}
		}
	}
	share := func(n int) float64 { return round(float64(n)/float64(r.Incidents), 4) }
	r.Within1M, r.Within3M, r.Within5M = share(within[patrol.Tier1]), share(within[patrol.Tier3]), share(within[patrol.Tier5])
	r.Late3M = r.Incidents - within[patrol.Tier3]
	if len(times) > 0 {
		slices.Sort(times)
		r.MeanS = round(sum.Seconds()/float64(len(times)), 1)
		r.P90S = round(times[(len(times)*9+9)/10-1].Seconds(), 1)
	}
	if hours := float64(units) * float64(nDays) * 24; hours > 0 {
		r.MovesPerUnitHour = round(float64(r.MoveUps+r.Returns)/hours, 4)
	}
	return r
}

// round rounds x to digits decimals.
func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
