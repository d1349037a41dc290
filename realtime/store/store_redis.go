package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// Errors of the Redis store.
var (
	// ErrNoPlan is returned by RedisStore.LoadPlan when no plan was saved.
	ErrNoPlan = errors.New("realtime: no active plan in the store")
	// ErrPlanVersion is returned by RedisStore.SavePlan when the stored
	// plan's version is not the one the caller read.
	ErrPlanVersion = errors.New("realtime: the active plan changed since it was read")
)

// RedisConfig configures a RedisStore. The zero value is not usable: City
// is required; every other field has a documented default.
type RedisConfig struct {
	// City names the city; its keys are pg:{City}:..., so a whole city lives
	// in one cluster hash slot. It must not be empty nor hold '{' or '}'.
	City string
	// HistoryAge is how long the fix stream keeps entries, measured on
	// Now against entry ids, which the Redis server's clock sets (XADD
	// MINID ~ on each write, so whole stream nodes go at once); default
	// 24 hours.
	HistoryAge time.Duration
	// HistorySkew is how far before since History starts reading the
	// stream, whose entry ids are arrival times: a fix may be up to this much
	// ahead of the server clock when it arrives. Default 10 minutes.
	HistorySkew time.Duration
	// CatchUpEvery is how long a subscriber may go without a pub/sub
	// message before it checks the stream for entries it missed; default 1 s.
	CatchUpEvery time.Duration
	// Now is the clock for updated-at times; default time.Now.
	Now func() time.Time
}

