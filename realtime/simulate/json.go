package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// jsonMinGap is the shortest time between two rounds of a JSON worker:
// at high rates a worker gathers what fell due meanwhile into one batch.
const jsonMinGap = 5 * time.Millisecond

// runJSON sends the fixes of every unit in batches of up to cfg.Batch as
// they fall due from t0, until each unit's series is sent or ctx ends.
// Each of cfg.Concurrency workers owns every Concurrency-th unit and has
// one request in flight, so a unit's fixes arrive in order.
func (s *simulation) runJSON(ctx context.Context, t0 time.Time) {
	var wg sync.WaitGroup
	for w := range min(s.cfg.Concurrency, len(s.units)) {
		var lanes []lane
		for i := w; i < len(s.units); i += s.cfg.Concurrency {
			lanes = append(lanes, lane{unit: i, series: s.series[i], of: 1})
		}
		wg.Go(func() { s.jsonWorker(ctx, t0, lanes) })
	}
	wg.Wait()
}

// jsonFix is a fix gathered for a batch.
type jsonFix struct {
	unit int
	at   time.Time
}

func (s *simulation) jsonWorker(ctx context.Context, t0 time.Time, lanes []lane) {
	var batch []jsonFix
	var body []byte
	_ = pace(ctx, t0, lanes, jsonMinGap, func(l *lane, k int) {
		batch = append(batch, jsonFix{l.unit, l.series.fixTime(k)})
	}, func(bool) error {
		for i := 0; i < len(batch) && ctx.Err() == nil; i += s.cfg.Batch {
			part := batch[i:min(i+s.cfg.Batch, len(batch))]
			body = s.appendJSONBatch(body[:0], part)
			s.postJSON(ctx, body, part)
		}
		batch = batch[:0]
		return nil
	})
}

// appendJSONBatch appends the body of POST /api/v1/fixes holding fixes.
func (s *simulation) appendJSONBatch(b []byte, fixes []jsonFix) []byte {
	b = append(b, `{"fixes":[`...)
	for i, f := range fixes {
		if i > 0 {
			b = append(b, ',')
		}
		u := s.units[f.unit]
		p, heading := u.At(f.at.UnixMilli())
		b = append(b, `{"unit":`...)
		b = strconv.AppendQuote(b, u.id)
		b = append(b, `,"time":"`...)
		b = f.at.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, `","lat":`...)
		b = strconv.AppendFloat(b, p.Lat(), 'f', 7, 64)
		b = append(b, `,"lon":`...)
		b = strconv.AppendFloat(b, p.Lon(), 'f', 7, 64)
		b = append(b, `,"speed_mps":`...)
		b = strconv.AppendFloat(b, u.speedMPS, 'f', 2, 64)
		b = append(b, `,"heading":`...)
		b = strconv.AppendFloat(b, heading, 'f', 1, 64)
		b = append(b, `,"accuracy_m":`...)
		b = strconv.AppendInt(b, accuracyM, 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// jsonAnswer is what simulate reads of the answer to a batch.
type jsonAnswer struct {
	Results []struct {
		Status string `json:"status"`
		Code   string `json:"code"`
	} `json:"results"`
}

// postJSON posts one batch and records the outcome of each fix.
func (s *simulation) postJSON(ctx context.Context, body []byte, fixes []jsonFix) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Server+"/api/v1/fixes", bytes.NewReader(body))
	if err != nil {
		s.stats.update(func(c *counts) { c.outcome(outcome{failed, "bad request"}, int64(len(fixes))) })
		return
	}
	req.Header.Set("Content-Type", "application/json")
	authorize(req.Header, s.cfg.Token)
	s.stats.sent(len(fixes))
	start := time.Now()
	measured := !start.Before(s.measureFrom)
	if s.cfg.Watchers > 0 && measured {
		for _, f := range fixes {
			s.sent.put(fixKey{s.units[f.unit].id, f.at.UnixMilli()}, start)
		}
	}
	resp, err := s.client.Do(req)
	latency := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return // interrupted: neither an answer nor a server fault
	}
	var answer jsonAnswer
	o := classifyJSON(resp, err, &answer)
	s.stats.update(func(c *counts) {
		if measured {
			c.lat.record(latency)
		}
		answer.count(c, o, len(fixes))
	})
}

// count counts the outcomes of a batch of n fixes answered with a: each
// fix's result when o, the outcome of the request, is accepted and a has a
// result per fix, else o for every fix.
func (a *jsonAnswer) count(c *counts, o outcome, n int) {
	if o.kind != accepted || len(a.Results) != n {
		if o.kind == accepted {
			o = outcome{failed, "bad answer"}
		}
		c.outcome(o, int64(n))
		return
	}
	for _, r := range a.Results {
		switch r.Status {
		case "accepted":
			c.outcome(outcome{kind: accepted}, 1)
		case "stored":
			c.outcome(outcome{kind: stored}, 1)
		default:
			c.outcome(outcome{rejected, r.Code}, 1)
		}
	}
}

// classifyJSON reads and closes the answer to a batch into answer: the
// outcome of the whole request, accepted for a 2xx whose results are
// per fix.
func classifyJSON(resp *http.Response, err error, answer *jsonAnswer) outcome {
	if err != nil || resp.StatusCode/100 != 2 {
		return classifyResponse(resp, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(answer); err != nil {
		return outcome{failed, "bad answer"}
	}
	return outcome{kind: accepted}
}
