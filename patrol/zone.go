package patrol

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Tier is a response-time tier: within 1, 3 or 5 minutes.
type Tier int

// The three tiers of the "1, 3, 5 minute" rule.
const (
	Tier1 Tier = iota // within 1 minute
	Tier3             // within 3 minutes
	Tier5             // within 5 minutes
	numTiers
)

// Limits are the time limits of Tier1, Tier3 and Tier5.
var Limits = [numTiers]time.Duration{time.Minute, 3 * time.Minute, 5 * time.Minute}

// Requirement asks that at least Units units reach a cell within the tier's
// limit, for at least Share (0 to 1) of a zone's cells. Units == 0 asks
// nothing, whatever Share says: the tier is always met and has no share.
type Requirement struct {
	Units int     `json:"units"`
	Share float64 `json:"share"`
}

// Asks reports whether r asks anything: at least one unit.
func (r Requirement) Asks() bool { return r.Units > 0 }

// Rule is a zone's response rule, one requirement per tier.
type Rule struct {
	M1 Requirement `json:"m1"`
	M3 Requirement `json:"m3"`
	M5 Requirement `json:"m5"`
}

// Tiers returns the requirements indexed by Tier.
func (r Rule) Tiers() [numTiers]Requirement { return [numTiers]Requirement{r.M1, r.M3, r.M5} }

// Hours is a daily window in the city's local time, From inclusive, To
// exclusive, as "HH:MM". A window with To before From runs past midnight
// ("18:00" to "02:00"); "00:00" to "24:00" is the whole day.
type Hours struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (h Hours) minutes() (from, to int, err error) {
	if from, err = clock(h.From); err != nil {
		return 0, 0, err
	}
	to, err = clock(h.To)
	return from, to, err
}

func clock(s string) (int, error) {
	var hh, mm int
	if n, err := fmt.Sscanf(s, "%d:%d", &hh, &mm); err != nil || n != 2 || len(s) != 5 ||
		hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("patrol: bad clock time %q, want HH:MM", s)
	}
	return hh*60 + mm, nil
}

// contains reports whether local minute-of-day m falls in h.
func (h Hours) contains(m int) bool {
	from, to, err := h.minutes()
	if err != nil {
		return false
	}
	if from <= to {
		return m >= from && m < to
	}
	return m >= from || m < to
}

// Zone is a priority place (commercial district, night market, park, ...)
// with the hours it is active and the response rule it must meet then.
type Zone struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Kind   string  `json:"kind"`
	Hours  []Hours `json:"hours,omitempty"`
	Weight float64 `json:"weight"`
	Rule   Rule    `json:"rule"`
	// Area is the zone's outline in (lon, lat) order.
	Area orb.Polygon `json:"-"`
}

// MarshalJSON writes the zone with its outline as a GeoJSON geometry.
func (z Zone) MarshalJSON() ([]byte, error) {
	type plain Zone // drops the method
	return json.Marshal(struct {
		plain
		Geometry *geojson.Geometry `json:"geometry"`
	}{plain(z), geojson.NewGeometry(z.Area)})
}

// UnmarshalJSON reads a zone whose "geometry" is a GeoJSON Polygon.
func (z *Zone) UnmarshalJSON(b []byte) error {
	type plain Zone
	var v struct {
		plain
		Geometry *geojson.Geometry `json:"geometry"`
	}
	if err := strictUnmarshal(b, &v); err != nil {
		return err
	}
	*z = Zone(v.plain)
	if v.Geometry == nil {
		return fmt.Errorf("patrol: zone %s: no geometry", z.ID)
	}
	poly, ok := v.Geometry.Geometry().(orb.Polygon)
	if !ok {
		return fmt.Errorf("patrol: zone %s: geometry is %s, want Polygon", z.ID, v.Geometry.Type)
	}
	z.Area = poly
	return nil
}

// Active reports whether the zone is active at local time t. A zone with
// no hours is always active.
func (z Zone) Active(t time.Time) bool {
	if len(z.Hours) == 0 {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	for _, h := range z.Hours {
		if h.contains(m) {
			return true
		}
	}
	return false
}

func (z Zone) validate() error {
	if z.ID == "" {
		return fmt.Errorf("patrol: zone %q: empty id", z.Name)
	}
	if len(z.Area) == 0 || len(z.Area[0]) < 4 {
		return fmt.Errorf("patrol: zone %s: outline needs a ring of at least 4 points", z.ID)
	}
	for _, h := range z.Hours {
		if _, _, err := h.minutes(); err != nil {
			return fmt.Errorf("patrol: zone %s: %w", z.ID, err)
		}
	}
	for i, r := range z.Rule.Tiers() {
		if r.Units < 0 || r.Share < 0 || r.Share > 1 {
			return fmt.Errorf("patrol: zone %s: tier %d: units must be >= 0 and share in [0, 1]", z.ID, i)
		}
	}
	return nil
}
