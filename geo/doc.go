// Package geo is the spatial core of patrolgrid: H3 cells and a city's
// grid of them, travel profiles, the lattice that stands in for roads, and
// bounded Dijkstra isochrones and the reverse searches that give every
// unit its drive time to an incident, assuming points are orb.Point values in
// (lon, lat) order, in degrees on WGS 84.
//
// It is the only package that converts between orb.Point (lon, lat) and
// h3.LatLng (lat, lng). It does no I/O and starts no goroutines; road
// graphs from OpenStreetMap are in package road below it.
package geo
