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
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	server := flag.String("server", "net", "HTTP server: net (net/http) or fasthttp")
	wait := flag.Duration("wait", 0, "make each request wait for the next tick of a ticker of this period; 0: answer at once")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "barehttp:", err)
		os.Exit(1)
	}
	fmt.Printf("barehttp: %s on http://%s/\n", *server, ln.Addr())
	next := func() {}
	if *wait > 0 {
		next = ticks(ctx, *wait)
	}
	switch *server {
	case "net":
		err = serveNet(ctx, ln, next)
	case "fasthttp":
		err = serveFast(ctx, ln, next)
	default:
		err = fmt.Errorf("-server %q: want net or fasthttp", *server)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "barehttp:", err)
		os.Exit(1)
	}
}

// ticks returns a function that waits for the next tick of a ticker of
// period d, which runs until ctx ends.
func ticks(ctx context.Context, d time.Duration) func() {
	var mu sync.Mutex
	tick := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			mu.Lock()
			close(tick)
			tick = make(chan struct{})
			mu.Unlock()
		}
	}()
	return func() {
		mu.Lock()
		c := tick
		mu.Unlock()
		<-c
	}
}

func serveNet(ctx context.Context, ln net.Listener, wait func()) error {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		wait()
		w.WriteHeader(http.StatusOK)
	})}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func serveFast(ctx context.Context, ln net.Listener, wait func()) error {
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) { wait(); c.SetStatusCode(http.StatusOK) },
		NoDefaultServerHeader: true, NoDefaultContentType: true}
	go func() { <-ctx.Done(); _ = srv.Shutdown() }()
	return srv.Serve(ln)
}
