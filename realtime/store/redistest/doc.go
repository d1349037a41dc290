// Package redistest starts real redis-server processes (single nodes,
// clusters and Sentinels) on free loopback ports for tests.
package redistest
