package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store/redisurl"
)

// RedisConfig configures a Redis store. The zero value is not usable:
// City is required; every other field has a documented default, which its
// zero value stands for.
type RedisConfig struct {
	// City names the city; its keys are pg:{City}:..., so a whole city lives
	// in one cluster hash slot. It must not be empty nor hold '{' or '}'.
	City string
	// HistoryAge is how long the fix stream keeps entries, measured on
	// Now against entry ids, which the Redis server's clock sets (XADD
	// MINID ~ on each write, so whole stream nodes go at once); zero means
	// 24 hours.
	HistoryAge time.Duration
	// HistoryEntries caps the fix stream's length as well: each write trims
	// it to about this many entries (XTRIM MAXLEN ~, whole stream nodes at
	// once), each entry a batch of fixes, a status or an incident; zero
	// means 1,000,000.
	HistoryEntries int64
	// HistorySkew is how far before since History starts reading the
	// stream, whose entry ids are arrival times: a fix may be up to this much
	// ahead of the server clock when it arrives. Zero means 10 minutes.
	HistorySkew time.Duration
	// CatchUpEvery is how long a subscriber may go without a pub/sub
	// message before it checks the stream for entries it missed; zero
	// means 1 s.
	CatchUpEvery time.Duration
	// Now is the clock for updated-at and saved-at times; nil means
	// time.Now.
	Now func() time.Time

	// AppendBatchMax is the most fixes one script call (and one stream
	// entry) holds: a call blocks the Redis server, for about a µs a fix.
	// Zero or less means 500.
	AppendBatchMax int
	// AppendGroupsInFlight is how many groups of concurrent Appends are
	// stored at once (see Append); zero or less means 1.
	AppendGroupsInFlight int
	// AppendLinger is how long the leader of a group that follows a group
	// of AppendLingerMin fixes or more may wait for its own group to grow
	// as large. Zero means 300 µs; a negative value, no waiting.
	AppendLinger time.Duration
	// AppendLingerMin is the size of group after which the next leader
	// lingers (AppendLinger); zero or less means 8.
	AppendLingerMin int
	// AppendGroupTimeout bounds the store call of a group of Appends,
	// which runs on for the others when its leader's context ends; zero or
	// less means 10 s.
	AppendGroupTimeout time.Duration
}

