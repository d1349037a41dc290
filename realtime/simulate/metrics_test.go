package simulate

import (
	"strings"
	"testing"
)

func TestParseServerCounts(t *testing.T) {
	const text = `# TYPE patrolgrid_fixes_total counter
patrolgrid_fixes_total{outcome="accepted",reason=""} 1200
patrolgrid_fixes_total{outcome="rejected",reason="duplicate"} 3
patrolgrid_fixes_total{outcome="rejected",reason="too_old"} 0
patrolgrid_fixes_total{outcome="stored",reason="out_of_order"} 2
patrolgrid_fixes_totally{outcome="accepted",reason=""} 9
`
	got, ok := parseServerCounts(strings.NewReader(text))
	want := ServerCounts{Accepted: 1200, Stored: 2, Rejected: 3, Rejections: map[string]int64{"duplicate": 3}}
	if !ok || got.Accepted != want.Accepted || got.Stored != want.Stored || got.Rejected != want.Rejected ||
		countsList(got.Rejections) != countsList(want.Rejections) {
		t.Errorf("parseServerCounts = %+v, %v; want %+v, true", got, ok, want)
	}
	base := ServerCounts{Accepted: 1000, Rejected: 1, Rejections: map[string]int64{"duplicate": 1}}
	if d := got.minus(base); d.Accepted != 200 || d.Rejected != 2 || d.Rejections["duplicate"] != 2 || d.Total() != 204 {
		t.Errorf("minus = %+v, want 200 accepted, 2 stored, 2 duplicates", d)
	}
	if _, ok := parseServerCounts(strings.NewReader("go_goroutines 3\n")); ok {
		t.Error("parseServerCounts of a page without the counter: ok, want not")
	}
}
