package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// cityDemand returns the demand that weighs the cost of a dispatch and the
// compliance table in the city of plan on grid: the embedded incident
// history for the demo city, every cell alike (nil) for any other.
func cityDemand(plan *patrol.Plan, grid *geo.Grid) (patrol.Demand, error) {
	incidents, err := cityHistory(plan)
	if err != nil || incidents == nil {
		return nil, err
	}
	return patrol.NewDemand(grid, incidents), nil
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
