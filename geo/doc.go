// Package geo holds the spatial core of patrolgrid: H3 cells, travel
// profiles, travel graphs and bounded isochrones, assuming points are
// orb.Point values in (lon, lat) order, in degrees on WGS 84.
//
// It is the only package that converts between orb.Point (lon, lat) and
// h3.LatLng (lat, lng). It does no I/O and starts no goroutines.
package geo
