package web

import (
	"github.com/gin-gonic/gin"
)

// apiError is the body of every error answer: a stable code and a message
// for people.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func fail(c *gin.Context, status int, code, message string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	c.AbortWithStatusJSON(status, e)
}
