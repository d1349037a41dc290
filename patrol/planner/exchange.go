package planner

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uber/h3-go/v4"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// GeoJSON returns plan as a feature collection for a GIS: the plan's own
// features (the boundary, the zones and the posts, see patrol.Plan.GeoJSON)
// and each unit's area outlined as a MultiPolygon, with "kind": "area",
// the unit, its name, mechanism and cells, and its workload from ev
// (plan's evaluation) as properties.
func GeoJSON(plan *patrol.Plan, ev Evaluation) *geojson.FeatureCollection {
	fc := plan.GeoJSON()
	load := map[string]float64{}
	for _, a := range ev.Areas {
		load[a.Unit] = a.Workload
	}
	for _, u := range plan.Units {
		if len(u.Area) == 0 {
			continue
		}
		f := geojson.NewFeature(geo.CellsOutline(u.Area))
		f.ID = u.ID
		f.Properties = geojson.Properties{"kind": "area", "unit": u.ID, "name": u.Name, "mechanism": u.Mechanism,
			"cells": len(u.Area), "workload": load[u.ID]}
		fc.Append(f)
	}
	return fc
}

// areasHeader is the header of the unit areas as CSV.
var areasHeader = []string{"unit", "cell"}

// WriteAreasCSV writes the unit areas of plan as CSV with the header
// "unit,cell": a line per cell of each unit's area, units in plan order.
func WriteAreasCSV(w io.Writer, plan *patrol.Plan) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(areasHeader) // errors surface at Flush
	for _, u := range plan.Units {
		for _, c := range u.Area {
			_ = cw.Write([]string{u.ID, c.String()})
		}
	}
	cw.Flush()
	return cw.Error()
}

// ErrImport is matched by every error of ReadAreasCSV and ReadGeoJSON
// about what they read.
var ErrImport = errors.New("planner: import")

// ReadAreasCSV reads unit areas as WriteAreasCSV writes them and returns a
// copy of plan whose units have those areas: every unit the file names
// gets exactly its cells, a unit it does not name keeps its area. It
// fails, naming the line, for an unknown unit, a cell that is not an H3
// cell at the plan's resolution, and a cell given to two units; and
// when the new plan is not valid.
func ReadAreasCSV(r io.Reader, plan *patrol.Plan) (*patrol.Plan, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(areasHeader)
	head, err := cr.Read()
	if err != nil || !slices.Equal(head, areasHeader) {
		return nil, fmt.Errorf("%w: unit areas: want the header %q (%v)", ErrImport, areasHeader, err)
	}
	areas := map[string][]h3.Cell{}
	owner := map[h3.Cell]string{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%w: unit areas: %v", ErrImport, err)
		}
		var c h3.Cell
		if err := c.UnmarshalText([]byte(rec[1])); err != nil || !c.IsValid() || c.Resolution() != plan.Resolution {
			return nil, fmt.Errorf("%w: unit areas: line %d: %q is not an H3 cell at resolution %d", ErrImport, line, rec[1], plan.Resolution)
		}
		if o, dup := owner[c]; dup && o != rec[0] {
			return nil, fmt.Errorf("%w: unit areas: line %d: cell %v is in the areas of both %s and %s", ErrImport, line, c, o, rec[0])
		}
		owner[c] = rec[0]
		areas[rec[0]] = append(areas[rec[0]], c)
	}
	return withUnits(plan, areas, nil)
}

// ReadGeoJSON reads a feature collection as GeoJSON writes it and returns
// a copy of plan whose units have its areas and posts: a feature of
// "kind" "area" gives its "unit" the cells whose centres lie inside its
// (Multi)Polygon, one of "kind" "post" moves its "unit"'s post to the cell
// of its Point. Other features (the boundary, zones) are left out: the
// plan keeps its own. It fails for an unknown unit, a feature of the wrong
// geometry, an area with no cell, and when the new plan is not valid.
func ReadGeoJSON(r io.Reader, plan *patrol.Plan) (*patrol.Plan, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("%w: GeoJSON: %v", ErrImport, err)
	}
	areas, posts := map[string][]h3.Cell{}, map[string]h3.Cell{}
	for i, f := range fc.Features {
		kind, unit := f.Properties.MustString("kind", ""), f.Properties.MustString("unit", "")
		switch g := f.Geometry.(type) {
		case orb.MultiPolygon:
			if kind == "area" {
				for _, p := range g {
					areas[unit] = append(areas[unit], geo.PolygonCells(p, plan.Resolution)...)
				}
				if len(areas[unit]) == 0 {
					return nil, fmt.Errorf("%w: GeoJSON: feature %d: the area of %s holds no cell", ErrImport, i, unit)
				}
			}
		case orb.Polygon:
			if kind == "area" {
				areas[unit] = append(areas[unit], geo.PolygonCells(g, plan.Resolution)...)
			}
		case orb.Point:
			if kind == "post" {
				posts[unit] = geo.Cell(g, plan.Resolution)
			}
		default:
			if kind == "area" || kind == "post" {
				return nil, fmt.Errorf("%w: GeoJSON: feature %d (%s of %s) is a %s", ErrImport, i, kind, unit, f.Geometry.GeoJSONType())
			}
		}
	}
	return withUnits(plan, areas, posts)
}

// withUnits returns a copy of plan with the areas and posts given, by
// unit id, and checks it.
func withUnits(plan *patrol.Plan, areas map[string][]h3.Cell, posts map[string]h3.Cell) (*patrol.Plan, error) {
	q := *plan
	q.Units = slices.Clone(plan.Units)
	known := map[string]bool{}
	for i, u := range q.Units {
		known[u.ID] = true
		if a, ok := areas[u.ID]; ok {
			q.Units[i].Area = a
		}
		if p, ok := posts[u.ID]; ok {
			q.Units[i].Post = p
		}
	}
	for id := range areas {
		if !known[id] {
			return nil, fmt.Errorf("%w: unit %q is not in plan %q", ErrImport, id, plan.Name)
		}
	}
	for id := range posts {
		if !known[id] {
			return nil, fmt.Errorf("%w: unit %q is not in plan %q", ErrImport, id, plan.Name)
		}
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImport, err)
	}
	return &q, nil
}
