package simulate

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// startProgress prints a progress line every cfg.Progress: on a terminal one
// line rewritten in place, else a line each time. The returned function
// stops it.
func (s *simulation) startProgress(ctx context.Context, out io.Writer, start time.Time) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	printed := false
	wg.Go(func() {
		t := time.NewTicker(s.cfg.Progress)
		defer t.Stop()
		prev, prevAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				prev, prevAt = s.printProgress(ctx, out, start, now, prev, prevAt), now
				printed = true
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		if s.cfg.Terminal && printed {
			fmt.Fprintln(out)
		}
	}
}

// printProgress prints the progress line at now, its rate over the time
// since prevAt, when prev fixes had been sent, and returns the fixes sent
// by now.
func (s *simulation) printProgress(ctx context.Context, out io.Writer, start, now time.Time, prev int64, prevAt time.Time) int64 {
	sum := s.summary(now.Sub(start))
	if s.cfg.Protocol == NMEA && s.serverBase != nil {
		if c, err := s.serverCounts(ctx); err == nil {
			sum.Server = &c
		}
	}
	line := sum.progressLine(float64(sum.Sent-prev)/now.Sub(prevAt).Seconds(), s.cfg)
	if s.cfg.Terminal {
		fmt.Fprintf(out, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(out, line)
	}
	s.sent.prune(now.Add(-time.Minute))
	return sum.Sent
}
