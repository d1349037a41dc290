package main

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// site is where a unit's area grows from, and the unit's mechanism.
type site struct {
	cell  int32  // grid number
	mech  string // mechanism id
	beat  bool   // a beat unit: its area lies in its zone
	zone  int    // the zone the unit serves, by number, or -1
	fixed bool   // the site stays where it was put
}

// The deployment's layers.
const (
	nBeat           = nPost + nFoot + nJoint // units on foot or at a post, inside the zones
	videoAwayM      = 1200.0                 // video patrol sites lie at least this far from a zone, in metres
	beatLloydRounds = 10                     // rounds that spread the beat sites over a zone
)

// capacity returns the share of the demand outside the zones that an area
// of mech, other than a beat unit's, is balanced to, relative to the
// others: a vehicle covers more than an e-bike, and video patrol, which
// does not respond, takes little.
func capacity(mech string) float64 {
	switch mech {
	case "vehicle":
		return 1.5
	case "video":
		return 0.5
	}
	return 1
}

// deploy returns the sites of the nUnits units in layers, as a planner
// would lay them out to meet the zones' rules:
//
//   - beat units (fixed posts, foot and joint patrols) inside the priority
//     zones, enough for each zone's 1-minute rule;
//   - an e-bike posted at the edge of each zone, so that a patrol circles
//     every zone for its 3-minute rule, and a vehicle posted at the edge
//     of each zone whose 3-minute rule asks for two patrols;
//   - the other vehicles drawn by k-means++ on demand over the rest of the
//     town, for reinforcement within 5 minutes;
//   - video patrol, which does not respond, drawn likewise but away from
//     the zones.
//
// It also returns the beat units' ground: the cells of the zones.
func deploy(rng *rand.Rand, g *geo.Grid, p *partitioner, zones []patrol.Zone) ([]site, func(int32) bool, error) {
	if len(zones) != nEbike {
		return nil, nil, fmt.Errorf("%d zones for %d e-bikes, want one e-bike per zone", len(zones), nEbike)
	}
	near := p.nearZones(g, zones)
	inZone := func(i int32) bool { return near[i] == 0 }
	sites := beatSites(g, p, zones)
	if len(sites) != nBeat {
		return nil, nil, fmt.Errorf("%d beat units fit in the zones, want %d", len(sites), nBeat)
	}
	taken := map[int32]bool{}
	sites = append(sites, p.edgeSites(g, zones, near, taken, "ebike", func(patrol.Zone) bool { return true })...)
	sites = append(sites, p.edgeSites(g, zones, near, taken, "vehicle", func(z patrol.Zone) bool { return z.Rule.M3.Units >= 2 })...)
	cells := make([]int32, len(sites))
	for u, s := range sites {
		cells[u] = s.cell
	}
	layers := []struct {
		mech  string
		n     int
		allow func(int32) bool
	}{
		{"vehicle", nUnits - nVideo - len(sites), func(i int32) bool { return !inZone(i) }},
		{"video", nVideo, func(i int32) bool { return near[i] > videoAwayM }},
	}
	for _, l := range layers {
		cells = p.seeds(rng, cells, l.n, l.allow)
		for _, c := range cells[len(sites):] {
			sites = append(sites, site{cell: c, mech: l.mech, zone: -1, fixed: l.mech == "video"})
		}
	}
	if len(sites) != nUnits {
		return nil, nil, fmt.Errorf("%d unit sites, want %d", len(sites), nUnits)
	}
	return sites, inZone, nil
}

// edgeSites returns a site of mech for each zone that want accepts: the
// cell outside every zone and not yet taken nearest the zone's centre. It
// adds the cells it returns to taken.
func (p *partitioner) edgeSites(g *geo.Grid, zones []patrol.Zone, near []float64, taken map[int32]bool,
	mech string, want func(patrol.Zone) bool) []site {
	var out []site
	for zi, z := range zones {
		c, ok := g.Locate(z.Area.Bound().Center())
		if !ok || !want(z) {
			continue
		}
		best, bestD := int32(-1), math.Inf(1)
		for i := range p.xy {
			if d := p.dist(int32(i), c); near[i] > 0 && !taken[int32(i)] && d < bestD {
				best, bestD = int32(i), d
			}
		}
		taken[best] = true
		out = append(out, site{cell: best, mech: mech, zone: zi, fixed: true})
	}
	return out
}

// nearZones returns, per cell, the distance in metres from its centre to
// the nearest cell centre of a zone.
func (p *partitioner) nearZones(g *geo.Grid, zones []patrol.Zone) []float64 {
	near := make([]float64, len(p.xy))
	for i := range near {
		near[i] = math.Inf(1)
	}
	for _, z := range zones {
		for _, c := range zoneCells(g, z) {
			p.closer(near, c)
		}
	}
	return near
}

