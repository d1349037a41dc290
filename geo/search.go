package geo

import "time"

// Search is the reusable scratch space of a bounded Dijkstra search: after
// the first search on a graph it allocates nothing. The zero value is ready
// to use. A Search is not safe for concurrent use.
type Search struct {
	gen  uint32
	seen []uint32 // seen[i] == gen: eta[i] holds a tentative time
	done []uint32 // done[i] == gen: eta[i] is final
	eta  []time.Duration
	h    etaHeap
}

// Reset starts a search over nodes 0..n-1, forgetting the last one.
func (s *Search) Reset(n int) {
	if len(s.seen) < n {
		s.seen = make([]uint32, n)
		s.done = make([]uint32, n)
		s.eta = make([]time.Duration, n)
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 { // wrapped: old stamps could collide
		clear(s.seen)
		clear(s.done)
		s.gen = 1
	}
	s.h = s.h[:0]
}

// Push records eta for node i if it improves on what is known, and queues
// it to be settled.
func (s *Search) Push(i int32, eta time.Duration) {
	if s.seen[i] == s.gen && s.eta[i] <= eta {
		return
	}
	s.seen[i] = s.gen
	s.eta[i] = eta
	s.h.push(heapItem{node: i, eta: eta})
}

// Next settles the queued node of the earliest time that is not settled
// yet and returns it with its final time; false when none is left.
func (s *Search) Next() (node int32, eta time.Duration, ok bool) {
	it, ok := s.h.popUndone(s.done, s.gen)
	return it.node, it.eta, ok
}

// Done reports whether node i is settled.
func (s *Search) Done(i int32) bool { return s.done[i] == s.gen }

// ETA returns the time last recorded for node i: final once it is Done.
func (s *Search) ETA(i int32) time.Duration { return s.eta[i] }

// Offer records t for node i without queueing it, keeping the earliest
// time offered; it reports whether i had no time yet. It is for nodes the
// search reaches but never expands, such as the cells a road crosses.
func (s *Search) Offer(i int32, t time.Duration) (first bool) {
	if s.seen[i] != s.gen {
		s.seen[i] = s.gen
		s.eta[i] = t
		return true
	}
	if t < s.eta[i] {
		s.eta[i] = t
	}
	return false
}

type heapItem struct {
	eta  time.Duration
	node int32
}

// etaHeap is a binary min-heap on eta, typed to avoid container/heap's
// interface calls on the hot path.
type etaHeap []heapItem

func (h *etaHeap) push(it heapItem) {
	*h = append(*h, it)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].eta <= a[i].eta {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

// popUndone pops items until one whose node is not done (done[node] !=
// gen), marks that node done and returns it; false when the heap runs
// out. Settling a node costs one call: Next, which wraps it, inlines.
func (h *etaHeap) popUndone(done []uint32, gen uint32) (heapItem, bool) {
	a := *h
	for len(a) > 0 {
		top := a[0]
		n := len(a) - 1
		a[0] = a[n]
		a = a[:n]
		a.down(n)
		if done[top.node] != gen {
			done[top.node] = gen
			*h = a
			return top, true
		}
	}
	*h = a
	return heapItem{}, false
}

// down restores the heap order of a[:n] after its root was replaced.
func (a etaHeap) down(n int) {
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && a[r].eta < a[l].eta {
			m = r
		}
		if a[i].eta <= a[m].eta {
			return
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
}
