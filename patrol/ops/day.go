package ops

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
	"github.com/patrolgrid/patrolgrid/patrol/dispatch"
)

// rankLimit is how far a unit may be from an incident to be sent: an
// incident no available unit reaches within it is unserved.
const rankLimit = 30 * time.Minute

// returnHorizon bounds the drive home of a unit; one that cannot get home
// within it stays where it is.
const returnHorizon = 2 * time.Hour

// dayOutcome is what one day under one policy gave.
type dayOutcome struct {
	incidents      int
	responses      []time.Duration // of the served incidents
	moveUps        int
	returns        int
	maxMovesInHour int
}

// simUnit is a unit of the day's simulation.
type simUnit struct {
	patrol.Unit
	profile  geo.Profile
	responds bool      // its mechanism responds and the plan has it on duty
	home     orb.Point // its post's centre
	at       orb.Point // where it is, or where it is driving to
	arrive   time.Time // when it is at at; before now when it is there
	status   patrol.Status
	free     time.Time // when a dispatched unit leaves the scene
	cover    int       // index of the unit that moved up for it, -1 for none
	moves    []time.Time
	placed   struct { // what the engine was last told
		at     orb.Point
		status patrol.Status
		slack  time.Duration
	}
}

// day is one day's simulation under one policy.
type day struct {
	cfg     Config
	policy  Policy
	units   []*simUnit
	cv      *patrol.Coverage
	ranker  *dispatch.Ranker
	advisor *dispatch.Advisor
	search  geo.Search
	router  *clockRouter
	demand  patrol.Demand   // of the history without the day
	table   *dispatch.Table // of demand, once the advisor asked for it
	out     dayOutcome
}

// simulateDay runs one day's incidents under policy.
func simulateDay(ctx context.Context, cfg Config, d Day, policy Policy) (dayOutcome, error) {
	s, err := newDay(cfg, d, policy)
	if err != nil {
		return dayOutcome{}, err
	}
	s.out.incidents = len(d.Incidents)
	for i, in := range d.Incidents {
		if i%16 == 0 && ctx.Err() != nil {
			return dayOutcome{}, ctx.Err()
		}
		if err := s.incident(in); err != nil {
			return dayOutcome{}, err
		}
	}
	return s.out, nil
}