func (c RedisConfig) withDefaults() RedisConfig {
	if c.HistoryAge == 0 {
		c.HistoryAge = 24 * time.Hour
	}
	if c.HistorySkew == 0 {
		c.HistorySkew = 10 * time.Minute
	}
	if c.CatchUpEvery == 0 {
		c.CatchUpEvery = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// redisKeys are the keys of one city (DESIGN.md, Redis layout).
type redisKeys struct {
	pos, fixes, events, plan, unit string // unit is the prefix of unit hashes
}

func newRedisKeys(city string) redisKeys {
	p := "pg:{" + city + "}:"
	return redisKeys{pos: p + "pos", fixes: p + "fixes", events: p + "events", plan: p + "plan", unit: p + "unit:"}
}

// RedisStore is a Store in Redis, shared by every server instance of a
// city, with the keys of DESIGN.md (all in the city's hash slot):
//
//	pg:{city}:unit:<id>  hash: latest fix (lat, lon, time, speed, heading,
//	                     accuracy, altitude, battery, source), status, updated
//	pg:{city}:pos        GEO set: latest position per unit
//	pg:{city}:fixes      stream, trimmed by age: one entry per batch of
//	                     accepted fixes (flags and JSON lines) or status change
//	pg:{city}:events     pub/sub: each stream entry as it is added
//	pg:{city}:plan       string: the active plan, {"version":n,...}
//
// Requires Redis 6.2 or later (XADD MINID, exclusive XRANGE). It works
// through a single node, Sentinel or Cluster client alike. A RedisStore is
// safe for concurrent use; it does not own the client.
type Redis struct {
	c      redis.UniversalClient
	cfg    RedisConfig
	keys   redisKeys
	append *redis.Script
	status *redis.Script
	save   *redis.Script
	group  appendGroup
}

// NewRedisStore returns the store of cfg.City in the Redis behind client.
// It does no I/O; the caller keeps closing client.
func NewRedis(client redis.UniversalClient, cfg RedisConfig) (*Redis, error) {
	if cfg.City == "" || strings.ContainsAny(cfg.City, "{}") {
		return nil, fmt.Errorf("realtime: redis city name %q: want a non-empty name without braces", cfg.City)
	}
	return &Redis{c: client, cfg: cfg.withDefaults(), keys: newRedisKeys(cfg.City),
		append: redis.NewScript(appendScript), status: redis.NewScript(statusScript),
		save: redis.NewScript(savePlanScript)}, nil
}

// appendScript stores a batch of fixes, in order, as one stream entry.
// KEYS: the stream, the GEO set, then the hash of each unit of the batch.
// ARGV: channel, the stream's oldest id to keep (trimMinID), updated-at,
// the fixes' JSON one per
// line, the number of units, then per unit (appendArgsPerUnit) the unit and
// the fields of its newest fix in the batch (the first of them if several
// share its time): time (fixed width, so that string order is time order),
// lon, lat, speed, heading, accuracy, altitude, battery, source; then per
// fix (appendArgsPerFix) its unit's number and its time.
//
// A fix newer than its unit's stored one (or than the one before it in
// the batch) becomes the latest. Should any fix of a unit win, its newest
// one wins last, so hash and GEO set are written once per unit, with those
// fields. The stream entry (k=b) holds the flags (1 latest, 0 not, one per
// fix) and the JSON lines; the message on the channel holds the same (see
// eventMessage). The script returns the flags as 1 or 0 per fix.
const appendScript = `
local stream, pos = KEYS[1], KEYS[2]
local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local nu = tonumber(ARGV[5])
local cur, init = {}, {}
for j = 1, nu do
  cur[j] = redis.call('HGET', KEYS[2 + j], 'time') or ''
  init[j] = cur[j]
end
local base = 5 + nu * 10
local out = {}
for i = 1, (#ARGV - base) / 2 do
  local a = base + i * 2
  local j, t = tonumber(ARGV[a - 1]), ARGV[a]
  if t > cur[j] then
    cur[j], out[i] = t, 1
  else
    out[i] = 0
  end
end
local flags = table.concat(out)
local id = redis.call('XADD', stream, 'MINID', '~', ARGV[2], '*', 'k', 'b', 'f', flags, 'd', ARGV[4])
local geo = {}
for j = 1, nu do
  if cur[j] ~= init[j] then
    local a = 6 + (j - 1) * 10
    redis.call('HSET', KEYS[2 + j], 'time', ARGV[a + 1], 'lon', ARGV[a + 2], 'lat', ARGV[a + 3], 'speed', ARGV[a + 4],
      'heading', ARGV[a + 5], 'accuracy', ARGV[a + 6], 'altitude', ARGV[a + 7], 'battery', ARGV[a + 8],
      'source', ARGV[a + 9], 'updated', ARGV[3])
    geo[#geo + 1], geo[#geo + 2], geo[#geo + 3] = ARGV[a + 2], ARGV[a + 3], ARGV[a]
    if #geo >= 3000 then
      redis.call('GEOADD', pos, unpack(geo))
      geo = {}
    end
  end
end
if #geo > 0 then redis.call('GEOADD', pos, unpack(geo)) end
redis.call('PUBLISH', ARGV[1], prev .. ' ' .. id .. '\n' .. flags .. '\n' .. ARGV[4])
return out
`

// statusScript stores a status. KEYS: unit hash, stream. ARGV: channel,
// status, updated-at, status JSON, the stream's oldest id to keep. Its stream
// entry and message are those of a batch of one, flagged s.
const statusScript = `
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated', ARGV[3])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local id = redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[5], '*', 'k', 's', 'f', 's', 'd', ARGV[4])
redis.call('PUBLISH', ARGV[1], prev .. ' ' .. id .. '\ns\n' .. ARGV[4])
return 1
`

// savePlanScript replaces the active plan. KEYS: plan. ARGV: the version
// the caller read (negative: any), saved-at, plan JSON. It returns the new
// version, or -(current version)-1 when the caller's is not current.
const savePlanScript = `
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = tonumber(string.match(cur, '^{"version":(%d+)')) or 0 end
local want = tonumber(ARGV[1])
if want >= 0 and want ~= v then return -v - 1 end
v = v + 1
redis.call('SET', KEYS[1], '{"version":' .. string.format('%d', v) .. ',"saved_at":"' .. ARGV[2] .. '","plan":' .. ARGV[3] .. '}')
return v
`

// redisTimeLayout writes fix times with a fixed width, so that comparing
// two of them as strings (in the Lua script) compares the times.
const redisTimeLayout = "2006-01-02T15:04:05.000000000Z"

// The GEO range Redis accepts, in degrees.
const (
	geoMaxLat = 85.05112878
	geoMaxLon = 180
)

func checkRedisFix(f fix.Fix) error {
	for _, v := range []float64{f.SpeedMPS, f.Heading, f.AccuracyM, f.AltitudeM, f.Battery} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("realtime: fix of %s has a value that is not a number: %v", f.Unit, v)
		}
	}
	lat, lon := f.Lat(), f.Lon()
	if math.IsNaN(lat) || math.IsNaN(lon) || math.Abs(lat) > geoMaxLat || math.Abs(lon) > geoMaxLon {
		return fmt.Errorf("realtime: fix of %s at (lon %v, lat %v) is outside the range Redis GEO holds", f.Unit, lon, lat)
	}
	if y := f.Time.UTC().Year(); y < 1970 || y > 9999 {
		return fmt.Errorf("realtime: fix of %s at %v: time out of range", f.Unit, f.Time)
	}
	return nil
}

