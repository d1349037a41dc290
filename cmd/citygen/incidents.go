package main

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/patrolgrid/patrolgrid/patrol"
)

// The incident history.
const (
	historyDays   = 90
	incidentCount = 4000
)

// The shares of incidents at priority zones and around the centre; the
// rest fall anywhere in the town.
const (
	shareZone     = 0.45
	shareDowntown = 0.25
	downtownSigma = 1300.0 // metres
)

// makeIncidents draws the incident history: weighted toward the zones
// (mostly during their active hours), around the centre, and toward the
// small hours, over historyDays days, sorted by time.
func makeIncidents(rng *rand.Rand, boundary orb.Polygon, zones []patrol.Zone) []patrol.Incident {
	cst := time.FixedZone("CST", 8*3600) // Asia/Shanghai has kept +08:00 since 1991
	start := time.Date(2026, 8, 1, 0, 0, 0, 0, cst)
	weights := make([]float64, len(zones))
	for i, z := range zones {
		weights[i] = z.Weight
	}
	out := make([]patrol.Incident, 0, incidentCount)
	for range incidentCount {
		in, minute := drawPlace(rng, boundary, zones, weights)
		if minute < 0 {
			minute = 60*pick(rng, hourWeights()) + rng.IntN(60)
		}
		day := rng.IntN(historyDays)
		in.Time = start.AddDate(0, 0, day).Add(time.Duration(minute)*time.Minute +
			time.Duration(rng.IntN(60))*time.Second)
		out = append(out, in)
	}
	slices.SortStableFunc(out, func(a, b patrol.Incident) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Point[0], b.Point[0]),
			cmp.Compare(a.Point[1], b.Point[1]))
	})
	return out
}

// drawPlace returns an incident's place and kind and, for most incidents
// at a zone, a minute of the day within the zone's hours (-1 otherwise).
func drawPlace(rng *rand.Rand, boundary orb.Polygon, zones []patrol.Zone, weights []float64) (patrol.Incident, int) {
	switch u := rng.Float64(); {
	case u < shareZone:
		z := zones[pick(rng, weights)]
		in := patrol.Incident{Point: inPolygon(rng, z.Area), Kind: drawKind(rng, z.Kind)}
		if rng.Float64() < 0.85 {
			return in, minuteIn(rng, z.Hours)
		}
		return in, -1
	case u < shareZone+shareDowntown:
		return patrol.Incident{Point: nearCentre(rng, boundary), Kind: drawKind(rng, "")}, -1
	}
	return patrol.Incident{Point: inPolygon(rng, boundary), Kind: drawKind(rng, "")}, -1
}

// hourWeights returns the relative frequency of incidents by local hour,
// highest in the small hours.
func hourWeights() []float64 {
	return []float64{7, 7, 6, 5, 3, 2, 2, 3, 3, 3, 3, 3, 4, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7}
}

// pick returns an index drawn with probability proportional to weights.
func pick(rng *rand.Rand, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	u := rng.Float64() * sum
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

// minuteIn returns a minute of the day drawn uniformly from hours.
func minuteIn(rng *rand.Rand, hours []patrol.Hours) int {
	spans := make([][2]int, len(hours))
	lens := make([]float64, len(hours))
	for i, h := range hours {
		from, to := clockMinutes(h.From), clockMinutes(h.To)
		if to <= from {
			to += 24 * 60
		}
		spans[i], lens[i] = [2]int{from, to}, float64(to-from)
	}
	s := spans[pick(rng, lens)]
	return (s[0] + rng.IntN(s[1]-s[0])) % (24 * 60)
}

// clockMinutes returns the minute of the day of a well-formed "HH:MM".
func clockMinutes(s string) int {
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	return h*60 + m
}

// inPolygon returns a point drawn uniformly from poly.
func inPolygon(rng *rand.Rand, poly orb.Polygon) orb.Point {
	b := poly.Bound()
	for {
		p := orb.Point{
			round6(b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])),
			round6(b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])),
		}
		if planar.PolygonContains(poly, p) {
			return p
		}
	}
}

// nearCentre returns a point of the boundary drawn from a normal
// distribution around the town centre.
func nearCentre(rng *rand.Rand, boundary orb.Polygon) orb.Point {
	for {
		p := toPoint(400+rng.NormFloat64()*downtownSigma, 200+rng.NormFloat64()*downtownSigma)
		if planar.PolygonContains(boundary, p) {
			return p
		}
	}
}

// drawKind returns an incident kind typical of a zone kind ("" for
// anywhere else).
func drawKind(rng *rand.Rand, zoneKind string) string {
	type kw struct {
		kind string
		w    float64
	}
	var mix []kw
	switch zoneKind {
	case "commercial":
		mix = []kw{{"theft", 40}, {"dispute", 20}, {"fraud", 15}, {"disorder", 10}, {"assault", 5}, {"medical", 5}, {"traffic", 5}}
	case "night_market":
		mix = []kw{{"dispute", 30}, {"disorder", 25}, {"theft", 20}, {"assault", 15}, {"medical", 5}, {"traffic", 5}}
	case "park":
		mix = []kw{{"theft", 20}, {"dispute", 20}, {"disorder", 15}, {"missing_person", 15}, {"medical", 15}, {"assault", 5}}
	case "transport":
		mix = []kw{{"theft", 40}, {"dispute", 20}, {"fraud", 15}, {"disorder", 10}, {"missing_person", 10}, {"medical", 5}}
	case "school":
		mix = []kw{{"traffic", 40}, {"dispute", 20}, {"missing_person", 15}, {"theft", 15}, {"assault", 10}}
	case "hospital":
		mix = []kw{{"dispute", 40}, {"theft", 25}, {"disorder", 20}, {"assault", 10}, {"medical", 5}}
	default:
		mix = []kw{{"traffic", 30}, {"theft", 25}, {"dispute", 20}, {"disorder", 10}, {"fraud", 5}, {"assault", 5}, {"medical", 5}}
	}
	w := make([]float64, len(mix))
	for i, m := range mix {
		w[i] = m.w
	}
	return mix[pick(rng, w)].kind
}
