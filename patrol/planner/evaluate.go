package planner

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Share is a share (0 to 1) of a city's demand per response tier.
type Share struct {
	M1 float64 `json:"m1"`
	M3 float64 `json:"m3"`
	M5 float64 `json:"m5"`
}

// Evaluation is how well a plan covers its city, with every unit at its
// post and available.
type Evaluation struct {
	Plan string `json:"plan"`
	// At is the time of day the plan was scored at (EvaluateAt), HH:MM;
	// empty when scored whatever the hour.
	At string `json:"at,omitempty"`
	// Units is how many units the plan has, Responding how many of them
	// respond to incidents and are not off duty.
	Units      int `json:"units"`
	Responding int `json:"responding"`
	// Coverage is the demand at least one unit reaches within each tier's
	// limit, Backup the demand at least patrol.BackupUnits units reach
	// within 3 minutes.
	Coverage Share   `json:"coverage"`
	Backup   float64 `json:"backup"`
	// MeanETAS is the demand-weighted mean of the best drive time to the
	// cells reached within 5 minutes, in seconds; Beyond5M the share of
	// demand no unit reaches within 5 minutes.
	MeanETAS float64 `json:"mean_eta_s"`
	Beyond5M float64 `json:"beyond_5m"`
	// Zones holds every zone's shares of cells reached per tier its rule
	// asks, whether the rule is met, and the share of its cells with
	// backup, in plan order. Coverage does not depend on the hour; a
	// zone's rule applies in its hours.
	Zones []ZoneEval `json:"zones"`
	// Workload is the balance of the units' areas; Areas holds each unit
	// with an area, in plan order.
	Workload Balance    `json:"workload"`
	Areas    []AreaEval `json:"areas"`
}

