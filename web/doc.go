// Package web serves patrolgrid over HTTP: the JSON API under /api/v1, the
// live websocket, GPS ingest endpoints, metrics, and the embedded
// command-center map page; and the OsmAnd port, on fasthttp (see
// NewOsmAndServer). It alone imports gin and alone turns errors into HTTP
// statuses. Websocket connections run one reader and one writer goroutine
// each, owned by the request that upgraded them.
package web
