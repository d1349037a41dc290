package store

import (
	"context"
	"fmt"
	"slices"
)

// SavePlan implements Plans.
func (s *Memory) SavePlan(_ context.Context, plan []byte, ifVersion int64) (int64, error) {
	b, err := compactPlan(plan)
	if err != nil {
		return 0, fmt.Errorf("store: save plan: %w", err)
	}
	s.planMu.Lock()
	defer s.planMu.Unlock()
	if ifVersion >= 0 && ifVersion != s.plan.Version {
		return 0, planVersionError(s.plan.Version, ifVersion)
	}
	s.plan = PlanRecord{Version: s.plan.Version + 1, SavedAt: s.cfg.Now().UTC(), Plan: b}
	return s.plan.Version, nil
}

// LoadPlan implements Plans.
func (s *Memory) LoadPlan(context.Context) (PlanRecord, error) {
	s.planMu.Lock()
	defer s.planMu.Unlock()
	if s.plan.Version == 0 {
		return PlanRecord{}, ErrNoPlan
	}
	r := s.plan
	r.Plan = slices.Clone(r.Plan)
	return r, nil
}