// withDefaults fills in the defaults RedisConfig documents.
func (c RedisConfig) withDefaults() RedisConfig {
	c.HistoryAge = cmp.Or(c.HistoryAge, 24*time.Hour)
	c.HistorySkew = cmp.Or(c.HistorySkew, 10*time.Minute)
	c.HistoryEntries = cmp.Or(c.HistoryEntries, 1_000_000)
	c.CatchUpEvery = cmp.Or(c.CatchUpEvery, time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
	c.AppendBatchMax = positiveOr(c.AppendBatchMax, defaultAppendBatchMax)
	c.AppendGroupsInFlight = positiveOr(c.AppendGroupsInFlight, defaultAppendGroupsInFlight)
	c.AppendLinger = cmp.Or(c.AppendLinger, defaultAppendLinger)
	c.AppendLingerMin = positiveOr(c.AppendLingerMin, defaultAppendLingerMin)
	c.AppendGroupTimeout = positiveOr(c.AppendGroupTimeout, defaultAppendGroupTimeout)
	return c
}

// positiveOr returns v when it is positive, and def otherwise.
func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// redisKeys are the keys of one city (DESIGN.md, Redis layout).
type redisKeys struct {
	pos, fixes, events, plan, unit string // unit is the prefix of unit hashes
	incidents, incidentSeq         string
	versions, versionInfo          string
}

// newRedisKeys returns the keys of city.
func newRedisKeys(city string) redisKeys {
	p := "pg:{" + city + "}:"
	return redisKeys{pos: p + "pos", fixes: p + "fixes", events: p + "events", plan: p + "plan", unit: p + "unit:",
		incidents: p + "incidents", incidentSeq: p + "incident_seq", versions: p + "versions", versionInfo: p + "version_info"}
}

// Redis is a Store, and Plans, in Redis, shared by every server instance
// of a city, with the keys of DESIGN.md (all in the city's hash slot):
//
//	pg:{city}:unit:<id>  hash: latest fix (lat, lon, time, speed, heading,
//	                     accuracy, altitude, battery, source), status,
//	                     status_by, status_at, updated
//	pg:{city}:pos        GEO set: latest position per unit
//	pg:{city}:fixes      stream, trimmed by age: one entry per batch of
//	                     accepted fixes (flags and JSON lines), status
//	                     change or incident save
//	pg:{city}:events     pub/sub: each stream entry as it is added
//	pg:{city}:plan       string: the active plan, {"version":n,...}
//	pg:{city}:incidents  hash: incident id -> the incident as JSON
//	pg:{city}:incident_seq  string: the number of the last incident
//	pg:{city}:versions      hash: plan version name -> the plan's JSON
//	pg:{city}:version_info  hash: plan version name -> its VersionInfo
//
// Requires Redis 6.2 or later (XADD MINID, exclusive XRANGE). It works
// through a single node, Sentinel or Cluster client alike. A Redis store
// is safe for concurrent use; it does not own the client. Each
// subscription owns a goroutine (see Subscribe); the store starts no other.
type Redis struct {
	c            redis.UniversalClient
	cfg          RedisConfig
	keys         redisKeys
	append       *redis.Script
	status       *redis.Script
	save         *redis.Script
	saveIncident *redis.Script
	group        *appendGroup
}

// NewRedis returns the store of cfg.City in the Redis behind client. It
// does no I/O and starts no goroutine; the caller keeps closing client.
func NewRedis(client redis.UniversalClient, cfg RedisConfig) (*Redis, error) {
	if cfg.City == "" || strings.ContainsAny(cfg.City, "{}") {
		return nil, fmt.Errorf("store: redis city name %q: want a non-empty name without braces", cfg.City)
	}
	cfg = cfg.withDefaults()
	return &Redis{c: client, cfg: cfg, keys: newRedisKeys(cfg.City),
		append: redis.NewScript(appendLua), status: redis.NewScript(statusLua),
		save: redis.NewScript(savePlanLua), saveIncident: redis.NewScript(saveIncidentLua),
		group: newAppendGroup(cfg)}, nil
}

// unitKey is the key of unit's hash.
func (s *Redis) unitKey(unit string) string { return s.keys.unit + unit }

// trim is how each write trims the stream, as its scripts read it: the id
// before which entries go (XADD MINID ~, so whole stream nodes go at
// once), HistoryAge before now, and the length it is cut to,
// HistoryEntries (XTRIM MAXLEN ~), separated by a space.
func (s *Redis) trim(now time.Time) string {
	return strconv.FormatInt(max(now.Add(-s.cfg.HistoryAge).UnixMilli(), 0), 10) + " " +
		strconv.FormatInt(max(s.cfg.HistoryEntries, 1), 10)
}

// unitFields returns the unit hash fields Latest and Units read.
func unitFields() []string {
	return []string{"lat", "lon", "time", "speed", "heading", "accuracy", "altitude", "battery", "source", "status", "status_by", "status_at", "updated"}
}

// Latest implements Store.
func (s *Redis) Latest(ctx context.Context, unit string) (fix.Fix, bool, error) {
	vals, err := s.c.HMGet(ctx, s.unitKey(unit), unitFields()...).Result()
	if err != nil {
		return fix.Fix{}, false, fmt.Errorf("store: latest fix of %s: %w", unit, err)
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
	st := UnitState{Unit: unit, Status: patrol.Status(h["status"]).Canonical(), StatusBy: h["status_by"]}
	if a, ok := h["status_at"]; ok {
		t, err := time.Parse(time.RFC3339Nano, a)
		if err != nil {
			return st, fmt.Errorf("store: unit %s status-at %q: %w", unit, a, err)
		}
		st.StatusAt = t
	}
	if u, ok := h["updated"]; ok {
		t, err := time.Parse(time.RFC3339Nano, u)
		if err != nil {
			return st, fmt.Errorf("store: unit %s updated-at %q: %w", unit, u, err)
		}
		st.UpdatedAt = t
	}
	if _, ok := h["time"]; !ok {
		return st, nil
	}
	t, err := time.Parse(time.RFC3339Nano, h["time"])
	if err != nil {
		return st, fmt.Errorf("store: unit %s fix time %q: %w", unit, h["time"], err)
	}
	var num [7]float64
	for i, k := range []string{"lon", "lat", "speed", "heading", "accuracy", "altitude", "battery"} {
		if num[i], err = strconv.ParseFloat(h[k], 64); err != nil {
			return st, fmt.Errorf("store: unit %s field %s %q: %w", unit, k, h[k], err)
		}
	}
	st.Fix = fix.Fix{Unit: unit, Time: t, Point: orb.Point{num[0], num[1]}, SpeedMPS: num[2], Heading: num[3],
		AccuracyM: num[4], AltitudeM: num[5], Battery: num[6], Source: h["source"]}
	st.HasFix = true
	return st, nil
}

// SetStatus implements Store with one Lua script.
func (s *Redis) SetStatus(ctx context.Context, unit string, ch StatusChange) error {
	now := s.cfg.Now()
	ch = ch.at(now)
	d, err := json.Marshal(statusJSON{Unit: unit, StatusChange: ch})
	if err != nil {
		return fmt.Errorf("store: encode status of %s: %w", unit, err)
	}
	err = s.status.Run(ctx, s.c, []string{s.unitKey(unit), s.keys.fixes}, s.keys.events, string(ch.Status),
		now.UTC().Format(time.RFC3339Nano), d, s.trim(now), ch.By, ch.At.Format(time.RFC3339Nano)).Err()
	if err != nil {
		return fmt.Errorf("store: set status of %s: %w", unit, err)
	}
	return nil
}

// statusJSON is a status change as the stream and the events channel
// carry it.
type statusJSON struct {
	Unit string `json:"unit"`
	StatusChange
}

// Units implements Store. It finds the unit hashes with CLUSTER
// GETKEYSINSLOT on a cluster (the city's slot only) and with SCAN on a
// single node (the whole keyspace), then reads them in one pipeline: a
// start-up cost, not one for every fix.
func (s *Redis) Units(ctx context.Context) ([]UnitState, error) {
	keys, err := s.unitKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list units of %s: %w", s.cfg.City, err)
	}
	cmds := make([]*redis.SliceCmd, len(keys))
	if _, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, k, unitFields()...)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: read units of %s: %w", s.cfg.City, err)
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

// unitKeys returns the keys of the city's unit hashes.
func (s *Redis) unitKeys(ctx context.Context) ([]string, error) {
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		return s.clusterUnitKeys(ctx, cc)
	}
	var keys []string
	iter := s.c.Scan(ctx, 0, globEscape(s.keys.unit)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// clusterUnitKeys is unitKeys on a cluster: it lists the keys of the
// city's slot on the master that holds it.
func (s *Redis) clusterUnitKeys(ctx context.Context, cc *redis.ClusterClient) ([]string, error) {
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
	var keys []string
	for _, k := range all {
		if strings.HasPrefix(k, s.keys.unit) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// globEscape escapes the characters of s that SCAN MATCH patterns treat
// as special.
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
				return fmt.Errorf("store: stream entry %s: %w", m.ID, err)
			}
			if !f.Time.Before(since) {
				out = append(out, f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", unit, err)
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
		return fmt.Errorf("store: redis store of %s: %w", s.cfg.City, err)
	}
	return nil
}

// NewRedisClient returns a client for rawURL: a single node, a Cluster or
// a Sentinel-managed master (see redisurl.New).
func NewRedisClient(rawURL string) (redis.UniversalClient, error) {
	c, err := redisurl.New(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return c, nil
}
