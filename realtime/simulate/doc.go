// Package simulate drives a running server with simulated units over each
// ingest protocol and measures fix-to-map latency.
//
// A run (Run) reads the server's plan over its HTTP API, drives its first
// units around their posts (Unit) over OsmAnd, JSON batches, JT/T 808 or
// NMEA (Protocol), counts how the server answers each fix, and with
// watchers on /api/v1/live measures how long a fix takes to reach the
// live map. It prints a progress line and a summary; its messages name
// the settings of Config by their flags of `patrolgrid simulate`. The
// package reads no flags and no environment: Config holds everything.
//
// Goroutines: Run owns every goroutine of a run (HTTP workers, one
// writer and one reader per terminal connection, one reader per watcher,
// the progress printer) and has stopped them all when it returns.
package simulate
