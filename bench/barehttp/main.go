// Command barehttp is the HTTP ceiling for bench/ingest-http.sh: a bare
// server that answers every request 200 with an empty body, as the OsmAnd
// endpoint does, so that the load tool measures the same connections and
// requests without the ingest behind them. -server net (the default) is
// net/http, the stack of the API; -server fasthttp is the stack of the
// OsmAnd port.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/valyala/fasthttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	server := flag.String("server", "net", "HTTP server: net (net/http) or fasthttp")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "barehttp:", err)
		os.Exit(1)
	}
	fmt.Printf("barehttp: %s on http://%s/\n", *server, ln.Addr())
	switch *server {
	case "net":
		err = serveNet(ctx, ln)
	case "fasthttp":
		err = serveFast(ctx, ln)
	default:
		err = fmt.Errorf("-server %q: want net or fasthttp", *server)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "barehttp:", err)
		os.Exit(1)
	}
}

func serveNet(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func serveFast(ctx context.Context, ln net.Listener) error {
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) { c.SetStatusCode(http.StatusOK) },
		NoDefaultServerHeader: true, NoDefaultContentType: true}
	go func() { <-ctx.Done(); _ = srv.Shutdown() }()
	return srv.Serve(ln)
}
