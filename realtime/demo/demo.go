package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Config configures a Motion. The zero value uses the documented
// defaults.
type Config struct {
	// Interval is the time between two fixes of one moving unit, and the
	// tick of Run; default 1 s. Still units report every 10 s, or every
	// Interval when that is longer.
	Interval time.Duration
	// Seed seeds the simulation's random source; default 1. The same plan,
	// seed and sequence of steps give the same fixes.
	Seed uint64
	// Now returns the time stamped on each step's fixes; default time.Now.
	Now func() time.Time
	// Hold reports whether a unit is driven by a device now (City.Live):
	// the motion sends no fix for it while it is, and carries on from
	// where its own loop has got to when it is not. Nil holds no unit. It
	// is called from Step and must be safe for concurrent use.
	Hold func(unit string) bool
	// Roads, when not nil, is the road network the units drive on: a
	// moving unit whose mechanism's profile has a graph in it loops along
	// that graph's roads (see Motion). Nil, or a profile without a graph,
	// moves units in straight lines between waypoints. New lays the loops
	// out on it; Step does not read it.
	Roads *road.Network
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Demo tuning.
const (
	stillPeriod  = 10 * time.Second // between fixes of a still unit
	stillJitterM = 3.0              // GPS noise of a still unit, metres at most
	loopTime     = 4 * time.Minute  // at cruising speed: how far a loop reaches at most, how long a road loop walks
	topShare     = 0.9              // highest speed as a share of the mechanism's max_speed_kph
	waypoints    = 10
	probeM       = 10.0 // step when testing that a path stays inside an area
)

// Motion moves the units of a plan plausibly, for a deployment without
// live terminals: vehicle and e-bike units drive loops inside their own
// areas, foot and joint patrols walk small loops near their posts, all at
// about their profile's speed with small variation, and never faster than
// topShare of their mechanism's max_speed_kph. Units of the "post"
// mechanism (fixed posts) and of mechanisms without a travel profile
// (video patrol) stay at their posts, reporting every 10 s with at most
// 3 m of noise, zero speed and an unknown heading (-1). Units that are off
// duty when the plan is loaded send nothing. Every fix lies inside the
// plan's boundary, and a loop keeps to its unit's area: it is probed every
// 10 m, so it may cut the corner of a neighbouring cell.
//
// Given Config.Roads, a moving unit whose profile has a graph there
// drives along that graph's roads instead (car, bike, foot: the name of
// its mechanism's profile), at the same speeds: its loop starts and ends
// at its post snapped to the nearest road, takes a random walk of about
// four minutes at cruising speed that follows one-way streets, turns back
// only at dead ends, prefers roads inside its area and roads it has not
// taken yet, finds the way back in when the streets take it out, and
// comes back to the start by the way that keeps most to its area. Every
// fix then lies on a road of the graph; a loop keeps mostly to its area
// and the boundary but may cross a neighbouring cell, or leave them where
// the roads do. A unit whose post lies over 200 m (road.DefaultSnapRadius)
// from every road of its graph, or whose roads there give no loop of
// 30 m, moves as without roads.
//
// A Motion is not safe for concurrent use: Run owns it while it runs.
type Motion struct {
	cfg      Config
	rng      *rand.Rand
	boundary orb.Polygon
	units    []*unit
}

// unit is the simulated state of one unit.
type unit struct {
	id     string
	home   orb.Point     // centre of the post cell
	path   *loop         // nil for a unit that stays at its post
	at     float64       // metres along path
	speed  float64       // current speed, m/s
	cruise float64       // typical speed, m/s
	top    float64       // highest speed, m/s
	period time.Duration // between fixes
	since  time.Duration // since the last fix
}

// New returns a demo of plan's units, which it reads but does not
// keep; plan should be valid (see patrol.Plan.Validate). It starts no
// goroutine.
func New(plan *patrol.Plan, cfg Config) *Motion {
	cfg = cfg.withDefaults()
	d := &Motion{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x2688)), boundary: plan.Boundary}
	lay := layout{res: plan.Resolution, profiles: make(map[string]geo.Profile, len(plan.Profiles)), search: &geo.Search{}}
	for _, p := range plan.Profiles {
		lay.profiles[p.Name] = p
	}
	for _, u := range plan.Units {
		if u.Status == patrol.OffDuty {
			continue
		}
		m, _ := plan.Mechanism(u.Mechanism)
		d.units = append(d.units, d.newUnit(u, m, lay))
	}
	return d
}

