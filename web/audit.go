package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// listAudit answers GET /api/v1/audit (admin): the newest entries first,
// ?limit= of them (default 100, at most 1000), ?before= an entry's id for
// the page after it; "next" is the id to ask before for the next page.
func (s *Server) listAudit(c *gin.Context) {
	limit := 100
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1000 {
			fail(c, http.StatusBadRequest, "bad_request", "limit must be 1 to 1000")
			return
		}
		limit = n
	}
	entries, err := s.auditLog.ListAudit(c.Request.Context(), c.Query("before"), limit)
	if err != nil {
		s.storeFailed(c, err)
		return
	}
	body := gin.H{"entries": entries}
	if len(entries) == limit {
		body["next"] = entries[len(entries)-1].ID
	}
	c.JSON(http.StatusOK, body)
}
