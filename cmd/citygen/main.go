// Command citygen writes the demo city of patrolgrid, the urban area of
// Horqin district in Tongliao, Inner Mongolia, as a patrol plan and a
// synthetic incident history. Everything in it is illustrative and
// approximate, and the output depends on the seed alone: the same seed
// always yields the same bytes.
//
// Usage:
//
//	citygen [-out DIR] [-seed N]
//
// It writes DIR/plan.json and DIR/incidents.csv. The deployment is laid
// out to meet the priority zones' response rules most of the time: fixed
// posts and foot and joint patrols inside the zones, an e-bike circling
// each zone and a vehicle at each of the busiest, the other vehicles over
// the whole town and video patrol away from the zones. The incident
// history is the demand that places those vehicles and balances the areas
// outside the zones.
package main

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// The city's fixed parameters.
const (
	defaultSeed   = 2688
	resolution    = 10
	centreLon     = 122.26 // degrees east, the local origin
	centreLat     = 43.62  // degrees north
	mPerDegLat    = 111_195.0
	historyDays   = 90
	incidentCount = 4000
	baseDemand    = 0.15 // demand of a cell with no incidents, in incidents
	balanceRounds = 150
	lloydRounds   = 60
)

// The streams of the random source, one per stage, so that a change to one
// stage leaves the others' draws alone.
const (
	streamZones uint64 = iota + 1
	streamIncidents
	streamSeeds
)

// The number of units of each mechanism.
const (
	nPost    = 12
	nJoint   = 8
	nFoot    = 14
	nVideo   = 8
	nEbike   = 16 // one per priority zone
	nVehicle = 30
	nUnits   = nPost + nJoint + nFoot + nVideo + nEbike + nVehicle
)

func main() {
	out := flag.String("out", "tongliao", "directory to write plan.json and incidents.csv into")
	seed := flag.Uint64("seed", defaultSeed, "seed of the random source")
	flag.Parse()
	if err := run(*out, *seed, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "citygen:", err)
		os.Exit(1)
	}
}

// run generates the city from seed and writes its files into dir,
// reporting what it wrote to log.
func run(dir string, seed uint64, log io.Writer) error {
	c, err := generate(seed)
	if err != nil {
		return err
	}
	planJSON, err := encodePlan(c.plan)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"plan.json", planJSON},
		{"incidents.csv", encodeIncidents(c.incidents)},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintf(log, "citygen: wrote %s (%d bytes)\n", path, len(f.data))
	}
	fmt.Fprintf(log, "citygen: %d cells, %d units, %d zones, %d incidents; demand per unit %.2f to %.2f of its share\n",
		c.cells, len(c.plan.Units), len(c.plan.Zones), len(c.incidents), c.minLoad, c.maxLoad)
	return nil
}

// city is the generated plan and incident history.
type city struct {
	plan             *patrol.Plan
	incidents        []incident
	cells            int
	minLoad, maxLoad float64 // least and most demand of one unit's area, over its share
}

// generate builds the city from seed and checks it.
func generate(seed uint64) (*city, error) {
	rng := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
	boundary := boundaryPolygon()
	zones := priorityZones(rng(streamZones))
	if err := checkZones(boundary, zones); err != nil {
		return nil, err
	}
	incidents := makeIncidents(rng(streamIncidents), boundary, zones)
	grid, err := geo.NewPolygonGrid(boundary, resolution)
	if err != nil {
		return nil, fmt.Errorf("boundary grid: %w", err)
	}
	pt := newPartitioner(geo.NewLattice(grid), demand(grid, incidents))
	if err := pt.connected(); err != nil {
		return nil, err
	}
	sites, beat, err := deploy(rng(streamSeeds), grid, pt, zones)
	if err != nil {
		return nil, err
	}
	owner := pt.run(sites, beat)
	if err := pt.contiguous(owner, len(sites)); err != nil {
		return nil, err
	}
	units := makeUnits(grid, owner, sites, zones)
	plan := &patrol.Plan{
		Name: "Horqin demo city", City: "tongliao", Notice: notice,
		Resolution: resolution, Timezone: "Asia/Shanghai", Boundary: boundary,
		Profiles: profiles(), Mechanisms: mechanisms(), Units: units, Zones: zones,
	}
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("generated plan: %w", err)
	}
	loads := pt.relativeLoads(owner, sites)
	return &city{plan: plan, incidents: incidents, cells: grid.Len(),
		minLoad: slices.Min(loads), maxLoad: slices.Max(loads)}, nil
}

const notice = "Illustrative demo data: the boundary, priority zones, patrol units and incidents " +
	"of this plan are synthetic and their positions approximate. It is not official data of " +
	"Tongliao or of its police."

func profiles() []geo.Profile {
	return []geo.Profile{
		{Name: "car", SpeedKPH: 30, Detour: 1.35},
		{Name: "bike", SpeedKPH: 15, Detour: 1.3},
		{Name: "foot", SpeedKPH: 5, Detour: 1.25},
	}
}