// ZoneEval is a zone's coverage under a plan.
type ZoneEval struct {
	Zone string `json:"zone"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Active tells whether the zone's rule applies: always, but at a
	// time of day (EvaluateAt) only in the zone's hours. Met is true for
	// a zone that is not active.
	Active bool    `json:"active"`
	Met    bool    `json:"met"`
	Shares Share   `json:"shares"` // of the tiers the rule asks; 0 for the others
	Backup float64 `json:"backup"`
}

// AreaEval is one unit's area: its cells, its workload and its shape.
type AreaEval struct {
	Unit  string `json:"unit"`
	Cells int    `json:"cells"`
	// Workload is the demand of the area's cells (see Evaluate).
	Workload float64 `json:"workload"`
	// Parts is how many contiguous pieces the area falls into; 1 for a
	// contiguous area.
	Parts int `json:"parts"`
	// Compactness is the isoperimetric quotient 4πA/P² of the area's
	// outline: 1 for a disc, 0.907 for a single hexagon, less for long or
	// ragged areas.
	Compactness float64 `json:"compactness"`
}

// Balance sums up the workload of the units' areas.
type Balance struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Ratio is Max over Min (0 when some area has no workload); CV is the
	// standard deviation over the mean.
	Ratio float64 `json:"ratio"`
	CV    float64 `json:"cv"`
	// Compactness is the mean compactness of the areas, Split how many
	// areas are not contiguous.
	Compactness float64 `json:"compactness"`
	Split       int     `json:"split"`
}

// Evaluate scores plan, which must be valid, on router's travel times with
// every unit at the centre of its post and in its plan status (available
// when it has none), weighing cells by demand, which must number router's
// grid. A unit's workload is the demand of its area's cells: the incidents
// of the history that fell in them, plus patrol.BaseDemand for every cell,
// so that a large quiet area weighs as well as a small busy one.
func Evaluate(plan *patrol.Plan, router geo.Router, demand patrol.Demand) (Evaluation, error) {
	return evaluate(plan, router, demand, time.Time{})
}

// EvaluateAt is Evaluate of plan as it stands at the time of day at (from
// local midnight, see patrol.Plan.AtTime): the units off shift then are
// off duty, and a zone outside its hours is not Active, its rule asking
// nothing (Met).
func EvaluateAt(plan *patrol.Plan, router geo.Router, demand patrol.Demand, at time.Duration) (Evaluation, error) {
	loc, err := plan.Location()
	if err != nil {
		return Evaluation{}, fmt.Errorf("planner: %w", err)
	}
	ev, err := evaluate(plan.AtTime(at), router, demand, time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Add(at))
	if err != nil {
		return Evaluation{}, err
	}
	ev.At = fmt.Sprintf("%02d:%02d", int(at.Hours()), int(at.Minutes())%60)
	return ev, nil
}

// evaluate is Evaluate with zones active at now, every zone for zero now.
func evaluate(plan *patrol.Plan, router geo.Router, demand patrol.Demand, now time.Time) (Evaluation, error) {
	g := router.Grid()
	if len(demand) != g.Len() {
		return Evaluation{}, fmt.Errorf("planner: demand has %d cells, the router's grid %d", len(demand), g.Len())
	}
	cv, err := patrol.NewCoverage(plan, router)
	if err != nil {
		return Evaluation{}, err
	}
	ev := Evaluation{Plan: plan.Name, Units: len(plan.Units), Zones: []ZoneEval{}} // [] in JSON for a plan without zones
	for _, u := range plan.Units {
		st := u.Status
		if st == "" {
			st = patrol.Available
		}
		if m, ok := plan.Mechanism(u.Mechanism); ok && m.Responds() && st != patrol.OffDuty {
			ev.Responding++
		}
		if _, err := cv.Move(u.ID, geo.CellCenter(u.Post), st); err != nil {
			return Evaluation{}, fmt.Errorf("planner: place %s: %w", u.ID, err)
		}
	}
	ev.coverage(cv, demand)
	ev.zones(cv, now)
	ev.areas(plan, g, demand)
	return ev, nil
}

// coverage fills in the shares of demand reached and the mean drive time.
func (ev *Evaluation) coverage(cv *patrol.Coverage, demand patrol.Demand) {
	total := demand.Total()
	if total == 0 {
		return
	}
	var within [3]float64
	var backed, reached, weighted float64
	for _, c := range cv.Cells() {
		i, _ := cv.Grid().Index(c.Cell)
		w := demand[i]
		for t, n := range c.N {
			if n > 0 {
				within[t] += w
			}
		}
		if c.Backed() {
			backed += w
		}
		if c.ETA != patrol.Unreached {
			reached += w
			weighted += w * c.ETA.Seconds()
		}
	}
	ev.Coverage = Share{round(within[patrol.Tier1] / total), round(within[patrol.Tier3] / total), round(within[patrol.Tier5] / total)}
	ev.Backup = round(backed / total)
	ev.Beyond5M = round(1 - reached/total)
	if reached > 0 {
		ev.MeanETAS = math.Round(weighted/reached*10) / 10
	}
}

// zones fills in every zone's coverage, and with a time which zones are
// active then.
func (ev *Evaluation) zones(cv *patrol.Coverage, now time.Time) {
	for _, z := range cv.Zones(now) {
		active := now.IsZero() || z.Active
		ze := ZoneEval{Zone: z.ID, Name: z.Name, Kind: z.Kind, Active: active, Met: z.Met || !active}
		share := func(t patrol.Tier) float64 { s, _ := z.Share(t); return round(s) }
		ze.Shares = Share{share(patrol.Tier1), share(patrol.Tier3), share(patrol.Tier5)}
		ze.Backup = round(z.BackupShare())
		ev.Zones = append(ev.Zones, ze)
	}
}

// areas fills in every unit area's workload and shape, and their balance.
func (ev *Evaluation) areas(plan *patrol.Plan, g *geo.Grid, demand patrol.Demand) {
	var loads []float64
	var compact float64
	for _, u := range plan.Units {
		if len(u.Area) == 0 {
			continue
		}
		a := AreaEval{Unit: u.ID, Cells: len(u.Area)}
		for _, c := range u.Area {
			if i, ok := g.Index(c); ok {
				a.Workload += demand[i]
			}
		}
		a.Workload = math.Round(a.Workload*100) / 100
		a.Parts, a.Compactness = shape(u.Area)
		loads = append(loads, a.Workload)
		compact += a.Compactness
		if a.Parts > 1 {
			ev.Workload.Split++
		}
		ev.Areas = append(ev.Areas, a)
	}
	if len(loads) == 0 {
		return
	}
	b := &ev.Workload
	b.Min, b.Max = slices.Min(loads), slices.Max(loads)
	if b.Min > 0 {
		b.Ratio = round(b.Max / b.Min)
	}
	var sum, sq float64
	for _, l := range loads {
		sum += l
	}
	mean := sum / float64(len(loads))
	for _, l := range loads {
		sq += (l - mean) * (l - mean)
	}
	if mean > 0 {
		b.CV = round(math.Sqrt(sq/float64(len(loads))) / mean)
	}
	b.Compactness = round(compact / float64(len(loads)))
}

// shape returns how many contiguous parts cells fall into and the
// isoperimetric quotient of their outline: with n hexagons of edge e and b
// edges on the outline, 4π·n·(3√3/2)e² / (b·e)² = 6√3π·n/b², which does
// not depend on the resolution.
func shape(cells []h3.Cell) (parts int, compactness float64) {
	index := make(map[h3.Cell]int32, len(cells))
	for _, c := range cells {
		if _, dup := index[c]; !dup {
			index[c] = int32(len(index))
		}
	}
	nbr := make([][]int32, len(index)) // neighbours within cells
	outline := 0
	for c, i := range index {
		for _, n := range c.GridDisk(1) {
			if j, in := index[n]; n != c && in {
				nbr[i] = append(nbr[i], j)
			} else if n != c {
				outline++
			}
		}
	}
	seen := make([]bool, len(index))
	var stack []int32
	for i := range seen {
		if seen[i] {
			continue
		}
		parts++
		seen[i], stack = true, append(stack[:0], int32(i))
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, j := range nbr[k] {
				if !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
	}
	if outline == 0 {
		return parts, 0
	}
	return parts, round(6 * math.Sqrt(3) * math.Pi * float64(len(index)) / float64(outline*outline))
}

// round rounds x to 4 decimals.
func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }
