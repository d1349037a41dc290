package web

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
)

// The OsmAnd protocol is answered in two places: at /api/v1/osmand of the
// API, and on the OsmAnd port (osmand.Server), the address Traccar Clients
// are given. Both hand what they read to one osmand.Handler.

// osmand answers /api/v1/osmand.
func (s *Server) osmand(c *gin.Context) {
	pre := osmand.Request{Query: c.Request.URL.Query(), ContentType: c.ContentType(), Auth: c.GetHeader("Authorization")}
	if a := s.osmandHandler.Precheck(pre); !a.OK() {
		// The body, unread, may never come: the connection closes now,
		// without waiting to read past it.
		c.Header("Connection", "close")
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now())
		answer(c, a)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, osmand.MaxBody))
	if err != nil {
		s.cfg.Metrics.Malformed(fix.SourceOsmAnd)
		fail(c, http.StatusRequestEntityTooLarge, "too_large", "request body too large")
		return
	}
	r := osmand.Request{Query: c.Request.URL.Query(), ContentType: c.ContentType(), Body: body,
		Auth: c.GetHeader("Authorization")}
	if a := s.osmandHandler.Handle(c.Request.Context(), c.Request.URL.Path, r); !a.OK() {
		answer(c, a)
		return
	}
	c.Status(http.StatusOK)
}

// answer sends a of the OsmAnd handler.
func answer(c *gin.Context, a osmand.Answer) {
	failure{status: a.Status, code: a.Code, message: a.Message, header: a.Header, value: a.Value}.send(c)
}

// storeFailure logs a store error and returns its 503 answer.
func (s *Server) storeFailure(path string, err error) failure {
	s.cfg.Logger.Error("store", "path", path, "err", err)
	return failure{status: http.StatusServiceUnavailable, code: "store_unavailable",
		message: "the live store is unavailable; retry", header: "Retry-After", value: "1"}
}

func (s *Server) storeFailed(c *gin.Context, err error) {
	s.storeFailure(c.Request.URL.Path, err).send(c)
}
