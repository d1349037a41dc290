package road

import (
	"strconv"
	"strings"
)

// tagger looks up the value of an OSM tag by key, "" when absent.
type tagger func(key string) string

// wayUse is what a profile makes of one OSM way: the speeds in km/h it
// travels the way at, forward (in node order) and backward; 0 means that
// direction is closed.
type wayUse struct {
	fwd, bwd float64
}

// ParseMaxSpeed returns the speed in km/h of an OSM maxspeed value: a
// number ("50", "50.5"), a number with a unit ("50 mph", "30 knots",
// "50 km/h"), or a country:zone value ("RU:urban", "DE:zone30") looked
// up in zones. Of several values separated by ";" the first counts. It
// returns false for values with no speed ("none", "signals", "walk"
// without a zone entry) and for anything it cannot read.
func ParseMaxSpeed(v string, zones map[string]float64) (float64, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if kph, ok := zones[v]; ok {
		return kph, true
	}
	num, unit := v, ""
	if i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }); i >= 0 {
		num, unit = v[:i], strings.TrimSpace(v[i:])
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || x <= 0 {
		return 0, false
	}
	switch unit {
	case "", "km/h", "kmh", "kph":
		return x, true
	case "mph":
		return x * 1.609344, true
	case "knots":
		return x * 1.852, true
	}
	return 0, false
}

// accessKeys returns the access tags of mode, most general first.
func accessKeys(mode string) []string {
	switch mode {
	case ModeCar:
		return []string{"access", "vehicle", "motor_vehicle", "motorcar"}
	case ModeBike:
		return []string{"access", "vehicle", "bicycle"}
	}
	return []string{"access", "foot"}
}

// accessAllowed reads the access tag hierarchy of p's mode: the most
// specific tag present decides. It returns allowed, and whether a tag said
// so explicitly (a footway may carry foot=yes, a track bicycle=designated).
func (p *Profile) accessAllowed(tag tagger) (allowed, explicit bool) {
	allowed = true
	for _, k := range accessKeys(p.Mode) {
		switch v := tag(k); v {
		case "":
		case "no", "agricultural", "forestry", "delivery", "use_sidepath", "discouraged", "dismount":
			allowed, explicit = false, true
		case "private":
			allowed, explicit = p.Private, true
		default: // yes, designated, permissive, destination, customers, ...
			allowed, explicit = true, true
		}
	}
	return allowed, explicit
}

// use returns how p travels an OSM way with tags tag, and false when it
// cannot use the way at all.
func (p *Profile) use(tag tagger, zones map[string]float64) (wayUse, bool) {
	hw := tag("highway")
	kph, ok := p.Highways[hw]
	if !ok || tag("area") == "yes" && hw != "pedestrian" {
		return wayUse{}, false
	}
	if !p.IgnoreAccess {
		if allowed, _ := p.accessAllowed(tag); !allowed {
			return wayUse{}, false
		}
		if p.Mode != ModeCar && tag("motorroad") == "yes" {
			return wayUse{}, false
		}
	}
	if hw == "service" {
		f, ok := p.Service[tag("service")]
		if !ok {
			f, ok = p.Service["*"]
		}
		if !ok {
			f = 1
		}
		if tag("service") == "" {
			f = 1
		}
		if f == 0 {
			return wayUse{}, false
		}
		kph *= f
	}
	fwd, bwd := kph, kph
	if p.MaxSpeed {
		fwd = p.maxSpeed(tag, "maxspeed:forward", fwd, zones)
		bwd = p.maxSpeed(tag, "maxspeed:backward", bwd, zones)
	}
	if p.TopKPH > 0 {
		fwd, bwd = min(fwd, p.TopKPH), min(bwd, p.TopKPH)
	}
	switch p.oneway(tag) {
	case 1:
		bwd = 0
	case -1:
		fwd = 0
	case 2: // reversible: direction unknown at any moment
		return wayUse{}, false
	}
	return wayUse{fwd: fwd, bwd: bwd}, true
}

// maxSpeed returns the speed a maxspeed tag gives for one direction: the
// directional key when present, else maxspeed, else def.
func (p *Profile) maxSpeed(tag tagger, dirKey string, def float64, zones map[string]float64) float64 {
	v := tag(dirKey)
	if v == "" {
		v = tag("maxspeed")
	}
	kph, ok := ParseMaxSpeed(v, zones)
	if !ok {
		return def
	}
	f := p.MaxSpeedFactor
	if f == 0 {
		f = 1
	}
	return kph * f
}

// oneway returns 0 for a two-way street, 1 for oneway in node order, -1
// for oneway against it and 2 for reversible, as p's mode reads the tags.
// Roundabouts are oneway unless tagged otherwise; on foot nothing is
// oneway.
func (p *Profile) oneway(tag tagger) int {
	if p.Mode == ModeFoot {
		return 0
	}
	v := tag("oneway")
	if p.Mode == ModeBike {
		if b := tag("oneway:bicycle"); b != "" {
			v = b
		} else if strings.HasPrefix(tag("cycleway"), "opposite") {
			v = "no"
		}
	}
	switch v {
	case "yes", "1", "true":
		return 1
	case "-1", "reverse":
		return -1
	case "reversible", "alternating":
		return 2
	case "no", "0", "false":
		return 0
	}
	if j := tag("junction"); j == "roundabout" || j == "circular" || tag("highway") == "motorway" {
		return 1
	}
	return 0
}
