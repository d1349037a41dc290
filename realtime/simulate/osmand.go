package simulate

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OsmAndURL returns the URL of the OsmAnd GET request of u's fix at Unix
// time ms to endpoint: a server's /api/v1/osmand or its OsmAnd port's /.
// It names u's device, with its key when the device was provisioned
// (Config.Devices).
func (u Unit) OsmAndURL(endpoint string, ms int64) string {
	p, heading := u.At(ms)
	var b strings.Builder
	b.Grow(len(endpoint) + 200)
	b.WriteString(endpoint)
	b.WriteString("?id=")
	if u.dev.given {
		b.WriteString(url.QueryEscape(u.dev.ID))
		b.WriteString("&key=")
		b.WriteString(url.QueryEscape(u.dev.Key))
	} else {
		b.WriteString(url.QueryEscape(u.id)) // the unit's id, sent with a gateway token
	}
	b.WriteString("&lat=")
	b.WriteString(strconv.FormatFloat(p.Lat(), 'f', 7, 64))
	b.WriteString("&lon=")
	b.WriteString(strconv.FormatFloat(p.Lon(), 'f', 7, 64))
	b.WriteString("&timestamp=")
	b.WriteString(strconv.FormatInt(ms, 10))
	b.WriteString("&speed=")
	b.WriteString(strconv.FormatFloat(u.speedMPS/knotMPS, 'f', 2, 64))
	b.WriteString("&bearing=")
	b.WriteString(strconv.FormatFloat(heading, 'f', 1, 64))
	b.WriteString("&accuracy=")
	b.WriteString(strconv.Itoa(accuracyM))
	return b.String()
}

// runOsmAnd sends a fix of each unit every 1/Rate seconds for
// cfg.Duration, each stamped when sent, then waits for the requests in
// flight.
func (s *simulation) runOsmAnd(ctx context.Context) {
	jobs := make(chan int, s.cfg.Concurrency)
	var workers sync.WaitGroup
	for range s.cfg.Concurrency {
		workers.Go(func() {
			for i := range jobs {
				s.send(ctx, i)
			}
		})
	}
	runCtx, cancel := context.WithTimeout(ctx, s.cfg.Duration)
	defer cancel()
	var drivers sync.WaitGroup
	for i := range s.units {
		drivers.Go(func() { s.drive(runCtx, i, jobs) })
	}
	drivers.Wait()
	close(jobs)
	workers.Wait()
}

// drive queues a fix of unit i every 1/Rate seconds, starting at an offset
// that spreads the units over the period. A fix that finds every worker
// busy and the queue full is dropped and counted.
func (s *simulation) drive(ctx context.Context, i int, jobs chan<- int) {
	period := time.Duration(float64(time.Second) / s.cfg.Rate)
	if !sleep(ctx, period*time.Duration(i)/time.Duration(len(s.units))) {
		return
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case jobs <- i:
		default:
			s.stats.drop()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// send posts one fix of unit i, stamped now, and records the outcome.
func (s *simulation) send(ctx context.Context, i int) {
	u := s.units[i]
	ms := time.Now().UnixMilli()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.OsmAndURL(s.cfg.osmandEndpoint(), ms), nil)
	if err != nil {
		s.stats.record(0, outcome{kind: failed, code: "bad request URL"})
		return
	}
	if !u.dev.given {
		authorize(req.Header, s.cfg.Token)
	}
	s.stats.sent(1)
	start := time.Now()
	measured := !start.Before(s.measureFrom)
	if s.cfg.Watchers > 0 && measured {
		s.sent.put(fixKey{u.id, ms}, start)
	}
	resp, err := s.client.Do(req)
	latency := time.Since(start)
	if !measured {
		latency = 0 // counted as sent, not as a latency sample
	}
	if err != nil && ctx.Err() != nil {
		return // interrupted: neither an answer nor a server fault
	}
	s.stats.record(latency, classifyResponse(resp, err))
}

// classifyResponse reads and closes the response of a fix request.
func classifyResponse(resp *http.Response, err error) outcome {
	switch {
	case err != nil && isTimeout(err):
		return outcome{failed, "timeout"}
	case err != nil:
		return outcome{failed, "transport"}
	}
	defer resp.Body.Close()
	switch resp.StatusCode / 100 {
	case 2:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return outcome{kind: accepted}
	case 4:
		code, _ := apiError(resp.Body)
		if code == "" {
			code = "http_" + strconv.Itoa(resp.StatusCode)
		}
		return outcome{rejected, code}
	}
	return outcome{failed, "http_" + strconv.Itoa(resp.StatusCode)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
