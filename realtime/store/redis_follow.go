package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Subscribe implements Store. Events arrive through pub/sub; each carries
// its stream id and the id of the stream entry before it, so a subscriber
// that missed one (a reconnect, a full buffer, a restarted Redis) reads the
// gap from the stream (XRANGE) before going on: events come in stream
// order and none is dropped while the stream still holds it (HistoryAge).
// The returned channel is closed when ctx ends. The goroutine that feeds
// it is owned by the store and ends with ctx.
func (s *Redis) Subscribe(ctx context.Context) (<-chan Event, error) {
	ps := s.c.Subscribe(ctx, s.keys.events)
	if _, err := ps.Receive(ctx); err != nil { // the subscription is confirmed
		_ = ps.Close()
		return nil, fmt.Errorf("store: subscribe to %s: %w", s.keys.events, err)
	}
	last, err := s.lastID(ctx)
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("store: subscribe to %s: %w", s.keys.events, err)
	}
	out := make(chan Event, 1024)
	f := &redisFollower{s: s, ps: ps, last: last, out: out}
	go f.run(ctx)
	return out, nil
}

// lastID returns the id of the stream's newest entry, "0-0" when empty.
func (s *Redis) lastID(ctx context.Context) (streamID, error) {
	msgs, err := s.c.XRevRangeN(ctx, s.keys.fixes, "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return streamID{}, err
	}
	return parseStreamID(msgs[0].ID)
}

// redisFollower feeds one subscriber; only its goroutine touches it.
type redisFollower struct {
	s    *Redis
	ps   *redis.PubSub
	last streamID // the newest stream entry handed out or skipped
	gap  bool     // entries after last may have been missed
	out  chan<- Event
}

// run feeds f.out until ctx ends, from pub/sub and, for what that missed
// or when it stays quiet for CatchUpEvery, from the stream; then it closes
// f.out.
func (f *redisFollower) run(ctx context.Context) {
	defer close(f.out)
	defer f.ps.Close()
	msgs := f.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024),
		redis.WithChannelHealthCheckInterval(5*time.Second))
	idle := time.NewTimer(f.s.cfg.CatchUpEvery)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if !f.handle(ctx, m) {
				return
			}
		case <-idle.C:
			f.gap = true
			if !f.catchUp(ctx, streamID{max: true}) {
				return
			}
		}
		idle.Reset(f.s.cfg.CatchUpEvery)
	}
}

// handle takes one pub/sub message; false means ctx ended.
func (f *redisFollower) handle(ctx context.Context, m any) bool {
	switch m := m.(type) {
	case *redis.Subscription: // a reconnect: anything may have been missed
		f.gap = true
		return f.catchUp(ctx, streamID{max: true})
	case *redis.Message:
		msg, err := parseEventMessage(m.Payload)
		if err != nil { // skipped here; the stream still has the entries
			f.gap = true
			return true
		}
		return f.take(ctx, msg)
	}
	return true
}

// take hands out the events of an entry that came by pub/sub, reading any
// entries between f.last and it from the stream first; false means ctx
// ended.
func (f *redisFollower) take(ctx context.Context, msg eventMessage) bool {
	if !f.last.less(msg.id) {
		return true // already handed out from the stream
	}
	if f.last.less(msg.prev) {
		f.gap = true
		if !f.catchUp(ctx, msg.prev) {
			return false
		}
	}
	return f.hand(ctx, msg.streamEntry)
}

// hand sends the events of e and moves f.last past it; false means ctx
// ended. An entry that does not decode is skipped.
func (f *redisFollower) hand(ctx context.Context, e streamEntry) bool {
	f.last = e.id
	for i := range e.flags {
		ev, ok, err := e.event(i)
		if err == nil && ok && !f.send(ctx, ev) {
			return false
		}
	}
	return true
}

