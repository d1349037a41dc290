package osmand_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
	"github.com/patrolgrid/patrolgrid/realtime/realtimetest"
)

// TestOsmAndPortLogsNoCredentials sends three requests the port cannot
// read, their key and bearer token in the bytes fasthttp quotes in its
// errors: the log holds neither, and one line for the address.
func TestOsmAndPortLogsNoCredentials(t *testing.T) {
	var buf realtimetest.SyncBuffer
	srv := osmand.NewServer(osmand.Config{Config: ingest.Config{Logger: slog.New(slog.NewTextHandler(&buf, nil)),
		Ingest: func(context.Context, []fix.Fix) ([]fix.Result, error) { return nil, nil }}})
	addr := realtimetest.ServeTCP(t, srv)
	for _, req := range []string{
		"GET /?id=V01&key=SECRETKEY&lat=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRETTOKEN\r\nBad Header\r\n\r\n",
		"GET /?id=V01&key=SECRETKEY HTTP/1.1\r\nAuthorization: Bearer SECRETTOKEN\r\nContent-Length: zz\r\n\r\n",
		"GET /?id=V01&key=SECRETKEY HTT\r\n\r\n",
	} {
		c, _ := net.Dial("tcp", addr)
		c.Write([]byte(req))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 4096)
		c.Read(b)
		c.Close()
	}
	realtimetest.WaitFor(t, "a log line", func() bool { return buf.String() != "" })
	time.Sleep(100 * time.Millisecond) // for any line more, which fasthttp would write after it answers
	if log := buf.String(); strings.Contains(log, "SECRET") || strings.Count(log, "\n") != 1 {
		t.Errorf("log of three unreadable requests from one address, want one line without credentials:\n%s", log)
	}
}
