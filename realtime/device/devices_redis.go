package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures a registry in Redis. City is required;
// every other field has a documented default.
type RedisConfig struct {
	// City names the city, as RedisConfig.City: the registry's keys are
	// pg:{City}:devices..., in the city's hash slot.
	City string
	// ReloadEvery is how often the registry reloads even when it heard
	// of no change, should a change message have been lost; default 30 s.
	ReloadEvery time.Duration
	Config
}

// NewRedisRegistry returns the device registry of cfg.City in the
// Redis behind client, shared by every server of the city:
//
//	pg:{city}:devices          hash: device id to its JSON record (with
//	                           the SHA-256 of its key or code while active)
//	pg:{city}:devices:phones   hash: active terminal phone to device id
//	pg:{city}:devices:changed  pub/sub: the id of each device added or
//	                           revoked
//
// Each server keeps a snapshot and reloads it when a change is published,
// when its subscription is (re)established and every ReloadEvery, so a
// revocation reaches every server within one round trip. Load reads it
// first; Run follows the changes. It does no I/O until then; the caller
// keeps closing client.
func NewRedisRegistry(client redis.UniversalClient, cfg RedisConfig) (*Registry, error) {
	if cfg.City == "" || strings.ContainsAny(cfg.City, "{}") {
		return nil, fmt.Errorf("device: redis city name %q: want a non-empty name without braces", cfg.City)
	}
	if cfg.ReloadEvery <= 0 {
		cfg.ReloadEvery = 30 * time.Second
	}
	p := "pg:{" + cfg.City + "}:devices"
	b := &redisBackend{c: client, devices: p, phones: p + ":phones", channel: p + ":changed",
		addScript: redis.NewScript(addScript), revokeScript: redis.NewScript(revokeScript),
		codeScript: redis.NewScript(codeScript)}
	r := newRegistry(cfg.Config, b)
	r.follow = func(ctx context.Context) error { return b.follow(ctx, r, cfg.ReloadEvery) }
	return r, nil
}

// redisBackend is the backend of a registry in Redis.
type redisBackend struct {
	c                        redis.UniversalClient
	devices, phones, channel string
	addScript, revokeScript  *redis.Script
	codeScript               *redis.Script
}

// addScript stores a device. KEYS: devices, phones. ARGV: channel,
// id, phone, record JSON, "1" to add only an id never registered. It
// returns 0 when stored, 1 when the id is taken, 2 when the phone is.
const addScript = `
local cur = redis.call('HGET', KEYS[1], ARGV[2])
if cur and (ARGV[5] == '1' or not cjson.decode(cur).revoked) then return 1 end
if ARGV[3] ~= '' then
  local owner = redis.call('HGET', KEYS[2], ARGV[3])
  if owner and owner ~= ARGV[2] then return 2 end
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 0
`

// revokeScript revokes a device. KEYS: devices, phones. ARGV:
// channel, id, revoked-at (RFC 3339). It returns the record, false (nil)
// when there is none.
const revokeScript = `
local cur = redis.call('HGET', KEYS[1], ARGV[2])
if not cur then return false end
local d = cjson.decode(cur)
if d.revoked then return cur end
d.revoked, d.key_sha256, d.code_sha256 = ARGV[3], nil, nil
if d.phone and redis.call('HGET', KEYS[2], d.phone) == ARGV[2] then redis.call('HDEL', KEYS[2], d.phone) end
cur = cjson.encode(d)
redis.call('HSET', KEYS[1], ARGV[2], cur)
redis.call('PUBLISH', ARGV[1], ARGV[2])
return cur
`

// codeScript keeps the code of a terminal. KEYS: devices. ARGV:
// channel, id, SHA-256 of the code. It returns the record, false (nil)
// when there is none or it is revoked.
const codeScript = `
local cur = redis.call('HGET', KEYS[1], ARGV[2])
if not cur then return false end
local d = cjson.decode(cur)
if d.revoked then return false end
d.code_sha256 = ARGV[3]
cur = cjson.encode(d)
redis.call('HSET', KEYS[1], ARGV[2], cur)
redis.call('PUBLISH', ARGV[1], ARGV[2])
return cur
`

func (b *redisBackend) setCode(ctx context.Context, id, codeSum string) (record, error) {
	s, err := b.codeScript.Run(ctx, b.c, []string{b.devices}, b.channel, id, codeSum).Text()
	return updated(id, s, err)
}

func (b *redisBackend) add(ctx context.Context, rec record, ifNew bool) error {
	j, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	flag := "0"
	if ifNew {
		flag = "1"
	}
	n, err := b.addScript.Run(ctx, b.c, []string{b.devices, b.phones}, b.channel, rec.ID, rec.Phone, j, flag).Int()
	switch {
	case err != nil:
		return err
	case n == 1:
		return ErrExists
	case n == 2:
		return fmt.Errorf("%w: %s", ErrPhoneTaken, rec.Phone)
	}
	return nil
}

func (b *redisBackend) revoke(ctx context.Context, id string, at time.Time) (record, error) {
	s, err := b.revokeScript.Run(ctx, b.c, []string{b.devices, b.phones}, b.channel, id, at.Format(time.RFC3339Nano)).Text()
	return updated(id, s, err)
}

// updated reads the answer s, err of a script that changed id's record
// and returned it, or false (redis.Nil) when it has none.
func updated(id, s string, err error) (record, error) {
	if errors.Is(err, redis.Nil) {
		return record{}, fmt.Errorf("%w %q", ErrUnknown, id)
	}
	if err != nil {
		return record{}, err
	}
	var rec record
	if err := json.Unmarshal([]byte(s), &rec); err != nil {
		return record{}, fmt.Errorf("record of %s: %w", id, err)
	}
	return rec, nil
}

// load reads every record; one that does not decode is skipped, so that
// it refuses its device rather than every device.
func (b *redisBackend) load(ctx context.Context) ([]record, error) {
	all, err := b.c.HGetAll(ctx, b.devices).Result()
	if err != nil {
		return nil, err
	}
	recs := make([]record, 0, len(all))
	for id, s := range all {
		var rec record
		if err := json.Unmarshal([]byte(s), &rec); err != nil || rec.ID != id {
			continue
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// follow reloads r on each change message, on each (re)subscription and
// every `every` until ctx ends.
func (b *redisBackend) follow(ctx context.Context, r *Registry, every time.Duration) error {
	ps := b.c.Subscribe(ctx, b.channel)
	defer ps.Close()
	msgs := ps.ChannelWithSubscriptions(redis.WithChannelSize(64), redis.WithChannelHealthCheckInterval(5*time.Second))
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-msgs:
			if !ok {
				return ctx.Err()
			}
			for len(msgs) > 0 { // one reload covers every change queued
				<-msgs
			}
		case <-tick.C:
		}
		if err := r.Load(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("devices: reload failed; keeping the devices known", "err", err)
		}
	}
}
