package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/hotspot"
	"github.com/patrolgrid/patrolgrid/realtime/warning"
)

// hotspots answers GET /api/v1/hotspots: the cells where calls of one kind
// repeat, from the city's incident history (Config.History) and the
// incidents reported since, within ?days= (90) up to ?at= (now, RFC 3339),
// red at ?red= calls (6).
func (s *Server) hotspots(c *gin.Context) {
	at, cfg := time.Now(), hotspot.Config{}
	var err error
	if q := c.Query("at"); q != "" {
		if at, err = time.Parse(time.RFC3339, q); err != nil {
			fail(c, http.StatusBadRequest, "bad_hotspots", "at must be an RFC 3339 time")
			return
		}
	}
	for name, set := range map[string]func(int){"days": func(n int) { cfg.Window = time.Duration(n) * 24 * time.Hour },
		"red": func(n int) { cfg.Red = n }} {
		if q := c.Query(name); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil || n < 1 || n > 3650 {
				fail(c, http.StatusBadRequest, "bad_hotspots", name+" must be a whole number from 1 to 3650")
				return
			}
			set(n)
		}
	}
	calls, err := s.calls(c.Request.Context())
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	spots := hotspot.Find(calls, at, cfg)
	if spots == nil {
		spots = []hotspot.Hotspot{}
	}
	c.JSON(http.StatusOK, gin.H{"at": at.UTC(), "calls": len(calls), "hotspots": spots})
}

// calls returns the city's incident history and the incidents reported
// since, as calls.
func (s *Server) calls(ctx context.Context) ([]patrol.Incident, error) {
	calls := append([]patrol.Incident(nil), s.cfg.History...)
	reported, err := s.city.ListIncidents(ctx)
	if err != nil {
		return nil, err
	}
	for _, inc := range reported {
		if len(inc.Log) > 0 {
			calls = append(calls, patrol.Incident{Time: inc.Log[0].At, Point: orb.Point{inc.Lon, inc.Lat}, Kind: inc.Kind})
		}
	}
	return calls, nil
}

// warnHotspot pushes a warning, at the hotspot's level, when the
// incident just reported at p of kind makes its cell a hotspot.
func (s *Server) warnHotspot(ctx context.Context, p orb.Point, kind string) {
	calls, err := s.calls(ctx)
	if err != nil {
		s.cfg.Logger.Warn("hotspots", "err", err)
		return
	}
	cfg := hotspot.Config{}
	cell := cfg.Cell(p)
	same := calls[:0] // the calls of this kind in this cell: the one hotspot asked about
	for _, in := range calls {
		if in.Kind == kind && cfg.Cell(in.Point) == cell {
			same = append(same, in)
		}
	}
	for _, h := range hotspot.Find(same, time.Now(), cfg) {
		var lv warning.Level
		if lv.UnmarshalText([]byte(h.Level)) == nil {
			s.city.Warnings().Push("hotspot", h.Cell.String()+" "+kind, lv, "system")
		}
	}
}
