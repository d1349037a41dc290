package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
)

// listeners are the open sockets of serve; nil for a server that is off.
type listeners struct {
	http, jt808, nmea, osmand net.Listener
	scheme                    string // of http and osmand: "http", or "https" once withTLS wrapped them
}

// loadTLS returns the TLS configuration of --tls-cert and --tls-key, nil
// without them.
func loadTLS(cfg serveConfig) (*tls.Config, error) {
	if cfg.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", cfg.tlsCert, cfg.tlsKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// withTLS returns lns with the HTTP and OsmAnd listeners speaking TLS on
// c; lns as they are for a nil c.
func (lns listeners) withTLS(c *tls.Config) listeners {
	if c == nil {
		return lns
	}
	lns.http = tls.NewListener(lns.http, c)
	if lns.osmand != nil {
		lns.osmand = tls.NewListener(lns.osmand, c)
	}
	lns.scheme = "https"
	return lns
}

// listenAll opens the HTTP address and the ingest addresses, closing
// what it opened when one fails.
func listenAll(ctx context.Context, httpAddr string, in ingestListen) (listeners, error) {
	var lns listeners
	var lc net.ListenConfig
	for _, l := range []struct {
		addr string
		ln   *net.Listener
	}{{httpAddr, &lns.http}, {in.jt808, &lns.jt808}, {in.nmea, &lns.nmea}, {in.osmand, &lns.osmand}} {
		if l.addr == "" {
			continue
		}
		ln, err := lc.Listen(ctx, "tcp", l.addr)
		if err != nil {
			lns.close()
			return listeners{}, err
		}
		*l.ln = ln
	}
	return lns, nil
}

func (lns listeners) close() {
	for _, ln := range []net.Listener{lns.http, lns.jt808, lns.nmea, lns.osmand} {
		if ln != nil {
			ln.Close()
		}
	}
}

// print says where the ingest servers listen, one line each, so that
// people and tests can find ports chosen by the system.
func (lns listeners) print(w io.Writer) {
	if lns.jt808 != nil {
		fmt.Fprintf(w, "patrolgrid: JT/T 808 terminals on tcp://%s\n", lns.jt808.Addr())
	}
	if lns.nmea != nil {
		fmt.Fprintf(w, "patrolgrid: NMEA trackers on tcp://%s\n", lns.nmea.Addr())
	}
	if lns.osmand != nil {
		fmt.Fprintf(w, "patrolgrid: OsmAnd (Traccar Client) on %s://%s/\n", cmp.Or(lns.scheme, "http"), lns.osmand.Addr())
	}
}
