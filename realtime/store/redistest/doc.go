// Package redistest starts real redis-server processes (single nodes,
// clusters of masters with or without replicas, Sentinels) on free
// loopback ports for tests, each with its data in the test's temporary
// folder.
//
// A process belongs to the test that started it and is stopped when that
// test ends (testing.TB.Cleanup); one goroutine per process waits for it
// to exit. Without redis-server installed, a test skips, or fails when
// CI=true or PATROLGRID_REQUIRE=1.
package redistest