func mechanisms() []patrol.Mechanism {
	return []patrol.Mechanism{
		{ID: "vehicle", Name: "Vehicle patrol", Profile: "car", CountsResponse: true, MaxSpeedKPH: 130},
		{ID: "ebike", Name: "E-bike patrol", Profile: "bike", CountsResponse: true, MaxSpeedKPH: 60},
		{ID: "foot", Name: "Foot patrol", Profile: "foot", CountsResponse: true, MaxSpeedKPH: 15},
		{ID: "post", Name: "Fixed post (police kiosk, mobile police station)", Profile: "foot",
			CountsResponse: true, MaxSpeedKPH: 130},
		{ID: "joint", Name: "Joint patrol with volunteers and security guards", Profile: "foot",
			CountsResponse: true, MaxSpeedKPH: 15},
		{ID: "video", Name: "Video patrol", CountsResponse: false},
	}
}

// ---- local plane ----

// mPerDegLon is the length of a degree of longitude at the centre, in metres.
func mPerDegLon() float64 { return mPerDegLat * math.Cos(centreLat*math.Pi/180) }

// toPoint returns the point x metres east and y metres north of the
// centre, rounded to 1e-6 degrees (about 0.1 m).
func toPoint(x, y float64) orb.Point {
	return orb.Point{round6(centreLon + x/mPerDegLon()), round6(centreLat + y/mPerDegLat)}
}

