package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/planner"
	"github.com/patrolgrid/patrolgrid/realtime/store"
)

// maxPlanBytes bounds a request that carries a plan: the demo city's is
// about 0.4 MB.
const maxPlanBytes = 16 << 20

// plannerAnswer is a plan and its evaluation on the city's travel times.
type plannerAnswer struct {
	Plan       *patrol.Plan       `json:"plan"`
	Evaluation planner.Evaluation `json:"evaluation"`
	Moved      int                `json:"moved,omitempty"` // cells a redesign moved
	TookMS     float64            `json:"took_ms"`
	Version    *store.VersionInfo `json:"version,omitempty"`
}

// readPlan reads a plan of the city from raw JSON, answering 400 or 422
// and returning nil when it is no plan of this city at its resolution.
func (s *Server) readPlan(c *gin.Context, raw json.RawMessage) *patrol.Plan {
	if len(raw) == 0 {
		fail(c, http.StatusBadRequest, "bad_request", "a plan is required")
		return nil
	}
	p, err := patrol.ReadPlan(bytes.NewReader(raw))
	if err != nil {
		fail(c, http.StatusUnprocessableEntity, "bad_plan", err.Error())
		return nil
	}
	live := s.city.Plan()
	if p.City != live.City || p.Resolution != live.Resolution {
		fail(c, http.StatusUnprocessableEntity, "other_city", fmt.Sprintf("the plan is of %q at resolution %d; this server plans %q at %d",
			p.City, p.Resolution, live.City, live.Resolution))
		return nil
	}
	return p
}

// answerPlan evaluates p and answers it with its evaluation.
func (s *Server) answerPlan(c *gin.Context, status int, p *patrol.Plan, start time.Time, moved int) {
	if ev, ok := s.evaluate(c, p); ok {
		c.JSON(status, plannerAnswer{Plan: p, Evaluation: ev, Moved: moved, TookMS: msSince(start)})
	}
}

// evaluate scores p on the city's travel times and demand, answering 500
// and reporting false when it cannot.
func (s *Server) evaluate(c *gin.Context, p *patrol.Plan) (planner.Evaluation, bool) {
	router, demand := s.city.Travel()
	ev, err := planner.Evaluate(p, router, demand)
	if err != nil {
		s.cfg.Logger.Error("evaluate plan", "err", err)
		fail(c, http.StatusInternalServerError, "internal", "the plan could not be evaluated")
		return ev, false
	}
	return ev, true
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// evaluateLive answers the live plan with its evaluation.
func (s *Server) evaluateLive(c *gin.Context) {
	s.answerPlan(c, http.StatusOK, s.city.Plan(), time.Now(), 0)
}

// evaluatePlan answers {"plan": ...} with its evaluation.
func (s *Server) evaluatePlan(c *gin.Context) {
	var body struct {
		Plan json.RawMessage `json:"plan"`
	}
	if !decodePlanBody(c, &body, `{"plan": {...}}`) {
		return
	}
	if p := s.readPlan(c, body.Plan); p != nil {
		s.answerPlan(c, http.StatusOK, p, time.Now(), 0)
	}
}

// decodePlanBody is decodeBody for bodies that carry plans.
func decodePlanBody(c *gin.Context, v any, usage string) bool {
	return decodeBodyUpTo(c, v, usage, maxPlanBytes)
}

// design answers a design of the city's units (planner.Design on the
// live plan's city, or with "from" and "max_moved" a redesign of that
// plan with little change) with its evaluation; 429 while another runs.
func (s *Server) design(c *gin.Context) {
	var body struct {
		Mix      string          `json:"mix"`
		Seed     uint64          `json:"seed"`
		From     json.RawMessage `json:"from"`
		MaxMoved float64         `json:"max_moved"`
	}
	if !decodePlanBody(c, &body, `{"mix": "vehicle=30,...", "seed": n} or {"from": {plan}, "max_moved": 0.1}`) {
		return
	}
	if !s.designing.TryLock() {
		c.Header("Retry-After", "2")
		fail(c, http.StatusTooManyRequests, "design_running", "another design is running; try again when it is done")
		return
	}
	defer s.designing.Unlock()
	start := time.Now()
	router, demand := s.city.Travel()
	if body.From != nil {
		from := s.readPlan(c, body.From)
		if from == nil {
			return
		}
		p, moved, err := planner.Redesign(from, router, demand, body.MaxMoved, planner.DesignConfig{})
		if err != nil {
			s.designFailed(c, err)
			return
		}
		s.answerPlan(c, http.StatusOK, p, start, moved)
		return
	}
	cfg := planner.DesignConfig{Seed: body.Seed}
	if body.Mix != "" {
		mix, err := planner.ParseMix(body.Mix)
		if err != nil {
			fail(c, http.StatusBadRequest, "bad_mix", err.Error())
			return
		}
		cfg.Mix = mix
	}
	p, err := planner.Design(s.city.Plan(), router, demand, cfg)
	if err != nil {
		s.designFailed(c, err)
		return
	}
	s.answerPlan(c, http.StatusOK, p, start, 0)
}

func (s *Server) designFailed(c *gin.Context, err error) {
	if errors.Is(err, planner.ErrDesign) {
		fail(c, http.StatusUnprocessableEntity, "bad_design", err.Error())
		return
	}
	s.cfg.Logger.Error("design", "err", err)
	fail(c, http.StatusInternalServerError, "internal", "the design failed")
}

// editPlan answers a hand edit of a plan: {"plan", "cell", "unit"} moves
// the cell into the unit's area (/cells) or the unit's post to the cell
// (/posts), with the edited plan's evaluation; 409 when the edit would
// break an area.
func (s *Server) editPlan(move func(*patrol.Plan, h3.Cell, string) (*patrol.Plan, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body struct {
			Plan json.RawMessage `json:"plan"`
			Cell h3.Cell         `json:"cell"`
			Unit string          `json:"unit"`
		}
		if !decodePlanBody(c, &body, `{"plan": {...}, "cell": "H3 cell", "unit": "id"}`) {
			return
		}
		cell := body.Cell
		if !cell.IsValid() {
			fail(c, http.StatusBadRequest, "bad_cell", fmt.Sprintf("cell %v is not an H3 cell", cell))
			return
		}
		p := s.readPlan(c, body.Plan)
		if p == nil {
			return
		}
		start := time.Now()
		next, err := move(p, cell, body.Unit)
		if err != nil {
			fail(c, http.StatusConflict, "bad_edit", err.Error())
			return
		}
		s.answerPlan(c, http.StatusOK, next, start, 0)
	}
}

// movePost is planner.MovePost in the argument order of editPlan.
func movePost(p *patrol.Plan, cell h3.Cell, unit string) (*patrol.Plan, error) {
	return planner.MovePost(p, unit, cell)
}

// listVersions answers the saved plan versions.
func (s *Server) listVersions(c *gin.Context) {
	list, err := s.plans.ListVersions(c.Request.Context())
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"versions": nonNil(list)})
}

