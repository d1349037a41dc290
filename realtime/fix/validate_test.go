package fix

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
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
		{"NaN accuracy", Fix{Time: now, Point: at, AccuracyM: math.NaN()}, ErrPoorAccuracy},
		{"subnormal coordinates", Fix{Time: now, Point: orb.Point{1e-320, 1e-320}}, ErrBadCoordinates},
		{"subnormal latitude", Fix{Time: now, Point: orb.Point{122.26, 5e-324}}, ErrBadCoordinates},
		{"a float's breath from 0,0", Fix{Time: now, Point: orb.Point{1e-9, -1e-9}}, ErrZeroPosition},
		{"near the equator and meridian", Fix{Time: now, Point: orb.Point{1e-5, 1e-5}}, nil},
		{"the zero time", Fix{Time: unsetClock, Point: at}, ErrBadTime},
		{"before the GPS epoch", Fix{Time: time.Date(1980, 1, 5, 0, 0, 0, 0, time.UTC), Point: at}, ErrBadTime},
		{"speed of 1e308", Fix{Time: now, Point: at, SpeedMPS: 1e308, Heading: -1, Battery: -1}, ErrBadSpeed},
		{"speed NaN", Fix{Time: now, Point: at, SpeedMPS: math.NaN()}, ErrBadSpeed},
		{"speed 270 m/s", Fix{Time: now, Point: at, SpeedMPS: 270}, nil},
		{"speed unknown", Fix{Time: now, Point: at, SpeedMPS: -1, Heading: -1, Battery: -1}, nil},
		{"heading 1e308", Fix{Time: now, Point: at, Heading: 1e308}, ErrBadHeading},
		{"heading 360.5", Fix{Time: now, Point: at, Heading: 360.5}, ErrBadHeading},
		{"heading 360", Fix{Time: now, Point: at, Heading: 360}, nil},
		{"heading 359.9", Fix{Time: now, Point: at, Heading: 359.9}, nil},
		{"altitude 1e308", Fix{Time: now, Point: at, AltitudeM: 1e308}, ErrBadAltitude},
		{"altitude of the Dead Sea", Fix{Time: now, Point: at, AltitudeM: -430}, nil},
		{"battery 101", Fix{Time: now, Point: at, Battery: 101}, ErrBadBattery},
		{"battery infinite", Fix{Time: now, Point: at, Battery: math.Inf(1)}, ErrBadBattery},
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
		{ErrBadTime, "bad_time"},
		{ErrBadSpeed, "bad_speed"},
		{ErrBadHeading, "bad_heading"},
		{ErrBadAltitude, "bad_altitude"},
		{ErrBadBattery, "bad_battery"},
		{ErrOutsideCity, "outside_city"},
	} {
		if got := Code(tc.err); got != tc.code {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := Code(fmt.Errorf("unit V01: %w", tc.err)); got != tc.code {
			t.Errorf("Code(wrapped %v) = %q, want %q", tc.err, got, tc.code)
		}
	}
	want := []string{"unknown_unit", "bad_coordinates", "zero_position", "future_time", "too_old",
		"duplicate", "out_of_order", "implausible_jump", "poor_accuracy", "bad_time", "bad_speed", "bad_heading",
		"bad_altitude", "bad_battery", "outside_city"}
	if got := Codes(); !slices.Equal(got, want) {
		t.Errorf("Codes() = %v, want %v", got, want)
	}
	if got := Code(errors.New("something else")); got != "" {
		t.Errorf("Code(an unknown error) = %q, want \"\"", got)
	}
}

// TestCheckPlace refuses a first fix far from the city's bound and takes
// one inside it or near it.
func TestCheckPlace(t *testing.T) {
	city := orb.Bound{Min: orb.Point{122.1, 43.5}, Max: orb.Point{122.4, 43.7}}
	for _, tc := range []struct {
		name  string
		at    orb.Point
		limit float64
		want  error
	}{
		{"inside", orb.Point{122.26, 43.62}, 50e3, nil},
		{"20 km north", orb.Point{122.26, 43.88}, 50e3, nil},
		{"Beijing", orb.Point{116.4, 39.9}, 50e3, ErrOutsideCity},
		{"the far side of the Earth", orb.Point{-57.7, -43.6}, 50e3, ErrOutsideCity},
		{"Beijing with no limit", orb.Point{116.4, 39.9}, -1, nil},
		{"Beijing 2,000 km from it", orb.Point{116.4, 39.9}, 2000e3, nil},
	} {
		err := Limits{MaxOutside: geo.Meters(tc.limit)}.WithDefaults().CheckPlace(Fix{Point: tc.at}, city)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: CheckPlace = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestZeroTimeGiven reads a fix that gives the zero time as a fix of a
// clock never set, refused, where a fix that gives no time is stamped
// later: both decoders agree (an unknown field sends a fix the slow way).
func TestZeroTimeGiven(t *testing.T) {
	for _, body := range []string{
		`{"unit":"V01","time":"0001-01-01T00:00:00Z","lat":43.62,"lon":122.26}`,
		`{"unit":"V01","time":"0001-01-01T00:00:00Z","lat":43.62,"lon":122.26,"note":"slow path"}`,
	} {
		var f Fix
		if err := f.UnmarshalJSON([]byte(body)); err != nil {
			t.Fatal(err)
		}
		if f.Time.IsZero() || !errors.Is(Limits{}.WithDefaults().Check(f, time.Now()), ErrBadTime) {
			t.Errorf("%s: time %v, check %v; want a time refused as bad_time", body, f.Time, Limits{}.WithDefaults().Check(f, time.Now()))
		}
	}
	var f Fix
	if err := f.UnmarshalJSON([]byte(`{"unit":"V01","lat":43.62,"lon":122.26}`)); err != nil || !f.Time.IsZero() {
		t.Errorf("a fix without a time read as %v, %v; want the zero time, to be stamped", f.Time, err)
	}
}
