package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/patrolgrid/patrolgrid/realtime"
)

// replay answers GET /api/v1/replay?from=T&to=T&step=D: the frames of a
// past window (RFC 3339 times; step a duration such as 10s, default 10s)
// played through the live engine again.
func (s *Server) replay(c *gin.Context) {
	from, errFrom := time.Parse(time.RFC3339, c.Query("from"))
	to, errTo := time.Parse(time.RFC3339, c.Query("to"))
	step := 10 * time.Second
	var errStep error
	if q := c.Query("step"); q != "" {
		step, errStep = time.ParseDuration(q)
	}
	if err := errors.Join(errFrom, errTo, errStep); err != nil {
		fail(c, http.StatusBadRequest, "bad_replay", "want ?from= and ?to= RFC 3339 times and ?step= a duration (10s): "+err.Error())
		return
	}
	frames, err := s.city.Replay(c.Request.Context(), from, to, step)
	switch {
	case errors.Is(err, realtime.ErrReplay):
		fail(c, http.StatusBadRequest, "bad_replay", err.Error())
	case err != nil:
		s.storeFailed(c, err)
	default:
		c.JSON(http.StatusOK, gin.H{"from": from.UTC(), "to": to.UTC(), "step_s": step.Seconds(), "frames": frames})
	}
}