func (s *Redis) unitKey(unit string) string { return s.keys.unit + unit }

// trimMinID is the id before which each write trims the stream (XADD
// MINID ~, so whole stream nodes go at once): HistoryAge before now.
func (s *Redis) trimMinID(now time.Time) int64 {
	return max(now.Add(-s.cfg.HistoryAge).UnixMilli(), 0)
}

// How many ARGV values appendScript takes before the units, per unit and
// per fix.
const (
	appendArgsHead    = 5
	appendArgsPerUnit = 10
	appendArgsPerFix  = 2
)

// appendBatchMax is the most fixes one script call (and one stream entry)
// holds: a call blocks the Redis server, for about a µs a fix.
const appendBatchMax = 500

// appendCall returns the keys and arguments of appendScript for fixes.
// Its text arguments are cut from one string, so that building a call
// costs a few allocations per unit rather than one per value.
func (s *Redis) appendCall(fixes []fix.Fix) ([]string, []any, error) {
	const lineLen = 160 // bytes of a typical fix's JSON
	lines := make([]byte, 0, lineLen*len(fixes))
	unitNum := make(map[string]int, min(len(fixes), 128))
	var newest []int // per unit, the index of its newest fix
	for i, f := range fixes {
		if err := checkRedisFix(f); err != nil {
			return nil, nil, err
		}
		if i > 0 {
			lines = append(lines, '\n')
		}
		lines = fix.AppendJSON(lines, f)
		j, ok := unitNum[f.Unit]
		if !ok {
			j = len(newest)
			unitNum[f.Unit] = j
			newest = append(newest, i)
		}
		if f.Time.After(fixes[newest[j]].Time) {
			newest[j] = i
		}
	}
	// text holds each unit's fields, then each fix's time; ends marks
	// where each value ends.
	const unitLen = 2*len(redisTimeLayout) + 64 // time and numbers, roughly
	text := make([]byte, 0, unitLen*len(newest)+len(redisTimeLayout)*len(fixes))
	ends := make([]int, 0, (appendArgsPerUnit-2)*len(newest)+len(fixes))
	for _, i := range newest {
		f := fixes[i]
		text = appendRedisTime(text, f.Time)
		ends = append(ends, len(text))
		for _, v := range [...]float64{f.Lon(), f.Lat(), f.SpeedMPS, f.Heading, f.AccuracyM, f.AltitudeM, f.Battery} {
			text = strconv.AppendFloat(text, v, 'f', -1, 64)
			ends = append(ends, len(text))
		}
	}
	for _, f := range fixes {
		text = appendRedisTime(text, f.Time)
		ends = append(ends, len(text))
	}
	all, at := string(text), 0
	vals := make([]string, len(ends))
	for k, end := range ends {
		vals[k], at = all[at:end], end
	}

	// The text arguments go in as pointers (to vals, to the fixes' unit
	// and source), which fit in an interface value without an allocation
	// each; go-redis writes what they point to.
	keys := make([]string, 2, 2+len(newest))
	keys[0], keys[1] = s.keys.fixes, s.keys.pos
	args := make([]any, 0, appendArgsHead+appendArgsPerUnit*len(newest)+appendArgsPerFix*len(fixes))
	now := s.cfg.Now()
	args = append(args, s.keys.events, s.trimMinID(now), now.UTC().Format(time.RFC3339Nano), lines, len(newest))
	for _, i := range newest {
		f := &fixes[i]
		keys = append(keys, s.unitKey(f.Unit))
		args = append(args, &f.Unit)
		for k := range appendArgsPerUnit - 2 {
			args = append(args, &vals[k])
		}
		args = append(args, &f.Source)
		vals = vals[appendArgsPerUnit-2:]
	}
	for j := range fixes {
		args = append(args, unitNum[fixes[j].Unit]+1, &vals[j])
	}
	return keys, args, nil
}

