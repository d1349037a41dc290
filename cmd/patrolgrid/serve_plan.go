package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// planWait is how long serve waits for Redis at start-up to read or save
// the active plan before it gives up.
const planWait = 30 * time.Second

// redisCityName is the city's name in Redis keys: --redis-city, or the
// city of the --plan file, or the demo city's.
func redisCityName(cfg serveConfig, fromFile *patrol.Plan) (string, error) {
	if cfg.redisCity != "" {
		return cfg.redisCity, nil
	}
	if fromFile != nil {
		return fromFile.City, nil
	}
	demo, err := patrol.ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		return "", err
	}
	return demo.City, nil
}

// activePlan returns the plan to serve from plans, where the city's
// active plan lives so that every instance and every restart serves the
// same one: a --plan file (at --res) becomes the active plan, saved
// when it differs from the stored one; without --plan the stored plan is
// served (at --res, saved so when --res changes it), or, when there is
// none yet, the demo city, which is then saved. Two instances starting
// together on an empty store agree on the plan saved first.
func activePlan(ctx context.Context, cfg serveConfig, plans store.Plans, fromFile *patrol.Plan, logger *slog.Logger) (*patrol.Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, planWait)
	defer cancel()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		plan, err := syncPlan(ctx, cfg, plans, fromFile)
		if err == nil || !retryable(err) {
			return plan, err
		}
		logger.Warn("active plan: redis not ready; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("active plan: redis did not answer within %v: %w", planWait, err)
		case <-time.After(wait):
		}
	}
}

// planError marks an error of the plan itself, which waiting does not cure.
type planError struct{ error }

func (e planError) Unwrap() error { return e.error }

func retryable(err error) bool {
	var pe planError
	return !errors.As(err, &pe)
}

// syncPlan makes one attempt of activePlan.
func syncPlan(ctx context.Context, cfg serveConfig, plans store.Plans, fromFile *patrol.Plan) (*patrol.Plan, error) {
	rec, err := plans.LoadPlan(ctx)
	switch {
	case errors.Is(err, store.ErrNoPlan):
		rec.Version = 0
	case err != nil:
		return nil, err
	}
	plan := fromFile
	if plan == nil && rec.Version > 0 {
		if plan, err = patrol.ReadPlan(bytes.NewReader(rec.Plan)); err != nil {
			return nil, planError{fmt.Errorf("active plan version %d in redis: %w", rec.Version, err)}
		}
		if cfg.res != 0 && cfg.res != plan.Resolution {
			if plan, err = plan.WithResolution(cfg.res); err != nil {
				return nil, planError{err}
			}
		}
	}
	if plan == nil {
		if plan, err = loadPlan("", cfg.res); err != nil {
			return nil, planError{err}
		}
	}
	body, err := json.Marshal(plan)
	if err != nil {
		return nil, planError{fmt.Errorf("encode plan: %w", err)}
	}
	if rec.Version > 0 && jsonEqual(rec.Plan, body) {
		return plan, nil
	}
	ifVersion := rec.Version
	if fromFile != nil {
		ifVersion = -1 // the file wins whatever was saved meanwhile
	}
	switch _, err := plans.SavePlan(ctx, body, ifVersion); {
	case errors.Is(err, store.ErrPlanVersion): // another instance saved first: serve its plan
		return syncPlan(ctx, cfg, plans, fromFile)
	case err != nil:
		return nil, err
	}
	return plan, nil
}

// jsonEqual reports whether a and b are the same JSON text once compacted.
func jsonEqual(a, b []byte) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// openRedisStore returns the Redis store of city, and the plan to serve
// from it (see activePlan).
func openRedisStore(ctx context.Context, cfg serveConfig, client redis.UniversalClient, city string, fromFile *patrol.Plan, logger *slog.Logger) (*store.Redis, *patrol.Plan, error) {
	rs, err := store.NewRedis(client, store.RedisConfig{City: city, HistoryEntries: cfg.historyEntries})
	if err != nil {
		return nil, nil, err
	}
	plan, err := activePlan(ctx, cfg, rs, fromFile, logger)
	if err != nil {
		return nil, nil, err
	}
	return rs, plan, nil
}
