package main

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

// simJSONMinGap is the shortest time between two rounds of a JSON worker:
// at high rates a worker gathers what fell due meanwhile into one batch.
const simJSONMinGap = 5 * time.Millisecond

// runJSON sends the fixes of every unit in batches of up to cfg.Batch as
// they fall due from t0, until each unit's series is sent or ctx ends.
// Each of cfg.Concurrency workers owns every Concurrency-th unit and has
// one request in flight, so a unit's fixes arrive in order.
func (s *simulation) runJSON(ctx context.Context, t0 time.Time) {
	var wg sync.WaitGroup
	for w := range min(s.cfg.Concurrency, len(s.units)) {
		var lanes []simLane
		for i := w; i < len(s.units); i += s.cfg.Concurrency {
			lanes = append(lanes, simLane{unit: i, series: s.series[i], of: 1})
		}
		wg.Go(func() { s.jsonWorker(ctx, t0, lanes) })
	}
	wg.Wait()
}

// simJSONFix is a fix gathered for a batch.
type simJSONFix struct {
	unit int
	at   time.Time
}

func (s *simulation) jsonWorker(ctx context.Context, t0 time.Time, lanes []simLane) {
	var batch []simJSONFix
	var body []byte
	_ = pace(ctx, t0, lanes, simJSONMinGap, func(l *simLane, k int) {
		batch = append(batch, simJSONFix{l.unit, l.series.fixTime(k)})
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
func (s *simulation) appendJSONBatch(b []byte, fixes []simJSONFix) []byte {
	b = append(b, `{"fixes":[`...)
	for i, f := range fixes {
		if i > 0 {
			b = append(b, ',')
		}
		u := s.units[f.unit]
		p, heading := u.at(f.at.UnixMilli())
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
		b = strconv.AppendInt(b, simAccuracyM, 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// simJSONAnswer is what simulate reads of the answer to a batch.
type simJSONAnswer struct {
	Results []struct {
		Status string `json:"status"`
		Code   string `json:"code"`
	} `json:"results"`
}

// postJSON posts one batch and records the outcome of each fix.
func (s *simulation) postJSON(ctx context.Context, body []byte, fixes []simJSONFix) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Server+"/api/v1/fixes", bytes.NewReader(body))
	if err != nil {
		s.stats.update(func(c *simCounts) { c.outcome(simOutcome{simFailed, "bad request"}, int64(len(fixes))) })
		return
	}
	req.Header.Set("Content-Type", "application/json")
	simAuthorize(req.Header, s.cfg.Token)
	s.stats.sent(len(fixes))
	start := time.Now()
	measured := !start.Before(s.measureFrom)
	if s.cfg.Watchers > 0 && measured {
		for _, f := range fixes {
			s.sent.put(simFixKey{s.units[f.unit].id, f.at.UnixMilli()}, start)
		}
	}
	resp, err := s.client.Do(req)
	latency := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return // interrupted: neither an answer nor a server fault
	}
	var answer simJSONAnswer
	o := classifySimJSON(resp, err, &answer)
	s.stats.update(func(c *simCounts) {
		if measured {
			c.lat.record(latency)
		}
		if o.kind != simAccepted || len(answer.Results) != len(fixes) {
			if o.kind == simAccepted {
				o = simOutcome{simFailed, "bad answer"}
			}
			c.outcome(o, int64(len(fixes)))
			return
		}
		for _, r := range answer.Results {
			switch r.Status {
			case "accepted":
				c.outcome(simOutcome{kind: simAccepted}, 1)
			case "stored":
				c.outcome(simOutcome{kind: simStored}, 1)
			default:
				c.outcome(simOutcome{simRejected, r.Code}, 1)
			}
		}
	})
}

// classifySimJSON reads and closes the answer to a batch into answer: the
// outcome of the whole request, simAccepted for a 2xx whose results are
// per fix.
func classifySimJSON(resp *http.Response, err error, answer *simJSONAnswer) simOutcome {
	if err != nil || resp.StatusCode/100 != 2 {
		return classifySimResponse(resp, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(answer); err != nil {
		return simOutcome{simFailed, "bad answer"}
	}
	return simOutcome{kind: simAccepted}
}
