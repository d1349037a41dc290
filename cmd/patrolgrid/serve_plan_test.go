package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/realtime/store"
	"github.com/patrolgrid/patrolgrid/realtime/store/redistest"
)

// TestActivePlan follows the active plan of one city in Redis through the
// starts of serve that read or replace it.
func TestActivePlan(t *testing.T) {
	client := redistest.Start(t).Client(store.NewRedisClient)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	monacoFile := writeMonacoPlan(t, t.TempDir())
	start := func(cfg serveConfig) (name string, res int, version int64) {
		t.Helper()
		fromFile := mustPlan(t, cfg)
		city, err := redisCityName(cfg, fromFile)
		if err != nil {
			t.Fatal(err)
		}
		store, plan, err := openRedisStore(ctx, cfg, client, city, fromFile, logger)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := store.LoadPlan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(plan)
		if !jsonEqual(body, rec.Plan) {
			t.Errorf("served plan %q is not the stored one (version %d)", plan.Name, rec.Version)
		}
		return plan.Name, plan.Resolution, rec.Version
	}
	const city = "activeplan"
	for _, step := range []struct {
		what    string
		cfg     serveConfig
		name    string
		res     int
		version int64
	}{
		{"an empty store gets the demo city", serveConfig{redisCity: city}, "Horqin", 10, 1},
		{"a restart serves it as it is", serveConfig{redisCity: city}, "Horqin", 10, 1},
		{"--res changes it for every instance", serveConfig{redisCity: city, res: 9}, "Horqin", 9, 2},
		{"a plan file replaces it", serveConfig{redisCity: city, planFile: monacoFile}, "Monaco test", 10, 3},
		{"the same file again saves nothing", serveConfig{redisCity: city, planFile: monacoFile}, "Monaco test", 10, 3},
		{"without --plan the file's plan stays", serveConfig{redisCity: city}, "Monaco test", 10, 3},
		{"the file's own city is another city", serveConfig{planFile: monacoFile}, "Monaco test", 10, 1},
	} {
		name, res, version := start(step.cfg)
		if !strings.HasPrefix(name, step.name) || res != step.res || version != step.version {
			t.Errorf("%s: serves %q at res %d, version %d; want %q at res %d, version %d",
				step.what, name, res, version, step.name, step.res, step.version)
		}
	}

	// A stored plan that does not read fails at once, without waiting for Redis.
	if err := client.Set(ctx, "pg:{broken}:plan", `{"version":1,"saved_at":"2026-11-28T00:00:00Z","plan":{"name":1}}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, _, err := openRedisStore(ctx, serveConfig{redisCity: "broken"}, client, "broken", nil, logger); err == nil ||
		!strings.Contains(err.Error(), "active plan version 1") || time.Since(began) > 5*time.Second {
		t.Errorf("a stored plan that does not read: %v after %v, want a plan error at once", err, time.Since(began))
	}
}

func mustPlan(t *testing.T, cfg serveConfig) *patrol.Plan {
	t.Helper()
	if cfg.planFile == "" {
		return nil
	}
	p, err := loadPlan(cfg.planFile, cfg.res)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