// toXY returns p as metres east and north of the centre.
func toXY(p orb.Point) (x, y float64) {
	return (p[0] - centreLon) * mPerDegLon(), (p[1] - centreLat) * mPerDegLat
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// ---- boundary ----

// boundaryPolygon returns the outline of the urban area, counter-clockwise.
// The south side follows the Xiliao River, which runs west to east below
// the town; the other sides follow the edge of the built-up area.
func boundaryPolygon() orb.Polygon {
	km := [][2]float64{
		// south, along the river, west to east
		{-7.4, -3.9}, {-6.0, -4.3}, {-4.5, -4.6}, {-3.0, -4.5}, {-1.5, -4.75}, {0.0, -5.0},
		{1.5, -5.2}, {3.0, -5.0}, {4.5, -5.3}, {6.0, -5.1}, {7.3, -4.6},
		// east, south to north
		{7.6, -2.5}, {7.2, -0.5}, {7.5, 1.8}, {7.0, 4.0}, {6.2, 5.6},
		// north, east to west
		{4.5, 6.3}, {2.5, 6.7}, {0.5, 6.5}, {-1.5, 6.8}, {-3.5, 6.3}, {-5.5, 5.7}, {-6.8, 4.6},
		// west, north to south
		{-7.3, 2.5}, {-7.0, 0.3}, {-7.6, -1.8},
	}
	ring := make(orb.Ring, 0, len(km)+1)
	for _, v := range km {
		ring = append(ring, toPoint(v[0]*1000, v[1]*1000))
	}
	return orb.Polygon{append(ring, ring[0])}
}

// ---- priority zones ----

// zoneSpec describes a priority zone as an ellipse: its centre, its
// semi-axes in metres (east-west and north-south before rotation) and its
// rotation in degrees counter-clockwise.
type zoneSpec struct {
	id, name, short, kind string
	lon, lat              float64
	a, b, rot             float64
	weight                float64
}

// zoneSpecs returns the demo city's priority zones, at approximate places.
func zoneSpecs() []zoneSpec {
	return []zoneSpec{
		{"Z01", "Central commercial district", "Central Commercial", "commercial", 122.2605, 43.6235, 350, 250, 0, 3},
		{"Z02", "Pedestrian shopping street", "Pedestrian Street", "commercial", 122.2690, 43.6180, 380, 110, 5, 3},
		{"Z03", "East shopping centre", "East Shopping Centre", "commercial", 122.2870, 43.6290, 250, 200, 0, 2.5},
		{"Z04", "East night market", "East Night Market", "night_market", 122.2935, 43.6195, 200, 150, 0, 3},
		{"Z05", "West night market", "West Night Market", "night_market", 122.2300, 43.6170, 180, 140, -10, 3},
		{"Z06", "North night market", "North Night Market", "night_market", 122.2560, 43.6490, 200, 130, 0, 2.5},
		{"Z07", "Xiliao riverside park", "Riverside Park", "park", 122.2450, 43.5830, 400, 150, 6, 2},
		{"Z08", "City centre square", "Centre Square", "park", 122.2630, 43.6285, 150, 150, 0, 2.5},
		{"Z09", "North-west lake park", "Lake Park", "park", 122.2380, 43.6400, 300, 240, 20, 2},
		{"Z10", "Tongliao railway station", "Railway Station", "transport", 122.2700, 43.6010, 300, 200, 0, 3},
		{"Z11", "Long-distance bus station", "Bus Station", "transport", 122.2830, 43.6075, 150, 120, 0, 2.5},
		{"Z12", "Central schools", "Central Schools", "school", 122.2500, 43.6320, 200, 150, 0, 2},
		{"Z13", "East schools", "East Schools", "school", 122.2960, 43.6380, 200, 150, 0, 2},
		{"Z14", "West schools", "West Schools", "school", 122.2180, 43.6280, 220, 150, 0, 2},
		{"Z15", "City hospital", "City Hospital", "hospital", 122.2720, 43.6330, 150, 120, 0, 1.5},
		{"Z16", "University hospital", "University Hospital", "hospital", 122.2280, 43.6060, 150, 120, 0, 1.5},
	}
}

// kindHours returns the daily active hours of a zone kind, local time.
func kindHours(kind string) []patrol.Hours {
	switch kind {
	case "commercial":
		return []patrol.Hours{{From: "09:00", To: "22:00"}}
	case "night_market":
		return []patrol.Hours{{From: "18:00", To: "02:00"}}
	case "park":
		return []patrol.Hours{{From: "06:00", To: "22:00"}}
	case "school":
		return []patrol.Hours{{From: "07:00", To: "08:30"}, {From: "16:00", To: "18:00"}}
	}
	return []patrol.Hours{{From: "00:00", To: "24:00"}} // transport, hospital
}

// zoneRule returns the response rule of a zone of kind and weight: how
// many units must reach what share of the zone within 1, 3 and 5 minutes.
// Within a minute only a post or an officer on foot in the zone is on the
// spot, and each reaches about the cell it stands in, so the first tier
// asks for the zone's key places only, a few of its cells. The second asks
// a patrol within 3 minutes for most of the zone and the third
// reinforcement within 5 minutes for all of it. Commercial districts,
// night markets and transport hubs ask for three reinforcements, and the
// busiest of them (transport hubs and the heaviest districts and night
// markets) for two patrols; parks, schools and hospitals ask for less.
func zoneRule(kind string, weight float64) patrol.Rule {
	switch {
	case kind == "school" || kind == "hospital":
		return patrol.Rule{M1: req(1, 0.1), M3: req(1, 0.8), M5: req(2, 1)}
	case kind == "park":
		return patrol.Rule{M1: req(1, 0.1), M3: req(1, 0.9), M5: req(2, 1)}
	case kind == "transport" || weight >= 3:
		return patrol.Rule{M1: req(1, 0.15), M3: req(2, 0.9), M5: req(3, 1)}
	}
	return patrol.Rule{M1: req(1, 0.15), M3: req(1, 0.9), M5: req(3, 1)}
}

func req(units int, share float64) patrol.Requirement {
	return patrol.Requirement{Units: units, Share: share}
}

// priorityZones returns the zones with slightly irregular outlines.
func priorityZones(rng *rand.Rand) []patrol.Zone {
	specs := zoneSpecs()
	zones := make([]patrol.Zone, len(specs))
	for i, s := range specs {
		zones[i] = patrol.Zone{ID: s.id, Name: s.name, Kind: s.kind, Hours: kindHours(s.kind),
			Weight: s.weight, Rule: zoneRule(s.kind, s.weight), Area: zoneOutline(rng, s)}
	}
	return zones
}

// zoneOutline returns a ten-sided counter-clockwise outline inscribed in the
// spec's ellipse, each vertex pulled in by up to 10%.
func zoneOutline(rng *rand.Rand, s zoneSpec) orb.Polygon {
	const n = 10
	cx, cy := toXY(orb.Point{s.lon, s.lat})
	sin, cos := math.Sincos(s.rot * math.Pi / 180)
	ring := make(orb.Ring, 0, n+1)
	for k := range n {
		t := 2 * math.Pi * float64(k) / n
		f := 0.9 + 0.1*rng.Float64()
		x, y := s.a*f*math.Cos(t), s.b*f*math.Sin(t)
		ring = append(ring, toPoint(cx+x*cos-y*sin, cy+x*sin+y*cos))
	}
	return orb.Polygon{append(ring, ring[0])}
}

// checkZones reports a zone with a vertex outside the boundary.
func checkZones(boundary orb.Polygon, zones []patrol.Zone) error {
	for _, z := range zones {
		for _, p := range z.Area[0] {
			if !planar.PolygonContains(boundary, p) {
				return fmt.Errorf("zone %s: vertex %v outside the boundary", z.ID, p)
			}
		}
	}
	return nil
}

// ---- incidents ----

// incident is one synthetic police incident.
type incident struct {
	time  time.Time // local time of the report
	point orb.Point // (lon, lat)
	kind  string
}

// The shares of incidents at priority zones and around the centre; the
// rest fall anywhere in the town.
const (
	shareZone     = 0.45
	shareDowntown = 0.25
	downtownSigma = 1300.0 // metres
)

// makeIncidents draws the incident history: weighted toward the zones
// (mostly during their active hours), around the centre, and toward the
// small hours, over historyDays days, sorted by time.
func makeIncidents(rng *rand.Rand, boundary orb.Polygon, zones []patrol.Zone) []incident {
	cst := time.FixedZone("CST", 8*3600) // Asia/Shanghai has kept +08:00 since 1991
	start := time.Date(2026, 8, 1, 0, 0, 0, 0, cst)
	weights := make([]float64, len(zones))
	for i, z := range zones {
		weights[i] = z.Weight
	}
	out := make([]incident, 0, incidentCount)
	for range incidentCount {
		in, minute := drawPlace(rng, boundary, zones, weights)
		if minute < 0 {
			minute = 60*pick(rng, hourWeights()) + rng.IntN(60)
		}
		day := rng.IntN(historyDays)
		in.time = start.AddDate(0, 0, day).Add(time.Duration(minute)*time.Minute +
			time.Duration(rng.IntN(60))*time.Second)
		out = append(out, in)
	}
	slices.SortStableFunc(out, func(a, b incident) int {
		return cmp.Or(a.time.Compare(b.time), cmp.Compare(a.point[0], b.point[0]),
			cmp.Compare(a.point[1], b.point[1]))
	})
	return out
}

// drawPlace returns an incident's place and kind and, for most incidents
// at a zone, a minute of the day within the zone's hours (-1 otherwise).
func drawPlace(rng *rand.Rand, boundary orb.Polygon, zones []patrol.Zone, weights []float64) (incident, int) {
	switch u := rng.Float64(); {
	case u < shareZone:
		z := zones[pick(rng, weights)]
		in := incident{point: inPolygon(rng, z.Area), kind: drawKind(rng, z.Kind)}
		if rng.Float64() < 0.85 {
			return in, minuteIn(rng, z.Hours)
		}
		return in, -1
	case u < shareZone+shareDowntown:
		return incident{point: nearCentre(rng, boundary), kind: drawKind(rng, "")}, -1
	}
	return incident{point: inPolygon(rng, boundary), kind: drawKind(rng, "")}, -1
}

// hourWeights returns the relative frequency of incidents by local hour,
// highest in the small hours.
func hourWeights() []float64 {
	return []float64{7, 7, 6, 5, 3, 2, 2, 3, 3, 3, 3, 3, 4, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7}
}

// pick returns an index drawn with probability proportional to weights.
func pick(rng *rand.Rand, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	u := rng.Float64() * sum
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

// minuteIn returns a minute of the day drawn uniformly from hours.
func minuteIn(rng *rand.Rand, hours []patrol.Hours) int {
	spans := make([][2]int, len(hours))
	lens := make([]float64, len(hours))
	for i, h := range hours {
		from, to := clockMinutes(h.From), clockMinutes(h.To)
		if to <= from {
			to += 24 * 60
		}
		spans[i], lens[i] = [2]int{from, to}, float64(to-from)
	}
	s := spans[pick(rng, lens)]
	return (s[0] + rng.IntN(s[1]-s[0])) % (24 * 60)
}

// clockMinutes returns the minute of the day of a well-formed "HH:MM".
func clockMinutes(s string) int {
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m
}

// inPolygon returns a point drawn uniformly from poly.
func inPolygon(rng *rand.Rand, poly orb.Polygon) orb.Point {
	b := poly.Bound()
	for {
		p := orb.Point{
			round6(b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])),
			round6(b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])),
		}
		if planar.PolygonContains(poly, p) {
			return p
		}
	}
}