// catchUp hands out the events of the stream entries after f.last up to
// and including upto, retrying until it succeeds; false means ctx ended.
func (f *redisFollower) catchUp(ctx context.Context, upto streamID) bool {
	if !f.gap {
		return true
	}
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := f.s.scanStream(ctx, "("+f.last.String(), upto.String(), func(m redis.XMessage) error {
			e, err := parseStreamEntry(m)
			if err != nil {
				return err
			}
			if !f.hand(ctx, e) {
				return ctx.Err()
			}
			return nil
		})
		if err == nil {
			f.gap = false
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// send hands ev out; false means ctx ended.
func (f *redisFollower) send(ctx context.Context, ev Event) bool {
	select {
	case f.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// streamEntry is one entry of the fix stream: the fixes of one batch or
// one status change or incident save, with what each announced. Its
// fields are k (b a batch, s a status, i an incident), f (the flags) and
// d (the JSON lines).
type streamEntry struct {
	id streamID
	// flags holds one byte per line of data: 1 a fix that became its
	// unit's latest (a FixEvent), 0 a fix that did not (no event), s a
	// status (a StatusEvent), i an incident (an IncidentEvent).
	flags string
	data  []string
}

// parseStreamEntry reads an entry of the fix stream.
func parseStreamEntry(m redis.XMessage) (streamEntry, error) {
	id, err := parseStreamID(m.ID)
	if err != nil {
		return streamEntry{}, err
	}
	flags, _ := m.Values["f"].(string)
	d, _ := m.Values["d"].(string)
	return newStreamEntry(id, flags, d)
}

// newStreamEntry returns the entry id of flags and data (the JSON lines),
// which must have a line a flag.
func newStreamEntry(id streamID, flags, data string) (streamEntry, error) {
	e := streamEntry{id: id, flags: flags, data: strings.Split(data, "\n")}
	if len(e.flags) == 0 || len(e.flags) != len(e.data) {
		return e, fmt.Errorf("store: stream entry %s: %d flags, %d lines", id, len(e.flags), len(e.data))
	}
	return e, nil
}

// event decodes line i, false when it announced nothing.
func (e streamEntry) event(i int) (Event, bool, error) {
	switch e.flags[i] {
	case '1':
		fix, err := fix.ParseJSON(e.data[i])
		if err != nil {
			return Event{}, false, fmt.Errorf("store: stream entry %s: %w", e.id, err)
		}
		return Event{Kind: FixEvent, Unit: fix.Unit, Fix: fix}, true, nil
	case 's':
		var st statusJSON
		if err := json.Unmarshal([]byte(e.data[i]), &st); err != nil {
			return Event{}, false, fmt.Errorf("store: stream entry %s: %w", e.id, err)
		}
		st.Status = st.Status.Canonical()
		return Event{Kind: StatusEvent, Unit: st.Unit, Change: st.StatusChange}, true, nil
	case 'i':
		inc := new(Incident)
		if err := json.Unmarshal([]byte(e.data[i]), inc); err != nil {
			return Event{}, false, fmt.Errorf("store: stream entry %s: %w", e.id, err)
		}
		return Event{Kind: IncidentEvent, Incident: inc}, true, nil
	}
	return Event{}, false, nil
}

// eventMessage is one message of the events channel: a stream entry and
// the id of the entry before it. On the wire:
//
//	<prev id> <id>
//	<flags>
//	<JSON line 1>
//	...
type eventMessage struct {
	prev streamID
	streamEntry
}

// parseEventMessage reads the payload of an events message.
func parseEventMessage(p string) (eventMessage, error) {
	head, rest, _ := strings.Cut(p, "\n")
	flags, data, _ := strings.Cut(rest, "\n")
	prev, id, ok := strings.Cut(head, " ")
	if !ok {
		return eventMessage{}, fmt.Errorf("store: event message %q", head)
	}
	var m eventMessage
	var err error
	if m.prev, err = parseStreamID(prev); err != nil {
		return m, err
	}
	sid, err := parseStreamID(id)
	if err != nil {
		return m, err
	}
	m.streamEntry, err = newStreamEntry(sid, flags, data)
	return m, err
}

// streamID is a Redis stream entry id, ms-seq; max stands for "+".
type streamID struct {
	ms, seq uint64
	max     bool
}

// parseStreamID reads an id of the form ms-seq.
func parseStreamID(s string) (streamID, error) {
	a, b, ok := strings.Cut(s, "-")
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("store: stream id %q", s)
	}
	return streamID{ms: ms, seq: seq}, nil
}

// String returns id as Redis writes it, or "+" for the max id.
func (id streamID) String() string {
	if id.max {
		return "+"
	}
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// less reports whether id comes before o in the stream.
func (id streamID) less(o streamID) bool {
	switch {
	case id.max:
		return false
	case o.max:
		return true
	}
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

// Range implements Recorder: the fix stream's entries from from to to,
// by their ids' milliseconds.
func (s *Redis) Range(ctx context.Context, from, to time.Time) ([]TimedEvent, error) {
	var out []TimedEvent
	err := s.scanStream(ctx, strconv.FormatInt(from.UnixMilli(), 10), strconv.FormatInt(to.UnixMilli(), 10), func(m redis.XMessage) error {
		e, err := parseStreamEntry(m)
		if err != nil {
			return nil // an entry that does not read is skipped, as live
		}
		at := time.UnixMilli(int64(e.id.ms)).UTC()
		for i := range e.flags {
			if ev, ok, err := e.event(i); err == nil && ok {
				out = append(out, TimedEvent{At: at, Event: ev})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: range of the fix stream: %w", err)
	}
	return out, nil
}
