// Package realtime keeps the live state of a city: it validates GPS fixes
// arriving by HTTP, OsmAnd and other protocols, stores the latest position
// and status of every unit, drives the coverage engine as units move, and
// fans the resulting changes out to live map clients over websockets.
//
// Goroutines: City.Run owns the goroutine that applies store events to the
// coverage engine and publishes diffs; Hub.Run owns the set of live clients;
// each websocket connection has one reader and one writer goroutine, owned
// by the handler that upgraded it; JT808Server.Run and NMEAServer.Run own
// one goroutine per terminal connection and wait for them before they
// return; a RedisStore subscription owns its reader until its context
// ends. Constructors start none.
package realtime
