package web

import (
	"net/http"
	"os"
	"testing"
	"time"
)

// TestMain bounds every request the tests make with the default client, so
// that a server that stops answering fails the test that asked instead of
// stalling the package until go test's timeout. A plan design under -race
// on two cores busy with other work has taken over 30 s.
func TestMain(m *testing.M) {
	http.DefaultClient.Timeout = 90 * time.Second
	os.Exit(m.Run())
}

// label is the label of a token given in clear to role.
func label(role, tok string) string { return role + ":" + TokenSum(tok)[:8] }
