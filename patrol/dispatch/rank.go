package dispatch

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
)

// Unit is a unit that may be sent: its id, its position and the travel
// profile it drives on.
type Unit struct {
	ID      string
	Point   orb.Point // (lon, lat), degrees on WGS 84
	Profile geo.Profile
}

// Candidate is a unit ranked for an incident.
type Candidate struct {
	Unit string `json:"unit"`
	// ETA is the drive time to the incident on the unit's profile.
	ETA time.Duration `json:"-"`
	// ETAS is ETA in seconds, rounded to 0.1 s.
	ETAS float64 `json:"eta_s"`
	// DistanceM is the straight-line distance to the incident in metres,
	// rounded to the metre.
	DistanceM float64 `json:"distance_m"`
}

// Ranker ranks units with a reverse router. Its zero value is not ready;
// NewRanker makes one. A Ranker reuses its search and buffers, so it is
// not safe for concurrent use: give each goroutine its own.
type Ranker struct {
	router geo.ReverseRouter
	search geo.Search
	points []orb.Point
	etas   []time.Duration
}

// NewRanker returns a ranker on router's travel model.
func NewRanker(router geo.ReverseRouter) *Ranker { return &Ranker{router: router} }

// Rank returns the units that reach incident within limit, fastest first
// (ties by id), with one reverse search per travel profile among units.
// Units that cannot reach it within limit, or that lie off the travel
// graph, are left out. It fails when the incident itself lies off the
// graph (the error matches geo.ErrOffGrid).
func (r *Ranker) Rank(incident orb.Point, units []Unit, limit time.Duration) ([]Candidate, error) {
	var out []Candidate
	for _, group := range byProfile(units) {
		var err error
		if out, err = r.rankGroup(incident, group, limit, out); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int { return cmp.Or(cmp.Compare(a.ETA, b.ETA), cmp.Compare(a.Unit, b.Unit)) })
	return out, nil
}

// rankGroup appends to out the candidates among units, which share one
// profile.
func (r *Ranker) rankGroup(incident orb.Point, units []Unit, limit time.Duration, out []Candidate) ([]Candidate, error) {
	r.points = r.points[:0]
	for _, u := range units {
		r.points = append(r.points, u.Point)
	}
	var err error
	r.etas, err = r.router.ETAsTo(&r.search, incident, units[0].Profile, r.points, limit, r.etas[:0])
	if err != nil {
		return nil, fmt.Errorf("dispatch: rank for %v: %w", incident, err)
	}
	for i, eta := range r.etas {
		if eta == geo.Unreached {
			continue
		}
		out = append(out, Candidate{Unit: units[i].ID, ETA: eta, ETAS: math.Round(eta.Seconds()*10) / 10,
			DistanceM: math.Round(float64(geo.Distance(units[i].Point, incident)))})
	}
	return out, nil
}

// byProfile splits units by travel profile, in the order profiles first
// appear.
func byProfile(units []Unit) [][]Unit {
	var groups [][]Unit
	index := map[geo.Profile]int{}
	for _, u := range units {
		i, ok := index[u.Profile]
		if !ok {
			i = len(groups)
			index[u.Profile] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], u)
	}
	return groups
}
