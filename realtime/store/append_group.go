package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// The defaults of the append group's RedisConfig fields.
//
// A leader taking over from a group of at least defaultAppendLingerMin
// fixes may wait up to defaultAppendLinger for as many. With 64
// connections sending single OsmAnd fixes (as bench/ingest-http.sh does)
// groups grew from about 17 fixes to about 23, and Redis's CPU per fix fell
// from 15-16 µs to 13-14; waiting longer for larger groups (up to 600 µs or
// 1 ms) left the machine idler and took fewer fixes.
//
// One group in flight: with two, groups came out smaller under single-fix
// load (OsmAnd through bench/ingest-http.sh), and the server and Redis
// spent more CPU per fix for no gain in throughput.
const (
	defaultAppendLinger         = 300 * time.Microsecond
	defaultAppendLingerMin      = 8
	defaultAppendGroupsInFlight = 1
	defaultAppendGroupTimeout   = 10 * time.Second
)

// appendBatchFunc stores fixes in one go, as Redis.AppendBatch does.
type appendBatchFunc func(context.Context, []fix.Fix) ([]bool, error)

// appendGroup stores concurrent Appends together (group commit, without a
// goroutine of its own): an Append that finds fewer than inFlight groups in
// flight leads, storing every queued fix with one AppendBatch; the others
// wait, and the first of those queued meanwhile leads the next group when
// one ends. Under load the groups grow by themselves, so single-fix ingest
// costs one script call per group instead of one per fix.
//
// A leader that takes over from a group of lingerMin fixes or more waits,
// for linger at most, until its own group is as large: under sustained
// load each script call then carries more fixes, and Redis and the server
// spend less per fix. An Append that finds no group in flight never waits.
type appendGroup struct {
	inFlight  int           // RedisConfig.AppendGroupsInFlight
	lingerMin int           // RedisConfig.AppendLingerMin
	timeout   time.Duration // RedisConfig.AppendGroupTimeout

	mu      sync.Mutex
	queue   []*appendWaiter
	running int // leaders storing a group
	last    int // fixes in the group stored last

	// lingerer, while a leader waits for its group to grow, is that
	// leader: the Append that makes want fixes ready signals it.
	lingerer *appendWaiter
	want     int
	linger   time.Duration // RedisConfig.AppendLinger
}

// newAppendGroup returns the append group that cfg, with its defaults,
// describes.
func newAppendGroup(cfg RedisConfig) *appendGroup {
	cfg = cfg.withDefaults()
	return &appendGroup{inFlight: cfg.AppendGroupsInFlight, lingerMin: cfg.AppendLingerMin,
		timeout: cfg.AppendGroupTimeout, linger: cfg.AppendLinger}
}

// appendWaiter is one Append in an appendGroup. Its result fields are
// written before signal is sent, by the leader of its group.
type appendWaiter struct {
	fix    fix.Fix
	latest bool
	err    error
	lead   bool          // set under appendGroup.mu: this waiter leads next
	signal chan struct{} // the result, or the lead, is ready
}

// append stores f with store, in a group with the concurrent Appends, and
// reports whether it became its unit's latest fix.
func (g *appendGroup) append(ctx context.Context, f fix.Fix, store appendBatchFunc) (bool, error) {
	w := &appendWaiter{fix: f, signal: make(chan struct{}, 1)}
	if !g.enter(w) {
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

// enter makes w a leader when fewer than g.inFlight groups are in flight,
// and queues it otherwise, waking a lingering leader whose group it makes
// as large as it wants. It reports whether w leads.
func (g *appendGroup) enter(w *appendWaiter) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running < g.inFlight {
		g.running++
		w.lead = true
		return true
	}
	g.queue = append(g.queue, w)
	if g.lingerer != nil && len(g.queue)+1 >= g.want {
		g.lingerer.signal <- struct{}{} // empty: it took the lead from it
		g.lingerer = nil
	}
	return false
}

// awaitGroup lets self, which took the lead from a group that ended, wait
// until as many fixes are ready as that group held, for g.linger at most,
// when that group held g.lingerMin or more. It is called, and returns,
// with g.mu held.
func (g *appendGroup) awaitGroup(self *appendWaiter) {
	if g.linger < 0 || g.last < g.lingerMin || len(g.queue)+1 >= g.last || g.lingerer != nil {
		return
	}
	g.lingerer, g.want = self, g.last
	t := time.NewTimer(g.linger)
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
		return fmt.Errorf("store: append fix of %s: %w", w.fix.Unit, ctx.Err())
	}
	g.mu.Unlock()
	<-w.signal // it is being stored, or it leads: either ends within g.timeout
	return nil
}

// flush stores self with every queued Append as one group, hands out the
// results and passes the lead to the first Append queued meanwhile, which
// leaves the queue: it leads the group it takes.
func (g *appendGroup) flush(ctx context.Context, self *appendWaiter, store appendBatchFunc) {
	group := g.take(self)
	fixes := make([]fix.Fix, len(group))
	for i, w := range group {
		fixes[i] = w.fix
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
	latest, err := store(ctx, fixes)
	cancel()
	for i, w := range group {
		if i < len(latest) {
			w.latest = latest[i]
		} else {
			w.err = err
		}
	}
	next := g.handOn()
	for _, w := range group[1:] {
		w.signal <- struct{}{}
	}
	if next != nil {
		next.signal <- struct{}{}
	}
}

// take empties the queue into a group led by self.
func (g *appendGroup) take(self *appendWaiter) []*appendWaiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	group := make([]*appendWaiter, 0, 1+len(g.queue))
	group = append(append(group, self), g.queue...)
	g.queue = g.queue[:0]
	g.last = len(group)
	return group
}

// handOn makes the first queued Append the next leader and takes it out of
// the queue; with none queued, a group in flight ends and it returns nil.
func (g *appendGroup) handOn() *appendWaiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running--
		return nil
	}
	next := g.queue[0]
	next.lead = true
	g.queue = slices.Delete(g.queue, 0, 1)
	return next
}
