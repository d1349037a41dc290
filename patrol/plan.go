package patrol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
)

// Plan is a city's patrol deployment: travel profiles, mechanisms, units
// and priority zones over a boundary, on an H3 grid of one resolution.
type Plan struct {
	Name string `json:"name"`
	City string `json:"city"`
	// Notice is shown with the plan, such as a statement that its data is
	// illustrative.
	Notice string `json:"notice,omitempty"`
	// Resolution is the H3 resolution of unit areas and posts.
	Resolution int `json:"resolution"`
	// Timezone is the IANA zone of zone hours, such as "Asia/Shanghai".
	Timezone   string        `json:"timezone"`
	Boundary   orb.Polygon   `json:"-"`
	Profiles   []geo.Profile `json:"profiles"`
	Mechanisms []Mechanism   `json:"mechanisms"`
	Units      []Unit        `json:"units"`
	Zones      []Zone        `json:"zones"`
}

type planJSON struct {
	plainPlan
	Boundary *geojson.Geometry `json:"boundary"`
}

type plainPlan Plan

// MarshalJSON writes the plan with its boundary as a GeoJSON geometry.
func (p Plan) MarshalJSON() ([]byte, error) {
	return json.Marshal(planJSON{plainPlan(p), geojson.NewGeometry(p.Boundary)})
}

// UnmarshalJSON reads a plan whose "boundary" is a GeoJSON Polygon.
func (p *Plan) UnmarshalJSON(b []byte) error {
	var v planJSON
	if err := strictUnmarshal(b, &v); err != nil {
		return err
	}
	*p = Plan(v.plainPlan)
	if v.Boundary == nil {
		return errors.New("patrol: plan has no boundary")
	}
	poly, ok := v.Boundary.Geometry().(orb.Polygon)
	if !ok {
		return fmt.Errorf("patrol: plan boundary is %s, want Polygon", v.Boundary.Type)
	}
	p.Boundary = poly
	return nil
}

// LoadPlan reads the plan file at path, or the plan given when path is
// empty, and moves it to resolution res when res is neither 0 nor its own.
func LoadPlan(path string, given []byte, res int) (*Plan, error) {
	var r io.Reader = bytes.NewReader(given)
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	plan, err := ReadPlan(r)
	if err != nil {
		return nil, err
	}
	if res != 0 && res != plan.Resolution {
		return plan.WithResolution(res)
	}
	return plan, nil
}

// ReadPlan decodes and validates a JSON plan.
func ReadPlan(r io.Reader) (*Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("patrol: read plan: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate reports the first inconsistency in the plan: unknown
// references, duplicate ids, cells of the wrong resolution, bad rules.
func (p *Plan) Validate() error {
	if p.Resolution < 0 || p.Resolution > 15 {
		return fmt.Errorf("patrol: plan resolution %d out of [0, 15]", p.Resolution)
	}
	if _, err := p.Location(); err != nil {
		return err
	}
	if len(p.Boundary) == 0 || len(p.Boundary[0]) < 4 {
		return errors.New("patrol: plan boundary needs a ring of at least 4 points")
	}
	profiles, err := p.profileMap()
	if err != nil {
		return err
	}
	mechs := make(map[string]Mechanism, len(p.Mechanisms))
	for _, m := range p.Mechanisms {
		if err := m.validate(profiles); err != nil {
			return err
		}
		if _, dup := mechs[m.ID]; dup {
			return fmt.Errorf("patrol: duplicate mechanism %s", m.ID)
		}
		mechs[m.ID] = m
	}
	ids := make(map[string]bool, len(p.Units))
	for _, u := range p.Units {
		if err := u.validate(p.Resolution, mechs); err != nil {
			return err
		}
		if ids[u.ID] {
			return fmt.Errorf("patrol: duplicate unit %s", u.ID)
		}
		ids[u.ID] = true
	}
	zones := make(map[string]bool, len(p.Zones))
	for _, z := range p.Zones {
		if err := z.validate(); err != nil {
			return err
		}
		if zones[z.ID] {
			return fmt.Errorf("patrol: duplicate zone %s", z.ID)
		}
		zones[z.ID] = true
	}
	return nil
}

func (p *Plan) profileMap() (map[string]geo.Profile, error) {
	m := make(map[string]geo.Profile, len(p.Profiles))
	for _, pr := range p.Profiles {
		if err := pr.Validate(); err != nil {
			return nil, err
		}
		if _, dup := m[pr.Name]; dup {
			return nil, fmt.Errorf("patrol: duplicate profile %s", pr.Name)
		}
		m[pr.Name] = pr
	}
	return m, nil
}

// Location returns the time zone of the plan's zone hours.
func (p *Plan) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return nil, fmt.Errorf("patrol: plan timezone %q: %w", p.Timezone, err)
	}
	return loc, nil
}

