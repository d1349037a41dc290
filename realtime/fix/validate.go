package fix

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"

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
	ErrBadTime        = errors.New("fix time before the GPS epoch: a receiver clock never set")
	ErrBadSpeed       = errors.New("speed not a number or beyond any vehicle")
	ErrBadHeading     = errors.New("heading not a number or over 360 degrees")
	ErrBadAltitude    = errors.New("altitude not a number or beyond the atmosphere")
	ErrBadBattery     = errors.New("battery level not a number or over 100 percent")
	ErrOutsideCity    = errors.New("first fix of the unit far outside the city")
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
	{ErrBadTime, "bad_time"},
	{ErrBadSpeed, "bad_speed"},
	{ErrBadHeading, "bad_heading"},
	{ErrBadAltitude, "bad_altitude"},
	{ErrBadBattery, "bad_battery"},
	{ErrOutsideCity, "outside_city"},
}

// The bounds of what a fix may say of itself. GPSEpoch is the start of GPS
// time, before which no receiver took a fix; a receiver whose clock was
// never set reports it, 1970 or the zero time. MaxSpeedMPS is 1,000 km/h,
// beyond any vehicle a unit drives (each mechanism's own limit is checked
// between fixes, see Limits.CheckAfter). Altitudes beyond ±100 km are
// off the Earth.
var GPSEpoch = time.Date(1980, 1, 6, 0, 0, 0, 0, time.UTC)

const (
	MaxSpeedMPS  = 1000 / 3.6
	MaxAltitudeM = 100e3
	// nullIsland is how close to 0,0 both coordinates of a fix may come
	// before it counts as the zero position (about 1 cm): a receiver
	// without a fix reports zeros, sometimes through a float conversion.
	nullIsland = 1e-7
)

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
	// MaxOutside is how far from the bound of the city a unit's first fix
	// may be (see CheckPlace); default 50 km, negative for no limit.
	MaxOutside geo.Meters
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
	if c.MaxOutside == 0 {
		c.MaxOutside = 50e3
	}
	return c
}

// Check checks what a fix says on its own against the clock now. A zero
// Time is a fix without one (see City.Ingest), which this does not see.
func (c Limits) Check(f Fix, now time.Time) error {
	switch {
	case !geo.ValidPoint(f.Point) || subnormal(f.Lat()) || subnormal(f.Lon()):
		return fmt.Errorf("%w: lat %v lon %v", ErrBadCoordinates, f.Lat(), f.Lon())
	case math.Abs(f.Lat()) < nullIsland && math.Abs(f.Lon()) < nullIsland:
		return ErrZeroPosition
	case f.Time.Before(GPSEpoch):
		return fmt.Errorf("%w: %s", ErrBadTime, f.Time.Format(time.RFC3339))
	case f.Time.After(now.Add(c.MaxAhead)):
		return fmt.Errorf("%w: %s is more than %v ahead", ErrFuture, f.Time.Format(time.RFC3339), c.MaxAhead)
	case f.Time.Before(now.Add(-c.MaxAge)):
		return fmt.Errorf("%w: %s is more than %v old", ErrTooOld, f.Time.Format(time.RFC3339), c.MaxAge)
	case math.IsNaN(f.AccuracyM) || geo.Meters(f.AccuracyM) > c.MaxAccuracy:
		return fmt.Errorf("%w: %.0f m > %.0f m", ErrPoorAccuracy, f.AccuracyM, float64(c.MaxAccuracy))
	}
	return checkMotion(f)
}

// checkMotion checks the speed, heading, altitude and battery of f, each
// negative when unknown (altitude is signed: any finite value within
// MaxAltitudeM).
func checkMotion(f Fix) error {
	switch {
	case !(f.SpeedMPS <= MaxSpeedMPS):
		return fmt.Errorf("%w: %g m/s", ErrBadSpeed, f.SpeedMPS)
	case !(f.Heading <= 360):
		return fmt.Errorf("%w: %g", ErrBadHeading, f.Heading)
	case !(math.Abs(f.AltitudeM) <= MaxAltitudeM):
		return fmt.Errorf("%w: %g m", ErrBadAltitude, f.AltitudeM)
	case !(f.Battery <= 100):
		return fmt.Errorf("%w: %g", ErrBadBattery, f.Battery)
	}
	return nil
}

// subnormal reports whether x is a subnormal float: nonzero and smaller
// than any normal one, which no receiver writes and parsers disagree on.
func subnormal(x float64) bool {
	return x != 0 && math.Abs(x) < 0x1p-1022
}

// CheckPlace checks the first fix of a unit against the city: one
// farther than MaxOutside from the city's bound is refused, as from a
// device that was never in the city or whose coordinates are garbled;
// later fixes are held to the ones before them (CheckAfter).
func (c Limits) CheckPlace(f Fix, city orb.Bound) error {
	limit := c.MaxOutside
	if limit < 0 {
		return nil
	}
	near := orb.Point{min(max(f.Lon(), city.Min[0]), city.Max[0]), min(max(f.Lat(), city.Min[1]), city.Max[1])}
	if d := geo.Distance(f.Point, near); d > limit {
		return fmt.Errorf("%w: %.0f km from it, over %.0f km", ErrOutsideCity, float64(d)/1000, float64(limit)/1000)
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
