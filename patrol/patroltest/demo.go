package patroltest

import (
	"bytes"
	"testing"

	"github.com/patrolgrid/patrolgrid/data"
	"github.com/patrolgrid/patrolgrid/geo"
	"github.com/patrolgrid/patrolgrid/patrol"
)

// DemoPlan returns the embedded demo city's plan, failing the test when
// it does not read.
func DemoPlan(t testing.TB) *patrol.Plan {
	t.Helper()
	plan, err := patrol.ReadPlan(bytes.NewReader(data.TongliaoPlan()))
	if err != nil {
		t.Fatalf("ReadPlan(demo city): %v", err)
	}
	return plan
}

// DemoGrid returns the embedded demo city's plan and the H3 grid of its
// boundary at the plan's resolution.
func DemoGrid(t testing.TB) (*patrol.Plan, *geo.Grid) {
	t.Helper()
	plan := DemoPlan(t)
	grid, err := geo.NewPolygonGrid(plan.Boundary, plan.Resolution)
	if err != nil {
		t.Fatal(err)
	}
	return plan, grid
}

// DemoIncidents returns the embedded demo city's incident history,
// failing the test when it does not read.
func DemoIncidents(t testing.TB) []patrol.Incident {
	t.Helper()
	in, err := patrol.ReadIncidents(bytes.NewReader(data.TongliaoIncidents()))
	if err != nil {
		t.Fatalf("ReadIncidents(demo city): %v", err)
	}
	return in
}
