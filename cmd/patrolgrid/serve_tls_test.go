package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns their files and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "patrolgrid test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS serves the API and the OsmAnd port over TLS: both answer
// a client that trusts the certificate, neither answers plain HTTP.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	base, out, stop := startServe(t, "--demo", "--tls-cert", certFile, "--tls-key", keyFile)
	defer stop()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("serve printed %s, want an https address", base)
	}
	m := regexp.MustCompile(`OsmAnd \(Traccar Client\) on (https://127\.0\.0\.1:\d+/)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve printed no https OsmAnd port: %q", out.String())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz over TLS: %v, %v", resp, err)
	}
	resp.Body.Close()
	resp, err = client.Post(m[1]+"?id=V01&key=demo-V01&lat=43.62&lon=122.26", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("OsmAnd fix over TLS: %v, %v", resp, err)
	}
	resp.Body.Close()
	plain := &http.Client{Timeout: 5 * time.Second}
	for _, url := range []string{"http" + strings.TrimPrefix(base, "https") + "/healthz", "http" + strings.TrimPrefix(m[1], "https")} {
		if resp, err := plain.Get(url); err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			t.Errorf("plain GET %s answered 200, want no answer over HTTP", url)
		}
	}
	for _, args := range [][]string{{"--tls-cert", certFile}, {"--tls-key", keyFile}} {
		if _, err := parseServeArgs(args, func(string) (string, bool) { return "", false }); err == nil {
			t.Errorf("serve %v: want an error for a certificate without its key or the other way", args)
		}
	}
}

// TestServeAPIMaxConns: with --max-conns 2, a third connection to the API
// is not served while two are open, and is once one closes.
func TestServeAPIMaxConns(t *testing.T) {
	base, _, stop := startServe(t, "--demo", "--max-conns", "2")
	defer stop()
	addr := strings.TrimPrefix(base, "http://")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond) // both taken by the server
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprintf(third, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, err := third.Read(make([]byte, 64)); err == nil {
		t.Fatalf("a third connection was served while two were open: %d bytes", n)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(third).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Errorf("the third connection once one closed: %q, %v; want 200", line, err)
	}
}
