// Package realtime holds the live City and the websocket Hub: the City
// follows a store's fixes and statuses into the coverage engine, tracks
// each zone's gap and raises alerts as gaps open and close, and the Hub
// and its pump carry the City's views, a snapshot and then diffs, to live
// map clients.
//
// The City validates fixes with realtime/fix and keeps its state in a
// realtime/store.Store; the servers of realtime/ingest/... and package web
// hand fixes to City.Ingest.
//
// Goroutines: City.Run owns the goroutine that applies store events to the
// coverage engine and publishes diffs; Hub.Run owns the set of live
// clients; Hub.Serve runs a websocket connection's writer in the calling
// goroutine and owns its one reader goroutine, which it waits for before it
// returns. Constructors start none.
package realtime