// nearCentre returns a point of the boundary drawn from a normal
// distribution around the town centre.
func nearCentre(rng *rand.Rand, boundary orb.Polygon) orb.Point {
	for {
		p := toPoint(400+rng.NormFloat64()*downtownSigma, 200+rng.NormFloat64()*downtownSigma)
		if planar.PolygonContains(boundary, p) {
			return p
		}
	}
}

// drawKind returns an incident kind typical of a zone kind ("" for
// anywhere else).
func drawKind(rng *rand.Rand, zoneKind string) string {
	type kw struct {
		kind string
		w    float64
	}
	var mix []kw
	switch zoneKind {
	case "commercial":
		mix = []kw{{"theft", 40}, {"dispute", 20}, {"fraud", 15}, {"disorder", 10}, {"assault", 5}, {"medical", 5}, {"traffic", 5}}
	case "night_market":
		mix = []kw{{"dispute", 30}, {"disorder", 25}, {"theft", 20}, {"assault", 15}, {"medical", 5}, {"traffic", 5}}
	case "park":
		mix = []kw{{"theft", 20}, {"dispute", 20}, {"disorder", 15}, {"missing_person", 15}, {"medical", 15}, {"assault", 5}}
	case "transport":
		mix = []kw{{"theft", 40}, {"dispute", 20}, {"fraud", 15}, {"disorder", 10}, {"missing_person", 10}, {"medical", 5}}
	case "school":
		mix = []kw{{"traffic", 40}, {"dispute", 20}, {"missing_person", 15}, {"theft", 15}, {"assault", 10}}
	case "hospital":
		mix = []kw{{"dispute", 40}, {"theft", 25}, {"disorder", 20}, {"assault", 10}, {"medical", 5}}
	default:
		mix = []kw{{"traffic", 30}, {"theft", 25}, {"dispute", 20}, {"disorder", 10}, {"fraud", 5}, {"assault", 5}, {"medical", 5}}
	}
	w := make([]float64, len(mix))
	for i, m := range mix {
		w[i] = m.w
	}
	return mix[pick(rng, w)].kind
}

