package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// Both stores hold plans.
var (
	_ Plans = (*Memory)(nil)
	_ Plans = (*Redis)(nil)
)

// runPlansContract runs the plan tests on the stores open opens (each of
// TestStoreContract's), each test in its own city.
func runPlansContract(t *testing.T, open storeOpener) {
	runSuite(t, open, []contractTest{
		{"NoPlanYet", testPlansNoPlanYet},
		{"CompareAndSet", testPlansCompareAndSet},
		{"NotJSON", testPlansNotJSON},
		{"OtherInstances", testPlansOtherInstances},
		{"ConcurrentSavers", testPlansConcurrentSavers},
		{"TwoCities", testPlansTwoCities},
		{"Versions", testVersions},
	})
}

func testPlansNoPlanYet(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	if r, err := open(t, city).LoadPlan(ctx); !errors.Is(err, ErrNoPlan) {
		t.Fatalf("LoadPlan() before any save = %+v, %v, want ErrNoPlan", r, err)
	}
}

// testPlansCompareAndSet: a save with the version read succeeds and adds
// one, a save with another fails and changes nothing, a negative version
// always saves. The plan's own "version" is not the record's.
func testPlansCompareAndSet(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	p := open(t, city)
	before := time.Now()
	for i, st := range []struct {
		ifVersion, want int64
		err             error
	}{{0, 1, nil}, {0, 0, ErrPlanVersion}, {1, 2, nil}, {-1, 3, nil}, {2, 0, ErrPlanVersion}} {
		plan := fmt.Sprintf(`{"name": "plan %d", "version": 99}`, i)
		v, err := p.SavePlan(ctx, []byte(plan), st.ifVersion)
		if v != st.want || !errors.Is(err, st.err) {
			t.Fatalf("SavePlan(if %d) = %d, %v, want %d, %v", st.ifVersion, v, err, st.want, st.err)
		}
	}
	r, err := p.LoadPlan(ctx)
	if err != nil || r.Version != 3 || string(r.Plan) != `{"name":"plan 3","version":99}` {
		t.Fatalf("LoadPlan() = %+v (%s), %v, want version 3 of plan 3, compacted", r, r.Plan, err)
	}
	if r.SavedAt.Before(before) || r.SavedAt.After(time.Now()) || r.SavedAt.Location() != time.UTC {
		t.Errorf("LoadPlan().SavedAt = %v, want in UTC between %v and now", r.SavedAt, before)
	}
}

// testPlansNotJSON: a plan that is not JSON is refused and saves nothing.
func testPlansNotJSON(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	p := open(t, city)
	if _, err := p.SavePlan(ctx, []byte(`{"name":`), -1); err == nil {
		t.Error("SavePlan(not JSON) = nil error, want one")
	}
	if _, err := p.LoadPlan(ctx); !errors.Is(err, ErrNoPlan) {
		t.Errorf("LoadPlan() after a refused save = %v, want ErrNoPlan", err)
	}
}

// testPlansOtherInstances: a plan saved through one store object is the
// one another on the same city loads and saves over; the loaded record is
// the caller's to change.
func testPlansOtherInstances(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	a, b := open(t, city), open(t, city)
	if _, err := a.SavePlan(ctx, []byte(`{"name":"a"}`), 0); err != nil {
		t.Fatal(err)
	}
	r, err := b.LoadPlan(ctx)
	if err != nil || r.Version != 1 || string(r.Plan) != `{"name":"a"}` {
		t.Fatalf("LoadPlan() on another instance = %+v (%s), %v, want version 1 of a", r, r.Plan, err)
	}
	clear(r.Plan)
	if v, err := b.SavePlan(ctx, []byte(`{"name":"b"}`), r.Version); v != 2 || err != nil {
		t.Fatalf("SavePlan(if 1) on another instance = %d, %v, want 2", v, err)
	}
	if r, err := a.LoadPlan(ctx); err != nil || r.Version != 2 || string(r.Plan) != `{"name":"b"}` {
		t.Fatalf("LoadPlan() = %+v (%s), %v, want version 2 of b", r, r.Plan, err)
	}
}

// testPlansConcurrentSavers: instances that each read, change and save
// the plan, reading again when another saved first, lose no change.
//
//	writer 0: load v0 ─ save if 0 ✓
//	writer 1: load v0 ─ save if 0 ✗ ─ load v1 ─ save if 1 ✓
//	...       each adds its name to the plan's list once
func testPlansConcurrentSavers(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	const writers = 6
	var wg sync.WaitGroup
	for w := range writers {
		p := open(t, city)
		wg.Go(func() {
			if err := addToPlan(ctx, p, fmt.Sprintf("w%d", w)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r, err := open(t, city).LoadPlan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Names []string }
	if err := json.Unmarshal(r.Plan, &got); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got.Names)
	if r.Version != writers || len(got.Names) != writers || len(slices.Compact(got.Names)) != writers {
		t.Errorf("after %d savers: version %d, names %v; want version %d with every name once",
			writers, r.Version, got.Names, writers)
	}
}

// addToPlan adds name to the plan's list of names, reading the plan again
// whenever another save came first.
func addToPlan(ctx context.Context, p Plans, name string) error {
	for {
		var plan struct{ Names []string }
		r, err := p.LoadPlan(ctx)
		switch {
		case errors.Is(err, ErrNoPlan):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(r.Plan, &plan); err != nil {
				return err
			}
		}
		plan.Names = append(plan.Names, name)
		body, _ := json.Marshal(plan)
		if _, err = p.SavePlan(ctx, body, r.Version); !errors.Is(err, ErrPlanVersion) {
			return err
		}
	}
}

// testPlansTwoCities: two cities' plans are apart.
func testPlansTwoCities(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	a, b := open(t, city+".a"), open(t, city+".b")
	if _, err := a.SavePlan(ctx, []byte(`{"name":"a"}`), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.LoadPlan(ctx); !errors.Is(err, ErrNoPlan) {
		t.Errorf("city b LoadPlan() = %v, want ErrNoPlan", err)
	}
	if v, err := b.SavePlan(ctx, []byte(`{"name":"b"}`), 0); v != 1 || err != nil {
		t.Errorf("city b SavePlan(if 0) = %d, %v, want version 1", v, err)
	}
}
