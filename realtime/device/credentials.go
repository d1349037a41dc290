package device

import (
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// BearerToken returns the token of a bearer Authorization header value,
// and false when auth is not one.
func BearerToken(auth string) (string, bool) {
	if t, ok := strings.CutPrefix(auth, "Bearer "); ok {
		return strings.TrimSpace(t), true
	}
	return "", false
}

// BasicPassword returns the password of a basic Authorization header
// value, as http.Request.BasicAuth reads it, and false when auth is not
// one.
func BasicPassword(auth string) (string, bool) {
	const prefix = "Basic "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", false
	}
	c, err := base64.StdEncoding.DecodeString(auth[len(prefix):])
	if err != nil {
		return "", false
	}
	_, pass, ok := strings.Cut(string(c), ":")
	return pass, ok
}

// TokenIn reports whether tok is one of tokens, comparing each in
// constant time so that the answer's timing tells nothing of them. An
// empty tok is in no list.
func TokenIn(tok string, tokens []string) bool {
	ok := 0
	for _, t := range tokens {
		ok |= subtle.ConstantTimeCompare([]byte(tok), []byte(t))
	}
	return tok != "" && ok == 1
}
