package simulate

import (
	"strings"
	"testing"
)

func TestMetricFamilies(t *testing.T) {
	const text = `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes_total{a="b"} 1
process_resident_memory_bytes 4.2139648e+07
go_goroutines 12
`
	mfs := metricFamilies(strings.NewReader(text))
	if got := mfs["process_resident_memory_bytes"].GetMetric(); len(got) != 1 || got[0].GetGauge().GetValue() != 4.2139648e+07 {
		t.Errorf("process_resident_memory_bytes = %v, want the gauge 4.2139648e+07", got)
	}
	if got := mfs["go_goroutines"].GetMetric(); len(got) != 1 || got[0].GetUntyped().GetValue() != 12 {
		t.Errorf("go_goroutines = %v, want 12", got)
	}
	if _, ok := mfs["process_virtual_memory_bytes"]; ok {
		t.Error("an absent metric was found")
	}
}
