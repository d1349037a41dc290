package simulate

import (
	"fmt"
	"math"
	"net/url"
	"testing"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol/patroltest"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/patrolgrid/patrolgrid/realtime/fix"
	"github.com/patrolgrid/patrolgrid/realtime/ingest/osmand"
	"github.com/paulmach/orb"
)

// osmandRoundTripTolerance is the largest position error the OsmAnd URL
// may add, in degrees.
const osmandRoundTripTolerance = 1e-6

func TestOsmAndURLRoundTrip(t *testing.T) {
	posts := []struct {
		name string
		at   orb.Point
	}{
		{"Tongliao", orb.Point{122.2634, 43.6173}},
		{"south west", orb.Point{-58.3816, -34.6037}},
		{"near the antimeridian", orb.Point{179.9995, -16.5}},
		{"far north", orb.Point{18.9553, 69.6492}},
	}
	times := []int64{1795856400000, 1795856400123, 1795856987654}
	for i, p := range posts {
		for _, id := range []string{"V01", "E 7&x=1"} {
			t.Run(fmt.Sprintf("%s/%s", p.name, id), func(t *testing.T) {
				u := NewUnit(i, id, geo.Cell(p.at, 10), 0)
				for _, ms := range times {
					raw := u.OsmAndURL("http://pg.test:8080/api/v1/osmand", ms)
					parsed, err := url.Parse(raw)
					if err != nil {
						t.Fatalf("url.Parse(%q): %v", raw, err)
					}
					if parsed.Path != "/api/v1/osmand" {
						t.Errorf("path = %q, want /api/v1/osmand", parsed.Path)
					}
					fix, err := osmand.Decode(parsed.Query(), "", nil)
					if err != nil {
						t.Fatalf("DecodeOsmAnd(%q): %v", raw, err)
					}
					wantP, wantHeading := u.At(ms)
					switch {
					case fix.Unit != id:
						t.Errorf("%s: unit = %q, want %q", raw, fix.Unit, id)
					case fix.Time.UnixMilli() != ms:
						t.Errorf("%s: time = %v, want Unix ms %d", raw, fix.Time, ms)
					case math.Abs(fix.Lat()-wantP.Lat()) > osmandRoundTripTolerance,
						math.Abs(fix.Lon()-wantP.Lon()) > osmandRoundTripTolerance:
						t.Errorf("%s: position = %v, want %v within %g°", raw, fix.Point, wantP, osmandRoundTripTolerance)
					case math.Abs(fix.SpeedMPS-u.speedMPS) > 0.01:
						t.Errorf("%s: speed = %v m/s, want %v", raw, fix.SpeedMPS, u.speedMPS)
					case math.Abs(fix.Heading-wantHeading) > 0.05:
						t.Errorf("%s: heading = %v, want %v", raw, fix.Heading, wantHeading)
					case fix.AccuracyM != accuracyM:
						t.Errorf("%s: accuracy = %v, want %v", raw, fix.AccuracyM, accuracyM)
					}
				}
			})
		}
	}
}

// TestUnitPath checks that every unit keeps to a circle of radius
// around its post, no faster than its speed (at most maxSpeedMPS, and
// 80% of its mechanism's limit), heading the way it moves.
func TestUnitPath(t *testing.T) {
	post := geo.Cell(orb.Point{122.2634, 43.6173}, 10)
	centre := geo.CellCenter(post)
	for i, maxKPH := range []float64{0, 130, 60, 15, 0, 0, 0, 5} {
		u := NewUnit(i, "U", post, maxKPH)
		t.Run(fmt.Sprintf("unit %d max %v kph", i, maxKPH), func(t *testing.T) {
			if u.speedMPS > maxSpeedMPS || maxKPH > 0 && u.speedMPS > 0.8*maxKPH/3.6+1e-9 {
				t.Fatalf("speed = %v m/s, want at most %v and 80%% of %v km/h", u.speedMPS, maxSpeedMPS, maxKPH)
			}
			const start = int64(1795856400000)
			for ms := start; ms < start+200_000; ms += 1000 {
				p, heading := u.At(ms)
				next, _ := u.At(ms + 1000)
				if r := geo.Distance(centre, p); math.Abs(float64(r-radius)) > 1 {
					t.Fatalf("at %d: %v m from the post, want %v", ms, r, radius)
				}
				step := geo.Distance(p, next)
				if float64(step) > u.speedMPS+1e-3 {
					t.Fatalf("at %d: moved %v m in 1 s, want at most %v", ms, step, u.speedMPS)
				}
				if d := math.Abs(math.Remainder(geo.Bearing(p, next)-heading, 360)); d > 5 {
					t.Fatalf("at %d: heading %v, but moving towards %v", ms, heading, geo.Bearing(p, next))
				}
			}
		})
	}
}

// TestIdentityOf checks that simulate's device convention is the one
// the server registers for the demo city.
func TestIdentityOf(t *testing.T) {
	plan := patroltest.DemoPlan(t)
	specs := device.DemoSpecs(plan)
	for i, u := range plan.Units {
		got := identityOf(i, u.ID)
		nmea, jt := specs[3*i+1], specs[3*i+2]
		if got.ID != nmea.ID || got.Key != nmea.Key || nmea.Protocol != fix.SourceNMEA {
			t.Errorf("identityOf(%d, %s) = %+v, want the server's NMEA tracker %+v", i, u.ID, got, nmea)
		}
		if got.Phone != jt.Phone || got.Terminal != jt.Terminal || jt.Protocol != fix.SourceJT808 {
			t.Errorf("identityOf(%d, %s) = %+v, want the server's terminal %+v", i, u.ID, got, jt)
		}
	}
}
