// Package geo holds the spatial core of patrolgrid: H3 cells, travel
// profiles, travel graphs and bounded isochrones, assuming points are
// orb.Point values in (lon, lat) order, in degrees on WGS 84.
//
// It is the only package that converts between orb.Point (lon, lat) and
// h3.LatLng (lat, lng). Its readers and writers (OSM import, graph files,
// profile files) take an io.Reader or io.Writer from the caller. Only the
// road graph cache (OpenRoadNetwork, LoadRoadNetwork, GraphCachePath)
// opens files: the extract it is given, and graph files in the cache
// folder it is given or else the user cache folder. It starts no
// goroutines of its own; a PBF import runs the osmpbf decoder's and
// closes it before returning, and BandRouter.Run runs in its caller's
// goroutine until its context ends.
package geo
