// Command livesink holds map clients on a patrolgrid server's live feed,
// /api/v1/live, for bench/soak.sh: each negotiates permessage-deflate, as
// browsers do, and reads every frame the server sends, and when the
// server drops it (too slow) or the connection fails it reconnects as
// the map page does, after 1 s doubling to 30 s, ±25%, reset by a
// snapshot. It does not inflate or parse what it reads (-inflate inflates
// it): the server does all its work for the client either way, and on a
// machine the server shares, parsing the JSON of hundreds of clients
// would take the cores from the server it measures. -read-every P makes
// each client read its socket at most every P, taking what came
// meanwhile in one read, as a busy browser tab does.
//
// It prints a line every -every (clients connected, messages and wire
// bytes per second, drops and reconnects so far) and a summary; the
// viewer token is -token or PATROLGRID_TOKEN.
package main
