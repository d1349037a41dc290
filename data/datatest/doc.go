// Package datatest finds the shared test data (OSM extracts, device
// captures) that lives beside the repository in ../shared/data and is never
// committed, and decides what a test does when something it needs is
// missing: skip, naming the file or tool, or fail when CI=true or
// PATROLGRID_REQUIRE=1, so that under CI nothing that needs it skips.
package datatest
