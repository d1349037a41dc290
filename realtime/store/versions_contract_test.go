package store

import (
	"errors"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// testVersions: named versions save, list by name, load back compacted,
// replace one of the same name, are seen by another instance, stay apart
// from the active plan, and refuse bad names and plans that are not JSON.
func testVersions(t *testing.T, open storeOpener, city string) {
	ctx := realtimetest.Context(t)
	p := open(t, city)
	if _, err := p.LoadVersion(ctx, "draft"); !errors.Is(err, ErrNoVersion) {
		t.Fatalf("LoadVersion before a save: %v, want ErrNoVersion", err)
	}
	if list, err := p.ListVersions(ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListVersions before a save = %v, %v", list, err)
	}
	before := time.Now().Add(-time.Second)
	for _, v := range []struct{ name, plan, by string }{
		{"night markets (B)", `{"name": "b"}`, "planner:1"}, {"draft", `{"name": "a"}`, "planner:1"}, {"draft", `{"name":  "a2"}`, "planner:2"},
	} {
		info, err := p.SaveVersion(ctx, v.name, []byte(v.plan), v.by)
		if err != nil || info.Name != v.name || info.By != v.by || info.SavedAt.Before(before) {
			t.Fatalf("SaveVersion(%q) = %+v, %v", v.name, info, err)
		}
	}
	other := open(t, city)
	list, err := other.ListVersions(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "draft" || list[1].Name != "night markets (B)" || list[0].By != "planner:2" ||
		list[0].Bytes != len(`{"name":"a2"}`) {
		t.Fatalf("ListVersions = %+v, %v", list, err)
	}
	v, err := other.LoadVersion(ctx, "draft")
	if err != nil || string(v.Plan) != `{"name":"a2"}` || v.By != "planner:2" {
		t.Fatalf("LoadVersion(draft) = %+v, %v", v, err)
	}
	if _, err := p.LoadPlan(ctx); !errors.Is(err, ErrNoPlan) {
		t.Errorf("a version became the active plan: %v", err)
	}
	for _, name := range []string{"", " lead", "trail ", "a/b", "x{y}", string(make([]byte, 65))} {
		if _, err := p.SaveVersion(ctx, name, []byte(`{}`), "x"); !errors.Is(err, ErrVersionName) {
			t.Errorf("SaveVersion(%q): %v, want ErrVersionName", name, err)
		}
	}
	if _, err := p.SaveVersion(ctx, "broken", []byte(`{"name":`), "x"); err == nil {
		t.Errorf("SaveVersion of a plan that is not JSON: no error")
	}
	if _, err := p.LoadVersion(ctx, "broken"); !errors.Is(err, ErrNoVersion) {
		t.Errorf("a refused save was kept: %v", err)
	}
}
