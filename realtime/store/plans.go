package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors of plan storage.
var (
	// ErrNoPlan is returned by Plans.LoadPlan when no plan was saved.
	ErrNoPlan = errors.New("store: no active plan")
	// ErrPlanVersion is returned by Plans.SavePlan when the stored plan's
	// version is not the one the caller read.
	ErrPlanVersion = errors.New("store: the active plan changed since it was read")
)

// Plans holds the active plan of one city, with a version that lets every
// server instance read it, change it and save it without overwriting
// another's save unseen: a save is a compare-and-set on the version.
// Implementations are safe for concurrent use; Memory and Redis are two.
type Plans interface {
	// SavePlan makes plan (JSON, stored compacted) the active plan and
	// returns its new version, the stored one plus one. With ifVersion >= 0
	// it saves only when the stored version is ifVersion (0: no plan yet)
	// and fails with ErrPlanVersion otherwise, all in one step; with a
	// negative ifVersion it always saves. A plan that is not JSON fails
	// and saves nothing.
	SavePlan(ctx context.Context, plan []byte, ifVersion int64) (int64, error)
	// LoadPlan returns the active plan, or ErrNoPlan when none was saved.
	// The record is the caller's.
	LoadPlan(ctx context.Context) (PlanRecord, error)
	// SaveVersion saves plan (JSON, stored compacted) as the named
	// version name, replacing one of that name, with by the label of who
	// saved it. A name that is not one (see VersionInfo) matches
	// ErrVersionName; a plan that is not JSON fails; neither saves.
	SaveVersion(ctx context.Context, name string, plan []byte, by string) (VersionInfo, error)
	// ListVersions describes every named version, by name.
	ListVersions(ctx context.Context) ([]VersionInfo, error)
	// LoadVersion returns the named version, or an error matching
	// ErrNoVersion. The record is the caller's.
	LoadVersion(ctx context.Context, name string) (Version, error)
}

// PlanRecord is the active plan as a store holds it (in Redis at
// pg:{city}:plan, as this struct's JSON).
type PlanRecord struct {
	// Version counts saves from 1; every save adds one. Zero: no plan.
	Version int64 `json:"version"`
	// SavedAt is the store clock when it was saved, in UTC.
	SavedAt time.Time `json:"saved_at"`
	// Plan is the plan as compacted JSON (patrol.ReadPlan reads it).
	Plan json.RawMessage `json:"plan"`
}

// compactPlan returns plan as SavePlan stores it: the same JSON without
// insignificant space. It fails when plan is not JSON.
func compactPlan(plan []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, plan); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// planVersionError is the ErrPlanVersion of a save that expected version
// read while the stored one was stored.
func planVersionError(stored, read int64) error {
	return fmt.Errorf("%w: stored version %d, read %d", ErrPlanVersion, stored, read)
}