// demand returns per grid cell the number of incidents in it plus
// baseDemand.
func demand(g *geo.Grid, incidents []incident) []float64 {
	d := make([]float64, g.Len())
	for i := range d {
		d[i] = baseDemand
	}
	for _, in := range incidents {
		if i, ok := g.Locate(in.point); ok {
			d[i]++
		}
	}
	return d
}

// ---- partition ----

// partitioner splits the grid's cells into contiguous unit areas of about
// equal demand: areas grow from their sites by a multi-source Dijkstra over
// the cell lattice, each site with a head start that shrinks when its area
// holds too much demand, and the sites move to their areas' demand
// centroids (Lloyd's method). Growing along shortest paths keeps every area
// contiguous.
type partitioner struct {
	nbr    [][6]int32   // neighbour numbers, -1 where the grid ends
	hop    [][6]float64 // metres to each neighbour
	xy     [][2]float64 // cell centres, metres east and north of the centre
	demand []float64
}

func newPartitioner(l *geo.Lattice, demand []float64) *partitioner {
	g := l.Grid()
	n := g.Len()
	p := &partitioner{nbr: make([][6]int32, n), hop: make([][6]float64, n), xy: make([][2]float64, n), demand: demand}
	for i := range n {
		p.nbr[i] = l.Neighbors(int32(i))
		x, y := toXY(geo.CellCenter(g.Cell(int32(i))))
		p.xy[i] = [2]float64{x, y}
	}
	for i := range n {
		for k, j := range p.nbr[i] {
			if j >= 0 {
				p.hop[i][k] = p.dist(int32(i), j)
			}
		}
	}
	return p
}

func (p *partitioner) dist(i, j int32) float64 {
	return math.Hypot(p.xy[i][0]-p.xy[j][0], p.xy[i][1]-p.xy[j][1])
}

// connected reports whether the grid's cells form one connected piece.
func (p *partitioner) connected() error {
	all := make([]int32, len(p.nbr))
	if n := p.reach(all, 0, 0); n != len(all) {
		return fmt.Errorf("boundary cells: %d of %d connected to the first", n, len(all))
	}
	return nil
}