// appendRedisTime appends t in redisTimeLayout (t's year is within
// 1970-9999: checkRedisFix), as Time.AppendFormat would, at a fraction of
// its cost.
func appendRedisTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits appends the width lowest decimal digits of v >= 0.
func appendDigits(b []byte, v, width int) []byte {
	b = append(b, make([]byte, width)...)
	for i := len(b) - 1; i >= len(b)-width; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// Append implements Store with one Lua script (EVALSHA; on NOSCRIPT, as
// after a Redis restart, the script is loaded and the call repeated): the
// fix always goes into the stream, and becomes the latest (hash, GEO set,
// event) only when it is newer than the stored one. Concurrent Appends are
// stored together (see appendGroup): one returns when its fix is stored.
// On error the fix may or may not have been stored; appending it again may
// leave a duplicate in the history but never changes the latest fix.
func (s *Redis) Append(ctx context.Context, f fix.Fix) (bool, error) {
	if err := checkRedisFix(f); err != nil {
		return false, err
	}
	return s.group.append(ctx, f, s.AppendBatch)
}

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

// AppendBatch is Append for many fixes, in order: one script call per
// appendBatchMax fixes, all in one pipelined round trip. It returns whether
// each fix became its unit's latest. A fix that fails the checks (a
// position outside the GEO range) fails the batch before anything is
// written. On a Redis error the returned slice is shorter than fixes: its
// fixes are stored, and the rest may or may not be (retrying them is safe,
// as for Append).
func (s *Redis) AppendBatch(ctx context.Context, fixes []fix.Fix) ([]bool, error) {
	type call struct {
		keys []string
		args []any
	}
	calls := make([]call, 0, (len(fixes)+appendBatchMax-1)/appendBatchMax)
	for lo := 0; lo < len(fixes); lo += appendBatchMax {
		keys, args, err := s.appendCall(fixes[lo:min(lo+appendBatchMax, len(fixes))])
		if err != nil {
			return nil, err
		}
		calls = append(calls, call{keys, args})
	}
	flags := make([][]int64, len(calls)) // per call, once it ran
	pending := make([]int, len(calls))   // the calls still to run, in order
	for i := range pending {
		pending[i] = i
	}
	for loads := 0; len(pending) > 0; {
		cmds := make([]*redis.Cmd, len(pending))
		_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range pending {
				cmds[i] = s.append.EvalSha(ctx, p, calls[c].keys, calls[c].args...)
			}
			return nil
		})
		// A call refused with NOSCRIPT did not run, and runs again once the
		// script is loaded, as after a Redis restart; the calls after it may
		// have run, as when another client loaded the script meanwhile.
		var again []int
		var err error
		for i, cmd := range cmds {
			f, cerr := cmd.Int64Slice()
			switch {
			case redis.HasErrorPrefix(cerr, "NOSCRIPT") && loads < 2:
				again = append(again, pending[i])
			case cerr != nil:
				err = cmp.Or(err, cerr)
			default:
				flags[pending[i]] = f
			}
		}
		if err != nil {
			return ranPrefix(flags), fmt.Errorf("realtime: append %d fixes: %w", len(fixes), err)
		}
		if len(again) > 0 {
			loads++
			if err := s.append.Load(ctx, s.c).Err(); err != nil {
				return ranPrefix(flags), fmt.Errorf("realtime: load the append script: %w", err)
			}
		}
		pending = again
	}
	return ranPrefix(flags), nil
}

// ranPrefix returns whether each fix became its unit's latest, for the
// calls that ran before the first that did not.
func ranPrefix(flags [][]int64) []bool {
	var out []bool
	for _, f := range flags {
		if f == nil {
			break
		}
		for _, l := range f {
			out = append(out, l == 1)
		}
	}
	return out
}

