package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
)

// redisTimeLayout writes fix times with a fixed width, so that comparing
// two of them as strings (in the Lua script) compares the times.
const redisTimeLayout = "2006-01-02T15:04:05.000000000Z"

// The GEO range Redis accepts, in degrees.
const (
	geoMaxLat = 85.05112878
	geoMaxLon = 180
)

// checkRedisFix reports why the Redis store cannot hold f: a number that
// is not one, a position outside the GEO range or a time that
// redisTimeLayout cannot write.
func checkRedisFix(f fix.Fix) error {
	for _, v := range []float64{f.SpeedMPS, f.Heading, f.AccuracyM, f.AltitudeM, f.Battery} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("store: fix of %s has a value that is not a number: %v", f.Unit, v)
		}
	}
	lat, lon := f.Lat(), f.Lon()
	if math.IsNaN(lat) || math.IsNaN(lon) || math.Abs(lat) > geoMaxLat || math.Abs(lon) > geoMaxLon {
		return fmt.Errorf("store: fix of %s at (lon %v, lat %v) is outside the range Redis GEO holds", f.Unit, lon, lat)
	}
	if y := f.Time.UTC().Year(); y < 1970 || y > 9999 {
		return fmt.Errorf("store: fix of %s at %v: time out of range", f.Unit, f.Time)
	}
	return nil
}

// How many ARGV values lua/append.lua takes before the units, per unit and
// per fix.
const (
	appendArgsHead    = 5
	appendArgsPerUnit = 10
	appendArgsPerFix  = 2
)

// defaultAppendBatchMax is RedisConfig.AppendBatchMax's default.
const defaultAppendBatchMax = 500

// scriptCall is the keys and arguments of one script call.
type scriptCall struct {
	keys []string
	args []any
}

// appendCall returns the call of lua/append.lua that stores fixes. It
// numbers the units itself, where unitNum and newest do not escape and so
// stay on the stack.
func (s *Redis) appendCall(fixes []fix.Fix) (scriptCall, error) {
	const lineLen = 160 // bytes of a typical fix's JSON
	lines := make([]byte, 0, lineLen*len(fixes))
	unitNum := make(map[string]int, min(len(fixes), 128))
	var newest []int // per unit, the index of its newest fix
	for i, f := range fixes {
		if err := checkRedisFix(f); err != nil {
			return scriptCall{}, err
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
	return s.appendArgs(fixes, lines, unitNum, newest), nil
}

// appendArgs returns the call of lua/append.lua for fixes, whose JSON
// lines are lines, whose units unitNum numbers (from 0, in order of their
// first fix) and whose units' newest fixes newest indexes. The text
// arguments go in as pointers (to appendValues', to the fixes' unit and
// source), which fit in an interface value without an allocation each;
// go-redis writes what they point to.
func (s *Redis) appendArgs(fixes []fix.Fix, lines []byte, unitNum map[string]int, newest []int) scriptCall {
	vals := appendValues(fixes, newest)
	keys := make([]string, 2, 2+len(newest))
	keys[0], keys[1] = s.keys.fixes, s.keys.pos
	args := make([]any, 0, appendArgsHead+appendArgsPerUnit*len(newest)+appendArgsPerFix*len(fixes))
	now := s.cfg.Now()
	args = append(args, s.keys.events, s.trim(now), now.UTC().Format(time.RFC3339Nano), lines, len(newest))
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
	return scriptCall{keys, args}
}

// appendValues returns the text arguments of a call: per unit the time
// and numbers of its newest fix (appendArgsPerUnit-2 of them), then per
// fix its time. They are cut from one string, so that building a call
// costs a few allocations per unit rather than one per value.
func appendValues(fixes []fix.Fix, newest []int) []string {
	const unitLen = 2*len(redisTimeLayout) + 64 // time and numbers, roughly
	text := make([]byte, 0, unitLen*len(newest)+len(redisTimeLayout)*len(fixes))
	ends := make([]int, 0, (appendArgsPerUnit-2)*len(newest)+len(fixes)) // where each value ends
	for _, i := range newest {
		f := &fixes[i]
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
	return vals
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
// stored together, one script call a group (a group commit, tuned by the
// RedisConfig fields AppendGroupsInFlight, AppendLinger, AppendLingerMin
// and AppendGroupTimeout): one returns when its fix is stored. On error
// the fix may or may not have been stored; appending it again may leave a
// duplicate in the history but never changes the latest fix.
func (s *Redis) Append(ctx context.Context, f fix.Fix) (bool, error) {
	if err := checkRedisFix(f); err != nil {
		return false, err
	}
	return s.group.append(ctx, f, s.AppendBatch)
}

// AppendBatch is Append for many fixes, in order: one script call per
// RedisConfig.AppendBatchMax fixes, all in one pipelined round trip. It
// returns whether each fix became its unit's latest. A fix that fails the
// checks (a position outside the GEO range) fails the batch before
// anything is written. On a Redis error the returned slice is shorter than
// fixes: its fixes are stored, and the rest may or may not be (retrying
// them is safe, as for Append).
func (s *Redis) AppendBatch(ctx context.Context, fixes []fix.Fix) ([]bool, error) {
	calls, err := s.appendCalls(fixes)
	if err != nil {
		return nil, err
	}
	flags := make([][]int64, len(calls)) // per call, once it ran
	pending := make([]int, len(calls))   // the calls still to run, in order
	for i := range pending {
		pending[i] = i
	}
	for loads := 0; len(pending) > 0; loads++ {
		if loads > 0 {
			if err := s.append.Load(ctx, s.c).Err(); err != nil {
				return ranPrefix(flags), fmt.Errorf("store: load the append script: %w", err)
			}
		}
		if pending, err = s.evalAppends(ctx, calls, pending, flags, loads < 2); err != nil {
			return ranPrefix(flags), fmt.Errorf("store: append %d fixes: %w", len(fixes), err)
		}
	}
	return ranPrefix(flags), nil
}

// appendCalls cuts fixes into the script calls that store them.
func (s *Redis) appendCalls(fixes []fix.Fix) ([]scriptCall, error) {
	per := s.cfg.AppendBatchMax
	calls := make([]scriptCall, 0, (len(fixes)+per-1)/per)
	for lo := 0; lo < len(fixes); lo += per {
		call, err := s.appendCall(fixes[lo:min(lo+per, len(fixes))])
		if err != nil {
			return nil, err
		}
		calls = append(calls, call)
	}
	return calls, nil
}

// evalAppends runs the calls numbered pending in one pipeline, sets the
// flags of each that ran, and returns those refused with NOSCRIPT, to run
// again once the script is loaded (without retry, NOSCRIPT is an error as
// any other). A call refused so did not run; the calls after it may have,
// as when another client loaded the script meanwhile.
func (s *Redis) evalAppends(ctx context.Context, calls []scriptCall, pending []int, flags [][]int64, retry bool) ([]int, error) {
	cmds := make([]*redis.Cmd, len(pending))
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range pending {
			cmds[i] = s.append.EvalSha(ctx, p, calls[c].keys, calls[c].args...)
		}
		return nil
	})
	var again []int
	var err error
	for i, cmd := range cmds {
		f, cerr := cmd.Int64Slice()
		switch {
		case retry && redis.HasErrorPrefix(cerr, "NOSCRIPT"):
			again = append(again, pending[i])
		case cerr != nil:
			err = cmp.Or(err, cerr)
		default:
			flags[pending[i]] = f
		}
	}
	return again, err
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
