package realtime

import (
	"errors"
	"fmt"
	"testing"

	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/prometheus/client_golang/prometheus"
)

// fixCounts gathers patrolgrid_fixes_total from reg by outcome and reason.
func fixCounts(t *testing.T, reg *prometheus.Registry) map[fixKey]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[fixKey]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "patrolgrid_fixes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var k fixKey
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "outcome":
					k.outcome = fix.Outcome(l.GetValue())
				case "reason":
					k.reason = l.GetValue()
				}
			}
			out[k] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestMetricsFixes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, NewHub(HubConfig{}))
	results := []fix.Result{
		{Outcome: fix.Accepted},
		{Outcome: fix.Accepted},
		{Outcome: fix.Stored, Err: fix.ErrOutOfOrder},
		{Outcome: fix.Rejected, Err: fmt.Errorf("%w: 3 s late", fix.ErrDuplicate)},
		{Outcome: fix.Rejected, Err: fix.ErrDuplicate},
		{Outcome: fix.Rejected, Err: fmt.Errorf("%w %q", fix.ErrUnknownUnit, "X")},
		{Outcome: fix.Rejected, Err: errors.New("something else")},
	}
	for _, r := range results {
		m.fix(r)
	}
	counts := fixCounts(t, reg)
	for _, tc := range []struct {
		outcome fix.Outcome
		reason  string
		want    float64
	}{
		{fix.Accepted, "", 2},
		{fix.Stored, fix.Code(fix.ErrOutOfOrder), 1},
		{fix.Rejected, fix.Code(fix.ErrDuplicate), 2},
		{fix.Rejected, fix.Code(fix.ErrUnknownUnit), 1},
		{fix.Rejected, "", 1},
		{fix.Rejected, fix.Code(fix.ErrPoorAccuracy), 0},
	} {
		if got := counts[fixKey{tc.outcome, tc.reason}]; got != tc.want {
			t.Errorf("patrolgrid_fixes_total{outcome=%q,reason=%q} = %v, want %v", tc.outcome, tc.reason, got, tc.want)
		}
	}
	if got, want := len(counts), len(fix.Codes())+3; got != want {
		t.Errorf("%d series, want %d: one per rejection code, accepted, stored and an unknown rejection", got, want)
	}
	var none *Metrics
	none.fix(fix.Result{Outcome: fix.Accepted}) // counts nothing, does not panic
}

func BenchmarkMetricsFix(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry(), NewHub(HubConfig{}))
	for _, r := range []fix.Result{{Outcome: fix.Accepted}, {Outcome: fix.Stored, Err: fix.ErrOutOfOrder}} {
		b.Run(string(r.Outcome), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.fix(r)
			}
		})
	}
}
