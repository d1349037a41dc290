// Package road is travel on real streets: road graphs imported from an
// OpenStreetMap extract (PBF or XML) per travel profile of a profile file,
// their compiled graph file and its cache, snapping a point to the nearest
// road, the router that gives a cell's ETA as the first time a road in it
// is reached, and the router that follows the time-of-day speed bands.
// Points are orb.Point values in (lon, lat) order, as in package geo.
//
// Its readers and writers (OSM import, graph files, profile files) take an
// io.Reader or io.Writer from the caller. Only the graph cache
// (OpenNetwork, LoadNetwork, GraphCachePath) opens files: the extract it
// is given, and graph files in the cache folder it is given or else the
// user cache folder. It starts no goroutines of its own: a PBF import runs
// the osmpbf decoder's and closes it before returning, and BandRouter.Run
// runs in its caller's goroutine until its context ends.
package road
