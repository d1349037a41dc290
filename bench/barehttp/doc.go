// Command barehttp is the HTTP ceiling for bench/ingest-http.sh: a bare
// server that answers every request 200 with an empty body, as the OsmAnd
// endpoint does, so that the load tool measures the same connections and
// requests without the ingest behind them. -server net (the default) is
// net/http, the stack of the API; -server fasthttp is the stack of the
// OsmAnd port. With -wait D each request waits for the next tick of a
// D ticker before it is answered, as an OsmAnd request waits for its group
// of fixes to be stored: the cost of a waiting request on each stack.
package main