// reach counts the cells reachable from cell start through cells i with
// owner[i] == u.
func (p *partitioner) reach(owner []int32, start int32, u int32) int {
	seen := map[int32]bool{start: true}
	queue := []int32{start}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range p.nbr[i] {
			if j >= 0 && !seen[j] && owner[j] == u {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	return len(seen)
}

// seeds returns first followed by k more cells drawn, among the cells
// allow accepts, with probability proportional to demand times the squared
// distance to the nearest cell drawn or given so far (k-means++).
func (p *partitioner) seeds(rng *rand.Rand, first []int32, k int, allow func(int32) bool) []int32 {
	sites := slices.Clone(first)
	near := make([]float64, len(p.xy))
	for i := range near {
		near[i] = math.Inf(1)
	}
	for _, s := range sites {
		p.closer(near, s)
	}
	w := make([]float64, len(p.xy))
	for range k {
		for i, d := range near {
			switch {
			case !allow(int32(i)):
				w[i] = 0
			case math.IsInf(d, 1): // no site yet
				w[i] = p.demand[i]
			default:
				w[i] = p.demand[i] * d * d
			}
		}
		s := int32(pick(rng, w))
		sites = append(sites, s)
		p.closer(near, s)
	}
	return sites
}

// closer lowers near[i] to the distance from cell i to site s where that
// is shorter.
func (p *partitioner) closer(near []float64, s int32) {
	for i := range near {
		near[i] = min(near[i], p.dist(int32(i), s))
	}
}

// run partitions the grid in two phases. First the beat units' areas
// share the cells beat accepts, each zone's cells evenly among its beats.
// Then the other units' areas share the rest, each balanced toward its
// share of the demand left, their sites moving to their areas' demand
// centroids unless fixed. run returns the owner of each cell and updates
// the sites that moved.
func (p *partitioner) run(sites []site, beat func(int32) bool) []int32 {
	cells := make([]int32, len(sites))
	var beats, others []int32
	for u, s := range sites {
		cells[u] = s.cell
		if s.beat {
			beats = append(beats, int32(u))
		} else {
			others = append(others, int32(u))
		}
	}
	base := make([]int32, len(p.xy))
	for i := range base {
		base[i] = -1
	}
	base = p.balance(sites, cells, beats, base, beat, 0, beatLoads)
	all := func(int32) bool { return true }
	owner := p.balance(sites, cells, others, base, all, lloydRounds, p.relativeLoads)
	p.centres(owner, sites, cells)
	for u := range sites {
		sites[u].cell = cells[u]
	}
	return owner
}

// balance grows the areas of units over the cells base leaves unowned and
// allow accepts, for balanceRounds rounds, each round giving a unit whose
// load (by loads: 1 is on target) is too high less of a head start. In the
// first moveRounds rounds, the sites that are not fixed move to their
// areas' demand centroids (Lloyd's method). After those, the most balanced
// assignment seen wins.
func (p *partitioner) balance(sites []site, cells, units, base []int32, allow func(int32) bool,
	moveRounds int, loads func([]int32, []site) []float64) []int32 {
	offset := make([]float64, len(sites))
	var best []int32
	bestSpread := math.Inf(1)
	for r := range balanceRounds {
		owner := p.assign(cells, units, offset, base, allow)
		load := loads(owner, sites)
		if spread := spreadOf(load, units); r >= moveRounds && spread < bestSpread {
			best, bestSpread = owner, spread
		}
		gain := 150 * (1 - float64(r)/balanceRounds) // metres of head start per round
		least := math.Inf(1)
		for _, u := range units {
			offset[u] += gain * math.Max(-1, math.Min(1, load[u]-1))
			least = min(least, offset[u])
		}
		for _, u := range units {
			offset[u] -= least
		}
		if r < moveRounds {
			p.centres(owner, sites, cells)
		}
	}
	return best
}

// beatLoads returns, per beat site, the cells of its area over its even
// share of its zone's cells; other sites get 1.
func beatLoads(owner []int32, sites []site) []float64 {
	area := make([]float64, len(sites))
	for _, u := range owner {
		if u >= 0 && sites[u].beat {
			area[u]++
		}
	}
	inZone := map[int]float64{} // cells of beat areas per zone
	beats := map[int]float64{}  // beat units per zone
	for u, s := range sites {
		if s.beat {
			inZone[s.zone] += area[u]
			beats[s.zone]++
		}
	}
	loads := make([]float64, len(sites))
	for u, s := range sites {
		if loads[u] = 1; s.beat {
			loads[u] = area[u] / (inZone[s.zone] / beats[s.zone])
		}
	}
	return loads
}

// spreadOf returns the largest minus the smallest of loads[u] over units.
func spreadOf(loads []float64, units []int32) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, u := range units {
		lo, hi = min(lo, loads[u]), max(hi, loads[u])
	}
	return hi - lo
}

// relativeLoads returns, per site that is not a beat unit's, the demand in
// its area over its share (by capacity) of the demand outside the beat
// units' areas, so 1 is a perfect balance; beat units get 1.
func (p *partitioner) relativeLoads(owner []int32, sites []site) []float64 {
	var capSum, total float64
	for _, s := range sites {
		if !s.beat {
			capSum += capacity(s.mech)
		}
	}
	raw := p.loads(owner, len(sites))
	loads := make([]float64, len(sites))
	for u, s := range sites {
		if !s.beat {
			total += raw[u]
		}
	}
	for u, s := range sites {
		if loads[u] = 1; !s.beat {
			loads[u] = raw[u] / (total * capacity(s.mech) / capSum)
		}
	}
	return loads
}

// assign grows the areas of units from their sites over the cells that
// base leaves unowned (-1) and allow accepts: each site goes to its own
// unit, and every other such cell to the unit u that minimises offset[u]
// plus the lattice distance from its site, ties to the lower unit number.
// Cells no unit reaches stay unowned.
func (p *partitioner) assign(cells, units []int32, offset []float64, base []int32, allow func(int32) bool) []int32 {
	owner := slices.Clone(base)
	best := make([]growItem, len(p.xy))
	for i := range best {
		best[i] = growItem{cost: math.Inf(1)}
	}
	for _, u := range units {
		owner[cells[u]] = u
	}
	var h growHeap
	for _, u := range units {
		p.grow(&h, owner, best, growItem{cost: offset[u], unit: u, cell: cells[u]}, allow)
	}
	for len(h) > 0 {
		it := h.pop()
		if owner[it.cell] >= 0 || it != best[it.cell] {
			continue // taken, or a stale entry
		}
		owner[it.cell] = it.unit
		p.grow(&h, owner, best, it, allow)
	}
	return owner
}

// grow offers the unowned neighbours of it's cell that allow accepts to
// it's unit.
func (p *partitioner) grow(h *growHeap, owner []int32, best []growItem, it growItem, allow func(int32) bool) {
	for k, j := range p.nbr[it.cell] {
		if j < 0 || owner[j] >= 0 || !allow(j) {
			continue
		}
		if next := (growItem{cost: it.cost + p.hop[it.cell][k], unit: it.unit, cell: j}); next.less(best[j]) {
			best[j] = next
			h.push(next)
		}
	}
}

// loads returns the demand in each of the k areas.
func (p *partitioner) loads(owner []int32, k int) []float64 {
	load := make([]float64, k)
	for i, u := range owner {
		if u >= 0 {
			load[u] += p.demand[i]
		}
	}
	return load
}

// centres moves each site that is not fixed, in cells, to its area's cell
// nearest the area's demand centroid; an area that lost all its cells
// keeps its site.
func (p *partitioner) centres(owner []int32, sites []site, cells []int32) {
	k := len(sites)
	sum := make([][3]float64, k) // demand-weighted x, y and total
	for i, u := range owner {
		if u < 0 {
			continue
		}
		d := p.demand[i]
		sum[u][0] += d * p.xy[i][0]
		sum[u][1] += d * p.xy[i][1]
		sum[u][2] += d
	}
	bestD := make([]float64, k)
	for u := range bestD {
		bestD[u] = math.Inf(1)
	}
	for i, u := range owner {
		if u < 0 || sites[u].fixed {
			continue
		}
		cx, cy := sum[u][0]/sum[u][2], sum[u][1]/sum[u][2]
		if d := math.Hypot(p.xy[i][0]-cx, p.xy[i][1]-cy); d < bestD[u] {
			cells[u], bestD[u] = int32(i), d
		}
	}
}

// contiguous reports a cell without an area, and an area that is empty or
// in more than one piece.
func (p *partitioner) contiguous(owner []int32, k int) error {
	size := make([]int, k)
	first := make([]int32, k)
	for i := len(owner) - 1; i >= 0; i-- {
		if owner[i] < 0 {
			return fmt.Errorf("cell %d has no area", i)
		}
		size[owner[i]]++
		first[owner[i]] = int32(i)
	}
	for u := range k {
		if size[u] == 0 {
			return fmt.Errorf("area %d is empty", u)
		}
		if n := p.reach(owner, first[u], int32(u)); n != size[u] {
			return fmt.Errorf("area %d is not contiguous: %d of %d cells connected", u, n, size[u])
		}
	}
	return nil
}

// growItem is a unit's offer for a cell at a cost in metres.
type growItem struct {
	cost       float64
	unit, cell int32
}

// less orders items by cost, then unit, then cell.
func (a growItem) less(b growItem) bool {
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	if a.unit != b.unit {
		return a.unit < b.unit
	}
	return a.cell < b.cell
}

// growHeap is a binary min-heap of growItem.
type growHeap []growItem

func (h *growHeap) push(it growItem) {
	*h = append(*h, it)
	a := *h
	for i := len(a) - 1; i > 0; {
		up := (i - 1) / 2
		if !a[i].less(a[up]) {
			break
		}
		a[i], a[up] = a[up], a[i]
		i = up
	}
}

func (h *growHeap) pop() growItem {
	a := *h
	top, n := a[0], len(a)-1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		m, l := i, 2*i+1
		if l < n && a[l].less(a[m]) {
			m = l
		}
		if r := l + 1; r < n && a[r].less(a[m]) {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// ---- units ----

// area is one partition area before it becomes a unit.
type area struct {
	cells []h3.Cell
	post  h3.Cell
	mech  string
	zone  int // the zone the unit serves, by number, or -1
}

// makeUnits turns the partition into units, each with its site's
// mechanism and its site as its post.
func makeUnits(g *geo.Grid, owner []int32, sites []site, zones []patrol.Zone) []patrol.Unit {
	areas := make([]*area, len(sites))
	for u, s := range sites {
		areas[u] = &area{post: g.Cell(s.cell), mech: s.mech, zone: s.zone}
	}
	for i, u := range owner {
		areas[u].cells = append(areas[u].cells, g.Cell(int32(i)))
	}
	return numberUnits(areas, zones)
}

// zoneAt returns the first zone whose outline holds p, or nil.
func zoneAt(zones []patrol.Zone, p orb.Point) *patrol.Zone {
	for i := range zones {
		if planar.PolygonContains(zones[i].Area, p) {
			return &zones[i]
		}
	}
	return nil
}

// unitKind is how a mechanism's units are numbered and named.
type unitKind struct {
	mech, prefix, noun string
	offDuty            []int // the unit numbers taken out of service
}

// unitKinds returns how each mechanism's units are numbered and named. The
// units off duty are two vehicles of the outskirts, in the northern and
// southern bands, and a video patrol, so that the demo shows units out of
// service without stripping a zone of the units posted to it.
func unitKinds() []unitKind {
	return []unitKind{
		{"vehicle", "V", "Vehicle", []int{2, nVehicle}},
		{"ebike", "E", "E-bike", nil},
		{"foot", "F", "Foot", nil},
		{"post", "P", "Post", nil},
		{"joint", "J", "Joint", nil},
		{"video", "C", "Video", []int{nVideo}},
	}
}

// numberUnits numbers the units of each mechanism in reading order of their
// posts (north to south in bands of about 1.3 km, then west to east) and
// names them after their place.
func numberUnits(areas []*area, zones []patrol.Zone) []patrol.Unit {
	var units []patrol.Unit
	for _, k := range unitKinds() {
		var mine []*area
		for _, a := range areas {
			if a.mech == k.mech {
				mine = append(mine, a)
			}
		}
		slices.SortStableFunc(mine, func(a, b *area) int {
			pa, pb := geo.CellCenter(a.post), geo.CellCenter(b.post)
			return cmp.Or(cmp.Compare(band(pa), band(pb)), cmp.Compare(pa[0], pb[0]))
		})
		for i, a := range mine {
			n := i + 1
			u := patrol.Unit{
				ID:        fmt.Sprintf("%s%02d", k.prefix, n),
				Name:      fmt.Sprintf("%s %02d · %s", k.noun, n, a.place(zones)),
				Mechanism: k.mech, Post: a.post, Area: a.cells, Shift: shift(k.mech, n),
			}
			if slices.Contains(k.offDuty, n) {
				u.Status = patrol.OffDuty
			}
			units = append(units, u)
		}
	}
	return units
}

// band returns the number of the 1.3 km east-west band holding p, counted
// from the north.
func band(p orb.Point) int {
	_, y := toXY(p)
	return int(math.Floor((8000 - y) / 1300))
}

// shift returns the shift of unit number n of mech: "day", "night" or "24h".
func shift(mech string, n int) string {
	switch mech {
	case "ebike":
		return []string{"night", "day"}[n%2]
	case "foot":
		return "day"
	case "joint":
		return "night"
	}
	return "24h"
}

// place names the unit's place: its zone, or else the place of its post.
func (a *area) place(zones []patrol.Zone) string {
	if a.zone >= 0 {
		return shortName(zones[a.zone].ID)
	}
	return placeName(zones, geo.CellCenter(a.post))
}

// shortName returns the short name of the zone with id, or id.
func shortName(id string) string {
	for _, s := range zoneSpecs() {
		if s.id == id {
			return s.short
		}
	}
	return id
}

// placeName names the place of p: the priority zone that holds it, the
// centre, or the compass direction from the centre.
func placeName(zones []patrol.Zone, p orb.Point) string {
	if z := zoneAt(zones, p); z != nil {
		return shortName(z.ID)
	}
	x, y := toXY(p)
	if math.Hypot(x, y) < 1500 {
		return "Horqin Centre"
	}
	dirs := []string{"East", "Northeast", "North", "Northwest", "West", "Southwest", "South", "Southeast"}
	sector := int(math.Round(math.Atan2(y, x)/(math.Pi/4)+8)) % 8
	return "Horqin " + dirs[sector]
}

// ---- output ----

// encodePlan writes the plan as compact JSON with each unit and each zone
// on a line of its own.
func encodePlan(p *patrol.Plan) ([]byte, error) {
	shell := *p
	shell.Units, shell.Zones = []patrol.Unit{}, []patrol.Zone{}
	b, err := json.Marshal(shell)
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	units, err := jsonLines(p.Units)
	if err != nil {
		return nil, err
	}
	zones, err := jsonLines(p.Zones)
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		key  string
		list []byte
	}{{"units", units}, {"zones", zones}} {
		empty := []byte(`"` + s.key + `":[]`)
		if bytes.Count(b, empty) != 1 {
			return nil, fmt.Errorf("encode plan: want one %s in the plan shell", empty)
		}
		b = bytes.Replace(b, empty, append([]byte(`"`+s.key+`":[`), s.list...), 1)
	}
	return append(b, '\n'), nil
}

// jsonLines encodes v as a JSON array with one element per line, the
// closing bracket included.
func jsonLines[T any](v []T) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\n")
	for i, x := range v {
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("encode plan: %w", err)
		}
		buf.Write(b)
		if i < len(v)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// encodeIncidents writes the incidents as CSV with a header: time in
// RFC 3339 local time, lon and lat in degrees, kind.
func encodeIncidents(incidents []incident) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"time", "lon", "lat", "kind"}) // a bytes.Buffer does not fail
	for _, in := range incidents {
		_ = w.Write([]string{
			in.time.Format(time.RFC3339),
			strconv.FormatFloat(in.point[0], 'f', 6, 64),
			strconv.FormatFloat(in.point[1], 'f', 6, 64),
			in.kind,
		})
	}
	w.Flush()
	return buf.Bytes()
}
