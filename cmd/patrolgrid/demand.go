package main

import (
	"bytes"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// cityDemand returns the demand that weighs the cost of a dispatch in the
// city of plan on grid: the embedded incident history for the demo city,
// every cell alike (nil) for any other.
func cityDemand(plan *patrol.Plan, grid *geo.Grid) (patrol.Demand, error) {
	demo, err := patrol.ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil || plan.City != demo.City {
		return nil, err
	}
	incidents, err := patrol.ReadIncidents(bytes.NewReader(data.TongliaoIncidents()))
	if err != nil {
		return nil, err
	}
	return patrol.NewDemand(grid, incidents), nil
}
