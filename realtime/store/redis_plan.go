package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors of the Redis store.
var (
	// ErrNoPlan is returned by RedisStore.LoadPlan when no plan was saved.
	ErrNoPlan = errors.New("realtime: no active plan in the store")
	// ErrPlanVersion is returned by RedisStore.SavePlan when the stored
	// plan's version is not the one the caller read.
	ErrPlanVersion = errors.New("realtime: the active plan changed since it was read")
)

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
