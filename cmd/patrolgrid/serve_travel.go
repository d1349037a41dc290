package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// travelTimes is how serve times trips over the plan's grid.
type travelTimes struct {
	grid   *geo.Grid
	router geo.Router    // a *geo.BandRouter on the road network, whose Run follows the hour
	net    *road.Network // the road network the demo motion drives on; nil on the lattice
	roads  *road.Graph   // the car graph for the map's base layer; nil on the lattice
	name   string        // how the start-up line names them
}

// openTravelTimes returns the grid of plan's boundary and the travel
// times over it (see serveRouter).
func openTravelTimes(ctx context.Context, cfg serveConfig, plan *patrol.Plan, stdout io.Writer) (travelTimes, error) {
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		return travelTimes{}, fmt.Errorf("grid of the plan boundary: %w", err)
	}
	t := travelTimes{grid: grid}
	t.router, t.net, t.name, err = serveRouter(ctx, cfg, plan, grid, stdout)
	if t.net != nil {
		t.roads = t.net.Graph(road.ModeCar)
	}
	return t, err
}

// serveRouter returns the travel times of the plan's grid: the road
// network of cfg.osm, with the lattice for profiles it has no graph for,
// or the lattice alone without an extract. It also returns the road
// network (nil on the lattice) and how the startup line names the travel
// times. On the road network the router is a
// geo.BandRouter, whose Run keeps the time-of-day band on the plan's local
// hour.
func serveRouter(ctx context.Context, cfg serveConfig, plan *patrol.Plan, grid *geo.Grid, stdout io.Writer) (geo.Router, *road.Network, string, error) {
	if cfg.osm == "" {
		return geo.NewLattice(grid), nil, "lattice travel times", nil
	}
	roads, err := openRoads(ctx, cfg, plan, grid, stdout)
	if err != nil {
		return nil, nil, "", err
	}
	router := road.NewBandRouter(roads.router, roads.profiles, roads.loc, time.Now, func(at time.Time, band string) {
		fmt.Fprintf(stdout, "patrolgrid: %s: time-of-day band %q\n", at.Format("15:04 MST"), band)
	})
	fmt.Fprintf(stdout, "patrolgrid: road travel times for %s (profile file %s, band %q now, following %s hours; snapping within %v m)%s\n",
		roads.onRoads(), roads.profiles.Name, router.Band(), roads.loc, cfg.snap, roads.onLattice())
	return router, roads.net, "road travel times", nil
}

// roads is a plan's road network and its router in no time-of-day band,
// with the lattice for the profiles the network has no graph for.
type roads struct {
	net      *road.Network
	router   *road.Router
	profiles *road.ProfileFile
	loc      *time.Location // the plan's
	plan     *patrol.Plan
}

// openRoads opens the road network of cfg.osm (which must be set) over
// grid.
func openRoads(ctx context.Context, cfg serveConfig, plan *patrol.Plan, grid *geo.Grid, stdout io.Writer) (roads, error) {
	if cfg.snap <= 0 {
		return roads{}, fmt.Errorf("--snap %v: want a positive distance in metres", cfg.snap)
	}
	profiles, err := loadProfileFile(cfg.profile)
	if err != nil {
		return roads{}, err
	}
	net, err := road.OpenNetwork(ctx, cfg.osm, cfg.cacheDir, profiles, stdout)
	if err != nil {
		return roads{}, err
	}
	if !roadsOnGrid(net, grid) {
		return roads{}, fmt.Errorf("no road of %s lies inside the boundary of plan %q: every unit would be off the network", cfg.osm, plan.Name)
	}
	loc, err := plan.Location()
	if err != nil {
		return roads{}, err
	}
	router := road.NewRouter(net, grid, road.RouterConfig{SnapRadius: geo.Meters(cfg.snap), Fallback: geo.NewLattice(grid)})
	return roads{net: net, router: router, profiles: profiles, loc: loc, plan: plan}, nil
}

// onRoads names the plan's profiles that have a road graph.
func (r roads) onRoads() string {
	var names []string
	for _, p := range r.plan.Profiles {
		if r.net.Graph(p.Name) != nil {
			names = append(names, p.Name)
		}
	}
	return orNone(names)
}

// onLattice says which of the plan's profiles run on the lattice, "" for
// none.
func (r roads) onLattice() string {
	var names []string
	for _, p := range r.plan.Profiles {
		if r.net.Graph(p.Name) == nil {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "; lattice travel times for " + strings.Join(names, ", ")
}

// roadsOnGrid reports whether any node of net's graphs lies in a cell of
// grid.
func roadsOnGrid(net *road.Network, grid *geo.Grid) bool {
	for _, g := range net.Graphs {
		nodes, _ := g.Len()
		for i := range int32(nodes) {
			if _, ok := grid.Locate(g.Node(i)); ok {
				return true
			}
		}
	}
	return false
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no profile of the plan"
	}
	return strings.Join(names, ", ")
}
