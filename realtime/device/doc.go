// Package device is the registry of GPS devices and their credentials:
// each device reports for one unit, shows a key (or, for a JT/T 808
// terminal, registers by its phone), and may be revoked. The registry is
// kept in memory or in Redis, shared by every server of a city.
//
// Goroutines: Registry.Run owns the goroutine that follows changes made
// by other servers; NewRegistry and NewRedisRegistry start none.
package device
