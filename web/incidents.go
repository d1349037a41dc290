package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
	"github.com/patrolgrid/patrolgrid/realtime"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// maxIncidentBytes bounds the body of an incident report or a dispatch.
const maxIncidentBytes = 8 << 10

// incidentAnswer is an incident with the units that may be sent to it,
// fastest first (none once it is closed).
type incidentAnswer struct {
	store.Incident
	Candidates []dispatch.Assessed `json:"candidates"`
}

// decodeBody reads c's JSON body into v, answering 400 and returning false
// when it does not read; unknown fields are errors.
func decodeBody(c *gin.Context, v any, usage string) bool {
	return decodeBodyUpTo(c, v, usage, maxIncidentBytes)
}

// decodeBodyUpTo is decodeBody for a body of at most limit bytes.
func decodeBodyUpTo(c *gin.Context, v any, usage string, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(c, http.StatusBadRequest, "bad_request", "body must be "+usage+": "+err.Error())
		return false
	}
	return true
}

func (s *Server) reportIncident(c *gin.Context) {
	var r realtime.Report
	if !decodeBody(c, &r, `{"lat": deg, "lon": deg, "priority": 1-3, "kind": "...", "note": "..."}`) {
		return
	}
	inc, cands, err := s.city.Report(c.Request.Context(), r, by(c))
	if err != nil && inc.ID == "" {
		s.incidentFailed(c, err)
		return
	}
	if err != nil { // stored, but not ranked: say so, keep the incident
		s.cfg.Logger.Error("rank units", "incident", inc.ID, "err", err)
	}
	s.audit(c, "incident.report", inc.ID, fmt.Sprintf("priority %d %s", inc.Priority, inc.Kind))
	s.warnHotspot(c.Request.Context(), orb.Point{inc.Lon, inc.Lat}, inc.Kind)
	c.Header("Location", "/api/v1/incidents/"+inc.ID)
	c.JSON(http.StatusCreated, incidentAnswer{Incident: inc, Candidates: nonNil(cands)})
}

func (s *Server) listIncidents(c *gin.Context) {
	list, err := s.city.ListIncidents(c.Request.Context())
	if err != nil {
		s.incidentFailed(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"incidents": nonNil(list)})
}

func (s *Server) getIncident(c *gin.Context) {
	inc, err := s.city.Incident(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.incidentFailed(c, err)
		return
	}
	s.answerIncident(c, http.StatusOK, inc)
}

func (s *Server) dispatchIncident(c *gin.Context) {
	var body struct {
		Unit string `json:"unit"`
	}
	if !decodeBody(c, &body, `{"unit": "unit id"}`) {
		return
	}
	inc, err := s.city.Dispatch(c.Request.Context(), c.Param("id"), body.Unit, by(c))
	if err != nil {
		s.incidentFailed(c, err)
		return
	}
	s.audit(c, "incident.dispatch", inc.ID, body.Unit)
	s.answerIncident(c, http.StatusOK, inc)
}

func (s *Server) closeIncident(c *gin.Context) {
	inc, err := s.city.Close(c.Request.Context(), c.Param("id"), by(c))
	if err != nil {
		s.incidentFailed(c, err)
		return
	}
	s.audit(c, "incident.close", inc.ID, "")
	s.answerIncident(c, http.StatusOK, inc)
}

// answerIncident answers inc with its candidates now.
func (s *Server) answerIncident(c *gin.Context, status int, inc store.Incident) {
	cands, err := s.city.Candidates(inc)
	if err != nil {
		s.cfg.Logger.Error("rank units", "incident", inc.ID, "err", err)
	}
	c.JSON(status, incidentAnswer{Incident: inc, Candidates: nonNil(cands)})
}

// incidentFailed answers the error of an incident action.
func (s *Server) incidentFailed(c *gin.Context, err error) {
	switch {
	case errors.Is(err, realtime.ErrBadIncident):
		fail(c, http.StatusUnprocessableEntity, "bad_incident", err.Error())
	case errors.Is(err, store.ErrNoIncident):
		fail(c, http.StatusNotFound, "unknown_incident", err.Error())
	case errors.Is(err, fix.ErrUnknownUnit):
		fail(c, http.StatusUnprocessableEntity, "unknown_unit", err.Error())
	case errors.Is(err, realtime.ErrIncidentState):
		fail(c, http.StatusConflict, "incident_state", err.Error())
	case errors.Is(err, realtime.ErrUnitNotAvailable):
		fail(c, http.StatusConflict, "unit_not_available", err.Error())
	case errors.Is(err, store.ErrIncidentVersion):
		fail(c, http.StatusConflict, "conflict", "the incident changed meanwhile: read it again")
	default:
		s.storeFailed(c, err)
	}
}

// nonNil returns list, or an empty list for nil, so that JSON says [].
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
