package dispatch

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// Post is a site of a compliance table: the post cell of a plan unit,
// named by that unit.
type Post struct {
	Unit string  `json:"unit"`
	Cell h3.Cell `json:"cell"`
}

// Share is the share (0 to 1) of a city's demand (patrol.Demand) that a
// set of posts covers within 1, 3 and 5 minutes: a cell counts when the
// drive time from at least one post to it is within the tier's limit.
type Share struct {
	M1 float64 `json:"m1"`
	M3 float64 `json:"m3"`
	M5 float64 `json:"m5"`
}

// Row is the set of posts the table gives K available units.
type Row struct {
	// K is the number of available units, 1 to the table's length.
	K int `json:"k"`
	// Posts holds K posts in the order they joined the table: a row that
	// is Nested lists the previous row's posts first and its new one last;
	// a swap puts the post that came in at the place of the one that left.
	Posts []Post `json:"posts"`
	// Share is the demand the posts cover per tier.
	Share Share `json:"share"`
	// Nested tells whether Posts holds every post of row K-1, so that the
	// K-th unit adds a post and moves nobody; row 1 is always nested.
	Nested bool `json:"nested"`
}

// Table is a compliance table: for every number k of available units, from
// 1 to the plan's responding units, the posts they should hold.
//
// Rows are built by greedy maximal covering on demand-weighted coverage,
// compared first within 3 minutes, then within 1, then within 5: row k is
// row k-1 plus the post that adds the most, so rows are nested by
// construction. Each row is then improved by swaps (one post out, one in)
// while a swap covers strictly more (same order, beyond a rounding
// tolerance); nesting is lost only at a row where a swap wins, and Nested
// says where. Candidate sites are the posts of the responding units; every
// site is timed on one profile, Profile, so a row reads as where k units of
// the plan's main mechanism should stand (foot and fixed posts are planned
// as if they drove).
type Table struct {
	// Profile names the travel profile the posts are timed on.
	Profile string `json:"profile"`
	// Rows holds row k at index k-1; empty for a plan with no responding
	// unit.
	Rows []Row `json:"rows"`
}

// Row returns the row for k available units, clamped to the table: row 1
// for k < 1, the last row for k beyond it. It reports false for an empty
// table.
func (t Table) Row(k int) (Row, bool) {
	if len(t.Rows) == 0 {
		return Row{}, false
	}
	return t.Rows[min(max(k, 1), len(t.Rows))-1], true
}

// ErrDemandSize is returned when a Demand does not have one entry per cell
// of the router's grid.
var ErrDemandSize = errors.New("dispatch: demand does not match the grid")

// Compliance returns the compliance table of plan on router's travel times,
// weighted by demand (one entry per cell of router's grid). The sites are
// the posts of the plan's responding units (see Responding), each reached
// by a bounded isochrone of 5 minutes from its cell's centre on the fleet
// profile (FleetProfile); a post the router cannot place covers nothing.
// On the demo city (78 sites on the lattice) it takes well under a second.
func Compliance(plan *patrol.Plan, router geo.Router, demand patrol.Demand) (Table, error) {
	if len(demand) != router.Grid().Len() {
		return Table{}, fmt.Errorf("%w: %d cells, %d demands", ErrDemandSize, router.Grid().Len(), len(demand))
	}
	profile, ok := FleetProfile(plan)
	if !ok {
		return Table{}, nil
	}
	posts := Responding(plan)
	sites, err := siteReaches(router, posts, profile)
	if err != nil {
		return Table{}, err
	}
	rows := newCovering(sites, demand).rows(posts)
	return Table{Profile: profile.Name, Rows: rows}, nil
}

// Responding returns the posts of the units of plan that respond (their
// mechanism responds, see patrol.Mechanism.Responds) and are not off duty
// in the plan, in plan order.
func Responding(plan *patrol.Plan) []Post {
	var out []Post
	for _, u := range plan.Units {
		if m, ok := plan.Mechanism(u.Mechanism); ok && m.Responds() && u.Status != patrol.OffDuty {
			out = append(out, Post{Unit: u.ID, Cell: u.Post})
		}
	}
	return out
}

