package fix

import (
	"errors"
	"fmt"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
)

// Reasons a fix is refused, or kept only in history. Each has a stable
// code for clients and metrics (see Code).
var (
	ErrUnknownUnit    = errors.New("unknown unit")
	ErrBadCoordinates = errors.New("coordinates out of range or not numbers")
	ErrZeroPosition   = errors.New("position 0,0 is a receiver without a fix")
	ErrFuture         = errors.New("fix time too far in the future")
	ErrTooOld         = errors.New("fix time too old")
	ErrDuplicate      = errors.New("duplicate of the latest fix")
	ErrOutOfOrder     = errors.New("older than the latest fix: kept in history only")
	ErrJump           = errors.New("implausible jump from the latest fix")
	ErrPoorAccuracy   = errors.New("accuracy worse than the limit")
)

var codes = []struct {
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
}

// Code returns the stable code of a fix rejection ("bad_coordinates",
// "duplicate", ...), or "" when err is none of them.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// Codes returns every rejection code, for metrics that start at zero.
func Codes() []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c.code
	}
	return out
}

// Limits sets the limits a fix must respect. The zero value
// uses the documented defaults.
type Limits struct {
	// MaxAhead is how far a fix time may be ahead of the server clock;
	// default 5 minutes.
	MaxAhead time.Duration
	// MaxAge is how old a fix may be when it arrives; default 24 hours.
	MaxAge time.Duration
	// JumpSlack is the distance GPS noise may add to a move before its
	// implied speed is checked; default 30 m.
	JumpSlack geo.Meters
	// MaxAccuracy is the worst accepted accuracy radius; default 500 m.
	MaxAccuracy geo.Meters
}

func (c Limits) WithDefaults() Limits {
	if c.MaxAhead == 0 {
		c.MaxAhead = 5 * time.Minute
	}
	if c.MaxAge == 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.JumpSlack == 0 {
		c.JumpSlack = 30
	}
	if c.MaxAccuracy == 0 {
		c.MaxAccuracy = 500
	}
	return c
}

// checkFix checks what a fix says on its own against the clock now.
func (c Limits) Check(f Fix, now time.Time) error {
	switch {
	case !geo.ValidPoint(f.Point):
		return fmt.Errorf("%w: lat %v lon %v", ErrBadCoordinates, f.Lat(), f.Lon())
	case f.Lat() == 0 && f.Lon() == 0:
		return ErrZeroPosition
	case f.Time.After(now.Add(c.MaxAhead)):
		return fmt.Errorf("%w: %s is more than %v ahead", ErrFuture, f.Time.Format(time.RFC3339), c.MaxAhead)
	case f.Time.Before(now.Add(-c.MaxAge)):
		return fmt.Errorf("%w: %s is more than %v old", ErrTooOld, f.Time.Format(time.RFC3339), c.MaxAge)
	case geo.Meters(f.AccuracyM) > c.MaxAccuracy:
		return fmt.Errorf("%w: %.0f m > %.0f m", ErrPoorAccuracy, f.AccuracyM, float64(c.MaxAccuracy))
	}
	return nil
}

// checkAfter checks f against the unit's latest stored fix: duplicates,
// fixes older than it, and moves faster than maxKPH (0: no limit).
func (c Limits) CheckAfter(f, prev Fix, maxKPH float64) error {
	dt := f.Time.Sub(prev.Time)
	switch {
	case dt == 0:
		return fmt.Errorf("%w at %s", ErrDuplicate, f.Time.Format(time.RFC3339Nano))
	case dt < 0:
		return fmt.Errorf("%w (%s before %s)", ErrOutOfOrder, f.Time.Format(time.RFC3339), prev.Time.Format(time.RFC3339))
	case maxKPH <= 0:
		return nil
	}
	d := geo.Distance(prev.Point, f.Point) - c.JumpSlack
	if kph := float64(d) / dt.Seconds() * 3.6; kph > maxKPH {
		return fmt.Errorf("%w: %.0f m in %v is %.0f km/h, over %.0f km/h",
			ErrJump, float64(d+c.JumpSlack), dt.Round(time.Millisecond), kph, maxKPH)
	}
	return nil
}
