package dispatch

import (
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// coverState is the coverage of a snapshot, per tier: how many counting
// units reach each cell in time, and per unit the cells it is one of one
// or two units to reach, which is all a dispatch and a move can change.
type coverState struct {
	cnt    [numTiers][]int32 // by grid number
	first  [numTiers][]int32 // snapshot index of the first unit to reach the cell, when any
	second [numTiers][]int32 // and of the second
	cellOf []int32           // by snapshot index: grid number of the unit's point, -1 off the grid
	// The cells unit u reaches alone are sole[soleFirst[u]:soleFirst[u+1]],
	// those it reaches with one other unit pair[pairFirst[u]:pairFirst[u+1]].
	soleFirst, pairFirst []int32
	sole                 []soleCell
	pair                 []pairCell
}

// soleCell is a cell a unit reaches alone in the tiers of mask (bit t for
// patrol.Tier t).
type soleCell struct {
	cell int32
	mask uint8
}

// pairCell is a cell a unit and other alone reach in the tiers of mask.
// The units reaching a cell within a tier are among those reaching it
// within the next, so other is the same in every tier of mask.
type pairCell struct {
	cell, other int32
	mask        uint8
}

// within returns the tiers, as a mask, whose limit eta is within.
func within(eta time.Duration) uint8 {
	var m uint8
	for t, limit := range patrol.Limits {
		if eta <= limit {
			m |= 1 << t
		}
	}
	return m
}

// build reads the coverage of snap over grid g.
func (cs *coverState) build(snap *patrol.Snapshot, g *geo.Grid) {
	n := g.Len()
	for t := range numTiers {
		cs.cnt[t] = resize(cs.cnt[t], n)
		cs.first[t] = resize(cs.first[t], n)
		cs.second[t] = resize(cs.second[t], n)
		clear(cs.cnt[t])
	}
	cs.cellOf = cs.cellOf[:0]
	for i := range snap.Units {
		u := &snap.Units[i]
		c, ok := g.Locate(u.Point)
		if !ok || !u.Placed {
			c = -1
		}
		cs.cellOf = append(cs.cellOf, c)
		cs.count(int32(i), u.Reach)
	}
	cs.soleFirst, cs.pairFirst = cs.soleFirst[:0], cs.pairFirst[:0]
	cs.sole, cs.pair = cs.sole[:0], cs.pair[:0]
	for i := range snap.Units {
		cs.soleFirst = append(cs.soleFirst, int32(len(cs.sole)))
		cs.pairFirst = append(cs.pairFirst, int32(len(cs.pair)))
		cs.few(int32(i), snap.Units[i].Reach)
	}
	cs.soleFirst = append(cs.soleFirst, int32(len(cs.sole)))
	cs.pairFirst = append(cs.pairFirst, int32(len(cs.pair)))
}

// count adds unit u's reach to the counts.
func (cs *coverState) count(u int32, reach []geo.Reach) {
	for _, r := range reach {
		for t, limit := range patrol.Limits {
			if r.ETA > limit {
				continue
			}
			switch cs.cnt[t][r.Cell] {
			case 0:
				cs.first[t][r.Cell] = u
			case 1:
				cs.second[t][r.Cell] = u
			}
			cs.cnt[t][r.Cell]++
		}
	}
}

// few appends the cells unit u reaches alone or with one other unit.
func (cs *coverState) few(u int32, reach []geo.Reach) {
	for _, r := range reach {
		var sole, pair uint8
		other := int32(-1)
		for t, limit := range patrol.Limits {
			if r.ETA > limit {
				continue
			}
			switch cs.cnt[t][r.Cell] {
			case 1:
				sole |= 1 << t
			case 2:
				pair |= 1 << t
				other = cs.first[t][r.Cell] + cs.second[t][r.Cell] - u
			}
		}
		if sole != 0 {
			cs.sole = append(cs.sole, soleCell{cell: r.Cell, mask: sole})
		}
		if pair != 0 {
			cs.pair = append(cs.pair, pairCell{cell: r.Cell, other: other, mask: pair})
		}
	}
}

// solo returns the cells unit u reaches alone.
func (cs *coverState) solo(u int32) []soleCell { return cs.sole[cs.soleFirst[u]:cs.soleFirst[u+1]] }

// pairs returns the cells unit u reaches with one other unit.
func (cs *coverState) pairs(u int32) []pairCell { return cs.pair[cs.pairFirst[u]:cs.pairFirst[u+1]] }

// lost returns the demand of the cells unit u reaches alone, per tier:
// what sending it uncovers.
func (cs *coverState) lost(u int32, w patrol.Demand) TierDemand {
	var d TierDemand
	for _, s := range cs.solo(u) {
		addMasked(&d, s.mask, w[s.cell])
	}
	return d
}

// addMasked adds w to the tiers of mask in d.
func addMasked(d *TierDemand, mask uint8, w float64) {
	for t := range d {
		if mask&(1<<t) != 0 {
			d[t] += w
		}
	}
}

// resize returns s with length n, reusing its room.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
