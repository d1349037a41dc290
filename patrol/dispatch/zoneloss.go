package dispatch

import (
	"fmt"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// tierName returns the rule's key of tier t: "m1", "m3" or "m5".
func tierName(t patrol.Tier) string { return fmt.Sprintf("m%d", int(patrol.Limits[t].Minutes())) }

// zoneIndex evaluates the plan's zones as patrol.Coverage.Zones does, for
// coverage with a unit taken out, or moved.
type zoneIndex struct {
	zones []zoneCells
	first []int32 // by grid number: the zones of cell c are of[first[c]:first[c+1]]
	of    []int32
	byID  map[string]int32

	met  []bool            // active and meeting the rule, at the moment assessed
	ok   [][numTiers]int32 // cells reached by enough units, per tier
	drop [][numTiers]int32 // of those, the cells that would not be without d
}

// zoneCells is a zone with the grid numbers of its cells and how many
// cells it has in all, beyond the grid included.
type zoneCells struct {
	patrol.Zone
	cells []int32
	total int
}

func newZoneIndex(zones []patrol.Zone, g *geo.Grid) zoneIndex {
	zi := zoneIndex{first: make([]int32, g.Len()+1), byID: make(map[string]int32, len(zones)),
		met: make([]bool, len(zones)), ok: make([][numTiers]int32, len(zones)), drop: make([][numTiers]int32, len(zones))}
	for i, z := range zones {
		cells, outside := patrol.ZoneCells(z, g)
		zi.zones = append(zi.zones, zoneCells{Zone: z, cells: cells, total: len(cells) + outside})
		zi.byID[z.ID] = int32(i)
		for _, c := range cells {
			zi.first[c+1]++
		}
	}
	for c := range g.Len() {
		zi.first[c+1] += zi.first[c]
	}
	zi.of = make([]int32, zi.first[g.Len()])
	next := append([]int32(nil), zi.first[:g.Len()]...)
	for i, z := range zi.zones {
		for _, c := range z.cells {
			zi.of[next[c]] = int32(i)
			next[c]++
		}
	}
	return zi
}

// share returns ok cells of zone z as a share of its cells.
func (z *zoneCells) share(ok int32) float64 {
	if z.total == 0 {
		return 0
	}
	return float64(ok) / float64(z.total)
}

// meets reports whether share s meets requirement r.
func meets(s float64, r patrol.Requirement) bool { return s+patrol.ShareTolerance >= r.Share }

// baseline evaluates every zone at local time now on cs.
func (zi *zoneIndex) baseline(cs *coverState, now time.Time) {
	for i := range zi.zones {
		z := &zi.zones[i]
		zi.met[i] = z.Active(now)
		for t, req := range z.Rule.Tiers() {
			zi.ok[i][t] = 0
			if !req.Asks() {
				continue
			}
			for _, c := range z.cells {
				if cs.cnt[t][c] >= int32(req.Units) {
					zi.ok[i][t]++
				}
			}
			zi.met[i] = zi.met[i] && meets(z.share(zi.ok[i][t]), req)
		}
	}
}

// losses returns the zones that meet their rule and would not without
// the unit of reach reach.
func (zi *zoneIndex) losses(cs *coverState, reach []geo.Reach) []ZoneLoss {
	clear(zi.drop)
	for _, r := range reach {
		for _, z := range zi.of[zi.first[r.Cell]:zi.first[r.Cell+1]] {
			if !zi.met[z] {
				continue
			}
			for t, req := range zi.zones[z].Rule.Tiers() {
				if req.Asks() && r.ETA <= patrol.Limits[t] && cs.cnt[t][r.Cell] == int32(req.Units) {
					zi.drop[z][t]++
				}
			}
		}
	}
	out := []ZoneLoss{}
	for i := range zi.zones {
		if l, ok := zi.loss(int32(i)); ok {
			out = append(out, l)
		}
	}
	return out
}

// loss returns how zone i falls below its rule after the drops, and false
// when it does not.
func (zi *zoneIndex) loss(i int32) (ZoneLoss, bool) {
	z := &zi.zones[i]
	if !zi.met[i] || zi.drop[i] == [numTiers]int32{} {
		return ZoneLoss{}, false
	}
	var l ZoneLoss
	for t, req := range z.Rule.Tiers() {
		after := z.share(zi.ok[i][t] - zi.drop[i][t])
		if req.Asks() && !meets(after, req) {
			l.Tiers = append(l.Tiers, ZoneTier{Tier: patrol.Tier(t), Name: tierName(patrol.Tier(t)), Required: req.Share,
				Before: z.share(zi.ok[i][t]), After: after})
		}
	}
	if l.Tiers == nil {
		return ZoneLoss{}, false
	}
	l.Zone, l.Name = z.ID, z.Name
	return l, true
}

// metAfterMove reports whether zone id meets its rule once the unit of
// marks[0] is sent and the one of marks[1] moves to where it reaches
// marks[2].
func (zi *zoneIndex) metAfterMove(cs *coverState, id string, marks *[3]cellETAs) bool {
	z := &zi.zones[zi.byID[id]]
	for t, req := range z.Rule.Tiers() {
		if !req.Asks() {
			continue
		}
		var ok int32
		limit := patrol.Limits[t]
		for _, c := range z.cells {
			n := cs.cnt[t][c] - marks[0].within(c, limit) - marks[1].within(c, limit) + marks[2].within(c, limit)
			if n >= int32(req.Units) {
				ok++
			}
		}
		if !meets(z.share(ok), req) {
			return false
		}
	}
	return true
}

// cellETAs holds the ETA of one reach by cell, reset in constant time.
type cellETAs struct {
	gen   uint32
	stamp []uint32 // stamp[c] == gen: eta[c] holds the reach's ETA at c
	eta   []time.Duration
}

// fill forgets the last reach and holds reach, over a grid of n cells.
func (m *cellETAs) fill(reach []geo.Reach, n int) {
	if len(m.stamp) < n {
		m.stamp, m.eta, m.gen = make([]uint32, n), make([]time.Duration, n), 0
	}
	m.gen++
	if m.gen == 0 { // wrapped: old stamps could collide
		clear(m.stamp)
		m.gen = 1
	}
	for _, r := range reach {
		m.stamp[r.Cell], m.eta[r.Cell] = m.gen, r.ETA
	}
}

// within returns 1 when the reach reaches cell c within limit, else 0.
func (m *cellETAs) within(c int32, limit time.Duration) int32 {
	if m.stamp[c] == m.gen && m.eta[c] <= limit {
		return 1
	}
	return 0
}
