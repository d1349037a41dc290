// Package ingest is what every GPS ingest server shares: the settings
// they take (the device registry, the function fixes are handed to,
// timeouts, connection limit, metrics), the TCP accept loop, and the
// deadlines of a connection. Each protocol is a package below it: jt808,
// nmea and osmand, each with its decoder and its server, every server of
// the shape Config, NewServer(Config), Run(ctx, listener) error.
//
// Goroutines: TCPServer.Run owns one goroutine per connection and waits
// for them before it returns.
package ingest
