// Package fix is the GPS fix model: one position report of a patrol unit
// in (lon, lat) order on WGS 84, its validation against the clock and the
// unit's latest fix (each refusal with a stable code, a client contract),
// the outcome of ingesting it, and its fast JSON codec.
package fix
