package fix

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestCheckFix(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	cfg := Limits{}.WithDefaults()
	at := orb.Point{122.26, 43.62}
	for _, tc := range []struct {
		name string
		fix  Fix
		want error
	}{
		{"good", Fix{Time: now, Point: at}, nil},
		{"latitude over 90", Fix{Time: now, Point: orb.Point{122, 90.5}}, ErrBadCoordinates},
		{"longitude under -180", Fix{Time: now, Point: orb.Point{-180.1, 43}}, ErrBadCoordinates},
		{"NaN latitude", Fix{Time: now, Point: orb.Point{122, math.NaN()}}, ErrBadCoordinates},
		{"infinite longitude", Fix{Time: now, Point: orb.Point{math.Inf(1), 43}}, ErrBadCoordinates},
		{"zero position", Fix{Time: now, Point: orb.Point{0, 0}}, ErrZeroPosition},
		{"4 minutes ahead", Fix{Time: now.Add(4 * time.Minute), Point: at}, nil},
		{"6 minutes ahead", Fix{Time: now.Add(6 * time.Minute), Point: at}, ErrFuture},
		{"23 hours old", Fix{Time: now.Add(-23 * time.Hour), Point: at}, nil},
		{"25 hours old", Fix{Time: now.Add(-25 * time.Hour), Point: at}, ErrTooOld},
		{"accuracy 600 m", Fix{Time: now, Point: at, AccuracyM: 600}, ErrPoorAccuracy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cfg.Check(tc.fix, now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("checkFix(%+v) = %v, want %v", tc.fix, err, tc.want)
			}
			if err != nil && Code(err) == "" {
				t.Fatalf("Code(%v) is empty", err)
			}
		})
	}
}

func TestCheckAfter(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	cfg := Limits{}.WithDefaults()
	prev := Fix{Time: t0, Point: orb.Point{122.26, 43.62}}
	east := func(m float64) orb.Point { return orb.Point{122.26 + m/80500, 43.62} } // ~80.5 km per degree here
	for _, tc := range []struct {
		name   string
		fix    Fix
		maxKPH float64
		want   error
	}{
		{"same time", Fix{Time: t0, Point: east(10)}, 130, ErrDuplicate},
		{"older", Fix{Time: t0.Add(-time.Second), Point: east(10)}, 130, ErrOutOfOrder},
		{"car 100 m in 5 s", Fix{Time: t0.Add(5 * time.Second), Point: east(100)}, 130, nil},
		{"car 1 km in 5 s", Fix{Time: t0.Add(5 * time.Second), Point: east(1000)}, 130, ErrJump},
		{"walker 100 m in 10 s", Fix{Time: t0.Add(10 * time.Second), Point: east(100)}, 15, ErrJump},
		{"walker 20 m of noise in 1 s", Fix{Time: t0.Add(time.Second), Point: east(20)}, 15, nil},
		{"no limit", Fix{Time: t0.Add(time.Second), Point: east(5000)}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cfg.CheckAfter(tc.fix, prev, tc.maxKPH)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("checkAfter = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestRejectionCodes pins every rejection code as a literal: clients and
// dashboards match on them, so a code is never renamed, and a wrapped
// error keeps its code.
func TestRejectionCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{ErrUnknownUnit, "unknown_unit"},
		{ErrBadCoordinates, "bad_coordinates"},
		{ErrZeroPosition, "zero_position"},
		{ErrFuture, "future_time"},
		{ErrTooOld, "too_old"},
		{ErrDuplicate, "duplicate"},
		{ErrOutOfOrder, "out_of_order"},
		{ErrJump, "implausible_jump"},
		{ErrPoorAccuracy, "poor_accuracy"},
	} {
		if got := Code(tc.err); got != tc.code {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := Code(fmt.Errorf("unit V01: %w", tc.err)); got != tc.code {
			t.Errorf("Code(wrapped %v) = %q, want %q", tc.err, got, tc.code)
		}
	}
	want := []string{"unknown_unit", "bad_coordinates", "zero_position", "future_time", "too_old",
		"duplicate", "out_of_order", "implausible_jump", "poor_accuracy"}
	if got := Codes(); !slices.Equal(got, want) {
		t.Errorf("Codes() = %v, want %v", got, want)
	}
	if got := Code(errors.New("something else")); got != "" {
		t.Errorf("Code(an unknown error) = %q, want \"\"", got)
	}
}
