package dispatch

import "github.com/patrolgrid/patrolgrid/patrol"

// relTolerance is the share of the total demand below which two covered
// demands are taken as equal, so that float rounding never decides a tie.
const relTolerance = 1e-9

// covering is the state of the maximal covering that builds a table: the
// sites chosen and, per tier and cell, how many of them reach the cell.
type covering struct {
	sites  [][]tierCell
	demand patrol.Demand
	tol    float64
	count  [numTiers][]int32
	chosen []int // site numbers in row order
	in     []bool
	value  objective
	// sole[t][c] == stamp marks the cells that only the site being swapped
	// out reaches within tier t.
	sole  [numTiers][]uint32
	stamp uint32
	// shares[a][b] tells whether sites a and b reach a cell in common;
	// when not, a swap of a for b gains exactly b's gain minus a's loss.
	shares [][]bool
}

func newCovering(sites [][]tierCell, demand patrol.Demand) *covering {
	c := &covering{sites: sites, demand: demand, tol: relTolerance * demand.Total(), in: make([]bool, len(sites))}
	for t := range numTiers {
		c.count[t] = make([]int32, len(demand))
		c.sole[t] = make([]uint32, len(demand))
	}
	c.shares = sharedCells(sites, len(demand))
	return c
}

// sharedCells returns, for every pair of sites, whether they reach a cell
// in common; cells is the number of cells.
func sharedCells(sites [][]tierCell, cells int) [][]bool {
	out := make([][]bool, len(sites))
	for a := range out {
		out[a] = make([]bool, len(sites))
	}
	at := make([][]int32, cells) // sites reaching each cell
	for s, reach := range sites {
		for _, tc := range reach {
			for _, o := range at[tc.cell] {
				out[s][o], out[o][s] = true, true
			}
			at[tc.cell] = append(at[tc.cell], int32(s))
		}
	}
	return out
}

// rows returns one row per k from 1 to the number of sites: the greedy
// addition, then swaps while they win.
func (c *covering) rows(posts []Post) []Row {
	out := make([]Row, 0, len(c.sites))
	var prev []int
	for k := 1; k <= len(c.sites); k++ {
		c.add(c.bestAdd())
		c.improve()
		out = append(out, c.row(k, posts, holdsAll(c.chosen, prev)))
		prev = append(prev[:0], c.chosen...)
	}
	return out
}

func (c *covering) row(k int, posts []Post, nested bool) Row {
	r := Row{K: k, Posts: make([]Post, len(c.chosen)), Share: c.value.share(c.demand.Total()), Nested: nested}
	for i, s := range c.chosen {
		r.Posts[i] = posts[s]
	}
	return r
}

// holdsAll reports whether set holds every element of sub.
func holdsAll(set, sub []int) bool {
	in := make(map[int]bool, len(set))
	for _, s := range set {
		in[s] = true
	}
	for _, s := range sub {
		if !in[s] {
			return false
		}
	}
	return true
}

// bestAdd returns the unchosen site that adds the most, the first in site
// order on a tie; -1 when every site is chosen.
func (c *covering) bestAdd() int {
	best, bestGain := -1, objective{}
	for s := range c.sites {
		if c.in[s] {
			continue
		}
		if g := c.gain(s, false); best < 0 || g.better(bestGain, c.tol) {
			best, bestGain = s, g
		}
	}
	return best
}

// improve swaps one chosen site for an unchosen one while the best such
// swap covers strictly more. Each swap raises the value by more than the
// tolerance, so it ends; at most one swap per site guards against a float
// cycle all the same.
func (c *covering) improve() {
	for range len(c.sites) {
		out, in := c.bestSwap()
		if out < 0 {
			return
		}
		c.swap(out, in)
	}
}

// bestSwap returns the swap (row position out, site in) that raises the
// value most, and out -1 when none raises it. Removing a site loses what
// only it reaches and gives some of that back to the site coming in, so a
// swap gains at most what the incoming site adds alone (per tier): sites
// whose gain alone does not beat the best swap so far are skipped.
func (c *covering) bestSwap() (out, in int) {
	alone := make([]objective, len(c.sites))
	for b := range c.sites {
		if !c.in[b] {
			alone[b] = c.gain(b, false)
		}
	}
	out = -1
	var best objective // a swap must beat no change
	for i, a := range c.chosen {
		loss := c.markSole(a)
		for b := range c.sites {
			if c.in[b] || !alone[b].better(best, c.tol) {
				continue
			}
			d := alone[b].minus(loss)
			if c.shares[a][b] {
				d = c.gain(b, true).minus(loss)
			}
			if d.better(best, c.tol) {
				out, in, best = i, b, d
			}
		}
	}
	return out, in
}

// markSole marks the cells only site a reaches, per tier, and returns the
// demand they hold: what removing a loses.
func (c *covering) markSole(a int) objective {
	c.stamp++
	var loss objective
	for _, tc := range c.sites[a] {
		for t := int(tc.tier); t < numTiers; t++ {
			if c.count[t][tc.cell] == 1 {
				c.sole[t][tc.cell] = c.stamp
				loss[t] += c.demand[tc.cell]
			}
		}
	}
	return loss
}

// gain returns the demand site s would add; with withoutMarked it counts
// the cells markSole marked as uncovered, as they are once that site is
// gone.
func (c *covering) gain(s int, withoutMarked bool) objective {
	var g objective
	for _, tc := range c.sites[s] {
		for t := int(tc.tier); t < numTiers; t++ {
			if n := c.count[t][tc.cell]; n == 0 || (withoutMarked && n == 1 && c.sole[t][tc.cell] == c.stamp) {
				g[t] += c.demand[tc.cell]
			}
		}
	}
	return g
}

// add chooses site s, appending it to the row.
func (c *covering) add(s int) {
	c.value = c.value.plus(c.gain(s, false))
	c.in[s] = true
	c.chosen = append(c.chosen, s)
	c.cover(s, 1)
}

// swap replaces the chosen site at row position i with site s.
func (c *covering) swap(i, s int) {
	a := c.chosen[i]
	c.cover(a, -1)
	c.in[a] = false
	c.value = c.value.plus(c.gain(s, false)).minus(c.lossOf(a))
	c.cover(s, 1)
	c.in[s] = true
	c.chosen[i] = s
}

// lossOf returns the demand that only site a, no longer chosen, reached:
// the cells its removal left uncovered.
func (c *covering) lossOf(a int) objective {
	var loss objective
	for _, tc := range c.sites[a] {
		for t := int(tc.tier); t < numTiers; t++ {
			if c.count[t][tc.cell] == 0 {
				loss[t] += c.demand[tc.cell]
			}
		}
	}
	return loss
}

// cover adds by (1 or -1) to the counts of the cells site s reaches.
func (c *covering) cover(s int, by int32) {
	for _, tc := range c.sites[s] {
		for t := int(tc.tier); t < numTiers; t++ {
			c.count[t][tc.cell] += by
		}
	}
}