// unitFields returns the unit hash fields Latest and Units read.
func unitFields() []string {
	return []string{"lat", "lon", "time", "speed", "heading", "accuracy", "altitude", "battery", "source", "status", "updated"}
}

// Latest implements Store.
func (s *Redis) Latest(ctx context.Context, unit string) (fix.Fix, bool, error) {
	vals, err := s.c.HMGet(ctx, s.unitKey(unit), unitFields()...).Result()
	if err != nil {
		return fix.Fix{}, false, fmt.Errorf("realtime: latest fix of %s: %w", unit, err)
	}
	st, err := parseUnitState(unit, fieldMap(vals))
	if err != nil {
		return fix.Fix{}, false, err
	}
	return st.Fix, st.HasFix, nil
}

// fieldMap pairs the values HMGET returned with unitFields, leaving out
// missing ones.
func fieldMap(vals []any) map[string]string {
	names := unitFields()
	m := make(map[string]string, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok && i < len(names) {
			m[names[i]] = s
		}
	}
	return m
}

// parseUnitState reads a unit hash; a hash without a time has no fix.
func parseUnitState(unit string, h map[string]string) (UnitState, error) {
	st := UnitState{Unit: unit, Status: patrol.Status(h["status"])}
	if u, ok := h["updated"]; ok {
		t, err := time.Parse(time.RFC3339Nano, u)
		if err != nil {
			return st, fmt.Errorf("realtime: unit %s updated-at %q: %w", unit, u, err)
		}
		st.UpdatedAt = t
	}
	if _, ok := h["time"]; !ok {
		return st, nil
	}
	t, err := time.Parse(time.RFC3339Nano, h["time"])
	if err != nil {
		return st, fmt.Errorf("realtime: unit %s fix time %q: %w", unit, h["time"], err)
	}
	var num [7]float64
	for i, k := range []string{"lon", "lat", "speed", "heading", "accuracy", "altitude", "battery"} {
		if num[i], err = strconv.ParseFloat(h[k], 64); err != nil {
			return st, fmt.Errorf("realtime: unit %s field %s %q: %w", unit, k, h[k], err)
		}
	}
	st.Fix = fix.Fix{Unit: unit, Time: t, Point: orb.Point{num[0], num[1]}, SpeedMPS: num[2], Heading: num[3],
		AccuracyM: num[4], AltitudeM: num[5], Battery: num[6], Source: h["source"]}
	st.HasFix = true
	return st, nil
}

// SetStatus implements Store with one Lua script.
func (s *Redis) SetStatus(ctx context.Context, unit string, st patrol.Status) error {
	d, err := json.Marshal(statusJSON{Unit: unit, Status: st})
	if err != nil {
		return fmt.Errorf("realtime: encode status of %s: %w", unit, err)
	}
	err = s.status.Run(ctx, s.c, []string{s.unitKey(unit), s.keys.fixes}, s.keys.events, string(st),
		s.cfg.Now().UTC().Format(time.RFC3339Nano), d, s.trimMinID(s.cfg.Now())).Err()
	if err != nil {
		return fmt.Errorf("realtime: set status of %s: %w", unit, err)
	}
	return nil
}

// statusJSON is a status change as the stream and the events channel
// carry it.
type statusJSON struct {
	Unit   string        `json:"unit"`
	Status patrol.Status `json:"status"`
}

