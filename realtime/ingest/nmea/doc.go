// Package nmea takes positions from legacy trackers that stream NMEA 0183
// over TCP: the RMC and GGA sentence decoder and encoder, the $PGID login
// line, and the server that turns a connection's sentences into fixes.
package nmea
