package datatest

import (
	"os"
	"path/filepath"
	"testing"
)

// Required reports whether a missing file, tool or service must fail the
// test rather than skip it: when CI=true or PATROLGRID_REQUIRE=1.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("PATROLGRID_REQUIRE") == "1"
}

// Missing skips the test, or fails it when Required, saying what is
// missing and why.
func Missing(tb testing.TB, what string, err error) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s is required here (CI=true or PATROLGRID_REQUIRE=1): %v", what, err)
	}
	tb.Skipf("%s not found: %v", what, err)
}

// Dir returns the shared test data folder: PATROLGRID_TESTDATA when set,
// else ../shared/data beside the module's root (the folder holding
// go.mod, found from the working directory up), whichever package the
// test runs in.
func Dir() string {
	if d := os.Getenv("PATROLGRID_TESTDATA"); d != "" {
		return d
	}
	return filepath.Join(moduleRoot(), "..", "shared", "data")
}

// moduleRoot returns the nearest folder at or above the working directory
// that holds go.mod, or the working directory when there is none.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return wd
		}
		dir = parent
	}
}

// File returns the path of rel (slash-separated, such as
// "osm/monaco.osm.pbf") in the shared test data folder. When the file is
// missing the test is skipped, or fails when Required.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	path, err := lookup(rel)
	if err != nil {
		Missing(tb, "shared test data "+path+" (set PATROLGRID_TESTDATA to the folder holding it)", err)
	}
	return path
}

// Lookup is File for callers that can go on without the file, such as a
// fuzz target's seed corpus: it reports whether the file exists, and fails
// the test when it is missing and Required.
func Lookup(tb testing.TB, rel string) (string, bool) {
	tb.Helper()
	path, err := lookup(rel)
	if err != nil {
		if Required() {
			tb.Fatalf("shared test data %s is required here (CI=true or PATROLGRID_REQUIRE=1): %v", path, err)
		}
		return path, false
	}
	return path, true
}

func lookup(rel string) (string, error) {
	path := filepath.Join(Dir(), filepath.FromSlash(rel))
	_, err := os.Stat(path)
	return path, err
}
