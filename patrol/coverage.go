package patrol

import (
	"errors"
	"fmt"
	"time"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
)

// ErrUnknownUnit is returned for a unit id the plan does not hold.
var ErrUnknownUnit = errors.New("patrol: unknown unit")

// Unreached is the ETA of a cell no available unit reaches within the
// largest tier limit.
const Unreached time.Duration = -1

// CellCover is the coverage of one cell: the best ETA over available units
// (Unreached when none reaches it within 5 minutes) and how many units
// reach it within 1, 3 and 5 minutes.
type CellCover struct {
	Cell h3.Cell
	ETA  time.Duration
	N    [numTiers]int
}

// Tier returns the best tier the cell is reached in, and false when it is
// not reached within 5 minutes.
func (c CellCover) Tier() (Tier, bool) {
	if c.ETA == Unreached {
		return 0, false
	}
	for t, limit := range Limits {
		if c.ETA <= limit {
			return Tier(t), true
		}
	}
	return 0, false
}

// sameTierAndCounts reports whether a and b look the same on a map.
func (c CellCover) sameTierAndCounts(o CellCover) bool {
	t1, ok1 := c.Tier()
	t2, ok2 := o.Tier()
	return t1 == t2 && ok1 == ok2 && c.N == o.N
}

// VersionedRouter is a Router whose travel times change while it is in
// use, such as a road router whose time-of-day band follows the clock.
// Version must change whenever its isochrones may change; a Coverage then
// recomputes the reach of every placed unit on its next Changes.
type VersionedRouter interface {
	geo.Router
	Version() uint64
}

// cellEntries is the room a cell's entry list starts with: a few units
// reach most cells, so one allocation usually serves a cell for good.
const cellEntries = 4

// entry is one unit reaching a cell.
type entry struct {
	unit int32
	eta  time.Duration
}

type unitCover struct {
	Unit
	slot    int32
	mech    Mechanism
	profile geo.Profile
	status  Status
	at      orb.Point // position the reach was computed from
	cell    int32     // grid number of the unit's cell, -1 when unplaced
	// slack is added to every ETA of the unit's reach: the time it may
	// have driven away from at since its last fix (see Place).
	slack time.Duration
	reach []geo.Reach
	// offNetwork tells that the router could not place the unit on its
	// travel graph (no road within snapping distance): it reaches nothing.
	offNetwork bool
}

// Coverage is the live coverage engine of a plan: for every grid cell, the
// units that reach it within 5 minutes and how fast. Moving a unit to
// another cell or changing its status recomputes only that unit's reach.
// A Coverage is not safe for concurrent use.
type Coverage struct {
	router  geo.Router
	version uint64 // of a VersionedRouter, when the reaches were computed
	grid    *geo.Grid
	search  geo.Search
	units   map[string]*unitCover
	slots   []*unitCover
	cells   [][]entry // by grid number
	zones   []zoneCells
	loc     *time.Location

	touched []int32 // cells changed since the last Changes
	isDirty []bool
	sent    []CellCover // what the last Changes reported, by grid number
}

// NewCoverage returns an engine for plan, which must be valid (see
// Plan.Validate; ReadPlan validates), over router's graph, with every unit
// in its plan status and no position yet.
func NewCoverage(plan *Plan, router geo.Router) (*Coverage, error) {
	profiles, err := plan.profileMap()
	if err != nil {
		return nil, err
	}
	loc, err := plan.Location()
	if err != nil {
		return nil, err
	}
	g := router.Grid()
	cv := &Coverage{
		router:  router,
		grid:    g,
		units:   make(map[string]*unitCover, len(plan.Units)),
		cells:   make([][]entry, g.Len()),
		isDirty: make([]bool, g.Len()),
		sent:    make([]CellCover, g.Len()),
		loc:     loc,
	}
	for i := range cv.sent {
		cv.sent[i] = CellCover{Cell: g.Cell(int32(i)), ETA: Unreached}
	}
	if vr, ok := router.(VersionedRouter); ok {
		cv.version = vr.Version()
	}
	for i, u := range plan.Units {
		m, ok := plan.Mechanism(u.Mechanism)
		if !ok {
			return nil, fmt.Errorf("patrol: unit %s: unknown mechanism %q", u.ID, u.Mechanism)
		}
		st := u.Status
		if st == "" {
			st = Available
		}
		uc := &unitCover{Unit: u, slot: int32(i), mech: m, profile: profiles[m.Profile], status: st, cell: -1}
		cv.units[u.ID] = uc
		cv.slots = append(cv.slots, uc)
	}
	cv.zones = zoneGridCells(plan.Zones, g)
	return cv, nil
}

