package ingest

import (
	"fmt"
	"testing"
	"time"
)

// TestLimits: a key takes its burst at once, then its rate; keys are
// apart; a nil Limits allows everything; past its cap it forgets the
// idlest keys.
func TestLimits(t *testing.T) {
	l := NewLimits(10)
	t0 := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	n := 0
	for l.Allow("a", 1, t0) {
		n++
	}
	if n != 20 {
		t.Errorf("burst %d, want 20 (twice the rate)", n)
	}
	if !l.Allow("b", 1, t0) {
		t.Error("another key is limited by the first")
	}
	if l.Allow("a", 1, t0.Add(50*time.Millisecond)) {
		t.Error("a took a fix 50 ms after its burst, want none until 100 ms")
	}
	if !l.Allow("a", 1, t0.Add(101*time.Millisecond)) {
		t.Error("a took none 100 ms after its burst, want one")
	}
	var none *Limits
	if !none.Allow("a", 1000, t0) || NewLimits(0) != nil {
		t.Error("no limit limited")
	}
	for i := range limitersCap + 1 {
		l.Allow(fmt.Sprint(i), 1, t0.Add(time.Duration(i)*time.Microsecond))
	}
	if len(l.keys) > limitersCap {
		t.Errorf("%d keys remembered, want at most %d", len(l.keys), limitersCap)
	}
}