// newDay places every unit at its post and builds the advisor on the
// history without the day's incidents.
func newDay(cfg Config, d Day, policy Policy) (*day, error) {
	router := newClockRouter(cfg)
	if len(d.Incidents) > 0 {
		router.follow(d.Incidents[0].Time)
	}
	cv, err := patrol.NewCoverage(cfg.Plan, router)
	if err != nil {
		return nil, err
	}
	s := &day{cfg: cfg, policy: policy, cv: cv, ranker: dispatch.NewRanker(router), router: router}
	if policy.MoveUps {
		history := slices.DeleteFunc(slices.Clone(cfg.History), func(in patrol.Incident) bool {
			return in.Time.In(loc(cfg.Plan)).Format(time.DateOnly) == d.Date
		})
		s.demand = patrol.NewDemand(router.Grid(), history)
		if s.advisor, err = dispatch.NewAdvisor(cfg.Plan, router, s.demand); err != nil {
			return nil, err
		}
		s.advisor.SetMoveLimit(cfg.MoveLimit)
		s.advisor.Follow(s.compliance, cfg.FollowBusy)
	}
	for _, u := range cfg.Plan.Units {
		m, _ := cfg.Plan.Mechanism(u.Mechanism)
		pr, _ := cfg.Plan.Profile(m.Profile)
		st := cmp.Or(u.Status, patrol.Available)
		home := geo.CellCenter(u.Post)
		su := &simUnit{Unit: u, profile: pr, responds: m.Responds() && st == patrol.Available, home: home, at: home, status: st, cover: -1}
		s.units = append(s.units, su)
		if err := s.place(su, time.Time{}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// loc returns the plan's time zone; a valid plan has one.
func loc(p *patrol.Plan) *time.Location {
	l, err := p.Location()
	if err != nil {
		return time.UTC
	}
	return l
}

// place tells the engine where u is at now, when that changed.
func (s *day) place(u *simUnit, now time.Time) error {
	slack := max(u.arrive.Sub(now), 0).Round(time.Second)
	if u.placed.at == u.at && u.placed.status == u.status && u.placed.slack == slack && !now.IsZero() {
		return nil
	}
	u.placed.at, u.placed.status, u.placed.slack = u.at, u.status, slack
	_, err := s.cv.Place(u.ID, u.at, u.status, slack)
	return err
}

// incident sends the closest available unit to in, and with move-ups the
// advisor's move-up for that dispatch.
func (s *day) incident(in patrol.Incident) error {
	now := in.Time
	if err := s.advance(now); err != nil {
		return err
	}
	if s.router.follow(now) {
		s.cv.Changes() // recomputes the reach of every unit in the new band
	}
	best, eta, err := s.closest(in.Point, now)
	if err != nil || best < 0 {
		return err
	}
	s.out.responses = append(s.out.responses, eta)
	if s.policy.Reference {
		return nil // the unit is free again at once, at its post
	}
	var mv *dispatch.MoveUp
	if s.policy.MoveUps {
		if mv, err = s.moveUp(best, now); err != nil {
			return err
		}
	}
	u := s.units[best]
	s.release(best)
	u.status, u.at, u.arrive, u.free = patrol.Dispatched, in.Point, now.Add(eta), now.Add(eta+s.cfg.Service)
	if err := s.place(u, now); err != nil {
		return err
	}
	if mv != nil {
		return s.move(best, mv, now)
	}
	return nil
}

// advance brings the day to now: units whose service ended drive home,
// and the units that moved up for them too, in the order they left, and
// every unit on its way is placed with the drive time it has left.
func (s *day) advance(now time.Time) error {
	var done []int
	for i, u := range s.units {
		if u.status == patrol.Dispatched && !u.free.After(now) {
			done = append(done, i)
		}
	}
	slices.SortFunc(done, func(a, b int) int { return s.units[a].free.Compare(s.units[b].free) })
	for _, i := range done {
		u := s.units[i]
		u.status = patrol.Available
		if err := s.driveHome(u, u.free); err != nil {
			return err
		}
		if c := u.cover; c >= 0 {
			u.cover = -1
			if s.units[c].at != s.units[c].home {
				s.out.returns++
			}
			if err := s.driveHome(s.units[c], u.free); err != nil {
				return err
			}
		}
	}
	for _, u := range s.units {
		if err := s.place(u, now); err != nil {
			return err
		}
	}
	return nil
}

// driveHome starts u's drive from where it is at time from to its post.
func (s *day) driveHome(u *simUnit, from time.Time) error {
	if u.at == u.home {
		return nil
	}
	etas, err := s.router.ETAsTo(&s.search, u.home, u.profile, []orb.Point{u.at}, returnHorizon, nil)
	if errors.Is(err, geo.ErrOffGrid) || err == nil && etas[0] == geo.Unreached {
		return nil // stays where it is
	}
	if err != nil {
		return fmt.Errorf("drive home of %s: %w", u.ID, err)
	}
	start := from
	if u.arrive.After(from) {
		start = u.arrive // finishes the drive it is on first
	}
	u.at, u.arrive = u.home, start.Add(etas[0])
	return nil
}

// closest returns the available responding unit that reaches p first at
// now, counting the drive it has left, and its ETA; -1 when none does
// within rankLimit.
func (s *day) closest(p orb.Point, now time.Time) (int, time.Duration, error) {
	var cands []dispatch.Unit
	index := map[string]int{}
	for i, u := range s.units {
		if u.responds && u.status == patrol.Available {
			cands = append(cands, dispatch.Unit{ID: u.ID, Point: u.at, Profile: u.profile})
			index[u.ID] = i
		}
	}
	ranked, err := s.ranker.Rank(p, cands, rankLimit)
	if errors.Is(err, geo.ErrOffGrid) {
		return -1, 0, nil
	}
	if err != nil {
		return -1, 0, err
	}
	best, bestETA := -1, time.Duration(0)
	for _, c := range ranked {
		i := index[c.Unit]
		eta := c.ETA + max(s.units[i].arrive.Sub(now), 0)
		if eta <= rankLimit && (best < 0 || eta < bestETA || eta == bestETA && c.Unit < s.units[best].ID) {
			best, bestETA = i, eta
		}
	}
	return best, bestETA, nil
}

// moveUp returns the advisor's move-up for sending unit best at now, nil
// when there is none or its mover moved its share in the past hour.
func (s *day) moveUp(best int, now time.Time) (*dispatch.MoveUp, error) {
	out, err := s.advisor.Assess(s.cv.Snapshot(), []dispatch.Candidate{{Unit: s.units[best].ID}}, now, nil)
	if err != nil {
		return nil, err
	}
	mv := out[0].Cost.MoveUp
	if mv == nil {
		return nil, nil
	}
	m := s.units[slices.IndexFunc(s.units, func(u *simUnit) bool { return u.ID == mv.Unit })]
	if s.movesInHour(m, now) >= s.cfg.MovesPerHour {
		return nil, nil
	}
	return mv, nil
}

// compliance returns the compliance table of the day's demand, built on
// first need: most days never have enough units busy to follow it.
func (s *day) compliance() (dispatch.Table, error) {
	if s.table == nil {
		t, err := dispatch.Compliance(s.cfg.Plan, s.router, s.demand)
		if err != nil {
			return dispatch.Table{}, err
		}
		s.table = &t
	}
	return *s.table, nil
}

// movesInHour returns how many move-ups u was given in the hour up to now.
func (s *day) movesInHour(u *simUnit, now time.Time) int {
	n := 0
	for _, t := range u.moves {
		if now.Sub(t) < time.Hour {
			n++
		}
	}
	return n
}

// move sends the mover of mv to its target at now, to cover for unit
// sent.
func (s *day) move(sent int, mv *dispatch.MoveUp, now time.Time) error {
	i := slices.IndexFunc(s.units, func(u *simUnit) bool { return u.ID == mv.Unit })
	m := s.units[i]
	s.release(i)
	m.at, m.arrive = geo.CellCenter(mv.ToCell), now.Add(mv.ETA)
	m.moves = append(m.moves, now)
	s.out.moveUps++
	s.out.maxMovesInHour = max(s.out.maxMovesInHour, s.movesInHour(m, now))
	s.units[sent].cover = i
	return s.place(m, now)
}

// release ends the cover unit i gave another unit: it now answers to no
// one's return.
func (s *day) release(i int) {
	for _, u := range s.units {
		if u.cover == i {
			u.cover = -1
		}
	}
}
