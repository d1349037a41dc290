// Package citytest runs a real City for tests of the packages around it
// (ingest servers, the web API): over the lattice of a plan's boundary,
// with a memory store and a settable clock, until the test ends.
package citytest
