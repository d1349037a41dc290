package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// SaveVersion implements Plans: the plan goes to the hash
// pg:{city}:versions and its description to pg:{city}:version_info, both
// under the name, in one MULTI.
func (s *Redis) SaveVersion(ctx context.Context, name string, plan []byte, by string) (VersionInfo, error) {
	v, err := newVersion(name, plan, by, s.cfg.Now())
	if err != nil {
		return VersionInfo{}, err
	}
	info, err := json.Marshal(v.VersionInfo)
	if err != nil {
		return VersionInfo{}, err
	}
	_, err = s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.keys.versions, name, []byte(v.Plan))
		p.HSet(ctx, s.keys.versionInfo, name, info)
		return nil
	})
	if err != nil {
		return VersionInfo{}, fmt.Errorf("store: save plan version %q of %s: %w", name, s.cfg.City, err)
	}
	return v.VersionInfo, nil
}

// ListVersions implements Plans, from pg:{city}:version_info alone.
func (s *Redis) ListVersions(ctx context.Context) ([]VersionInfo, error) {
	all, err := s.c.HGetAll(ctx, s.keys.versionInfo).Result()
	if err != nil {
		return nil, fmt.Errorf("store: plan versions of %s: %w", s.cfg.City, err)
	}
	out := make([]VersionInfo, 0, len(all))
	for name, b := range all {
		var v VersionInfo
		if err := json.Unmarshal([]byte(b), &v); err != nil {
			return nil, fmt.Errorf("store: plan version %q of %s: %w", name, s.cfg.City, err)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b VersionInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// LoadVersion implements Plans.
func (s *Redis) LoadVersion(ctx context.Context, name string) (Version, error) {
	var plan *redis.StringCmd
	var info *redis.StringCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		plan = p.HGet(ctx, s.keys.versions, name)
		info = p.HGet(ctx, s.keys.versionInfo, name)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return Version{}, fmt.Errorf("%w: %q", ErrNoVersion, name)
	}
	if err != nil {
		return Version{}, fmt.Errorf("store: plan version %q of %s: %w", name, s.cfg.City, err)
	}
	var v Version
	if err := json.Unmarshal([]byte(info.Val()), &v.VersionInfo); err != nil {
		return Version{}, fmt.Errorf("store: plan version %q of %s: %w", name, s.cfg.City, err)
	}
	v.Plan = json.RawMessage(plan.Val())
	return v, nil
}
