package dispatch

import (
	"slices"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// profileIndex lists, per grid cell, the targets whose isochrone on one
// profile reaches it, with the tiers it reaches it in: the isochrones
// turned inside out, so that sums over a unit's few cells find the
// targets they concern without walking every isochrone.
type profileIndex struct {
	first []int32 // by grid number: items[first[c]:first[c+1]]
	items []indexItem
	built []*targetReach // the isochrones it was built from, by target
}

// indexItem is a target reaching a cell in the tiers of mask.
type indexItem struct {
	target int32
	mask   uint8
}

// indexOf returns the index of isochrones reaches (by target) on profile
// p, rebuilding the cached one when the isochrones changed.
func (a *Advisor) indexOf(p geo.Profile, reaches []*targetReach) *profileIndex {
	if a.indexes == nil {
		a.indexes = map[geo.Profile]*profileIndex{}
	}
	ix := a.indexes[p]
	if ix == nil {
		ix = &profileIndex{}
		a.indexes[p] = ix
	}
	if !slices.Equal(ix.built, reaches) {
		ix.build(reaches, a.grid.Len())
	}
	return ix
}

// build indexes reaches over a grid of n cells.
func (ix *profileIndex) build(reaches []*targetReach, n int) {
	ix.built = append(ix.built[:0], reaches...)
	ix.first = resize(ix.first, n+1)
	clear(ix.first)
	total := 0
	for _, tr := range reaches {
		for _, r := range tr.reach {
			ix.first[r.Cell+1]++
		}
		total += len(tr.reach)
	}
	for c := range n {
		ix.first[c+1] += ix.first[c]
	}
	ix.items = resize(ix.items, total)
	next := append([]int32(nil), ix.first[:n]...)
	for p, tr := range reaches {
		for _, r := range tr.reach {
			ix.items[next[r.Cell]] = indexItem{target: int32(p), mask: within(r.ETA)}
			next[r.Cell]++
		}
	}
}

// add adds w to dst[p], for every target p reaching cell c, in the tiers
// of mask that p reaches c in.
func (ix *profileIndex) add(c int32, mask uint8, w float64, dst []TierDemand) {
	for _, it := range ix.items[ix.first[c]:ix.first[c+1]] {
		if m := mask & it.mask; m != 0 {
			addMasked(&dst[it.target], m, w)
		}
	}
}

// spread is add for every cell of cells, weighed by demand w.
func (ix *profileIndex) spread(cells []soleCell, w patrol.Demand, dst []TierDemand) {
	for _, s := range cells {
		ix.add(s.cell, s.mask, w[s.cell], dst)
	}
}
