package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// The warnings of the city, under /api/v1/warnings:
//
//	GET  warnings                  every warning, open ones first, and the
//	                               loop's figures
//	POST warnings/:id/acknowledge  dispatcher: a supervisor takes it on
//	POST warnings/:id/handle       dispatcher: {"note"} a station is on it
//	POST warnings/:id/close        dispatcher: {"outcome","note"} closed with feedback

func (s *Server) listWarnings(c *gin.Context) {
	book := s.city.Warnings()
	c.JSON(http.StatusOK, gin.H{"warnings": book.List(), "figures": book.Figures()})
}

// warningStep answers a step of a warning's loop.
func (s *Server) warningStep(step string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body struct {
			Outcome string `json:"outcome"`
			Note    string `json:"note"`
		}
		if c.Request.ContentLength != 0 && !decodeBody(c, &body, `{"outcome": "...", "note": "..."}`) {
			return
		}
		book, id := s.city.Warnings(), c.Param("id")
		var w warning.Warning
		var err error
		switch step {
		case "acknowledge":
			w, err = book.Acknowledge(id, by(c))
		case "handle":
			w, err = book.Handle(id, by(c), body.Note)
		default:
			w, err = book.Close(id, by(c), warning.Feedback{Outcome: body.Outcome, Note: body.Note})
		}
		switch {
		case errors.Is(err, warning.ErrUnknown):
			fail(c, http.StatusNotFound, "unknown_warning", err.Error())
		case errors.Is(err, warning.ErrState):
			fail(c, http.StatusConflict, "warning_state", err.Error())
		case errors.Is(err, warning.ErrFeedback):
			fail(c, http.StatusBadRequest, "bad_feedback", err.Error())
		case err != nil:
			fail(c, http.StatusInternalServerError, "internal", err.Error())
		default:
			s.audit(c, "warning."+step, w.ID, body.Outcome)
			c.JSON(http.StatusOK, gin.H{"warning": w})
		}
	}
}
