package realtime

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedTestData returns the path of rel (such as
// "osmand/traccar-requests.txt") in the shared test data folder: the
// folder named by PATROLGRID_TESTDATA, by default ../../shared/data
// relative to this package. When the file is missing the test is skipped,
// naming the file, or fails when CI=true or PATROLGRID_REQUIRE=1.
func sharedTestData(tb testing.TB, rel string) string {
	tb.Helper()
	path, ok := lookupSharedTestData(tb, rel)
	if !ok {
		tb.Skipf("shared test data %s not found (set PATROLGRID_TESTDATA to the folder holding it)", path)
	}
	return path
}

// lookupSharedTestData is sharedTestData for callers that can go on
// without the file, such as a fuzz target's seed corpus: it reports
// whether the file exists, failing the test when it must.
func lookupSharedTestData(tb testing.TB, rel string) (string, bool) {
	tb.Helper()
	dir := os.Getenv("PATROLGRID_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("PATROLGRID_REQUIRE") == "1" {
			tb.Fatalf("shared test data %s is required here (CI=true or PATROLGRID_REQUIRE=1): %v", path, err)
		}
		return path, false
	}
	return path, true
}
