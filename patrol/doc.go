// Package patrol is the domain of patrol deployment: mechanisms, patrol
// units, priority zones and plans, and the coverage engine that turns unit
// positions into per-cell response times and the gaps over priority zones.
//
// Positions are orb.Point values in (lon, lat) order; cells are H3 cells.
// Nothing here does I/O or starts goroutines.
package patrol