// zoneCells returns the grid numbers of the cells whose centres lie in z,
// in grid order.
func zoneCells(g *geo.Grid, z patrol.Zone) []int32 {
	var out []int32
	for _, c := range geo.PolygonCells(z.Area, g.Resolution()) {
		if i, ok := g.Index(c); ok {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// beatSites returns the sites of the beat units inside the zones, as many
// per zone as beatCounts says and spread over it: the one at the zone's
// centre cell is a fixed post for the nPost weightiest zones. Of the
// others, those at the zones busiest at night go to joint patrol, the rest
// to foot patrol.
func beatSites(g *geo.Grid, p *partitioner, zones []patrol.Zone) []site {
	counts := beatCounts(g, zones)
	byWeight := slices.Clone(zones)
	slices.SortStableFunc(byWeight, func(a, b patrol.Zone) int { return cmp.Compare(b.Weight, a.Weight) })
	hasPost := map[string]bool{}
	for _, z := range byWeight[:nPost] {
		hasPost[z.ID] = true
	}
	type beat struct {
		site
		night int // rank of the zone's kind at night, 0 busiest
	}
	var beats []beat
	taken := map[int32]bool{}
	for zi, z := range zones {
		for k, c := range p.spread(g, z, counts[zi], taken) {
			taken[c] = true
			b := beat{site: site{cell: c, beat: true, zone: zi, fixed: true}, night: nightRank(z.Kind)}
			if k == 0 && hasPost[z.ID] {
				b.mech = "post"
			}
			beats = append(beats, b)
		}
	}
	var walkers []*beat
	for i := range beats {
		if beats[i].mech == "" {
			walkers = append(walkers, &beats[i])
		}
	}
	slices.SortStableFunc(walkers, func(a, b *beat) int { return cmp.Compare(a.night, b.night) })
	for i, b := range walkers {
		b.mech = "foot"
		if i < nJoint {
			b.mech = "joint"
		}
	}
	out := make([]site, len(beats))
	for i, b := range beats {
		out[i] = b.site
	}
	return out
}

// nightRank orders zone kinds by how much they need joint patrols with
// volunteers and security guards, which work at night.
func nightRank(kind string) int {
	if i := slices.Index([]string{"night_market", "transport", "park", "commercial"}, kind); i >= 0 {
		return i
	}
	return 4
}

// beatCounts returns how many beat units each zone gets. A unit at a post
// reaches its own cell within a minute, so a zone needs about one beat for
// each cell its 1-minute rule asks for; a unit on foot near the edge of
// its cell does not, so a zone that needs more than its post gets one
// beat to spare. Every zone gets one beat, then, heaviest zone first, the
// rest of what it needs; what is left goes one by one to the zone with the
// most cells per beat, ties to the heavier zone.
func beatCounts(g *geo.Grid, zones []patrol.Zone) []int {
	counts := make([]int, len(zones))
	cells := make([]float64, len(zones))
	for i, z := range zones {
		counts[i] = 1
		cells[i] = float64(len(zoneCells(g, z)))
	}
	byWeight := make([]int, len(zones))
	for i := range byWeight {
		byWeight[i] = i
	}
	slices.SortStableFunc(byWeight, func(a, b int) int { return cmp.Compare(zones[b].Weight, zones[a].Weight) })
	left := nBeat - len(zones)
	for _, i := range byWeight {
		add := min(max(beatsNeeded(zones[i], cells[i])-counts[i], 0), left)
		counts[i] += add
		left -= add
	}
	load := func(i int) float64 { return cells[i] / float64(counts[i]) }
	for ; left > 0; left-- {
		best := byWeight[0]
		for _, i := range byWeight {
			if load(i) > load(best) {
				best = i
			}
		}
		counts[best]++
	}
	return counts
}

// beatsNeeded returns how many beat units a zone of so many cells needs to
// meet its 1-minute rule with one unit on foot out of reach.
func beatsNeeded(z patrol.Zone, cells float64) int {
	n := int(math.Ceil(z.Rule.M1.Share*cells - 1e-9))
	if n > 1 {
		n++
	}
	return max(n, 1)
}

// spread returns up to n cells of z not yet taken, spread evenly over the
// zone: its centre cell first, then each time the cell farthest from those
// chosen (farthest-point sampling, ties to the lower grid number); then,
// the centre cell staying put, each of the others moves to the middle of
// the zone cells nearest it (Lloyd's method).
func (p *partitioner) spread(g *geo.Grid, z patrol.Zone, n int, taken map[int32]bool) []int32 {
	cells := slices.DeleteFunc(zoneCells(g, z), func(c int32) bool { return taken[c] })
	if len(cells) == 0 {
		return nil
	}
	first := cells[0]
	if c, ok := g.Locate(z.Area.Bound().Center()); ok && slices.Contains(cells, c) {
		first = c
	}
	out := []int32{first}
	for len(out) < min(n, len(cells)) {
		out = append(out, p.farthest(cells, out))
	}
	for range beatLloydRounds {
		p.settle(cells, out)
	}
	return out
}

// farthest returns the cell of cells farthest from the nearest of from.
func (p *partitioner) farthest(cells, from []int32) int32 {
	best, bestD := int32(-1), -1.0
	for _, c := range cells {
		d := math.Inf(1)
		for _, o := range from {
			d = min(d, p.dist(c, o))
		}
		if d > bestD {
			best, bestD = c, d
		}
	}
	return best
}

// settle moves each site but the first to the cell of cells nearest the
// centroid of the cells nearest that site.
func (p *partitioner) settle(cells, sites []int32) {
	sum := make([][3]float64, len(sites))
	for _, c := range cells {
		k := p.nearest(c, sites)
		sum[k][0] += p.xy[c][0]
		sum[k][1] += p.xy[c][1]
		sum[k][2]++
	}
	for k := 1; k < len(sites); k++ {
		cx, cy := sum[k][0]/sum[k][2], sum[k][1]/sum[k][2]
		best, bestD := sites[k], math.Inf(1)
		for _, c := range cells {
			if d := math.Hypot(p.xy[c][0]-cx, p.xy[c][1]-cy); d < bestD && (c == sites[k] || !slices.Contains(sites, c)) {
				best, bestD = c, d
			}
		}
		sites[k] = best
	}
}

// nearest returns the index in sites of the site nearest cell c, ties to
// the lower index.
func (p *partitioner) nearest(c int32, sites []int32) int {
	k := 0
	for j := range sites {
		if p.dist(c, sites[j]) < p.dist(c, sites[k]) {
			k = j
		}
	}
	return k
}
