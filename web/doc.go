// Package web serves patrolgrid over HTTP: the JSON API under /api/v1
// (with the OsmAnd endpoint, answered by the same osmand.Handler as the
// OsmAnd port), the live websocket, metrics, and the embedded
// command-center map page. It alone imports gin and alone turns errors
// into HTTP statuses. Websocket connections run one reader and one writer
// goroutine each, owned by the request that upgraded them.
package web
