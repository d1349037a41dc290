package simulate

import (
	"strings"
	"testing"
	"time"
)

func TestPlanSeries(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 300e6, time.UTC)
	tests := []struct {
		name     string
		rate     float64
		d        time.Duration
		res      time.Duration
		latest   time.Time
		wantN    int
		wantStep time.Duration
		wantErr  string
	}{
		{name: "1 Hz in real time", rate: 1, d: 10 * time.Second, res: time.Second, wantN: 10, wantStep: time.Second},
		{name: "half a hertz", rate: 0.5, d: 10 * time.Second, res: time.Second, wantN: 5, wantStep: 2 * time.Second},
		{name: "milliseconds at 100 Hz", rate: 100, d: time.Second, res: time.Millisecond, wantN: 100, wantStep: 10 * time.Millisecond},
		{name: "seconds at 100 Hz", rate: 100, d: 10 * time.Second, res: time.Second, wantN: 1000, wantStep: time.Second},
		{name: "after the latest fix", rate: 100, d: 10 * time.Second, res: time.Second, latest: t0.Add(-900 * time.Second),
			wantN: 1000, wantStep: time.Second},
		{name: "a little behind the latest fix", rate: 100, d: 10 * time.Second, res: time.Second, latest: t0.Add(-800 * time.Second),
			wantN: 1000, wantStep: time.Second},
		{name: "far behind the latest fix", rate: 100, d: 10 * time.Second, res: time.Second, latest: t0,
			wantErr: "latest fix on the server"},
		{name: "past too_old", rate: 1000, d: 90 * time.Second, res: time.Second, wantErr: "too_old"},
	}
	const maxAge = 24 * time.Hour
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := planSeries(3, 8, "V04", tc.rate, tc.d, t0, tc.res, maxAge, tc.latest)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("planSeries error = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("planSeries error = %v", err)
			}
			if s.n != tc.wantN || s.step != tc.wantStep {
				t.Errorf("planSeries = %d fixes %v apart, want %d %v apart", s.n, s.step, tc.wantN, tc.wantStep)
			}
			ahead := time.Duration(0)
			if !tc.latest.IsZero() {
				ahead = serverMaxAhead - clockMargin
			}
			for k := range s.n {
				at, due := s.fixTime(k), s.due(t0, k)
				switch {
				case at.After(due.Add(ahead)):
					t.Fatalf("fix %d: time %v is after it is sent at %v (+%v)", k, at, due, ahead)
				case k > 0 && !at.After(s.fixTime(k-1)):
					t.Fatalf("fix %d: time %v is not after fix %d's %v", k, at, k-1, s.fixTime(k-1))
				case !at.After(tc.latest):
					t.Fatalf("fix %d: time %v is not after the latest fix %v", k, at, tc.latest)
				case at.Before(t0.Add(-maxAge)):
					t.Fatalf("fix %d: time %v is older than %v", k, at, maxAge)
				case at != at.Truncate(tc.res):
					t.Fatalf("fix %d: time %v is not whole %v", k, at, tc.res)
				case due.Sub(t0) >= tc.d:
					t.Fatalf("fix %d is due %v after the start, past the %v run", k, due.Sub(t0), tc.d)
				}
			}
		})
	}
}
