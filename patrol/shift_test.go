package patrol

import (
	"testing"
	"time"
)

// TestOnShift holds the named and the explicit shifts to their hours,
// across midnight too, and refuses shifts that do not read.
func TestOnShift(t *testing.T) {
	h := func(x float64) time.Duration { return time.Duration(x * float64(time.Hour)) }
	for _, tc := range []struct {
		shift string
		on    []float64
		off   []float64
	}{
		{"", []float64{0, 12, 23.9}, nil},
		{"24h", []float64{3, 20}, nil},
		{"day", []float64{8, 12, 19.99}, []float64{7.99, 20, 2}},
		{"night", []float64{20, 23, 0, 7.99}, []float64{8, 12, 19.99}},
		{"06:30-14:30", []float64{6.5, 14.49}, []float64{6.49, 14.5, 22}},
		{"22:00-04:00", []float64{22, 1, 3.99}, []float64{4, 12, 21.99}},
		{"16:00-24:00", []float64{16, 23.99}, []float64{0, 15.99}},
	} {
		for _, x := range tc.on {
			if !(Unit{Shift: tc.shift}).OnShift(h(x)) {
				t.Errorf("shift %q at %.2f h: off, want on", tc.shift, x)
			}
		}
		for _, x := range tc.off {
			if (Unit{Shift: tc.shift}).OnShift(h(x)) {
				t.Errorf("shift %q at %.2f h: on, want off", tc.shift, x)
			}
		}
	}
	for _, bad := range []string{"days", "8-20", "08:00-08:00", "25:00-02:00", "08:00-24:30", "8:00-20:00", "08:00–20:00"} {
		if _, _, err := shiftHours(bad); err == nil {
			t.Errorf("shift %q read", bad)
		}
	}
}
