// Command batchload posts JSON batches of fixes to a patrolgrid server as
// fast as it answers, for bench/ingest-http.sh, and prints the fixes the
// server took per second.
//
// Each worker owns every workers-th unit of the server's plan and sends
// its units' fixes in time order (microsecond steps from the start), each
// unit standing still at a point of its own near -lat, -lon, so that
// every fix passes validation. A fix counts as taken when the server
// answered it accepted or stored, which it does only once the store has
// it.
package main
