package web

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// mimeCSV is the media type of the compliance table as CSV.
const mimeCSV = "text/csv"

// compliance answers the compliance table of the city's plan (see
// realtime.City.Compliance): as JSON, or as CSV (see
// dispatch.Table.WriteCSV) when asked by ?format=csv or, without a format,
// by an Accept header that prefers text/csv.
func (s *Server) compliance(c *gin.Context) {
	format, ok := complianceFormat(c)
	if !ok {
		return
	}
	table, err := s.city.Compliance()
	if err != nil {
		s.cfg.Logger.Error("compliance table", "err", err)
		fail(c, http.StatusInternalServerError, "internal", "the compliance table could not be built")
		return
	}
	c.Header("Vary", "Accept")
	if format == "json" {
		table.Rows = nonNil(table.Rows)
		c.JSON(http.StatusOK, table)
		return
	}
	var buf bytes.Buffer
	if err := table.WriteCSV(&buf); err != nil {
		s.cfg.Logger.Error("compliance table", "err", err)
		fail(c, http.StatusInternalServerError, "internal", "the compliance table could not be written")
		return
	}
	c.Data(http.StatusOK, mimeCSV+"; charset=utf-8", buf.Bytes())
}

// complianceFormat returns the format the request asks for, "json" or
// "csv": its format parameter, or without one its Accept header (CSV when
// the first of its media ranges that either format matches is text/csv or
// text/*, JSON otherwise and without the header). It answers 400 and
// reports false for any other format.
func complianceFormat(c *gin.Context) (string, bool) {
	f, asked := c.GetQuery("format")
	if !asked {
		if c.NegotiateFormat(gin.MIMEJSON, mimeCSV) == mimeCSV {
			return "csv", true
		}
		return "json", true
	}
	if f != "json" && f != "csv" {
		fail(c, http.StatusBadRequest, "bad_format", fmt.Sprintf("format %q: want json or csv", f))
		return "", false
	}
	return f, true
}
