// Command pgcompare compares per-cell road ETAs from pgRouting with
// patrolgrid's, for bench/pgrouting.sh.
//
// It reads pgRouting's reach as points sampled along every reached road
// (start,lon,lat,eta_s), turns them into H3 cells keeping each cell's
// earliest ETA, reads patrolgrid's isochrone CSV per start
// (DIR/START.csv, cell,eta_s), and prints how many reached cells fall in
// the same 1/3/5-minute tier, the median absolute ETA difference over
// cells both reach, and the speed ratio of the two timings. It exits 1
// when a target is missed.
package main
