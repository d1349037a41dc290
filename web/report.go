package web

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/patrolgrid/patrolgrid/realtime"
)

// shiftReport answers GET /api/v1/report?from=T&to=T (RFC 3339): the
// shift report as JSON; GET /report with the same query prints it.
func (s *Server) shiftReport(html bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		from, errFrom := time.Parse(time.RFC3339, c.Query("from"))
		to, errTo := time.Parse(time.RFC3339, c.Query("to"))
		if err := errors.Join(errFrom, errTo); err != nil {
			fail(c, http.StatusBadRequest, "bad_report", "want ?from= and ?to= RFC 3339 times: "+err.Error())
			return
		}
		rep, err := s.city.ShiftReport(c.Request.Context(), from, to)
		switch {
		case errors.Is(err, realtime.ErrReplay):
			fail(c, http.StatusBadRequest, "bad_report", err.Error())
		case err != nil:
			s.storeFailed(c, err)
		case html:
			c.Header("Content-Type", "text/html; charset=utf-8")
			if err := reportPage.Execute(c.Writer, reportView{ShiftReport: rep, City: s.city.Plan().Name}); err != nil {
				s.cfg.Logger.Error("report page", "err", err)
			}
		default:
			c.JSON(http.StatusOK, rep)
		}
	}
}

// reportView is what the printable page shows.
type reportView struct {
	realtime.ShiftReport
	City string
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"t": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"tp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("15:04:05")
	},
	"s": func(v *float64) string {
		if v == nil {
			return "not recorded"
		}
		return (time.Duration(*v) * time.Second).String()
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shift report — {{.City}}</title>
<style>body{font:13px/1.4 system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;margin:8px 0 18px}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}th{background:#eee}h1{font-size:20px}h2{font-size:15px;margin-top:18px}
@media print{body{margin:0}}</style></head><body>
<h1>Shift report — {{.City}}</h1>
<p>{{t .From}} to {{t .To}}</p>
<h2>Incidents ({{len .Incidents}})</h2>
<p>Reached within 1 min: {{index .Within 0}} · within 3 min: {{index .Within 1}} · within 5 min: {{index .Within 2}} · later: {{.Later}} · arrival not recorded: {{.Unknown}}</p>
<table><tr><th>ID</th><th>Priority</th><th>Kind</th><th>Reported</th><th>Dispatched</th><th>Unit</th><th>On scene</th><th>Response</th><th>State</th></tr>
{{range .Incidents}}<tr><td>{{.ID}}</td><td>P{{.Priority}}</td><td>{{.Kind}}</td><td>{{t .Reported}}</td><td>{{tp .Dispatched}}</td><td>{{.Unit}}</td><td>{{tp .OnScene}}</td><td>{{s .ResponseS}}</td><td>{{.State}}</td></tr>
{{end}}</table>
<h2>Zones: minutes in gap</h2>
<table><tr><th>Zone</th><th>Minutes in gap</th></tr>
{{range .Zones}}<tr><td>{{.Name}} ({{.ID}})</td><td>{{printf "%.0f" .GapMinutes}}</td></tr>
{{end}}</table>
<h2>Warnings ({{len .Warnings}})</h2>
<p>Closed through the loop: {{.Figures.ThroughLoop}} of {{.Figures.Closed}} closed · escalated: {{.Figures.Escalated}}</p>
<table><tr><th>ID</th><th>Kind</th><th>Subject</th><th>Level</th><th>State</th><th>Pushed</th><th>Feedback</th></tr>
{{range .Warnings}}<tr><td>{{.ID}}</td><td>{{.Kind}}</td><td>{{.Subject}}</td><td>{{.Level}}</td><td>{{.State}}</td><td>{{t (index .Steps 0).At}}</td><td>{{with .Feedback}}{{.Outcome}}{{if .Note}}: {{.Note}}{{end}}{{end}}</td></tr>
{{end}}</table>
</body></html>`))
