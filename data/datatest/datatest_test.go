package datatest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirFollowsSetting(t *testing.T) {
	t.Setenv("PATROLGRID_TESTDATA", "/some/where")
	if got, want := Dir(), "/some/where"; got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
}

func TestDirBesideModuleRoot(t *testing.T) {
	t.Setenv("PATROLGRID_TESTDATA", "")
	root := moduleRoot()
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("moduleRoot() = %q holds no go.mod: %v", root, err)
	}
	if got, want := Dir(), filepath.Join(root, "..", "shared", "data"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
}

func TestLookup(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "osm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "osm", "x.osm"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATROLGRID_TESTDATA", dir)
	t.Setenv("CI", "")
	t.Setenv("PATROLGRID_REQUIRE", "")
	if p, ok := Lookup(t, "osm/x.osm"); !ok || p != filepath.Join(dir, "osm", "x.osm") {
		t.Errorf("Lookup(osm/x.osm) = %q, %v, want the file and true", p, ok)
	}
	if _, ok := Lookup(t, "osm/none.osm"); ok {
		t.Error("Lookup(osm/none.osm) = true for a missing file")
	}
}
