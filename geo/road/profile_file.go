package road

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

// Modes of travel on a road network. A Profile's Mode picks which OSM
// access tags apply to it and whether oneway streets bind it.
const (
	ModeCar  = "car"
	ModeBike = "bike"
	ModeFoot = "foot"
)

// Time-of-day bands a Profile may scale its speeds by.
const (
	BandPeak    = "peak"
	BandOffPeak = "off-peak"
	BandNight   = "night"
)

// ProfileFile is a set of road travel profiles, as read from JSON by
// ReadProfileFile: speeds per OSM highway class, access rules and
// time-of-day bands, one profile per mode.
type ProfileFile struct {
	// Name identifies the file, e.g. "default" or "pgrouting".
	Name string `json:"name"`
	// Zones maps a country:zone maxspeed value such as "RU:urban" to
	// its speed in km/h. It serves every profile of the file.
	Zones map[string]float64 `json:"zones,omitempty"`
	// Profiles are the travel profiles, at most one per name.
	Profiles []Profile `json:"profiles"`
}

// Profile says which OSM ways a mode of travel may use, in which
// directions and how fast. The zero value admits no way.
type Profile struct {
	// Name identifies the profile ("car", "bike", "foot", ...); it is the
	// geo.Profile name a Router picks its graph by.
	Name string `json:"name"`
	// Mode is ModeCar, ModeBike or ModeFoot: it selects the access tag
	// hierarchy (access, vehicle, motor_vehicle, motorcar for a car;
	// access, vehicle, bicycle for a bike; access, foot on foot) and
	// whether oneway tags bind (not on foot).
	Mode string `json:"mode"`
	// Highways maps a highway=* class to its speed in km/h, in (0, 300].
	// A way of a class not listed is not used.
	Highways map[string]float64 `json:"highways"`
	// MaxSpeed, when true, takes a way's maxspeed tag (times
	// MaxSpeedFactor) in place of its class speed.
	MaxSpeed bool `json:"maxspeed,omitempty"`
	// MaxSpeedFactor scales a maxspeed tag to a driven speed; 0 means 1.
	MaxSpeedFactor float64 `json:"maxspeed_factor,omitempty"`
	// TopKPH caps every speed, in km/h; 0 means no cap.
	TopKPH float64 `json:"top_kph,omitempty"`
	// IgnoreAccess, when true, uses every way of a listed class whatever
	// its access tags say, as osm2pgrouting does.
	IgnoreAccess bool `json:"ignore_access,omitempty"`
	// KeepFragments, when true, keeps every part of the network instead
	// of only its largest strongly connected component, as osm2pgrouting
	// does; GraphStats still counts the components. A point may then
	// snap to a fragment it cannot drive out of.
	KeepFragments bool `json:"keep_fragments,omitempty"`
	// Private, when true, admits ways whose access is private (a police
	// car may enter private roads; a planner may not want it to).
	Private bool `json:"private,omitempty"`
	// Service scales the speed of highway=service ways by their service=*
	// value (parking_aisle, driveway, alley, ...); a factor of 0 excludes
	// the way. "*" is the factor of any other value; values not listed
	// and no "*" mean 1.
	Service map[string]float64 `json:"service,omitempty"`
	// Bands are the time-of-day speed factors, by band name.
	Bands map[string]Band `json:"bands,omitempty"`
}

// Band is a time-of-day band: a speed factor and the local hours it holds.
type Band struct {
	// Factor multiplies every speed of the profile, in (0, 5]: 0.6 means
	// travel takes 1/0.6 times as long.
	Factor float64 `json:"factor"`
	// Hours are [from, to) ranges of local hours in [0, 24]; a range with
	// from > to wraps past midnight. A band with no hours is chosen only
	// by name.
	Hours [][2]int `json:"hours,omitempty"`
}