// Mechanism returns the mechanism with the given id.
func (p *Plan) Mechanism(id string) (Mechanism, bool) {
	for _, m := range p.Mechanisms {
		if m.ID == id {
			return m, true
		}
	}
	return Mechanism{}, false
}

// Profile returns the travel profile with the given name.
func (p *Plan) Profile(name string) (geo.Profile, bool) {
	for _, pr := range p.Profiles {
		if pr.Name == name {
			return pr, true
		}
	}
	return geo.Profile{}, false
}

// Unit returns the unit with the given id.
func (p *Plan) Unit(id string) (Unit, bool) {
	for _, u := range p.Units {
		if u.ID == id {
			return u, true
		}
	}
	return Unit{}, false
}

// WithResolution returns a copy of the plan with posts and areas moved to
// resolution res: to the parent cell when coarser, to all children when
// finer (posts to their centre child).
func (p *Plan) WithResolution(res int) (*Plan, error) {
	if res < 0 || res > 15 {
		return nil, fmt.Errorf("patrol: resolution %d out of [0, 15]", res)
	}
	q := *p
	q.Resolution = res
	q.Units = make([]Unit, len(p.Units))
	for i, u := range p.Units {
		u.Post = moveCell(u.Post, res)
		u.Area = moveCells(u.Area, res)
		q.Units[i] = u
	}
	return &q, nil
}

// WithBoundary returns a copy of the plan for the city of b: its boundary,
// name, city, time zone and notice, and of the plan's zones and units
// those on the grid of b (the cells at the plan's resolution whose centres
// lie inside it): a zone with a cell on it, a unit whose post and area are
// all on it. It fails when b holds no cell at the plan's resolution.
func (p *Plan) WithBoundary(b Boundary) (*Plan, error) {
	grid, err := geo.NewPolygonGrid(b.Area, p.Resolution)
	if err != nil {
		return nil, fmt.Errorf("%w: no cell of resolution %d has its centre inside it: %v", ErrBoundary, p.Resolution, err)
	}
	q := *p
	q.Boundary, q.Name, q.City, q.Timezone, q.Notice = b.Area, b.Name, b.City, b.Timezone, b.Notice
	q.Zones, q.Units = nil, nil
	for _, z := range zoneGridCells(p.Zones, grid) {
		if len(z.cells) > 0 {
			q.Zones = append(q.Zones, z.Zone)
		}
	}
	for _, u := range p.Units {
		if onGrid(grid, u.Post) && !slices.ContainsFunc(u.Area, func(c h3.Cell) bool { return !onGrid(grid, c) }) {
			q.Units = append(q.Units, u)
		}
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return &q, nil
}

func onGrid(g *geo.Grid, c h3.Cell) bool {
	_, ok := g.Index(c)
	return ok
}

// GeoJSON returns the plan as a feature collection: the boundary, each
// zone, and each unit's post, with their attributes as properties.
func (p *Plan) GeoJSON() *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	b := geojson.NewFeature(p.Boundary)
	b.Properties = geojson.Properties{"kind": "boundary", "name": p.Name, "city": p.City, "timezone": p.Timezone, "notice": p.Notice}
	fc.Append(b)
	for _, z := range p.Zones {
		f := geojson.NewFeature(z.Area)
		f.ID = z.ID
		f.Properties = geojson.Properties{"kind": "zone", "zone_kind": z.Kind, "name": z.Name,
			"weight": z.Weight, "rule": z.Rule, "hours": z.Hours}
		fc.Append(f)
	}
	for _, u := range p.Units {
		f := geojson.NewFeature(geo.CellCenter(u.Post))
		f.ID = u.ID
		f.Properties = geojson.Properties{"kind": "post", "unit": u.ID, "name": u.Name,
			"mechanism": u.Mechanism, "area_cells": len(u.Area)}
		fc.Append(f)
	}
	return fc
}

// strictUnmarshal decodes like json.Unmarshal but refuses unknown fields,
// so that a misspelt key in a plan file is an error, not a silent default.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
