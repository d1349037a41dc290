// Package osmand speaks the OsmAnd protocol as the Traccar Client and
// other phone apps send it (GET or POST, query, form and JSON bodies): the
// decoder, the Handler that checks a request's device credentials and
// ingests its fix, and the OsmAnd port, a fasthttp server that answers
// nothing else.
//
// Goroutines: Server.Run serves on fasthttp's worker pool and returns once
// the port has stopped.
package osmand