// layout is what New lays the units' loops out with.
type layout struct {
	res      int                    // the plan's H3 resolution
	profiles map[string]geo.Profile // the plan's profiles by name
	search   *geo.Search            // scratch of the road loops' way home
}

// newUnit places u at its post and, when its mechanism travels, lays out
// its loop and picks its speeds.
func (d *Motion) newUnit(u patrol.Unit, m patrol.Mechanism, lay layout) *unit {
	period := max(stillPeriod, d.cfg.Interval)
	du := &unit{id: u.ID, home: geo.CellCenter(u.Post), period: period, since: period}
	p, ok := lay.profiles[m.Profile]
	if !ok || m.ID == "post" || p.SpeedKPH <= 0 {
		return du
	}
	du.top = math.Inf(1)
	if m.MaxSpeedKPH > 0 {
		du.top = topShare * m.MaxSpeedKPH / 3.6
	}
	du.cruise = min(p.MetersPerSecond()*(0.9+0.2*d.rng.Float64()), du.top)
	inside := d.insideArea(u.Area, lay.res)
	reach := du.cruise * loopTime.Seconds()
	if g := d.graph(m.Profile); g != nil {
		du.path = newRoadLoop(g, d.rng, lay.search, du.home, du.cruise, reach, inside)
	}
	if du.path == nil {
		du.path = newLoop(d.rng, du.home, reach, inside)
	}
	if du.path == nil {
		return du
	}
	du.speed, du.at = du.cruise, d.rng.Float64()*du.path.length()
	du.period, du.since = d.cfg.Interval, d.cfg.Interval
	return du
}

// graph returns the road graph of profile, nil without one.
func (d *Motion) graph(profile string) *road.Graph {
	if d.cfg.Roads == nil {
		return nil
	}
	return d.cfg.Roads.Graph(profile)
}

// insideArea returns a test for points in one of area's cells (at
// resolution res) and inside the boundary; an empty area allows the
// whole boundary.
func (d *Motion) insideArea(area []h3.Cell, res int) func(orb.Point) bool {
	in := make(map[h3.Cell]bool, len(area))
	for _, c := range area {
		in[c] = true
	}
	return func(p orb.Point) bool {
		return (len(in) == 0 || in[geo.Cell(p, res)]) && planar.PolygonContains(d.boundary, p)
	}
}

// Step advances the simulation by dt (a negative dt counts as zero) and
// returns the fixes due in that step, stamped with Now() in UTC, in plan
// order. The first step returns a fix of every unit on duty. Step does
// not sleep.
func (d *Motion) Step(dt time.Duration) []fix.Fix {
	dt = max(dt, 0)
	now := d.cfg.Now().UTC()
	var out []fix.Fix
	for _, u := range d.units {
		if u.path != nil {
			u.advance(d.rng, dt.Seconds())
		}
		u.since += dt
		if u.since < u.period-min(dt, u.period)/2 {
			continue
		}
		u.since = 0
		if d.cfg.Hold == nil || !d.cfg.Hold(u.id) {
			out = append(out, d.fix(u, now))
		}
	}
	return out
}

// advance moves u sec seconds along its loop, its speed drifting toward a
// fresh target within 15% of its cruising speed.
func (u *unit) advance(rng *rand.Rand, sec float64) {
	target := u.cruise * (0.85 + 0.3*rng.Float64())
	u.speed += (target - u.speed) * min(1, sec/5)
	u.speed = min(u.speed, u.top)
	u.at = math.Mod(u.at+u.speed*sec, u.path.length())
}

// fix returns u's fix at time t.
func (d *Motion) fix(u *unit, t time.Time) fix.Fix {
	f := fix.Fix{Unit: u.id, Time: t, AccuracyM: 4 + 2*d.rng.Float64(), Battery: -1, Source: fix.SourceDemo}
	if u.path != nil {
		f.Point, f.Heading = u.path.at(u.at)
		f.SpeedMPS = u.speed
		return f
	}
	f.Point = geo.PointAt(u.home, 360*d.rng.Float64(), geo.Meters(stillJitterM*math.Sqrt(d.rng.Float64())))
	if !planar.PolygonContains(d.boundary, f.Point) {
		f.Point = u.home
	}
	f.Heading = -1
	return f
}

