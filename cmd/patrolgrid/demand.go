package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/geo/road"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// cityDemand returns the demand that weighs the cost of a dispatch and the
// compliance table in the city of plan on grid: the embedded incident
// history for the demo city; for any other, the length of road in each
// cell on the road network net, or every cell alike (nil) without one.
func cityDemand(plan *patrol.Plan, grid *geo.Grid, net *road.Network) (patrol.Demand, error) {
	incidents, err := cityHistory(plan)
	switch {
	case err != nil:
		return nil, err
	case incidents != nil:
		return patrol.NewDemand(grid, incidents), nil
	case net != nil:
		return roadDemand(grid, net, io.Discard)
	}
	return nil, nil
}

// roadDemand returns the demand of grid's cells by the length of road of
// net's car graph in each (see patrol.NewRoadDemand), and says so on log.
func roadDemand(grid *geo.Grid, net *road.Network, log io.Writer) (patrol.Demand, error) {
	car := net.Graph(road.ModeCar)
	if car == nil {
		return nil, fmt.Errorf("demand by the length of road: the road network has no %s graph", road.ModeCar)
	}
	d, err := patrol.NewRoadDemand(grid, car)
	if err != nil {
		return nil, fmt.Errorf("demand by the length of road: %w", err)
	}
	weighed := 0
	for _, w := range d {
		if w > 0 {
			weighed++
		}
	}
	fmt.Fprintf(log, "patrolgrid: no incident history: demand is the length of car road in each cell, %.1f km in %d of the %d cells\n",
		d.Total(), weighed, grid.Len())
	return d, nil
}

// cityHistory returns the embedded incident history of the demo city when
// plan is of that city, and nil for any other.
func cityHistory(plan *patrol.Plan) ([]patrol.Incident, error) {
	demo, err := patrol.ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil || plan.City != demo.City {
		return nil, err
	}
	return patrol.ReadIncidents(bytes.NewReader(data.TongliaoIncidents()))
}

// readHistory reads the incident history CSV file (see
// patrol.ReadIncidents), or with file empty the city's own (cityHistory).
func readHistory(file string, plan *patrol.Plan) ([]patrol.Incident, error) {
	if file == "" {
		in, err := cityHistory(plan)
		if err == nil && in == nil {
			err = fmt.Errorf("plan %q is not the demo city: give its incident history with --incidents", plan.Name)
		}
		return in, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	in, err := patrol.ReadIncidents(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return in, nil
}
