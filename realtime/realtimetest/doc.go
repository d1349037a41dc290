// Package realtimetest holds what the tests of the live-state packages
// share: a settable clock, waiting for a condition, a context and a city
// name per test, a TCP ingest server on a free loopback port, and an
// ingest function that records what it is handed. It imports only the fix
// model, so that every package from the store up can use it.
package realtimetest