// Run sends each tick's fixes to ingest, a tick every Interval, until ctx
// ends. It returns ctx's error once ctx ends, or the first error of ingest.
// The first tick is at once, with every unit on duty.
func (d *Motion) Run(ctx context.Context, ingest func(context.Context, []fix.Fix) error) error {
	tick := time.NewTicker(d.cfg.Interval)
	defer tick.Stop()
	last := d.cfg.Now()
	fixes := d.Step(0)
	for {
		if len(fixes) > 0 {
			if err := ingest(ctx, fixes); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("demo: ingest: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		now := d.cfg.Now()
		fixes = d.Step(now.Sub(last))
		last = now
	}
}

// loop is a closed path: a star-shaped ring of waypoints around a
// post, (lon, lat) points with the first repeated at the end.
type loop struct {
	pts []orb.Point
	cum []float64 // metres from pts[0] to pts[i] along the path
}

// newLoop lays out a loop around home whose every point passes inside,
// the waypoints at most radius metres away, in a random direction of
// travel. It returns nil when no loop of at least 30 m fits.
func newLoop(rng *rand.Rand, home orb.Point, radius float64, inside func(orb.Point) bool) *loop {
	if !inside(home) {
		return nil
	}
	turn, sense := 360*rng.Float64(), 1.0
	if rng.IntN(2) == 0 {
		sense = -1
	}
	bearing := make([]float64, waypoints)
	reach := make([]float64, waypoints)
	for k := range bearing {
		bearing[k] = math.Mod(turn+sense*360*float64(k)/waypoints+360, 360)
		reach[k] = reachAlong(home, bearing[k], radius, inside) * (0.55 + 0.35*rng.Float64())
	}
	waypoint := func(k int) orb.Point {
		k %= waypoints
		return geo.PointAt(home, bearing[k], geo.Meters(reach[k]))
	}
	for fixed := false; !fixed; {
		fixed = true
		for k := range waypoints {
			if segmentInside(waypoint(k), waypoint(k+1), inside) {
				continue
			}
			fixed = false
			j := k
			if reach[(k+1)%waypoints] > reach[k] {
				j = (k + 1) % waypoints
			}
			if reach[j] *= 0.7; reach[j] < 5 {
				reach[j] = 0 // on the post: the rays from it were probed
			}
		}
	}
	pts := make([]orb.Point, 0, waypoints+1)
	for k := range waypoints + 1 {
		if p := waypoint(k); len(pts) == 0 || p != pts[len(pts)-1] {
			pts = append(pts, p)
		}
	}
	return newPath(pts)
}

// newPath measures a closed path, or returns nil when it is shorter
// than 30 m.
func newPath(pts []orb.Point) *loop {
	l := &loop{pts: pts, cum: make([]float64, len(pts))}
	for i := 1; i < len(pts); i++ {
		l.cum[i] = l.cum[i-1] + float64(geo.Distance(pts[i-1], pts[i]))
	}
	if len(pts) < 3 || l.length() < 30 {
		return nil
	}
	return l
}

// reach returns how far from home, up to limit metres, the ray along
// bearing stays inside, probed every probeM metres.
func reachAlong(home orb.Point, bearing, limit float64, inside func(orb.Point) bool) float64 {
	for d := probeM; d <= limit; d += probeM {
		if !inside(geo.PointAt(home, bearing, geo.Meters(d))) {
			return d - probeM
		}
	}
	return limit
}

// segmentInside reports whether the straight segment from a to b
// stays inside, probed every probeM metres.
func segmentInside(a, b orb.Point, inside func(orb.Point) bool) bool {
	n := int(math.Ceil(float64(geo.Distance(a, b)) / probeM))
	for i := 0; i <= n; i++ {
		if !inside(lerp(a, b, float64(i)/float64(max(n, 1)))) {
			return false
		}
	}
	return true
}

func lerp(a, b orb.Point, f float64) orb.Point {
	return orb.Point{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f}
}

// length returns the length of the loop in metres.
func (l *loop) length() float64 { return l.cum[len(l.cum)-1] }

// at returns the point s metres along the loop (s in [0, length)) and
// the bearing of travel there, in degrees clockwise from north in
// [0, 360).
func (l *loop) at(s float64) (orb.Point, float64) {
	i := sort.SearchFloat64s(l.cum, s) // first cum[i] >= s
	if i == 0 {
		i = 1
	}
	i = min(i, len(l.pts)-1)
	a, b := l.pts[i-1], l.pts[i]
	f := (s - l.cum[i-1]) / (l.cum[i] - l.cum[i-1])
	return lerp(a, b, math.Max(0, math.Min(1, f))), geo.Bearing(a, b)
}