// Grid returns the cells the engine covers.
func (cv *Coverage) Grid() *geo.Grid { return cv.grid }

// Move places unit id at p (lon, lat) with status st, recomputes its reach
// unless neither changed, and reports whether it did. The reach is a
// function of the unit's latest position and status alone, so an engine
// that saw every move and one that saw only the last agree. A position off
// the grid takes the unit out of coverage; so does one the router cannot
// place on its travel graph (see OffNetwork), which is not an error.
func (cv *Coverage) Move(id string, p orb.Point, st Status) (bool, error) {
	return cv.Place(id, p, st, 0)
}

// Place is Move for a unit whose position is uncertain: it may have driven
// for up to slack since it was at p, away from any cell in the worst case,
// so every ETA of its reach is slack longer, and it reaches only the cells
// it would reach from p within 5 minutes less slack. A slack of 5 minutes
// or more leaves it out of coverage. Negative slack is taken as 0.
func (cv *Coverage) Place(id string, p orb.Point, st Status, slack time.Duration) (bool, error) {
	slack = max(slack, 0)
	u, ok := cv.units[id]
	if !ok {
		return false, fmt.Errorf("%w %q", ErrUnknownUnit, id)
	}
	if !st.Valid() {
		return false, fmt.Errorf("patrol: unit %s: unknown status %q", id, st)
	}
	cell, ok := cv.grid.Locate(p)
	if !ok {
		cell = -1
	}
	if p == u.at && cell == u.cell && st == u.status && slack == u.slack {
		return false, nil
	}
	cv.remove(u)
	u.cell, u.status, u.at, u.slack = cell, st, p, slack
	return true, cv.add(u)
}

// SetStatus changes the status of unit id, keeping its position, and
// reports whether its reach changed.
func (cv *Coverage) SetStatus(id string, st Status) (bool, error) {
	u, ok := cv.units[id]
	if !ok {
		return false, fmt.Errorf("%w %q", ErrUnknownUnit, id)
	}
	if u.cell < 0 {
		if !st.Valid() {
			return false, fmt.Errorf("patrol: unit %s: unknown status %q", id, st)
		}
		u.status = st
		return false, nil
	}
	return cv.Place(id, u.at, st, u.slack)
}

func (cv *Coverage) remove(u *unitCover) {
	for _, r := range u.reach {
		es := cv.cells[r.Cell]
		for i, e := range es {
			if e.unit == u.slot {
				es[i] = es[len(es)-1]
				cv.cells[r.Cell] = es[:len(es)-1]
				break
			}
		}
		cv.touch(r.Cell)
	}
	u.reach = u.reach[:0]
	u.offNetwork = false
}

func (cv *Coverage) add(u *unitCover) error {
	limit := Limits[Tier5] - u.slack
	if u.cell < 0 || u.status != Available || !u.mech.Responds() || limit < 0 {
		return nil
	}
	reach, err := cv.router.Isochrone(&cv.search, u.at, u.profile, limit, u.reach[:0])
	if errors.Is(err, geo.ErrOffGrid) {
		u.offNetwork = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("patrol: reach of unit %s: %w", u.ID, err)
	}
	u.reach = reach
	for i := range reach {
		reach[i].ETA += u.slack
	}
	for _, r := range reach {
		es := cv.cells[r.Cell]
		if es == nil {
			es = make([]entry, 0, cellEntries)
		}
		cv.cells[r.Cell] = append(es, entry{unit: u.slot, eta: r.ETA})
		cv.touch(r.Cell)
	}
	return nil
}

