package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

type config struct {
	server, device, viewer string
	batch, workers         int
	duration               time.Duration
	lat, lon               float64
}

func main() {
	var cfg config
	flag.StringVar(&cfg.server, "server", "http://127.0.0.1:8080", "patrolgrid server base URL")
	flag.StringVar(&cfg.device, "device-token", "", "device token for POST /api/v1/fixes")
	flag.StringVar(&cfg.viewer, "viewer-token", "", "viewer token for GET /api/v1/units")
	flag.IntVar(&cfg.batch, "batch", 1000, "fixes per request")
	flag.IntVar(&cfg.workers, "workers", 4, "concurrent requests")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long to send")
	flag.Float64Var(&cfg.lat, "lat", 43.62, "latitude near which the units stand (default: the demo city)")
	flag.Float64Var(&cfg.lon, "lon", 122.26, "longitude near which the units stand")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "batchload:", err)
		os.Exit(1)
	}
}

// totals are the counts of one worker, or of all.
type totals struct {
	requests, failed           int
	accepted, stored, rejected int
	latencies                  []time.Duration
}

func (t *totals) add(o totals) {
	t.requests += o.requests
	t.failed += o.failed
	t.accepted += o.accepted
	t.stored += o.stored
	t.rejected += o.rejected
	t.latencies = append(t.latencies, o.latencies...)
}

func run(ctx context.Context, cfg config) error {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.workers}}
	units, err := fetchUnits(ctx, client, cfg)
	if err != nil {
		return err
	}
	if len(units) < cfg.workers {
		return fmt.Errorf("%d units for %d workers", len(units), cfg.workers)
	}
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(cfg.duration))
	defer cancel()
	var mu sync.Mutex
	var all totals
	var wg sync.WaitGroup
	for w := range cfg.workers {
		wg.Go(func() {
			got := work(ctx, client, cfg, units, w, start)
			mu.Lock()
			all.add(got)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(all.latencies)
	p := func(q float64) time.Duration {
		if len(all.latencies) == 0 {
			return 0
		}
		return all.latencies[int(q*float64(len(all.latencies)-1))].Round(time.Millisecond)
	}
	fmt.Printf("json-batch: %.0f fixes/s taken (%d accepted, %d stored, %d rejected) in %d requests of %d fixes "+
		"over %.1f s, %d failed; latency p50 %v p99 %v\n",
		float64(all.accepted+all.stored)/elapsed, all.accepted, all.stored, all.rejected,
		all.requests, cfg.batch, elapsed, all.failed, p(0.5), p(0.99))
	if all.requests == 0 || all.failed == all.requests {
		return errors.New("no request succeeded")
	}
	return nil
}

func fetchUnits(ctx context.Context, client *http.Client, cfg config) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.server+"/api/v1/units", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.viewer)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v struct{ Units []struct{ ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET units: %d, %v", resp.StatusCode, err)
	}
	ids := make([]string, len(v.Units))
	for i, u := range v.Units {
		ids[i] = u.ID
	}
	return ids, nil
}

// work sends batches for the units of worker w until ctx ends.
func work(ctx context.Context, client *http.Client, cfg config, units []string, w int, start time.Time) totals {
	var mine []int
	for i := w; i < len(units); i += cfg.workers {
		mine = append(mine, i)
	}
	var t totals
	body := make([]byte, 0, cfg.batch*120)
	step := 0
	for ctx.Err() == nil {
		body = append(body[:0], `{"fixes":[`...)
		for k := range cfg.batch {
			i := mine[k%len(mine)]
			at := start.Add(time.Duration(step) * time.Microsecond).UTC()
			step++
			if k > 0 {
				body = append(body, ',')
			}
			body = append(body, `{"unit":"`...)
			body = append(body, units[i]...)
			body = append(body, `","time":"`...)
			body = at.AppendFormat(body, time.RFC3339Nano)
			body = append(body, `","lat":`...)
			body = strconv.AppendFloat(body, cfg.lat+0.002*float64(i%10), 'f', 6, 64)
			body = append(body, `,"lon":`...)
			body = strconv.AppendFloat(body, cfg.lon+0.002*float64(i/10), 'f', 6, 64)
			body = append(body, `,"accuracy_m":5}`...)
		}
		body = append(body, "]}"...)
		sent := time.Now()
		got, err := post(ctx, client, cfg, body)
		if ctx.Err() != nil {
			break // cut off by the deadline: not counted
		}
		t.requests++
		if err != nil {
			t.failed++
			continue
		}
		t.latencies = append(t.latencies, time.Since(sent))
		t.accepted += got.Accepted
		t.stored += got.Stored
		t.rejected += got.Rejected
	}
	return t
}

type batchAnswer struct{ Accepted, Stored, Rejected int }

func post(ctx context.Context, client *http.Client, cfg config, body []byte) (batchAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.server+"/api/v1/fixes", bytes.NewReader(body))
	if err != nil {
		return batchAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.device)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return batchAnswer{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return batchAnswer{}, fmt.Errorf("POST fixes: %d %s", resp.StatusCode, b)
	}
	var a batchAnswer
	return a, json.NewDecoder(resp.Body).Decode(&a)
}
