package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// appendGroupTimeout bounds the store call of a group of Appends, which
// runs on for the others when its leader's context ends.
const appendGroupTimeout = 10 * time.Second

// appendGroup stores concurrent Appends together (group commit, without a
// goroutine of its own): an Append that finds fewer than
// appendGroupsInFlight groups in flight leads, storing every queued fix
// with one AppendBatch; the others wait, and the first of those queued
// meanwhile leads the next group when one ends. Under load the groups grow
// by themselves, so single-fix ingest costs one script call per group
// instead of one per fix.
//
// A leader that takes over from a group of appendLingerMin fixes or more
// waits, for appendLinger at most, until its own group is as large: under
// sustained load each script call then carries more fixes, and Redis and
// the server spend less per fix. An Append that finds no group in flight
// never waits.
type appendGroup struct {
	mu      sync.Mutex
	queue   []*appendWaiter
	running int // leaders storing a group
	last    int // fixes in the group stored last

	// lingerer, while a leader waits for its group to grow, is that
	// leader: the Append that makes want fixes ready signals it.
	lingerer *appendWaiter
	want     int
	linger   time.Duration // how long a leader may wait; zero: appendLinger
}

// A leader taking over from a group of at least appendLingerMin fixes may
// wait up to appendLinger for as many. With 64 connections sending single
// OsmAnd fixes (as bench/ingest-http.sh does) groups grew from about 17
// fixes to about 23, and Redis's CPU per fix fell from 15-16 µs to 13-14;
// waiting longer for larger groups (up to 600 µs or 1 ms) left the machine
// idler and took fewer fixes.
const (
	appendLinger    = 300 * time.Microsecond
	appendLingerMin = 8
)

// appendGroupsInFlight is how many groups are stored at once. One: with
// two, groups came out smaller under single-fix load (OsmAnd through
// bench/ingest-http.sh), and the server and Redis spent more CPU per fix
// for no gain in throughput.
var appendGroupsInFlight = 1

// appendWaiter is one Append in an appendGroup. Its result fields are
// written before signal is sent, by the leader of its group.
type appendWaiter struct {
	fix    fix.Fix
	latest bool
	err    error
	lead   bool          // set under appendGroup.mu: this waiter leads next
	signal chan struct{} // the result, or the lead, is ready
}

func (g *appendGroup) append(ctx context.Context, f fix.Fix, store func(context.Context, []fix.Fix) ([]bool, error)) (bool, error) {
	w := &appendWaiter{fix: f, signal: make(chan struct{}, 1)}
	g.mu.Lock()
	if g.running < appendGroupsInFlight {
		g.running++
		w.lead = true
		g.mu.Unlock()
	} else {
		g.queue = append(g.queue, w)
		if g.lingerer != nil && len(g.queue)+1 >= g.want {
			g.lingerer.signal <- struct{}{} // empty: it took the lead from it
			g.lingerer = nil
		}
		g.mu.Unlock()
		if err := g.wait(ctx, w); err != nil {
			return false, err
		}
		if w.lead {
			g.mu.Lock()
			g.awaitGroup(w)
			g.mu.Unlock()
		}
	}
	if w.lead {
		g.flush(ctx, w, store)
	}
	return w.latest, w.err
}

// awaitGroup lets self, which took the lead from a group that ended, wait
// until as many fixes are ready as that group held, for g.linger at most,
// when that group held appendLingerMin or more. It is called, and returns,
// with g.mu held.
func (g *appendGroup) awaitGroup(self *appendWaiter) {
	if g.last < appendLingerMin || len(g.queue)+1 >= g.last || g.lingerer != nil {
		return
	}
	g.lingerer, g.want = self, g.last
	t := time.NewTimer(cmp.Or(g.linger, appendLinger))
	g.mu.Unlock()
	select {
	case <-self.signal:
	case <-t.C:
	}
	t.Stop()
	g.mu.Lock()
	if g.lingerer == self {
		g.lingerer = nil
	} else {
		select { // signalled as the time ran out
		case <-self.signal:
		default:
		}
	}
}

// wait waits for w's result or its turn to lead. A waiter whose ctx ends
// leaves the queue, unless a group has taken it or it was made to lead
// (either takes it out of the queue).
func (g *appendGroup) wait(ctx context.Context, w *appendWaiter) error {
	select {
	case <-w.signal:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if i := slices.Index(g.queue, w); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
		g.mu.Unlock()
		return fmt.Errorf("realtime: append fix of %s: %w", w.fix.Unit, ctx.Err())
	}
	g.mu.Unlock()
	<-w.signal // it is being stored, or it leads: either ends within appendGroupTimeout
	return nil
}

// flush stores self with every queued Append as one group, hands out the
// results and passes the lead to the first Append queued meanwhile, which
// leaves the queue: it leads the group it takes.
func (g *appendGroup) flush(ctx context.Context, self *appendWaiter, store func(context.Context, []fix.Fix) ([]bool, error)) {
	g.mu.Lock()
	group := make([]*appendWaiter, 0, 1+len(g.queue))
	group = append(append(group, self), g.queue...)
	g.queue = g.queue[:0]
	g.last = len(group)
	g.mu.Unlock()
	fixes := make([]fix.Fix, len(group))
	for i, w := range group {
		fixes[i] = w.fix
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), appendGroupTimeout)
	latest, err := store(ctx, fixes)
	cancel()
	for i, w := range group {
		if i < len(latest) {
			w.latest = latest[i]
		} else {
			w.err = err
		}
	}
	g.mu.Lock()
	var next *appendWaiter
	if len(g.queue) > 0 {
		next = g.queue[0]
		next.lead = true
		g.queue = slices.Delete(g.queue, 0, 1)
	} else {
		g.running--
	}
	g.mu.Unlock()
	for _, w := range group[1:] {
		w.signal <- struct{}{}
	}
	if next != nil {
		next.signal <- struct{}{}
	}
}