// followRouter recomputes every placed unit's reach when a versioned
// router's travel times changed.
func (cv *Coverage) followRouter() {
	vr, ok := cv.router.(VersionedRouter)
	if !ok {
		return
	}
	v := vr.Version()
	if v == cv.version {
		return
	}
	cv.version = v
	for _, u := range cv.slots {
		if u.cell >= 0 {
			cv.remove(u)
			_ = cv.add(u) // the error leaves u out of coverage, as documented
		}
	}
}

func (cv *Coverage) touch(i int32) {
	if !cv.isDirty[i] {
		cv.isDirty[i] = true
		cv.touched = append(cv.touched, i)
	}
}

// cover summarises cell i.
func (cv *Coverage) cover(i int32) CellCover {
	c := CellCover{Cell: cv.grid.Cell(i), ETA: Unreached}
	for _, e := range cv.cells[i] {
		if c.ETA == Unreached || e.eta < c.ETA {
			c.ETA = e.eta
		}
		for t, limit := range Limits {
			if e.eta <= limit {
				c.N[t]++
			}
		}
	}
	return c
}

// Cover returns the coverage of cell c; a cell outside the grid is
// unreached.
func (cv *Coverage) Cover(c h3.Cell) CellCover {
	i, ok := cv.grid.Index(c)
	if !ok {
		return CellCover{Cell: c, ETA: Unreached}
	}
	return cv.cover(i)
}

// Cells returns the coverage of every reached cell, in grid order.
func (cv *Coverage) Cells() []CellCover {
	var out []CellCover
	for i, es := range cv.cells {
		if len(es) > 0 {
			out = append(out, cv.cover(int32(i)))
		}
	}
	return out
}

// Reached returns how many cells are reached within each tier's limit
// (Limits), as Cells would tell, without a copy of them.
func (cv *Coverage) Reached() [numTiers]int {
	var n [numTiers]int
	for i, es := range cv.cells {
		if len(es) == 0 {
			continue
		}
		eta := cv.cover(int32(i)).ETA
		for t, limit := range Limits {
			if eta <= limit {
				n[t]++
			}
		}
	}
	return n
}

// Changes returns the cells whose tier or unit counts differ from what the
// previous call returned (or from unreached, on the first call), and
// forgets them. A cell that is no longer reached comes back Unreached.
// When the router is a VersionedRouter whose version changed, it first
// recomputes every placed unit's reach; a unit whose reach then fails
// stays out of coverage until it moves.
func (cv *Coverage) Changes() []CellCover {
	cv.followRouter()
	var out []CellCover
	for _, i := range cv.touched {
		cv.isDirty[i] = false
		c := cv.cover(i)
		if !c.sameTierAndCounts(cv.sent[i]) {
			out = append(out, c)
		}
		cv.sent[i] = c
	}
	cv.touched = cv.touched[:0]
	return out
}

// UnitCell returns the cell unit id was last placed in, and false when it
// has no position on the grid.
func (cv *Coverage) UnitCell(id string) (h3.Cell, bool) {
	u, ok := cv.units[id]
	if !ok || u.cell < 0 {
		return 0, false
	}
	return cv.grid.Cell(u.cell), true
}

// OffNetwork reports whether unit id, available to respond, was last
// placed where the router could not put it on its travel graph (a fix
// farther from every road than the snapping distance): it counts in no
// cell's coverage until it moves back.
func (cv *Coverage) OffNetwork(id string) bool {
	u, ok := cv.units[id]
	return ok && u.offNetwork
}

// Status returns the status of unit id.
func (cv *Coverage) Status(id string) (Status, bool) {
	u, ok := cv.units[id]
	if !ok {
		return "", false
	}
	return u.status, true
}
