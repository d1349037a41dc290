package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// SavePlan implements Plans with one Lua script (lua/save_plan.lua), which
// compares the versions and writes pg:{city}:plan in one step.
func (s *Redis) SavePlan(ctx context.Context, plan []byte, ifVersion int64) (int64, error) {
	b, err := compactPlan(plan)
	if err != nil {
		return 0, fmt.Errorf("store: save plan of %s: %w", s.cfg.City, err)
	}
	v, err := s.save.Run(ctx, s.c, []string{s.keys.plan}, ifVersion,
		s.cfg.Now().UTC().Format(time.RFC3339Nano), b).Int64()
	if err != nil {
		return 0, fmt.Errorf("store: save plan of %s: %w", s.cfg.City, err)
	}
	if v < 0 {
		return 0, planVersionError(-v-1, ifVersion)
	}
	return v, nil
}

// LoadPlan implements Plans.
func (s *Redis) LoadPlan(ctx context.Context) (PlanRecord, error) {
	b, err := s.c.Get(ctx, s.keys.plan).Bytes()
	if errors.Is(err, redis.Nil) {
		return PlanRecord{}, ErrNoPlan
	}
	if err != nil {
		return PlanRecord{}, fmt.Errorf("store: load plan of %s: %w", s.cfg.City, err)
	}
	var r PlanRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return PlanRecord{}, fmt.Errorf("store: load plan of %s: %w", s.cfg.City, err)
	}
	return r, nil
}
