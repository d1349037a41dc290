// Command patrolgrid runs the patrol coverage service and its tools; it
// reads flags and environment, wires the packages together and handles
// signals, and holds no logic of its own.
//
//	patrolgrid serve [flags]      the live service (API, map, ingest)
//	patrolgrid simulate [flags]   drive a running server with simulated units
//	patrolgrid isochrone [flags]  the cells a unit reaches from a point, as CSV or GeoJSON
//
// Every flag can also be set by an environment variable: --listen is
// PATROLGRID_LISTEN, --viewer-token is PATROLGRID_VIEWER_TOKEN, and so on;
// a flag on the command line wins over its variable (see parseFlags).
package main