// FleetProfile returns the travel profile of the responding mechanism with
// the most responding units (see Responding), the first in the plan's
// mechanism order on a tie: the car for the demo city's vehicles. It
// reports false when no unit responds.
func FleetProfile(plan *patrol.Plan) (geo.Profile, bool) {
	count := map[string]int{}
	for _, p := range Responding(plan) {
		u, _ := plan.Unit(p.Unit)
		count[u.Mechanism]++
	}
	best := -1
	for i, m := range plan.Mechanisms {
		if count[m.ID] > 0 && (best < 0 || count[m.ID] > count[plan.Mechanisms[best].ID]) {
			best = i
		}
	}
	if best < 0 {
		return geo.Profile{}, false
	}
	name := plan.Mechanisms[best].Profile
	i := slices.IndexFunc(plan.Profiles, func(p geo.Profile) bool { return p.Name == name })
	if i < 0 { // a valid plan names known profiles
		return geo.Profile{}, false
	}
	return plan.Profiles[i], true
}

// tierCell is a cell a site reaches and the best tier it reaches it in.
type tierCell struct {
	cell int32
	tier int8
}

// siteReaches returns, per post, the cells it reaches within 5 minutes on
// profile with their tiers.
func siteReaches(router geo.Router, posts []Post, profile geo.Profile) ([][]tierCell, error) {
	var s geo.Search
	var buf []geo.Reach
	out := make([][]tierCell, len(posts))
	for i, p := range posts {
		var err error
		buf, err = router.Isochrone(&s, geo.CellCenter(p.Cell), profile, patrol.Limits[patrol.Tier5], buf[:0])
		if errors.Is(err, geo.ErrOffGrid) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dispatch: compliance: reach of %s's post: %w", p.Unit, err)
		}
		out[i] = tierCells(buf)
	}
	return out, nil
}

func tierCells(reach []geo.Reach) []tierCell {
	out := make([]tierCell, len(reach))
	for i, r := range reach {
		out[i] = tierCell{cell: r.Cell, tier: int8(tierOf(r.ETA))}
	}
	return out
}

// tierOf returns the first tier whose limit eta is within; eta is within
// 5 minutes.
func tierOf(eta time.Duration) patrol.Tier {
	for t, limit := range patrol.Limits {
		if eta <= limit {
			return patrol.Tier(t)
		}
	}
	return patrol.Tier5
}

// objective is covered demand per tier, in the order it is compared:
// within 3 minutes, then 1, then 5.
type objective [numTiers]float64

// compareOrder lists the tiers in the order objectives are compared.
var compareOrder = [numTiers]patrol.Tier{patrol.Tier3, patrol.Tier1, patrol.Tier5}

// better reports whether a beats b by more than tol in the first tier
// (of compareOrder) where they differ by more than tol.
func (a objective) better(b objective, tol float64) bool {
	for _, t := range compareOrder {
		if d := a[t] - b[t]; math.Abs(d) > tol {
			return d > 0
		}
	}
	return false
}

func (a objective) plus(b objective) objective {
	for t := range a {
		a[t] += b[t]
	}
	return a
}

func (a objective) minus(b objective) objective {
	for t := range a {
		a[t] -= b[t]
	}
	return a
}

func (a objective) share(total float64) Share {
	if total <= 0 {
		return Share{}
	}
	return Share{M1: a[patrol.Tier1] / total, M3: a[patrol.Tier3] / total, M5: a[patrol.Tier5] / total}
}

// csvHeader is the header of Table.WriteCSV.
var csvHeader = []string{"k", "m1", "m3", "m5", "nested", "unit", "cell"}

// WriteCSV writes the table as CSV, one line per post of each row, rows in
// order of k: the header "k,m1,m3,m5,nested,unit,cell", then k, the row's
// shares (0 to 1, 4 decimals), whether it is nested, and the post's unit
// and H3 cell.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("dispatch: compliance csv: %w", err)
	}
	for _, r := range t.Rows {
		for _, p := range r.Posts {
			rec := []string{strconv.Itoa(r.K), shareText(r.Share.M1), shareText(r.Share.M3), shareText(r.Share.M5),
				strconv.FormatBool(r.Nested), p.Unit, p.Cell.String()}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("dispatch: compliance csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("dispatch: compliance csv: %w", err)
	}
	return nil
}

func shareText(s float64) string { return strconv.FormatFloat(s, 'f', 4, 64) }
