package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/realtime/device"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// The path simulated units follow: a clockwise circle around the centre of
// the post cell, at a speed the server's jump filter accepts.
const (
	radius      = geo.Meters(300)
	maxSpeedMPS = 12.0
	minSpeedMPS = 6.0
	accuracyM   = 5
	knotMPS     = 1852.0 / 3600.0
)

// Unit is a unit a run drives: it circles the centre of its post cell
// at radius, clockwise, at a speed the server's jump filter accepts. Its
// zero value is not a unit; NewUnit makes one. It is a value, safe to
// copy and to use concurrently.
type Unit struct {
	id       string
	centre   orb.Point // centre of the post cell, (lon, lat)
	phase    float64   // bearing from the centre at Unix time 0, degrees
	speedMPS float64   // speed along the circle
	dev      identity  // how the server knows it as a terminal
	latest   time.Time // its latest fix on the server when the run starts; zero for none
}

// NewUnit returns the unit id, the i-th of the plan (from 0, plan order),
// whose post is the cell post: the units of a plan are spread in phase
// and in speed (6 to 12 m/s), each at most 80% of its mechanism's limit
// maxSpeedKPH in km/h (0: none).
func NewUnit(i int, id string, post h3.Cell, maxSpeedKPH float64) Unit {
	speed := minSpeedMPS + float64(i%7)*(maxSpeedMPS-minSpeedMPS)/6
	if maxSpeedKPH > 0 {
		speed = min(speed, 0.8*maxSpeedKPH/3.6)
	}
	return Unit{id: id, centre: geo.CellCenter(post), phase: math.Mod(float64(i)*137.508, 360), speedMPS: speed,
		dev: identityOf(i, id)}
}

// ID returns the unit's id in the plan.
func (u Unit) ID() string { return u.id }

// At returns the position (lon, lat) and heading (degrees clockwise from
// north, [0, 360)) of u at Unix time ms. The path depends on the time
// alone, so successive runs continue it smoothly.
func (u Unit) At(ms int64) (orb.Point, float64) {
	degPerSec := u.speedMPS / float64(radius) * 180 / math.Pi
	theta := math.Mod(u.phase+degPerSec*float64(ms)/1000, 360)
	if theta < 0 {
		theta += 360
	}
	return geo.PointAt(u.centre, theta, radius), math.Mod(theta+90, 360)
}

// identity is how the server knows a simulated unit's trackers.
type identity struct {
	ID       string // device id: NMEA $PGID, OsmAnd id
	Key      string // device key: the NMEA login's, OsmAnd's
	Phone    string // JT/T 808 terminal phone, digits without the BCD padding
	Terminal string // JT/T 808 terminal id
	given    bool   // read from Config.Devices: OsmAnd fixes carry Key
}

// identityOf returns the trackers of the i-th unit of the plan (from 0,
// plan order) by the demo city's convention (device.DemoSpecs): NMEA
// device unit id + ".nmea" with the key "demo-" + its id; JT/T 808 phone
// 1390000 and the unit's number from 1 in four digits ("13900000001",
// BCD 013900000001) and terminal id the unit id.
func identityOf(i int, unit string) identity {
	nmea := unit + ".nmea"
	return identity{ID: nmea, Key: "demo-" + nmea, Phone: device.DemoPhone(i), Terminal: device.DemoTerminal(unit)}
}

// readDevices reads the file of Config.Devices, by unit: the answers of
// POST /api/v1/devices, one after another: {"device":{"id","unit"},"key"}
// of an OsmAnd or NMEA device, {"device":{"id","unit","phone","terminal"}}
// of a JT/T 808 terminal, which has no key.
func readDevices(path string) (map[string]identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("simulate: --devices: %w", err)
	}
	defer f.Close()
	devs := map[string]identity{}
	for dec := json.NewDecoder(f); ; {
		var a struct {
			Device struct{ ID, Unit, Protocol, Phone, Terminal string }
			Key    string
		}
		if err := dec.Decode(&a); err == io.EOF {
			return devs, nil
		} else if err != nil || a.Device.ID == "" || a.Device.Unit == "" || a.Key == "" && a.Device.Terminal == "" {
			return nil, fmt.Errorf(`simulate: --devices %s: want answers of POST /api/v1/devices, {"device":{"id":...,"unit":...},"key":...} (%v)`,
				path, err)
		}
		devs[a.Device.Unit] = identity{ID: a.Device.ID, Key: a.Key, Phone: a.Device.Phone, Terminal: a.Device.Terminal, given: true}
	}
}