// saveVersion saves {"plan": ...} as the version named in the path.
func (s *Server) saveVersion(c *gin.Context) {
	var body struct {
		Plan json.RawMessage `json:"plan"`
	}
	if !decodePlanBody(c, &body, `{"plan": {...}}`) {
		return
	}
	p := s.readPlan(c, body.Plan)
	if p == nil {
		return
	}
	raw, err := json.Marshal(p)
	if err != nil {
		s.cfg.Logger.Error("encode plan", "err", err)
		fail(c, http.StatusInternalServerError, "internal", "the plan could not be encoded")
		return
	}
	info, err := s.plans.SaveVersion(c.Request.Context(), c.Param("name"), raw, by(c))
	switch {
	case errors.Is(err, store.ErrVersionName):
		fail(c, http.StatusBadRequest, "bad_name", err.Error())
	case err != nil:
		s.storeFailed(c, err)
	default:
		s.audit(c, "plan.version", info.Name, fmt.Sprintf("%d bytes", info.Bytes))
		c.JSON(http.StatusOK, info)
	}
}

// loadVersion answers the version named in the path, with its plan's
// evaluation.
func (s *Server) loadVersion(c *gin.Context) {
	start := time.Now()
	v, err := s.plans.LoadVersion(c.Request.Context(), c.Param("name"))
	switch {
	case errors.Is(err, store.ErrNoVersion):
		fail(c, http.StatusNotFound, "no_version", err.Error())
		return
	case err != nil:
		s.storeFailed(c, err)
		return
	}
	p, err := patrol.ReadPlan(bytes.NewReader(v.Plan))
	if err != nil {
		s.cfg.Logger.Error("saved plan version", "name", v.Name, "err", err)
		fail(c, http.StatusInternalServerError, "internal", "the saved plan does not read")
		return
	}
	if ev, ok := s.evaluate(c, p); ok {
		c.JSON(http.StatusOK, plannerAnswer{Plan: p, Evaluation: ev, TookMS: msSince(start), Version: &v.VersionInfo})
	}
}