// Units implements Store. It finds the unit hashes with CLUSTER
// GETKEYSINSLOT on a cluster (the city's slot only) and with SCAN on a
// single node (the whole keyspace), then reads them in one pipeline: a
// start-up cost, not one for every fix.
func (s *Redis) Units(ctx context.Context) ([]UnitState, error) {
	keys, err := s.unitKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("realtime: list units of %s: %w", s.cfg.City, err)
	}
	cmds := make([]*redis.SliceCmd, len(keys))
	if _, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, k, unitFields()...)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("realtime: read units of %s: %w", s.cfg.City, err)
	}
	out := make([]UnitState, 0, len(keys))
	for i, k := range keys {
		st, err := parseUnitState(strings.TrimPrefix(k, s.keys.unit), fieldMap(cmds[i].Val()))
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Redis) unitKeys(ctx context.Context) ([]string, error) {
	var keys []string
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, s.keys.pos)
		if err != nil {
			return nil, err
		}
		slot, err := node.ClusterKeySlot(ctx, s.keys.pos).Result()
		if err != nil {
			return nil, err
		}
		n, err := node.ClusterCountKeysInSlot(ctx, int(slot)).Result()
		if err != nil {
			return nil, err
		}
		all, err := node.ClusterGetKeysInSlot(ctx, int(slot), int(n)+1).Result()
		if err != nil {
			return nil, err
		}
		for _, k := range all {
			if strings.HasPrefix(k, s.keys.unit) {
				keys = append(keys, k)
			}
		}
		return keys, nil
	}
	iter := s.c.Scan(ctx, 0, globEscape(s.keys.unit)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// History implements Store. It reads the stream from since minus
// HistorySkew on, so its cost grows with the fixes of the whole city in
// that span, not with the unit's; only the unit's lines are decoded.
func (s *Redis) History(ctx context.Context, unit string, since time.Time) ([]fix.Fix, error) {
	start := since.Add(-s.cfg.HistorySkew).UnixMilli()
	prefix := string(fix.AppendJSONString([]byte(`{"unit":`), unit)) + ","
	var out []fix.Fix
	err := s.scanStream(ctx, strconv.FormatInt(max(start, 0), 10), "+", func(m redis.XMessage) error {
		e, err := parseStreamEntry(m)
		if err != nil || e.flags == "s" {
			return err
		}
		for _, line := range e.data {
			if !strings.HasPrefix(line, prefix) {
				continue
			}
			f, err := fix.ParseJSON(line)
			if err != nil {
				return fmt.Errorf("realtime: stream entry %s: %w", m.ID, err)
			}
			if !f.Time.Before(since) {
				out = append(out, f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("realtime: history of %s: %w", unit, err)
	}
	slices.SortStableFunc(out, func(a, b fix.Fix) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// scanStream calls fn for each stream entry from start to end (ids or
// "-", "+"; a start of "(id" excludes id), oldest first, a page at a time.
func (s *Redis) scanStream(ctx context.Context, start, end string, fn func(redis.XMessage) error) error {
	const page = 1000
	for {
		msgs, err := s.c.XRangeN(ctx, s.keys.fixes, start, end, page).Result()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(msgs) < page {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// Ping checks that the Redis node holding the city answers. It is what a
// readiness check calls; it is safe for concurrent use.
func (s *Redis) Ping(ctx context.Context) error {
	var err error
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		var node *redis.Client
		if node, err = cc.MasterForKey(ctx, s.keys.pos); err == nil {
			err = node.Ping(ctx).Err()
		}
	} else {
		err = s.c.Ping(ctx).Err()
	}
	if err != nil {
		return fmt.Errorf("realtime: redis store of %s: %w", s.cfg.City, err)
	}
	return nil
}

// PlanRecord is the active plan as the store holds it at pg:{city}:plan.
type PlanRecord struct {
	// Version counts saves from 1; every save adds one.
	Version int64 `json:"version"`
	// SavedAt is the store clock when it was saved.
	SavedAt time.Time `json:"saved_at"`
	// Plan is the plan as JSON (patrol.ReadPlan reads it).
	Plan json.RawMessage `json:"plan"`
}

// SavePlan makes plan (JSON) the city's active plan and returns its new
// version. With ifVersion >= 0 it saves only when the stored version is
// ifVersion (0: no plan yet), and fails with ErrPlanVersion otherwise;
// with a negative ifVersion it always saves.
func (s *Redis) SavePlan(ctx context.Context, plan []byte, ifVersion int64) (int64, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, plan); err != nil {
		return 0, fmt.Errorf("realtime: save plan of %s: %w", s.cfg.City, err)
	}
	v, err := s.save.Run(ctx, s.c, []string{s.keys.plan}, ifVersion,
		s.cfg.Now().UTC().Format(time.RFC3339Nano), b.String()).Int64()
	if err != nil {
		return 0, fmt.Errorf("realtime: save plan of %s: %w", s.cfg.City, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("%w: stored version %d, read %d", ErrPlanVersion, -v-1, ifVersion)
	}
	return v, nil
}

// LoadPlan returns the city's active plan, or ErrNoPlan.
func (s *Redis) LoadPlan(ctx context.Context) (PlanRecord, error) {
	b, err := s.c.Get(ctx, s.keys.plan).Bytes()
	if errors.Is(err, redis.Nil) {
		return PlanRecord{}, ErrNoPlan
	}
	if err != nil {
		return PlanRecord{}, fmt.Errorf("realtime: load plan of %s: %w", s.cfg.City, err)
	}
	var r PlanRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return PlanRecord{}, fmt.Errorf("realtime: load plan of %s: %w", s.cfg.City, err)
	}
	return r, nil
}

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
		return nil, fmt.Errorf("realtime: subscribe to %s: %w", s.keys.events, err)
	}
	last, err := s.lastID(ctx)
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("realtime: subscribe to %s: %w", s.keys.events, err)
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

func (f *redisFollower) send(ctx context.Context, ev Event) bool {
	select {
	case f.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// streamEntry is one entry of the fix stream: the fixes of one batch or
// one status change, with what each announced. Its fields are k (b a
// batch, s a status), f (the flags) and d (the JSON lines).
type streamEntry struct {
	id streamID
	// flags holds one byte per line of data: 1 a fix that became its
	// unit's latest (a FixEvent), 0 a fix that did not (no event), s a
	// status (a StatusEvent).
	flags string
	data  []string
}

func parseStreamEntry(m redis.XMessage) (streamEntry, error) {
	id, err := parseStreamID(m.ID)
	if err != nil {
		return streamEntry{}, err
	}
	flags, _ := m.Values["f"].(string)
	d, _ := m.Values["d"].(string)
	return newStreamEntry(id, flags, d)
}

func newStreamEntry(id streamID, flags, data string) (streamEntry, error) {
	e := streamEntry{id: id, flags: flags, data: strings.Split(data, "\n")}
	if len(e.flags) == 0 || len(e.flags) != len(e.data) {
		return e, fmt.Errorf("realtime: stream entry %s: %d flags, %d lines", id, len(e.flags), len(e.data))
	}
	return e, nil
}

// event decodes line i, false when it announced nothing.
func (e streamEntry) event(i int) (Event, bool, error) {
	switch e.flags[i] {
	case '1':
		fix, err := fix.ParseJSON(e.data[i])
		if err != nil {
			return Event{}, false, fmt.Errorf("realtime: stream entry %s: %w", e.id, err)
		}
		return Event{Kind: FixEvent, Unit: fix.Unit, Fix: fix}, true, nil
	case 's':
		var st statusJSON
		if err := json.Unmarshal([]byte(e.data[i]), &st); err != nil {
			return Event{}, false, fmt.Errorf("realtime: stream entry %s: %w", e.id, err)
		}
		return Event{Kind: StatusEvent, Unit: st.Unit, Status: st.Status}, true, nil
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

func parseEventMessage(p string) (eventMessage, error) {
	head, rest, _ := strings.Cut(p, "\n")
	flags, data, _ := strings.Cut(rest, "\n")
	prev, id, ok := strings.Cut(head, " ")
	if !ok {
		return eventMessage{}, fmt.Errorf("realtime: event message %q", head)
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

func parseStreamID(s string) (streamID, error) {
	a, b, ok := strings.Cut(s, "-")
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("realtime: stream id %q", s)
	}
	return streamID{ms: ms, seq: seq}, nil
}

func (id streamID) String() string {
	if id.max {
		return "+"
	}
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

func (id streamID) less(o streamID) bool {
	switch {
	case id.max:
		return false
	case o.max:
		return true
	}
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

// RedisURL forms accepted by NewRedisClient.
const (
	// redis[s]://[user:pass@]host:port[/db][?options]: one node.
	schemeRedis = "redis"
	// redis[s]+cluster://[user:pass@]h1:p1,h2:p2,...[?options]: a cluster,
	// from any of its nodes.
	schemeCluster = "+cluster"
	// redis[s]+sentinel://[user:pass@]s1:p1,s2:p2,.../master[/db][?options]:
	// the master named master, found through its Sentinels (user and
	// password are the Sentinels').
	schemeSentinel = "+sentinel"
)

// defaultDialerRetries is how many times a client dials before a command
// fails, unless the URL says (dialer_retries): one, so that while Redis is
// down a command fails in milliseconds (the command itself is still retried,
// max_retries, default 3) and ingest can answer 503 at once.
const defaultDialerRetries = 1

// NewRedisClient returns a client for rawURL, one of
//
//	redis://[user:pass@]host:port[/db][?options]              a single node
//	redis+cluster://[user:pass@]h1:p1,h2:p2,...[?options]      a cluster, seeded by any nodes
//	redis+sentinel://[user:pass@]s1:p1,.../master[/db][?options] a Sentinel-managed master
//
// with rediss in place of redis for TLS. Options are go-redis's URL query
// options (dial_timeout=2s, pool_size=20, ...). Context deadlines bound
// every command; a failed dial is not repeated (see defaultDialerRetries).
// The caller closes the client.
func NewRedisClient(rawURL string) (redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("realtime: redis URL %q: no scheme", redactURL(rawURL))
	}
	base, mode := scheme, ""
	if i := strings.IndexByte(scheme, '+'); i >= 0 {
		base, mode = scheme[:i], scheme[i:]
	}
	if base != schemeRedis && base != schemeRedis+"s" {
		return nil, fmt.Errorf("realtime: redis URL %q: scheme %q, want redis or rediss", redactURL(rawURL), scheme)
	}
	switch mode {
	case "":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("realtime: redis URL %q: %w", redactURL(rawURL), err)
		}
		o.ContextTimeoutEnabled = true
		o.DialerRetries = cmp.Or(o.DialerRetries, defaultDialerRetries)
		return redis.NewClient(o), nil
	case schemeCluster:
		u, err := seedURL(base, rest, false)
		if err == nil {
			var o *redis.ClusterOptions
			if o, err = redis.ParseClusterURL(u); err == nil {
				o.ContextTimeoutEnabled = true
				o.DialerRetries = cmp.Or(o.DialerRetries, defaultDialerRetries)
				return redis.NewClusterClient(o), nil
			}
		}
		return nil, fmt.Errorf("realtime: redis URL %q: %w", redactURL(rawURL), err)
	case schemeSentinel:
		u, err := seedURL(base, rest, true)
		if err == nil {
			var o *redis.FailoverOptions
			if o, err = redis.ParseFailoverURL(u); err == nil {
				o.ContextTimeoutEnabled = true
				o.DialerRetries = cmp.Or(o.DialerRetries, defaultDialerRetries)
				return redis.NewFailoverClient(o), nil
			}
		}
		return nil, fmt.Errorf("realtime: redis URL %q: %w", redactURL(rawURL), err)
	}
	return nil, fmt.Errorf("realtime: redis URL %q: scheme %q, want redis, redis+cluster or redis+sentinel", redactURL(rawURL), scheme)
}

// seedURL rewrites "[user@]h1,h2,.../path?q" into the go-redis form
// "base://[user@]h1/path?q&addr=h2&...", moving a Sentinel master name
// (the first path segment) into master_name.
func seedURL(base, rest string, sentinel bool) (string, error) {
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	user := ""
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		user, hosts = hosts[:i+1], hosts[i+1:]
	}
	addrs := strings.Split(hosts, ",")
	if slices.Contains(addrs, "") {
		return "", errors.New("empty host in the host list")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", err
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	if sentinel {
		master, db, _ := strings.Cut(path, "/")
		if master == "" {
			return "", errors.New("no master name: want redis+sentinel://host:port,.../master")
		}
		q.Set("master_name", master)
		path = db
	} else if path != "" {
		return "", errors.New("a cluster URL has no path")
	}
	u := base + "://" + user + addrs[0]
	if path != "" {
		u += "/" + path
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

// redactURL hides the password of a URL for error messages.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndexByte(strings.SplitN(rest, "/", 2)[0], '@')
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
