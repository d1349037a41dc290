package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/uber/h3-go/v4"
)

// newClient returns an HTTP client with keep-alive connections for
// workers and bounded timeouts, going through proxy (nil: none).
func newClient(workers int, proxy func(*http.Request) (*url.URL, error)) *http.Client {
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          workers,
		MaxIdleConnsPerHost:   workers,
		MaxConnsPerHost:       workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// get sends an authorised GET of path and returns the response when its
// status is 2xx.
func get(ctx context.Context, client *http.Client, cfg Config, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Server+path, nil)
	if err != nil {
		return nil, err
	}
	authorize(req.Header, cfg.ViewerToken)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		if code, msg := apiError(resp.Body); code != "" {
			return nil, fmt.Errorf("GET %s: %s (%s: %s)", path, resp.Status, code, msg)
		}
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return resp, nil
}

func authorize(h http.Header, token string) {
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
}

// apiError reads the code and message of an API error body.
func apiError(r io.Reader) (code, message string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(r, 16<<10)).Decode(&e)
	return e.Error.Code, e.Error.Message
}

// getJSON decodes the JSON answer to an authorised GET of path into v.
func getJSON(ctx context.Context, client *http.Client, cfg Config, path string, v any) error {
	resp, err := get(ctx, client, cfg, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// planView is what a run reads of the server's plan.
type planView struct {
	Mechanisms []struct {
		ID          string  `json:"id"`
		MaxSpeedKPH float64 `json:"max_speed_kph"`
	} `json:"mechanisms"`
	Units []struct {
		ID        string  `json:"id"`
		Mechanism string  `json:"mechanism"`
		Post      h3.Cell `json:"post"`
	} `json:"units"`
}

// fetchUnits returns cfg.Units units of the server's plan, after the
// first cfg.Skip, each with its device and the time of its latest fix on
// the server.
func fetchUnits(ctx context.Context, client *http.Client, cfg Config) ([]Unit, error) {
	var devs map[string]identity
	if cfg.Devices != "" {
		var err error
		if devs, err = readDevices(cfg.Devices); err != nil {
			return nil, err
		}
	}
	var plan planView
	if err := getJSON(ctx, client, cfg, "/api/v1/plan", &plan); err != nil {
		return nil, fmt.Errorf("simulate: load plan: %w", err)
	}
	if len(plan.Units) < cfg.Skip+cfg.Units {
		return nil, fmt.Errorf("simulate: --skip %d --units %d, but the plan of %s has %d units", cfg.Skip, cfg.Units, cfg.Server, len(plan.Units))
	}
	maxKPH := make(map[string]float64, len(plan.Mechanisms))
	for _, m := range plan.Mechanisms {
		maxKPH[m.ID] = m.MaxSpeedKPH
	}
	latest, err := fetchLatest(ctx, client, cfg)
	if err != nil {
		return nil, err
	}
	units := make([]Unit, cfg.Units)
	for i, u := range plan.Units[cfg.Skip : cfg.Skip+cfg.Units] {
		units[i] = NewUnit(cfg.Skip+i, u.ID, u.Post, maxKPH[u.Mechanism])
		units[i].latest = latest[u.ID]
		if d, ok := devs[u.ID]; ok {
			units[i].dev = d
		}
	}
	return units, nil
}

// fetchLatest returns the time of every unit's latest fix on the server.
func fetchLatest(ctx context.Context, client *http.Client, cfg Config) (map[string]time.Time, error) {
	var list struct {
		Units []struct {
			ID   string     `json:"id"`
			Time *time.Time `json:"time"`
		} `json:"units"`
	}
	if err := getJSON(ctx, client, cfg, "/api/v1/units", &list); err != nil {
		return nil, fmt.Errorf("simulate: load units: %w", err)
	}
	latest := make(map[string]time.Time, len(list.Units))
	for _, u := range list.Units {
		if u.Time != nil {
			latest[u.ID] = *u.Time
		}
	}
	return latest, nil
}

// printServerMemory prints the server's resident memory from /metrics.
func printServerMemory(ctx context.Context, client *http.Client, cfg Config, out io.Writer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	resp, err := get(ctx, client, cfg, "/metrics")
	if err != nil {
		fmt.Fprintf(out, "  server memory unknown: %v\n", err)
		return
	}
	defer resp.Body.Close()
	if mf := metricFamilies(resp.Body)["process_resident_memory_bytes"]; len(mf.GetMetric()) > 0 {
		fmt.Fprintf(out, "  server RSS    %.1f MB\n", mf.GetMetric()[0].GetGauge().GetValue()/1e6)
	} else {
		fmt.Fprintln(out, "  server RSS    unknown (no process_resident_memory_bytes in /metrics)")
	}
}