// ReadProfileFile decodes and validates a profile file from JSON.
// Unknown fields are an error.
func ReadProfileFile(r io.Reader) (*ProfileFile, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f ProfileFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("road: profile file: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate reports a profile file that cannot build a road graph.
func (f *ProfileFile) Validate() error {
	if len(f.Profiles) == 0 {
		return fmt.Errorf("road: profile file %q: no profiles", f.Name)
	}
	seen := map[string]bool{}
	for _, p := range f.Profiles {
		if seen[p.Name] {
			return fmt.Errorf("road: profile file %q: profile %q twice", f.Name, p.Name)
		}
		seen[p.Name] = true
		if err := p.Validate(); err != nil {
			return fmt.Errorf("road: profile file %q: %w", f.Name, err)
		}
	}
	for z, v := range f.Zones {
		if v <= 0 || v > 300 {
			return fmt.Errorf("road: profile file %q: zone %s speed %v out of (0, 300]", f.Name, z, v)
		}
	}
	return nil
}

// Profile returns the profile called name, and false when there is none.
func (f *ProfileFile) Profile(name string) (Profile, bool) {
	i := slices.IndexFunc(f.Profiles, func(p Profile) bool { return p.Name == name })
	if i < 0 {
		return Profile{}, false
	}
	return f.Profiles[i], true
}

// Names returns the names of the file's profiles, sorted.
func (f *ProfileFile) Names() []string {
	var ns []string
	for _, p := range f.Profiles {
		ns = append(ns, p.Name)
	}
	sort.Strings(ns)
	return ns
}

// Validate reports a road profile that cannot build a road graph.
func (p Profile) Validate() error {
	switch p.Mode {
	case ModeCar, ModeBike, ModeFoot:
	default:
		return fmt.Errorf("profile %q: mode %q is not car, bike or foot", p.Name, p.Mode)
	}
	if p.Name == "" {
		return errors.New("profile with no name")
	}
	if len(p.Highways) == 0 {
		return fmt.Errorf("profile %q: no highway classes", p.Name)
	}
	for c, v := range p.Highways {
		if v <= 0 || v > 300 {
			return fmt.Errorf("profile %q: highway %s speed %v out of (0, 300]", p.Name, c, v)
		}
	}
	for s, v := range p.Service {
		if v < 0 || v > 5 {
			return fmt.Errorf("profile %q: service %s factor %v out of [0, 5]", p.Name, s, v)
		}
	}
	if p.MaxSpeedFactor < 0 || p.MaxSpeedFactor > 5 || p.TopKPH < 0 || p.TopKPH > 300 {
		return fmt.Errorf("profile %q: maxspeed_factor %v or top_kph %v out of range", p.Name, p.MaxSpeedFactor, p.TopKPH)
	}
	for n, b := range p.Bands {
		if b.Factor <= 0 || b.Factor > 5 {
			return fmt.Errorf("profile %q: band %s factor %v out of (0, 5]", p.Name, n, b.Factor)
		}
		for _, h := range b.Hours {
			if h[0] < 0 || h[0] > 24 || h[1] < 0 || h[1] > 24 {
				return fmt.Errorf("profile %q: band %s hours %v out of [0, 24]", p.Name, n, h)
			}
		}
	}
	return nil
}

// BandAt returns the name of the band holding local hour h (0..23), and
// "" when no band's hours hold it. The first band by name wins.
func (p Profile) BandAt(h int) string {
	names := make([]string, 0, len(p.Bands))
	for n := range p.Bands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, r := range p.Bands[n].Hours {
			if inHours(h, r) {
				return n
			}
		}
	}
	return ""
}

func inHours(h int, r [2]int) bool {
	if r[0] <= r[1] {
		return h >= r[0] && h < r[1]
	}
	return h >= r[0] || h < r[1]
}

// BandFactor returns the speed factor of band name, 1 for "" and false
// for a band the profile does not have.
func (p Profile) BandFactor(name string) (float64, bool) {
	if name == "" {
		return 1, true
	}
	b, ok := p.Bands[name]
	return b.Factor, ok
}
