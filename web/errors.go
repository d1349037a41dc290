package web

import (
	"encoding/json"

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

// failure is an error answer, whichever server sends it: its status,
// body and, when set, one header (WWW-Authenticate, Retry-After).
type failure struct {
	status        int
	code, message string
	header, value string
}

func (f failure) body() []byte {
	var e apiError
	e.Error.Code, e.Error.Message = f.code, f.message
	b, _ := json.Marshal(e) // two strings always encode
	return b
}

// send answers c with f.
func (f failure) send(c *gin.Context) {
	if f.header != "" {
		c.Header(f.header, f.value)
	}
	fail(c, f.status, f.code, f.message)
}

func fail(c *gin.Context, status int, code, message string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	c.AbortWithStatusJSON(status, e)
}
