package simulate

import (
	"strings"
	"testing"
)

func TestMetricValue(t *testing.T) {
	const text = `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes_total{a="b"} 1
process_resident_memory_bytes 4.2139648e+07
go_goroutines 12
`
	tests := []struct {
		name   string
		metric string
		want   float64
		wantOK bool
	}{
		{"scientific", "process_resident_memory_bytes", 4.2139648e+07, true},
		{"integer", "go_goroutines", 12, true},
		{"absent", "process_virtual_memory_bytes", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := metricValue(strings.NewReader(text), tc.metric)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("metricValue(%s) = %v, %v; want %v, %v", tc.metric, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
