package simulate

import "testing"

func TestCountsList(t *testing.T) {
	tests := []struct {
		in   map[string]int64
		want string
	}{
		{nil, ""},
		{map[string]int64{"duplicate": 1}, " (duplicate 1)"},
		{map[string]int64{"b": 2, "a": 2, "c": 5}, " (c 5, a 2, b 2)"},
	}
	for _, tc := range tests {
		if got := countsList(tc.in); got != tc.want {
			t.Errorf("countsList(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
